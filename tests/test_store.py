"""The SQLite progress store on real files: location, recording, scheduling, two sessions."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import click
import numpy as np
import pytest
from click.testing import CliRunner
from fsrs import Rating
from store_helpers import T0, make_attempt, replayed_cards

from tutor import store_db
from tutor.errors import StoreError
from tutor.store import (
    DB_FILENAME,
    Recorded,
    default_path,
    open_store,
    resolve_path,
)


def _pragma(path: Path, name: str) -> object:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(f"PRAGMA {name}").fetchone()[0]
    finally:
        conn.close()


# --- where the file lives ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("explicit", "env", "expected"),
    [
        (None, {}, None),
        (None, {"TUTOR_DB": ""}, None),
        (None, {"TUTOR_DB": "/data/env.sqlite3"}, "/data/env.sqlite3"),
        ("/data/cli.sqlite3", {"TUTOR_DB": "/data/env.sqlite3"}, "/data/cli.sqlite3"),
        (Path("/data/cli.sqlite3"), {}, "/data/cli.sqlite3"),
    ],
)
def test_resolve_path_precedence(
    explicit: str | Path | None, env: dict[str, str], expected: str | None
) -> None:
    want = default_path() if expected is None else Path(expected)
    assert resolve_path(explicit, env) == want


def test_resolve_path_expands_home_and_makes_absolute(monkeypatch: pytest.MonkeyPatch) -> None:
    assert resolve_path("~/p.sqlite3", {}) == Path.home() / "p.sqlite3"
    assert resolve_path("rel.sqlite3", {}) == Path.cwd() / "rel.sqlite3"
    assert default_path().name == DB_FILENAME
    assert "gradient-tutor" in str(default_path())
    with pytest.raises(StoreError, match="empty"):
        resolve_path("", {})


def test_open_store_uses_tutor_db(monkeypatch: pytest.MonkeyPatch, db: Path) -> None:
    monkeypatch.setenv("TUTOR_DB", str(db))
    with open_store() as store:
        assert store.path == db
    assert db.is_file()


def test_db_option_passes_a_path_or_none() -> None:
    from tutor.cli import db_option

    @click.command()
    @db_option
    def show(db: Path | None) -> None:
        click.echo(repr(db))

    runner = CliRunner()
    assert runner.invoke(show, ["--db", "x.sqlite3"]).output == "PosixPath('x.sqlite3')\n"
    assert runner.invoke(show, []).output == "None\n"
    assert "--db PATH" in runner.invoke(show, ["--help"]).output


# --- recording ---------------------------------------------------------------------------


def test_record_then_reopen(db: Path) -> None:
    first = make_attempt(correct=False, mistake="sigma-not-derivative", score=0.0, final=False)
    second = make_attempt(attempt_no=2, at=T0 + timedelta(seconds=40))
    other = make_attempt(question_id="he-init-variance", topic="init", seed=2**63 - 1)
    with open_store(db) as store:
        store.record(first)
        store.record(second, Rating.Hard)
        store.record(other)
        card = store.card("sigmoid-chain-gradient")
    with open_store(db) as store:
        assert store.attempts() == [
            Recorded(first),
            Recorded(second, Rating.Hard, second.at),
            Recorded(other),
        ]
        assert store.card("sigmoid-chain-gradient") == card
        assert store.card("he-init-variance") is None


def test_file_settings(db: Path) -> None:
    open_store(db).close()
    assert _pragma(db, "journal_mode") == "wal"
    assert _pragma(db, "user_version") == len(store_db.MIGRATIONS) == 1
    assert _pragma(db, "application_id") == store_db.APPLICATION_ID
    assert _pragma(db, "integrity_check") == "ok"


def test_recording_the_same_attempt_twice_stores_it_once(db: Path) -> None:
    attempt = make_attempt()
    with open_store(db) as store:
        store.record(attempt, Rating.Good)
        once = store.card(attempt.question_id)
        store.record(attempt, Rating.Good)
        assert len(store.attempts()) == 1
        assert store.card(attempt.question_id) == once


def test_params_are_stored_as_json(db: Path) -> None:
    attempt = make_attempt(params={"w": np.float64(0.5), "shape": np.array([2, 3]), "n": 4})
    with open_store(db) as store:
        store.record(attempt)
        assert store.attempts()[0].attempt.params == {"w": 0.5, "shape": [2, 3], "n": 4}


@pytest.mark.parametrize(
    ("changes", "rating", "message"),
    [
        ({"final": False}, Rating.Good, "final attempt"),
        ({"mode": "exam"}, None, "mode"),
        ({"seed": 2**64}, None, "64-bit"),
        ({"attempt_no": 0}, None, "attempt_no"),
        ({"score": float("nan")}, None, "score"),
        ({"question_id": ""}, None, "question_id"),
        ({"at": T0.replace(tzinfo=None)}, None, "aware"),
    ],
)
def test_record_refuses_malformed_attempts(
    db: Path, changes: dict[str, object], rating: Rating | None, message: str
) -> None:
    with open_store(db) as store:
        with pytest.raises(ValueError, match=message):
            store.record(make_attempt(**changes), rating)
        assert store.attempts() == []


def test_a_failed_record_changes_nothing(db: Path) -> None:
    with open_store(db) as store:
        with pytest.raises(ValueError, match="JSON"):
            store.record(make_attempt(params={"x": object()}), Rating.Good)
        assert store.attempts() == []
        assert store.card("sigmoid-chain-gradient") is None  # the card update was rolled back


def test_an_acknowledged_answer_survives_kill_9(db: Path, tmp_path: Path) -> None:
    script = tmp_path / "killed.py"
    script.write_text(
        "import os, signal, sys\n"
        "from fsrs import Rating\n"
        "from store_helpers import make_attempt\n"
        "from tutor.store import open_store\n"
        "store = open_store(sys.argv[1])\n"
        "store.record(make_attempt(), Rating.Good)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent)}
    done = subprocess.run([sys.executable, str(script), str(db)], env=env, check=False)
    assert done.returncode == -9
    with open_store(db) as store:
        assert len(store.attempts()) == 1
        assert store.card("sigmoid-chain-gradient") is not None


# --- scheduling through the store ----------------------------------------------------------


def test_wrong_answer_is_due_sooner_than_right(db: Path) -> None:
    with open_store(db) as store:
        store.record(make_attempt(question_id="wrong", correct=False), Rating.Again)
        store.record(make_attempt(question_id="right"), Rating.Good)
        wrong, right = store.card("wrong"), store.card("right")
    assert wrong is not None and right is not None
    assert wrong.due < right.due


def test_due_lists_due_cards_most_overdue_first(db: Path) -> None:
    with open_store(db) as store:
        for qid, rating in [("a", Rating.Good), ("b", Rating.Again), ("c", Rating.Easy)]:
            store.record(make_attempt(question_id=qid), rating)
        ids = ["c", "a", "b", "never-seen"]
        assert store.due(T0, ids) == []
        assert store.due(T0 + timedelta(minutes=5), ids) == ["b"]
        assert store.due(T0 + timedelta(hours=1), ids) == ["b", "a"]
        assert store.due(T0 + timedelta(days=30), ids) == ["b", "a", "c"]
        assert store.due(T0 + timedelta(days=30), ["c"]) == ["c"]
        assert store.due_dates(["a", "z"])["z"] is None


def test_clock_set_back_keeps_the_schedule(db: Path, tmp_path: Path) -> None:
    earlier = make_attempt(at=T0 - timedelta(days=2))
    with open_store(db) as store:
        store.record(make_attempt(), Rating.Good)
        before = store.card("sigmoid-chain-gradient")
        store.record(earlier, Rating.Good)
        after = store.card("sigmoid-chain-gradient")
        stored = store.attempts()[-1]
    with open_store(tmp_path / "reference.sqlite3") as reference:
        reference.record(make_attempt(), Rating.Good)
        reference.record(make_attempt(), Rating.Good)
        expected = reference.card("sigmoid-chain-gradient")
    assert before is not None and after is not None
    assert after == expected  # reviewed as if at the last recorded time
    assert after.last_review == T0 and after.due >= before.due
    assert stored.attempt.at == earlier.at and stored.reviewed_at == T0


# --- two sessions ----------------------------------------------------------------------------


def test_a_held_write_lock_makes_record_wait_then_report_busy(db: Path) -> None:
    with open_store(db, busy_timeout=0.2) as store:
        blocker = sqlite3.connect(db, isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")
        try:
            with pytest.raises(StoreError, match="busy") as info:
                store.record(make_attempt(), Rating.Good)
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        assert str(db) in str(info.value)
        assert store.attempts() == []
        store.record(make_attempt(), Rating.Good)  # usable once the lock is gone
        assert len(store.attempts()) == 1


def test_record_waits_for_a_lock_released_in_time(db: Path) -> None:
    with open_store(db, busy_timeout=10.0) as store:
        blocker = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
        blocker.execute("BEGIN IMMEDIATE")
        release = threading.Timer(0.1, lambda: blocker.execute("ROLLBACK"))
        release.start()
        try:
            store.record(make_attempt(), Rating.Good)
        finally:
            release.join()
            blocker.close()
        assert len(store.attempts()) == 1


WORKER = """
import sys
from datetime import timedelta
from fsrs import Rating
from store_helpers import T0, make_attempt, replayed_cards
from tutor.store import open_store

path, tag, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
with open_store(path, busy_timeout=30.0) as store:
    for i in range(count):
        attempt = make_attempt(
            question_id=f"q{i % 3}", seed=i, answer_text=tag, at=T0 + timedelta(minutes=i)
        )
        store.record(attempt, Rating.Good if i % 2 else Rating.Again)
"""


class _BusyThenWal:
    """A connection on which switching to WAL is refused as "locked" ``busy`` times first."""

    def __init__(self, busy: int) -> None:
        self.busy, self.tries = busy, 0

    def execute(self, sql: str) -> _BusyThenWal:
        assert sql == "PRAGMA journal_mode = WAL"
        self.tries += 1
        if self.tries <= self.busy:
            locked = sqlite3.OperationalError("database is locked")
            locked.sqlite_errorcode = sqlite3.SQLITE_BUSY
            raise locked
        return self

    def fetchone(self) -> tuple[str]:
        return ("wal",)


def test_switching_to_wal_is_retried_while_another_session_holds_the_file() -> None:
    # SQLite answers "database is locked" at once, without waiting, when two sessions switch
    # a new file to WAL together (waiting could deadlock them): the switch is retried.
    conn = _BusyThenWal(busy=3)
    assert store_db._journal_mode_wal(conn, wait=5.0) == "wal"  # type: ignore[arg-type]
    assert conn.tries == 4
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        store_db._journal_mode_wal(_BusyThenWal(busy=1000), wait=0.05)  # type: ignore[arg-type]


def test_sessions_opening_a_new_file_together_all_open_it(tmp_path: Path) -> None:
    script = tmp_path / "opener.py"
    script.write_text(OPENER)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent)}
    for round_ in range(10):
        db = tmp_path / f"new{round_}.sqlite3"
        start = time.time() + 0.5  # all three open the file at this moment
        openers = [
            subprocess.Popen([sys.executable, str(script), str(db), str(start)], env=env)
            for _ in range(3)
        ]
        assert [opener.wait(timeout=120) for opener in openers] == [0, 0, 0]


OPENER = """
import sys, time
from tutor.store import open_store

path, start = sys.argv[1], float(sys.argv[2])
time.sleep(max(0.0, start - time.time()))
open_store(path, busy_timeout=30.0).close()
"""


def test_two_processes_recording_at_once(db: Path, tmp_path: Path) -> None:
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent)}
    workers = [
        subprocess.Popen([sys.executable, str(script), str(db), tag, "30"], env=env)
        for tag in ("first", "second")
    ]
    assert [worker.wait(timeout=120) for worker in workers] == [0, 0]
    assert _pragma(db, "integrity_check") == "ok"
    with open_store(db) as store:
        recorded = store.attempts()
        assert sorted(r.attempt.answer_text for r in recorded) == ["first"] * 30 + ["second"] * 30
        assert set(store.cards()) == {"q0", "q1", "q2"}
        assert store.cards() == replayed_cards(store)  # no review was lost or misordered
