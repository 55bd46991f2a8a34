"""Progress files the store must refuse without touching, and schema migrations."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from fsrs import Rating
from store_helpers import make_attempt

from tutor import store_db
from tutor.errors import StoreError
from tutor.store import DB_FILENAME, Recorded, open_store


def _pragma(path: Path, name: str) -> object:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(f"PRAGMA {name}").fetchone()[0]
    finally:
        conn.close()


def _set_pragma(path: Path, statement: str) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute(statement)
    finally:
        conn.close()


def _recorded_store(path: Path) -> None:
    """A v1 store at ``path`` holding one reviewed attempt, closed again."""
    with open_store(path) as store:
        store.record(make_attempt(), Rating.Good)


# --- files that must not be touched -----------------------------------------------------------


def _refused(
    path: Path,
    match: str,
    *,
    readonly: bool = False,
    migrations: Sequence[store_db.Migration] = store_db.MIGRATIONS,
) -> StoreError:
    with pytest.raises(StoreError, match=match) as info:
        open_store(path, readonly=readonly, migrations=migrations)
    assert str(path) in str(info.value)
    return info.value


def test_random_bytes_are_refused_and_kept(db: Path) -> None:
    junk = np.random.default_rng(0).bytes(8192)
    db.write_bytes(junk)
    _refused(db, "damaged or is not a gradient-tutor progress file")
    assert db.read_bytes() == junk


def test_a_damaged_database_is_refused_and_kept(db: Path) -> None:
    junk = b"SQLite format 3\x00" + np.random.default_rng(1).bytes(8192)
    db.write_bytes(junk)
    _refused(db, "damaged")
    assert db.read_bytes() == junk


def test_damage_past_the_header_is_found_on_opening(db: Path) -> None:
    for _ in range(20):
        _recorded_store(db)
    with db.open("r+b") as handle:  # the header and schema survive; pages after them do not
        handle.seek(db.stat().st_size // 2)
        handle.write(b"\x00" * (db.stat().st_size // 2))
    damaged = db.read_bytes()
    _refused(db, "damaged")
    assert db.read_bytes() == damaged


def test_a_pipe_at_the_path_is_refused_without_waiting(db: Path) -> None:
    os.mkfifo(db)
    _refused(db, "is not a regular file")


def test_a_directory_at_the_path_is_refused(db: Path) -> None:
    db.mkdir()
    _refused(db, "is a directory")
    assert db.is_dir() and not any(db.iterdir())


def test_a_file_in_place_of_the_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "folder").write_text("not a folder")
    _refused(tmp_path / "folder" / DB_FILENAME, "cannot use progress file")


def test_a_newer_schema_is_refused_and_kept(db: Path) -> None:
    _recorded_store(db)
    _set_pragma(db, "PRAGMA user_version = 99")
    before = db.read_bytes()
    error = _refused(db, "newer gradient-tutor")
    assert "schema version 99" in str(error) and "upgrade" in str(error)
    assert db.read_bytes() == before


def test_another_programs_database_is_refused_and_kept(db: Path) -> None:
    _set_pragma(db, "CREATE TABLE notes (body TEXT)")
    before = db.read_bytes()
    _refused(db, "did not create")
    assert db.read_bytes() == before


def test_read_only_access_never_writes(db: Path) -> None:
    _recorded_store(db)
    before = db.read_bytes()
    with open_store(db, readonly=True) as store:
        assert len(store.attempts()) == 1
        with pytest.raises(StoreError, match="cannot be written") as info:
            store.record(make_attempt(seed=8), Rating.Good)
    assert str(db) in str(info.value)
    assert db.read_bytes() == before
    _refused(db.with_name("missing.sqlite3"), "no progress has been recorded", readonly=True)


def test_read_only_access_to_an_empty_file_finds_nothing_recorded(db: Path) -> None:
    """Not "needs an upgrade": a 0-byte file, or one whose creation stopped before its tables,
    holds no progress; readers take it as no progress, as a missing file."""
    db.touch()
    error = _refused(db, "no progress has been recorded yet", readonly=True)
    assert isinstance(error, store_db.NothingRecorded)
    assert db.read_bytes() == b""
    _set_pragma(db, "PRAGMA journal_mode = WAL")  # a header, then no tables
    before = db.read_bytes()
    assert isinstance(_refused(db, "is empty", readonly=True), store_db.NothingRecorded)
    assert db.read_bytes() == before
    open_store(db).close()  # opened to write, it is a new file as before
    assert _pragma(db, "user_version") == len(store_db.MIGRATIONS)


def test_read_only_access_to_an_old_layout_still_needs_an_upgrade(db: Path) -> None:
    _set_pragma(db, f"PRAGMA application_id = {store_db.APPLICATION_ID}")
    _set_pragma(db, "CREATE TABLE answers (question_id TEXT)")
    error = _refused(db, "needs an upgrade", readonly=True)
    assert not isinstance(error, store_db.NothingRecorded)


def test_a_read_only_folder_is_refused(db: Path) -> None:
    _recorded_store(db)
    before = db.read_bytes()
    db.parent.chmod(0o555)
    try:
        try:  # root ignores permission bits: then this cannot be simulated with chmod
            (db.parent / "probe").touch()
        except PermissionError:
            pass
        else:
            (db.parent / "probe").unlink()
            pytest.skip("running as a user who can write to read-only folders")
        _refused(db, "read-only")
        _refused(db.with_name("new.sqlite3"), "read-only")
    finally:
        db.parent.chmod(0o755)
    assert db.read_bytes() == before


READ_ONLY_MEDIA = """
import sys
from fsrs import Rating
from store_helpers import make_attempt
from tutor.errors import StoreError
from tutor.store import open_store

folder = sys.argv[1]
if sys.argv[2] == "fill":
    with open_store(folder + "/p.sqlite3") as store:
        store.record(make_attempt(), Rating.Good)
    sys.exit(0)
for name in ("p.sqlite3", "new.sqlite3"):
    try:
        open_store(folder + "/" + name)
    except StoreError as exc:
        print(exc)
with open_store(folder + "/p.sqlite3", readonly=True) as store:
    print(len(store.attempts()))
"""


def test_read_only_media(tmp_path: Path) -> None:
    """A truly read-only file system (works as root too), where the platform allows it."""
    if shutil.which("unshare") is None:
        pytest.skip("needs unshare(1) to mount a private read-only file system")
    script, media = tmp_path / "ro.py", tmp_path / "media"
    script.write_text(READ_ONLY_MEDIA)
    media.mkdir()
    run = f"{sys.executable} {script} {media}"
    shell = (
        f"mount -t tmpfs tmpfs {media} || exit 77; {run} fill && "
        f"mount -o remount,ro {media} && {run} check"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent)}
    done = subprocess.run(
        ["unshare", "-m", "sh", "-c", shell], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode in (1, 77) and not done.stdout:
        pytest.skip(f"cannot mount a private file system here: {done.stderr.strip()}")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith(f"progress file {media}/p.sqlite3 cannot be written")
    assert lines[1].startswith(f"progress file {media}/new.sqlite3 cannot be written")
    assert lines[2] == "1"


# --- migrations ------------------------------------------------------------------------------


def _add_note_column(conn: sqlite3.Connection) -> None:
    conn.execute("ALTER TABLE attempts ADD COLUMN note TEXT")


def _columns(path: Path) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return [row[1] for row in conn.execute("PRAGMA table_info(attempts)")]
    finally:
        conn.close()


def _backups(path: Path) -> list[Path]:
    return sorted(path.parent.glob(f"{path.name}.v*.bak"))


def test_a_new_file_needs_no_backup(db: Path) -> None:
    open_store(db).close()
    assert _backups(db) == []


def test_an_upgrade_backs_up_first_then_migrates(db: Path) -> None:
    _recorded_store(db)
    with open_store(db, migrations=(*store_db.MIGRATIONS, _add_note_column)) as store:
        assert len(store.attempts()) == 1
        store.record(make_attempt(seed=9))
    assert _pragma(db, "user_version") == 2
    assert "note" in _columns(db)
    [backup] = _backups(db)
    assert backup.name.startswith(f"{DB_FILENAME}.v1-")
    assert _pragma(backup, "user_version") == 1
    assert "note" not in _columns(backup)
    with open_store(backup) as old:
        assert len(old.attempts()) == 1


def test_a_failed_upgrade_leaves_the_old_version(db: Path) -> None:
    def broken(conn: sqlite3.Connection) -> None:
        _add_note_column(conn)
        raise RuntimeError("step failed")

    _recorded_store(db)
    error = _refused(db, "could not upgrade", migrations=(*store_db.MIGRATIONS, broken))
    assert "step failed" in str(error) and "backup" in str(error)
    assert _pragma(db, "user_version") == 1
    assert "note" not in _columns(db)
    with open_store(db) as store:
        assert len(store.attempts()) == 1


def test_a_fake_v0_to_v1_step(db: Path) -> None:
    """A file from before versioning (user_version 0, our application id, old layout)."""
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute(f"PRAGMA application_id = {store_db.APPLICATION_ID}")
    conn.execute("CREATE TABLE answers (question_id TEXT, correct INTEGER)")
    conn.execute("INSERT INTO answers VALUES ('sigmoid-chain-gradient', 1)")
    conn.close()

    def v0_to_v1(conn: sqlite3.Connection) -> None:
        conn.execute("ALTER TABLE answers RENAME TO history")

    open_store(db, migrations=(v0_to_v1,)).close()
    assert _pragma(db, "user_version") == 1
    [backup] = _backups(db)
    assert backup.name.startswith(f"{DB_FILENAME}.v0-")
    check = sqlite3.connect(db)
    try:
        assert check.execute("SELECT * FROM history").fetchall() == [("sigmoid-chain-gradient", 1)]
    finally:
        check.close()


def test_closing_twice_is_harmless(db: Path) -> None:
    store = open_store(db)
    store.close()
    store.close()


# --- values the store cannot read ---------------------------------------------------------------

BAD_VALUES = {
    "state": ("UPDATE cards SET state = 7", "7 is not a valid State"),
    "at": ("UPDATE attempts SET at = 'yesterday'", "at is not a time with a UTC offset"),
    "concepts": ("UPDATE attempts SET concepts = 'not json'", "concepts is not JSON"),
    "rating": ("UPDATE attempts SET rating = 9", "9 is not a valid Rating"),
    "params": ("UPDATE attempts SET params = '[1]'", "params is not a JSON dict"),
    "mode": ("UPDATE attempts SET mode = 'exam'", "mode must be one of"),
    "reviewed_at": ("UPDATE attempts SET reviewed_at = NULL", "both set or both null"),
    "stability": ("UPDATE cards SET stability = -1", "stability must be a positive number"),
    "step": ("UPDATE cards SET state = 3, step = NULL", "a learning card needs a step"),
    "due": ("UPDATE cards SET due = '2025-03-01T12:00:00'", "due is not a time"),
}


def _damage_reported(read: Callable[[], object], db: Path, detail: str) -> None:
    with pytest.raises(StoreError) as info:
        read()
    message = str(info.value)
    assert message.startswith(f"progress file {db} is damaged (")
    assert detail in message
    assert "it was left untouched" in message


@pytest.mark.parametrize("kind", sorted(BAD_VALUES))
def test_a_value_that_cannot_be_read_is_reported_as_damage(db: Path, kind: str) -> None:
    statement, detail = BAD_VALUES[kind]
    _recorded_store(db)
    _set_pragma(db, statement)
    before = db.read_bytes()
    with open_store(db) as store:
        _damage_reported(store.progress, db, detail)
        if "cards" in statement:  # reviewing the card reads it first: nothing is written
            _damage_reported(store.cards, db, detail)
            _damage_reported(lambda: store.record(make_attempt(seed=8), Rating.Good), db, detail)
        else:
            _damage_reported(store.attempts, db, detail)
    assert db.read_bytes() == before


def test_a_damaged_review_is_reported_when_an_import_rebuilds_its_card(db: Path) -> None:
    _recorded_store(db)
    _set_pragma(db, "UPDATE attempts SET reviewed_at = 'soon'")
    added = Recorded(make_attempt(seed=8), Rating.Good, make_attempt().at)
    with open_store(db) as store:
        _damage_reported(lambda: store.merge([added]), db, "reviewed_at is not a time")
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("SELECT count(*) FROM attempts").fetchone() == (1,)  # rolled back
    finally:
        conn.close()


def test_a_review_dated_near_year_9999_is_reported_not_raised(db: Path) -> None:
    """Such a review (from an import before far-future times were refused) would put the
    card's next due date past year 9999."""
    with open_store(db) as store:
        store.record(make_attempt(at=datetime(9999, 12, 31, tzinfo=UTC)), Rating.Good)
    before = db.read_bytes()
    with open_store(db) as store:
        detail = "the reviews of 'sigmoid-chain-gradient' are dated too far in the future"
        _damage_reported(lambda: store.record(make_attempt(seed=3), Rating.Easy), db, detail)
        later = Recorded(make_attempt(seed=4), Rating.Easy, datetime(2025, 1, 1, tzinfo=UTC))
        _damage_reported(lambda: store.merge([later]), db, detail)
        assert len(store.attempts()) == 1
    assert db.read_bytes() == before
