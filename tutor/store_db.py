"""The SQLite file under the progress store: safe opening, schema migrations, error messages.

Opening never damages what it finds. A directory, a file that is not SQLite, an SQLite file
gradient-tutor did not create, or a file from a newer version is refused with a
:class:`StoreError` before anything is written to it. An older schema is upgraded in one
transaction, after a backup copy of the file has been written next to it.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from tutor.errors import StoreError

#: Marks our files in the SQLite header (``PRAGMA application_id``): the bytes "GTUT".
APPLICATION_ID = 0x47545554
SQLITE_MAGIC = b"SQLite format 3\x00"

#: A schema upgrade from version ``i`` to ``i + 1``; runs inside the migration transaction.
Migration = Callable[[sqlite3.Connection], None]

_SCHEMA_V1 = (
    """CREATE TABLE attempts (
        seq INTEGER PRIMARY KEY,      -- recording order on this machine
        uuid TEXT NOT NULL UNIQUE,    -- stable across export and import
        question_id TEXT NOT NULL,
        seed INTEGER NOT NULL,
        topic TEXT NOT NULL,
        concepts TEXT NOT NULL,       -- JSON array of concept ids
        mode TEXT NOT NULL,
        part INTEGER NOT NULL,
        attempt_no INTEGER NOT NULL,
        final INTEGER NOT NULL,
        answer_text TEXT NOT NULL,
        correct INTEGER NOT NULL,
        score REAL NOT NULL,
        mistake TEXT,
        hints_used INTEGER NOT NULL,
        elapsed_s REAL NOT NULL,
        expected TEXT NOT NULL,
        params TEXT NOT NULL,         -- JSON object of sampled parameters
        bank_hash TEXT NOT NULL,
        at TEXT NOT NULL,             -- UTC, ISO 8601, fixed width so text order is time order
        rating INTEGER,               -- FSRS rating when this attempt reviewed the card
        reviewed_at TEXT              -- review time given to FSRS: max(at, previous review)
    ) STRICT""",
    "CREATE INDEX attempts_by_question ON attempts (question_id, reviewed_at)",
    "CREATE INDEX attempts_by_time ON attempts (at)",
    """CREATE TABLE cards (
        question_id TEXT PRIMARY KEY,
        state INTEGER NOT NULL,
        step INTEGER,
        stability REAL,
        difficulty REAL,
        due TEXT NOT NULL,
        last_review TEXT
    ) STRICT""",
)


def _create_v1(conn: sqlite3.Connection) -> None:
    """Version 1: attempts (the history) and cards (the FSRS state derived from it)."""
    for statement in _SCHEMA_V1:
        conn.execute(statement)


#: The schema's history; its length is the version this code writes.
MIGRATIONS: tuple[Migration, ...] = (_create_v1,)


def connect(
    path: Path,
    *,
    busy_timeout: float,
    readonly: bool,
    migrations: Sequence[Migration] = MIGRATIONS,
) -> sqlite3.Connection:
    """An open connection to a checked, up-to-date progress file at ``path``.

    Read-write connections use WAL and ``synchronous=FULL`` (a committed answer survives a
    crash or power loss) and wait up to ``busy_timeout`` seconds for another session's lock.
    """
    check_location(path, readonly=readonly)
    with translate(path):
        conn = _open(path, busy_timeout=busy_timeout, readonly=readonly)
    try:
        with translate(path):
            _prepare(conn, path, readonly=readonly, migrations=migrations, wait=busy_timeout)
    except BaseException:
        conn.close()
        raise
    return conn


def check_location(path: Path, *, readonly: bool) -> None:
    """Refuse, before SQLite touches it, a path that cannot hold a progress file."""
    try:
        if path.is_dir():
            raise StoreError(
                f"progress file {path} is a directory, not a file. Rename or remove it, or "
                "choose another file with --db PATH or TUTOR_DB."
            )
        exists = path.exists()
        if exists and not path.is_file():  # a pipe would block, a device is not a database
            raise StoreError(
                f"progress file {path} is not a regular file. Choose another file with --db "
                "PATH or TUTOR_DB."
            )
        if exists:
            _check_header(path)
        elif readonly:
            raise StoreError(f"no progress has been recorded yet: {path} does not exist.")
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(
            f"cannot use progress file {path}: {exc.strerror or exc}. Check the path and its "
            "permissions, or choose another file with --db PATH or TUTOR_DB."
        ) from exc
    if not readonly:
        _check_writable(path, exists=exists)


def _check_header(path: Path) -> None:
    """A non-empty file must start with SQLite's magic string (an empty one is a new file)."""
    with path.open("rb") as handle:
        head = handle.read(len(SQLITE_MAGIC))
    if head and head != SQLITE_MAGIC:
        raise StoreError(_corrupt_message(path))


def _check_writable(path: Path, *, exists: bool) -> None:
    # WAL keeps two side files (-wal, -shm) next to the database, so the folder must be
    # writable as well as the file.
    targets = [path.parent, path] if exists else [path.parent]
    if not all(os.access(target, os.W_OK) for target in targets):
        raise StoreError(_readonly_message(path))


def _open(path: Path, *, busy_timeout: float, readonly: bool) -> sqlite3.Connection:
    target = f"{path.as_uri()}?mode={'ro' if readonly else 'rwc'}"
    if readonly and not os.access(path.parent, os.W_OK):
        # On read-only media SQLite cannot create WAL's shared-memory file; nothing can
        # write there either, so the file may be read as immutable.
        target += "&immutable=1"
    # isolation_level=None: transactions are begun and ended explicitly (BEGIN IMMEDIATE).
    return sqlite3.connect(target, uri=True, timeout=busy_timeout, isolation_level=None)


def _prepare(
    conn: sqlite3.Connection,
    path: Path,
    *,
    readonly: bool,
    migrations: Sequence[Migration],
    wait: float,
) -> None:
    target = len(migrations)
    version = _inspect(conn, path, target)  # reads only: nothing is written before this passes
    if readonly:
        if version == 0 and not _has_tables(conn):
            # An empty file (or one whose creation stopped before its tables): nothing was
            # ever recorded in it, so there is nothing to upgrade, only no progress to read.
            raise NothingRecorded(f"no progress has been recorded yet: {path} is empty.")
        if version < target:
            raise StoreError(
                f"progress file {path} needs an upgrade, which cannot be done read-only; "
                "open it once without read-only access."
            )
        return
    mode = _journal_mode_wal(conn, wait)
    if str(mode).lower() != "wal":
        raise StoreError(_readonly_message(path))
    conn.execute("PRAGMA synchronous = FULL")
    if version < target:
        migrate(conn, path, migrations)


def _journal_mode_wal(conn: sqlite3.Connection, wait: float) -> object:
    """Switch to WAL, retrying for up to ``wait`` seconds while another session holds a lock.

    SQLite does not wait by itself here: when two sessions switch a new file at the same
    moment, one of them is told "database is locked" at once (waiting could deadlock them).
    """
    deadline = time.monotonic() + wait
    pause = 0.005
    while True:
        try:
            return conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode != sqlite3.SQLITE_BUSY or time.monotonic() + pause > deadline:
                raise
        time.sleep(pause)
        pause = min(2 * pause, 0.1)


def _inspect(conn: sqlite3.Connection, path: Path, target: int) -> int:
    """The file's schema version, after refusing files that are not ours or are too new."""
    with snapshot(conn):  # one read transaction: another session may be creating the file
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        foreign = app_id not in (0, APPLICATION_ID) or (app_id == 0 and _has_tables(conn))
        # Damage past the header would otherwise show only when the first answer is saved.
        damaged = not foreign and conn.execute("PRAGMA quick_check(1)").fetchone()[0] != "ok"
    if damaged:
        raise StoreError(_corrupt_message(path))
    if foreign:
        raise StoreError(
            f"{path} is an SQLite database that gradient-tutor did not create; it was left "
            "untouched. Choose another file with --db PATH or TUTOR_DB."
        )
    if version > target:
        raise StoreError(
            f"progress file {path} was written by a newer gradient-tutor (schema version "
            f"{version}; this version reads up to {target}). It was left untouched: upgrade "
            "gradient-tutor, or choose another file with --db PATH or TUTOR_DB."
        )
    return version


def _has_tables(conn: sqlite3.Connection) -> bool:
    return bool(conn.execute("SELECT count(*) FROM sqlite_schema").fetchone()[0])


def migrate(conn: sqlite3.Connection, path: Path, migrations: Sequence[Migration]) -> None:
    """Bring the file to version ``len(migrations)`` in one transaction.

    When the file already holds data, a backup copy (:func:`backup`) is written first. If a
    step fails, the transaction is rolled back and the file stays at its old version.
    """
    target = len(migrations)
    with transaction(conn):
        # Re-read under the write lock: another session may have upgraded it meanwhile.
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        if version >= target:
            return
        saved = backup(path, version) if _has_tables(conn) else None
        try:
            for step in migrations[version:]:
                step(conn)
        except Exception as exc:
            kept = f" A backup is at {saved}." if saved else ""
            raise StoreError(
                f"could not upgrade progress file {path} from schema version {version} to "
                f"{target} ({exc}); it was left at version {version}.{kept}"
            ) from exc
        conn.execute(f"PRAGMA user_version = {target:d}")
        conn.execute(f"PRAGMA application_id = {APPLICATION_ID:d}")


def backup(path: Path, version: int) -> Path:
    """Copy the committed contents of ``path`` to ``<name>.v<version>-<UTC time>.bak``.

    Uses SQLite's online backup from a second, read-only connection, so the copy is a
    consistent database even while the caller holds the write lock.
    """
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    dest = path.with_name(f"{path.name}.v{version}-{stamp}.bak")
    source = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    try:
        copy = sqlite3.connect(dest)
        try:
            source.backup(copy)
        finally:
            copy.close()
    finally:
        source.close()
    return dest


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """A write transaction: BEGIN IMMEDIATE takes the write lock up front (waiting up to the
    busy timeout), COMMIT on success, ROLLBACK on any exception including KeyboardInterrupt."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        if conn.in_transaction:  # some errors (a full disk) already rolled it back
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


@contextmanager
def snapshot(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """A read transaction: every query inside sees the same committed state."""
    conn.execute("BEGIN")
    try:
        yield conn
    finally:
        conn.execute("COMMIT")


class NothingRecorded(StoreError):
    """A read-only open found a file with nothing in it yet; readers treat it as no progress,
    as they treat a missing file."""


class UnreadableRow(Exception):
    """A stored value that cannot be decoded (a file edited by hand, or damaged in a way
    SQLite's own checks do not see); :func:`translate` reports it as a damaged file."""


@contextmanager
def translate(path: Path) -> Iterator[None]:
    """Turn SQLite errors and unreadable rows raised inside the block into a
    :class:`StoreError` for the user."""
    try:
        yield
    except sqlite3.Error as exc:
        raise describe(exc, path) from exc
    except UnreadableRow as exc:
        raise StoreError(_corrupt_message(path, str(exc))) from exc


def describe(exc: sqlite3.Error, path: Path) -> StoreError:
    """A message for the user naming ``path``, what went wrong and what to do about it."""
    name = str(getattr(exc, "sqlite_errorname", ""))
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return StoreError(
            f"progress file {path} is busy: another tutor session is writing to it. Finish "
            "that session and try again."
        )
    if name.startswith("SQLITE_READONLY"):
        return StoreError(_readonly_message(path))
    if name.startswith(("SQLITE_NOTADB", "SQLITE_CORRUPT")):
        return StoreError(_corrupt_message(path))
    if name.startswith("SQLITE_FULL"):
        return StoreError(f"cannot write progress file {path}: the disk is full.")
    return StoreError(
        f"cannot use progress file {path}: {exc}. Check the path and its permissions, or "
        "choose another file with --db PATH or TUTOR_DB."
    )


def _readonly_message(path: Path) -> str:
    return (
        f"progress file {path} cannot be written (the file or its folder is read-only). "
        "Make it writable, or choose another file with --db PATH or TUTOR_DB."
    )


def _corrupt_message(path: Path, detail: str = "") -> str:
    what = "is damaged or is not a gradient-tutor progress file"
    if detail:  # the file is ours, and what is wrong in it is known
        what = f"is damaged ({detail})"
    return (
        f"progress file {path} {what}; it was left untouched. Move it aside (or restore a "
        "backup) and run again, or choose another file with --db PATH or TUTOR_DB."
    )
