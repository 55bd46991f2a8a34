"""Durable progress through the real command: kill -9, two sessions at once, files the
commands must refuse without touching, a read-only location, and export/import."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import queue
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from fsrs import Rating
from practice_helpers import write_banks
from store_helpers import make_attempt, replayed_cards

from tutor import stats_view
from tutor.cli import main
from tutor.store import open_store

QUESTION = re.compile(r"What is (\d+) times (\d+)\?")
VERDICT = re.compile(r"^(✓ Correct\.|✗ Not quite\.)")
TIMEOUT = 60.0


def installed_tutor() -> str:
    found = shutil.which("tutor", path=str(Path(sys.executable).parent))
    if found is None:
        pytest.skip("the tutor command is not installed next to this Python")
    return found


@pytest.fixture
def banks(tmp_path: Path) -> Path:
    """Arithmetic questions only, so every prompt can be answered from the transcript."""
    return write_banks(tmp_path / "banks", concepts=False)


def bank_args(banks: Path) -> list[str]:
    return ["--bank", str(banks), "--only-banks"]


class Live:
    """The installed ``tutor`` as a child process, read line by line and answered via a pipe."""

    def __init__(self, args: Sequence[str], cwd: Path) -> None:
        env = {**os.environ, "NO_COLOR": "1", "PYTHONIOENCODING": "utf-8"}
        self.proc = subprocess.Popen(
            [installed_tutor(), *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, encoding="utf-8", cwd=cwd, env=env,
        )  # fmt: skip
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        self.pump = threading.Thread(target=self._pump, daemon=True)
        self.pump.start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def expect(self, pattern: re.Pattern[str]) -> re.Match[str]:
        """Read lines until one matches ``pattern``; fail on end of output or timeout."""
        while True:
            try:
                line = self.lines.get(timeout=TIMEOUT)
            except queue.Empty:
                raise AssertionError("no output for a minute:\n" + "\n".join(self.seen)) from None
            if line is None:
                errors = self.proc.stderr.read() if self.proc.stderr else ""
                raise AssertionError("output ended:\n" + "\n".join([*self.seen, errors]))
            self.seen.append(line)
            found = pattern.search(line)
            if found:
                return found

    def send(self, text: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()

    def kill(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=TIMEOUT)
        self._close()

    def finish(self) -> tuple[int, str]:
        """Close standard input and wait: (exit status, the rest of the output)."""
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=TIMEOUT)
        rest = []
        while (line := self.lines.get(timeout=TIMEOUT)) is not None:
            rest.append(line)
        self._close()
        return self.proc.returncode, "\n".join(rest)

    def stop(self) -> None:
        """Kill the child if it is still running (test cleanup)."""
        if self.proc.poll() is None:
            self.kill()
        self._close()

    def _close(self) -> None:
        self.pump.join(timeout=TIMEOUT)  # the child has exited: its output ends soon
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if stream is not None and not stream.closed:
                with contextlib.suppress(BrokenPipeError):  # unread input of a killed child
                    stream.close()


@pytest.fixture
def spawn(tmp_path: Path) -> Iterator[Callable[[Sequence[str]], Live]]:
    """Start ``tutor`` children; any still running when the test ends are killed."""
    started: list[Live] = []

    def start(args: Sequence[str]) -> Live:
        started.append(Live(args, tmp_path))
        return started[-1]

    yield start
    for live in started:
        live.stop()


def answer(live: Live, plan: Sequence[bool]) -> list[str]:
    """Answer arithmetic prompts right (True) or wrong (False) in turn; return the answers
    whose feedback was read, in order."""
    acknowledged: list[str] = []
    product, tries = None, 0
    for right in plan:
        if product is None:
            found = live.expect(QUESTION)
            product, tries = int(found.group(1)) * int(found.group(2)), 0
        text = str(product if right else product + 1)
        live.send(text)
        verdict = live.expect(VERDICT)
        acknowledged.append(text)
        tries += 1
        if verdict.group(1).startswith("✓") or tries == 3:
            product = None
    return acknowledged


def check_store(db: Path) -> list[str]:
    """Assert the file is sound and consistent; return the stored answers in order."""
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        conn.close()
    with open_store(db) as store:
        assert replayed_cards(store) == store.cards()
        return [record.attempt.answer_text for record in store.attempts()]


# --- kill -9 ---------------------------------------------------------------------------------

COMMANDS = {
    "quiz": ["quiz", "-n", "3", "--seed", "5"],
    "practice": ["practice", "--new", "3"],
}
# (answers to give with their feedback read, whether one more answer is sent unread)
KILL_POINTS = [((True, False), False), ((False, True, True, False), True), ((True, True), True)]


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize(("plan", "one_more"), KILL_POINTS)
def test_sigkill_loses_no_answer_whose_feedback_was_shown(
    tmp_path: Path,
    banks: Path,
    spawn: Callable[[Sequence[str]], Live],
    command: str,
    plan: tuple[bool, ...],
    one_more: bool,
) -> None:
    db = tmp_path / "progress.sqlite3"
    live = spawn([*COMMANDS[command], "--db", str(db), *bank_args(banks)])
    acknowledged = answer(live, plan)
    if one_more:
        live.send("1")  # may or may not be saved: its feedback was never seen
    live.kill()
    stored = check_store(db)
    assert stored[: len(acknowledged)] == acknowledged
    assert len(stored) <= len(acknowledged) + one_more


# --- two sessions at once ------------------------------------------------------------------


def test_two_sessions_at_once_both_save_everything(
    tmp_path: Path, banks: Path, spawn: Callable[[Sequence[str]], Live]
) -> None:
    db = tmp_path / "progress.sqlite3"
    args = ["practice", "--new", "3", "--db", str(db), *bank_args(banks)]
    sessions = [spawn(args) for _ in range(2)]
    for session in sessions:  # both have planned the same three new questions
        session.expect(re.compile(r"^Practice: 0 to review, 3 new"))
    plans = [(True, False, True, True), (False, False, True, True, True)]
    results: dict[int, list[str]] = {}

    def drive(index: int) -> None:
        results[index] = answer(sessions[index], plans[index])

    threads = [threading.Thread(target=drive, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=2 * TIMEOUT)
    endings = [session.finish() for session in sessions]
    assert [code for code, _ in endings] == [0, 0]
    assert all("Session report" in rest for _, rest in endings)
    stored = check_store(db)
    assert sorted(stored) == sorted(results[0] + results[1])


@pytest.fixture
def write_lock(tmp_path: Path) -> Iterator[Path]:
    """A progress file with one attempt, while another connection holds its write lock."""
    db = tmp_path / "progress.sqlite3"
    with open_store(db) as store:
        store.record(make_attempt(), Rating.Good)
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        yield db
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_a_busy_file_waits_then_says_so(tmp_path: Path, banks: Path, write_lock: Path) -> None:
    """The answer that cannot be saved gets no feedback; the command ends with one line."""
    before = write_lock.read_bytes()
    done = subprocess.run(
        [installed_tutor(), "quiz", "-n", "1", "--db", str(write_lock), *bank_args(banks)],
        input="1\n", capture_output=True, text=True, timeout=TIMEOUT, check=False,
        env={**os.environ, "NO_COLOR": "1"},
    )  # fmt: skip
    assert done.returncode == 1
    assert done.stderr == (
        f"Error: progress file {write_lock} is busy: another tutor session is writing to it. "
        "Finish that session and try again.\n"
    )
    assert "Your answer: 1" in done.stdout
    assert "Not quite" not in done.stdout and "Correct" not in done.stdout
    assert write_lock.read_bytes() == before


def test_import_into_a_busy_file(tmp_path: Path, write_lock: Path) -> None:
    export = tmp_path / "e.json"
    export.write_text(json.dumps({"format": "gradient-tutor-progress", "version": 1,
                                  "attempts": []}))  # fmt: skip
    result = CliRunner().invoke(main, ["import", str(export), "--db", str(write_lock)])
    assert result.exit_code == 1
    assert f"Error: progress file {write_lock} is busy" in result.output


def test_stats_reads_a_file_another_session_is_writing(write_lock: Path) -> None:
    result = CliRunner().invoke(main, ["stats", "--json", "--db", str(write_lock)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["attempts"] == 1


# --- files the commands refuse without touching ------------------------------------------


def _corrupt(db: Path) -> None:
    db.write_bytes(np.random.default_rng(0).bytes(4096))


def _damaged(db: Path) -> None:
    db.write_bytes(b"SQLite format 3\x00" + np.random.default_rng(1).bytes(8192))


def _directory(db: Path) -> None:
    db.mkdir()


def _newer(db: Path) -> None:
    with open_store(db) as store:
        store.record(make_attempt(), Rating.Good)
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA user_version = 7")
    conn.close()


def _foreign(db: Path) -> None:
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("CREATE TABLE notes (body TEXT)")
    conn.close()


BAD_FILES = {
    "corrupt": (_corrupt, "is damaged or is not a gradient-tutor progress file"),
    "damaged": (_damaged, "is damaged or is not a gradient-tutor progress file"),
    "directory": (_directory, "is a directory, not a file"),
    "newer": (_newer, "was written by a newer gradient-tutor (schema version 7"),
    "foreign": (_foreign, "is an SQLite database that gradient-tutor did not create"),
}


def _fingerprint(path: Path) -> object:
    return sorted(p.name for p in path.iterdir()) if path.is_dir() else path.read_bytes()


def _commands(banks: Path, export: Path) -> dict[str, list[str]]:
    return {
        "quiz": ["quiz", "-n", "1", *bank_args(banks)],
        "practice": ["practice", *bank_args(banks)],
        "stats": ["stats", *bank_args(banks)],
        "stats --json": ["stats", "--json"],
        "stats --export": ["stats", "--export", str(export.with_name("out.json"))],
        "import": ["import", str(export)],
    }


@pytest.fixture
def export(tmp_path: Path) -> Path:
    source = tmp_path / "source.sqlite3"
    with open_store(source) as store:
        store.record(make_attempt(seed=99), Rating.Good)
    target = tmp_path / "export.json"
    _cli("stats", "--db", str(source), "--export", str(target))
    return target


@pytest.mark.parametrize("kind", sorted(BAD_FILES))
@pytest.mark.parametrize(
    "command", ["quiz", "practice", "stats", "stats --json", "stats --export", "import"]
)
def test_bad_files_get_one_clear_line_and_are_left_untouched(
    tmp_path: Path, banks: Path, export: Path, kind: str, command: str
) -> None:
    db = tmp_path / "progress.sqlite3"
    make, message = BAD_FILES[kind]
    make(db)
    before = _fingerprint(db)
    args = [*_commands(banks, export)[command], "--db", str(db)]
    result = CliRunner().invoke(main, args, input="1\n")
    assert result.exit_code == 1
    if command == "quiz":  # the store opens once the first question is shown, before any answer
        output = result.output.splitlines()[-1] + "\n"
        assert result.output.count("Your answer") == 1 and "Not quite" not in result.output
    else:
        output = result.output
    assert output.startswith("Error: ") and f"{db} " in output
    assert message in output
    assert output.count("\n") == 1  # one line, no traceback
    assert _fingerprint(db) == before
    assert not export.with_name("out.json").exists()


BAD_VALUES = [
    "UPDATE cards SET state = 7",
    "UPDATE attempts SET at = 'yesterday'",
    "UPDATE attempts SET concepts = 'not json'",
    "UPDATE attempts SET rating = 9",
]


@pytest.mark.parametrize("statement", BAD_VALUES)
@pytest.mark.parametrize("command", ["practice", "stats", "stats --json", "stats --export"])
def test_bad_values_in_the_file_get_one_clear_line(
    tmp_path: Path, banks: Path, export: Path, statement: str, command: str
) -> None:
    db = tmp_path / "progress.sqlite3"
    with open_store(db) as store:
        store.record(make_attempt(question_id="times-two", seed=1), Rating.Good)
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute(statement)
    conn.close()
    before = db.read_bytes()
    result = CliRunner().invoke(main, [*_commands(banks, export)[command], "--db", str(db)])
    if command == "stats --export" and "cards" in statement:
        assert result.exit_code == 0, result.output  # cards are not exported: a way out
        assert db.read_bytes() == before
        return
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: progress file {db} is damaged (")
    assert result.output.count("\n") == 1  # one line, no traceback
    assert db.read_bytes() == before


# --- a read-only location ---------------------------------------------------------------

READ_ONLY_SCRIPT = """
set -u
M="$1"; OUT="$2"; T="$3"; BANKS="$4"; EXPORT="$5"; MODE="$6"
if [ "$MODE" = mount ]; then mount -t tmpfs tmpfs "$M" || exit 77; fi
printf '1\\n1\\n1\\n' | "$T" practice --new 1 --db "$M/p.sqlite3" --bank "$BANKS" --only-banks \\
    > "$OUT/fill.out" 2>&1 || exit 78
if [ "$MODE" = mount ]; then mount -o remount,ro "$M" || exit 77; else chmod 555 "$M"; fi
sha256sum "$M/p.sqlite3" > "$OUT/before"
run() { name="$1"; shift; "$@" < /dev/null > "$OUT/$name.out" 2> "$OUT/$name.err"; \\
        echo $? > "$OUT/$name.rc"; }
run quiz "$T" quiz -n 1 --db "$M/p.sqlite3" --bank "$BANKS" --only-banks
run practice "$T" practice --db "$M/p.sqlite3" --bank "$BANKS" --only-banks
run import "$T" import "$EXPORT" --db "$M/p.sqlite3"
run new "$T" practice --db "$M/new.sqlite3" --bank "$BANKS" --only-banks
run stats "$T" stats --json --db "$M/p.sqlite3"
run export "$T" stats --export "$OUT/export.json" --db "$M/p.sqlite3"
sha256sum "$M/p.sqlite3" > "$OUT/after"
if [ "$MODE" = chmod ]; then chmod 755 "$M"; fi
"""


def _run_read_only(tmp_path: Path, banks: Path, export: Path) -> Path:
    """Run the commands against a read-only folder; return the folder of their outputs."""
    script, media, out = tmp_path / "ro.sh", tmp_path / "media", tmp_path / "out"
    script.write_text(READ_ONLY_SCRIPT)
    media.mkdir()
    out.mkdir()
    args = [str(media), str(out), installed_tutor(), str(banks), str(export)]
    if os.geteuid() != 0:  # permission bits bind ordinary users
        command = ["sh", str(script), *args, "chmod"]
    elif shutil.which("unshare"):  # root ignores them: mount a private read-only tmpfs
        command = ["unshare", "-m", "sh", str(script), *args, "mount"]
    else:
        pytest.skip("needs unshare(1) to make a read-only folder as root")
    env = {**os.environ, "NO_COLOR": "1"}
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300,
                          check=False)  # fmt: skip
    if done.returncode == 77:
        pytest.skip(f"cannot mount a private file system here: {done.stderr.strip()}")
    assert done.returncode == 0, done.stderr + (out / "fill.out").read_text()
    return out


def test_a_read_only_location(tmp_path: Path, banks: Path, export: Path) -> None:
    out = _run_read_only(tmp_path, banks, export)
    media = tmp_path / "media"

    def ran(name: str) -> tuple[int, str]:
        return int((out / f"{name}.rc").read_text()), (out / f"{name}.err").read_text()

    for name, file in (("quiz", "p"), ("practice", "p"), ("import", "p"), ("new", "new")):
        code, err = ran(name)
        assert code == 1, name
        assert err.startswith(f"Error: progress file {media}/{file}.sqlite3 cannot be written")
        assert err.count("\n") == 1, err
    code, _ = ran("stats")  # reading works where writing cannot
    assert code == 0
    assert json.loads((out / "stats.out").read_text())["attempts"] == 3
    assert ran("export")[0] == 0
    assert len(json.loads((out / "export.json").read_text())["attempts"]) == 3
    assert (out / "before").read_text() == (out / "after").read_text()


# --- moving progress: export, then import ------------------------------------------------


def _cli(*args: str, stdin: str | None = None) -> str:
    result = CliRunner().invoke(main, list(args), input=stdin)
    assert result.exit_code == 0, result.output
    return result.output


def _stats(db: Path, banks: Path) -> dict[str, object]:
    data: dict[str, object] = json.loads(_cli("stats", "--json", "--db", str(db),
                                              *bank_args(banks)))  # fmt: skip
    del data["db"]
    return data


def test_export_then_import_round_trips(tmp_path: Path, banks: Path) -> None:
    old, new, file = tmp_path / "old.sqlite3", tmp_path / "new.sqlite3", tmp_path / "p.json"
    _cli("practice", "--new", "2", "--db", str(old), *bank_args(banks), stdin="1\n" * 6)
    _cli("quiz", "-n", "1", "--db", str(old), *bank_args(banks), stdin="1\n" * 3)
    assert _cli("stats", "--export", str(file), "--db", str(old)) == (
        f"Exported 9 attempts to {file}.\n"
    )
    assert _cli("import", str(file), "--db", str(new)) == (
        f"Imported 9 of 9 attempts from {file} into {new}.\n"
    )
    assert _stats(new, banks) == _stats(old, banks)
    with open_store(old) as before, open_store(new) as after:
        assert after.cards() == before.cards()
        assert [r.attempt for r in after.attempts()] == [r.attempt for r in before.attempts()]
    assert _cli("import", str(file), "--db", str(new)) == (
        f"Imported 0 of 9 attempts from {file} into {new} (9 were already there).\n"
    )
    assert len(check_store(new)) == 9


def test_hashes_of_an_export_are_stable(tmp_path: Path, banks: Path) -> None:
    """Exporting twice gives the same file: the export is a pure function of the store."""
    db = tmp_path / "p.sqlite3"
    _cli("practice", "--new", "1", "--db", str(db), *bank_args(banks), stdin="1\n" * 3)
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    _cli("stats", "--export", str(first), "--db", str(db))
    _cli("stats", "--export", str(second), "--db", str(db))
    digest = [hashlib.sha256(p.read_bytes()).hexdigest() for p in (first, second)]
    assert digest[0] == digest[1]


def _export_at(when: str) -> dict[str, object]:
    """An export of one reviewed attempt made (and reviewed) at ``when``."""
    attempt = {"uuid": "0b6f8f9e-6a43-4c3e-9d0c-3d2f5e0b7a11", "question_id": "times-two",
               "seed": 1, "topic": "arithmetic", "concepts": [], "mode": "practice", "part": 0,
               "attempt_no": 1, "final": True, "answer_text": "2", "correct": True,
               "score": 1.0, "mistake": None, "hints_used": 0, "elapsed_s": 3.0,
               "expected": "2", "params": {}, "bank_hash": "x", "at": when, "rating": 3,
               "reviewed_at": when}  # fmt: skip
    return {"format": "gradient-tutor-progress", "version": 1, "attempts": [attempt]}


def _edited(**changes: object) -> dict[str, object]:
    """A valid export of one attempt at 2025-03-01 with some of its fields changed."""
    document = _export_at("2025-03-01T12:00:00+00:00")
    attempts = document["attempts"]
    assert isinstance(attempts, list)
    attempts[0].update(changes)
    return document


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "is not valid JSON (line 1, column 2"),
        ('{"format": "something-else"}', "not a gradient-tutor progress export"),
        ('{"format": "gradient-tutor-progress", "version": 1, "attempts": [{"uuid": 1}]}',
         "attempts[0]: missing"),
        (json.dumps(_export_at("2099-01-01T00:00:00+00:00")),
         "attempts[0].at: 2099-01-01T00:00:00.000000+00:00 is in the future"),
        (json.dumps(_export_at("9999-12-31T23:00:00+00:00")), "attempts[0].at: 9999-12-31T23"),
        (json.dumps(_export_at("1970-01-01T00:00:00+00:00")), "is before 2000"),
        (json.dumps(_edited(seed=-5)), "attempts[0]: seed must be from 0 to 9223372036854775807."),
        (json.dumps(_edited(score=5)), "attempts[0]: score must be from 0 to 1."),
    ],
)  # fmt: skip
def test_a_bad_export_is_refused_and_nothing_is_imported(
    tmp_path: Path, content: str, message: str
) -> None:
    db, file = tmp_path / "p.sqlite3", tmp_path / "bad.json"
    with open_store(db) as store:
        store.record(make_attempt(), Rating.Good)
    file.write_text(content)
    result = CliRunner().invoke(main, ["import", str(file), "--db", str(db)])
    assert result.exit_code == 1
    assert result.output.startswith("Error: ") and message in result.output
    assert str(file) in result.output
    assert result.output.count("\n") == 1
    with open_store(db) as store:
        assert len(store.attempts()) == 1


def test_a_refused_export_creates_no_progress_file(tmp_path: Path) -> None:
    db, file = tmp_path / "new.sqlite3", tmp_path / "bad.json"
    file.write_text(json.dumps(_edited(score=5)))
    result = CliRunner().invoke(main, ["import", str(file), "--db", str(db)])
    assert result.exit_code == 1
    assert not db.exists()


def test_an_attempt_repeated_in_the_file_is_not_already_there(tmp_path: Path) -> None:
    """It was "Imported 1 of 2 attempts ... (1 were already there)" into an empty file."""
    db, file = tmp_path / "p.sqlite3", tmp_path / "twice.json"
    document = _edited()
    attempts = document["attempts"]
    assert isinstance(attempts, list)
    document["attempts"] = attempts * 2
    file.write_text(json.dumps(document))
    assert _cli("import", str(file), "--db", str(db)) == (
        f"Imported 1 of 1 attempts from {file} into {db}.\n"
    )
    with open_store(db) as store:
        assert len(store.attempts()) == 1


@pytest.mark.parametrize(
    ("added", "total", "known"),
    [(2, 2, ""), (1, 2, " (1 was already there)"), (0, 2, " (2 were already there)")],
)
def test_the_import_report(added: int, total: int, known: str) -> None:
    source, db = Path("p.json"), Path("/home/ada/p.sqlite3")
    assert stats_view.import_report(added, total, source, db) == (
        f"Imported {added} of {total} attempts from p.json into /home/ada/p.sqlite3{known}."
    )


def test_importing_a_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "missing.json"
    result = CliRunner().invoke(main, ["import", str(missing), "--db", str(tmp_path / "p.db")])
    assert result.exit_code == 1
    assert result.output == f"Error: cannot read export {missing}: No such file or directory.\n"
