"""The durable progress store: every attempt, and each template's FSRS card, in SQLite.

Where the file lives: an explicit path (``--db PATH``) wins, then the ``TUTOR_DB``
environment variable, then ``progress.sqlite3`` in ``click.get_app_dir("gradient-tutor")``.

Each :meth:`Store.record` call is one transaction (the attempt row plus, when a rating is
given, the template's card) and returns only after it is committed, so an answer whose
feedback was shown is never lost. Times are stored in UTC as fixed-width ISO 8601 text.
Opening, migrations and error messages live in :mod:`tutor.store_db`; statistics in
:mod:`tutor.stats`; export and import in :mod:`tutor.progress_io`.
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Final, TypeVar
from uuid import uuid4

import click
from fsrs import Card, Rating, Scheduler, State

from tutor import schedule, store_db
from tutor.errors import StoreError

APP_NAME: Final = "gradient-tutor"
DB_FILENAME: Final = "progress.sqlite3"
ENV_VAR: Final = "TUTOR_DB"
MODES: Final = frozenset({"quiz", "practice"})
DEFAULT_BUSY_TIMEOUT: Final = 5.0  # seconds a second session waits for the write lock
_INT64 = range(-(2**63), 2**63)

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")


def _new_uuid() -> str:
    return str(uuid4())


@dataclass(frozen=True)
class Attempt:
    """One graded try at one question (or one part of it), as a front end reports it."""

    question_id: str  # template id, e.g. "sigmoid-chain-gradient"
    seed: int  # variant seed; (question_id, seed) names the variant
    topic: str
    concepts: tuple[str, ...]  # e.g. ("C2", "C4")
    mode: str  # "quiz" or "practice"
    part: int  # 0 for single-part questions
    attempt_no: int  # 1-based try within this question
    final: bool  # last try for this question
    answer_text: str
    correct: bool
    score: float
    mistake: str | None  # named misconception matched, or None
    hints_used: int
    elapsed_s: float
    expected: str  # the expected answer as text (repr of the float, or "true", or "B")
    params: Mapping[str, object]  # sampled parameters, stored as JSON
    bank_hash: str  # content hash of the bank the question came from
    at: datetime  # UTC (any aware datetime is converted; a naive one is refused)
    uuid: str = field(default_factory=_new_uuid)  # stable id: recording twice adds it once


@dataclass(frozen=True)
class Recorded:
    """A stored attempt with what it did to the schedule.

    ``rating`` is the FSRS rating when the attempt reviewed its template's card, and
    ``reviewed_at`` the review time FSRS was given (``max(at, previous review)``); both None
    for attempts that did not review the card.
    """

    attempt: Attempt
    rating: Rating | None = None
    reviewed_at: datetime | None = None


@dataclass(frozen=True)
class Progress:
    """A consistent snapshot of the store: attempts in recording order, cards by question id."""

    attempts: tuple[Recorded, ...]
    cards: Mapping[str, Card]


def default_path() -> Path:
    """``progress.sqlite3`` in the user's app folder for gradient-tutor."""
    return Path(click.get_app_dir(APP_NAME)) / DB_FILENAME


def resolve_path(path: Path | str | None = None, env: Mapping[str, str] | None = None) -> Path:
    """The progress file to use: ``path`` if given, else ``$TUTOR_DB`` if set and not empty,
    else :func:`default_path`; ``~`` is expanded and the result made absolute."""
    environ = os.environ if env is None else env
    if path is not None and not str(path):
        raise StoreError("the progress file path is empty; pass a file path to --db.")
    chosen = path if path is not None else (environ.get(ENV_VAR) or default_path())
    return Path(chosen).expanduser().absolute()


def open_store(
    path: Path | str | None = None,
    *,
    busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
    readonly: bool = False,
    scheduler: Scheduler | None = None,
    migrations: Sequence[store_db.Migration] = store_db.MIGRATIONS,
) -> Store:
    """Open (creating or upgrading if needed) the progress store; see :func:`resolve_path`.

    ``readonly`` opens an existing file without ever writing to it (``record`` then fails).
    ``migrations`` is the schema history (tests pass a longer one to exercise upgrades).
    Raises :class:`StoreError` with a message naming the file for anything that goes wrong.
    """
    where = resolve_path(path)
    conn = store_db.connect(
        where, busy_timeout=busy_timeout, readonly=readonly, migrations=migrations
    )
    return Store(conn, where, scheduler or schedule.default_scheduler())


class Store:
    """An open progress store; use as a context manager or call :meth:`close`."""

    def __init__(self, conn: sqlite3.Connection, path: Path, scheduler: Scheduler) -> None:
        self._conn = conn
        self.path = path
        self.scheduler = scheduler

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection (safe to call twice)."""
        self._conn.close()

    def record(self, attempt: Attempt, rating: Rating | None = None) -> None:
        """Store ``attempt`` and, when ``rating`` is given, review its template's card.

        One transaction, committed before this returns. Recording an attempt whose ``uuid``
        is already stored does nothing. ``rating`` is only for final attempts.
        Raises ValueError for a malformed attempt (a programming error) and
        :class:`StoreError` when the file cannot be written (busy, read-only, ...).
        """
        problem = attempt_problem(attempt)
        if problem is None and rating is not None and not attempt.final:
            problem = "a rating can only be given with the final attempt at a question"
        if problem is not None:
            raise ValueError(problem)
        with store_db.translate(self.path), store_db.transaction(self._conn) as conn:
            if _has_uuid(conn, attempt.uuid):
                return
            reviewed_at = None if rating is None else self._review(conn, attempt, rating)
            _insert(conn, Recorded(attempt, rating, reviewed_at))

    def merge(self, records: Iterable[Recorded]) -> int:
        """Add the ``records`` not stored yet (by uuid) in one transaction; return how many.

        Cards of templates that gained reviews are rebuilt by replaying all their reviews in
        review-time order, so merging histories from two machines gives one consistent card.
        """
        with store_db.translate(self.path), store_db.transaction(self._conn) as conn:
            added = [record for record in records if _insert(conn, record)]
            reviewed = {r.attempt.question_id for r in added if r.rating is not None}
            for question_id in sorted(reviewed):
                self._rebuild_card(conn, question_id)
        return len(added)

    def card(self, question_id: str) -> Card | None:
        """The template's FSRS card, or None if it was never reviewed."""
        with store_db.translate(self.path):
            return _load_card(self._conn, question_id)

    def cards(self) -> dict[str, Card]:
        """Every card, by question id."""
        with store_db.translate(self.path):
            return _read_cards(self._conn)

    def due_dates(self, question_ids: Iterable[str]) -> dict[str, datetime | None]:
        """Each question id's card due time (None: never reviewed), in the order given."""
        cards = self.cards()
        return {qid: (cards[qid].due if qid in cards else None) for qid in question_ids}

    def due(self, now: datetime, question_ids: Iterable[str]) -> list[str]:
        """The given templates whose cards are due at ``now``, most overdue first.

        Never-reviewed templates are not included (they are new, see
        :func:`tutor.stats.new_templates`); ties keep the order of ``question_ids``.
        """
        return schedule.prioritize(now, self.due_dates(question_ids))

    def answered(self, question_id: str, seed: int) -> bool:
        """Whether an answer to the variant ``question_id@seed`` is stored already."""
        with store_db.translate(self.path):
            row = self._conn.execute(
                "SELECT 1 FROM attempts WHERE question_id = ? AND seed = ? LIMIT 1",
                (question_id, seed),
            ).fetchone()
        return row is not None

    def attempts(self) -> list[Recorded]:
        """Every stored attempt, in recording order."""
        with store_db.translate(self.path):
            return _read_attempts(self._conn)

    def progress(self) -> Progress:
        """Attempts and cards read in one transaction (for statistics)."""
        with store_db.translate(self.path), store_db.snapshot(self._conn) as conn:
            return Progress(tuple(_read_attempts(conn)), _read_cards(conn))

    def _review(self, conn: sqlite3.Connection, attempt: Attempt, rating: Rating) -> datetime:
        """Review the attempt's card; return the review time FSRS was given."""
        qid = attempt.question_id
        card = _load_card(conn, qid)
        with _schedulable(qid):
            card, when = schedule.review(self.scheduler, card, qid, rating, attempt.at)
        _save_card(conn, qid, card)
        return when

    def _rebuild_card(self, conn: sqlite3.Connection, question_id: str) -> None:
        rows = conn.execute(
            f"SELECT {_ATTEMPT_COLUMNS} FROM attempts WHERE question_id = ? AND rating IS NOT "
            "NULL ORDER BY reviewed_at, seq",
            (question_id,),
        )
        records = [_attempt_from_row(row) for row in rows]  # checked like every other read
        reviews = [
            (r.rating, r.reviewed_at)
            for r in records
            if r.rating is not None and r.reviewed_at is not None
        ]
        with _schedulable(question_id):
            card = schedule.replay(self.scheduler, question_id, reviews)
        if card is not None:
            _save_card(conn, question_id, card)


@contextmanager
def _schedulable(question_id: str) -> Iterator[None]:
    """Report as damage a card whose next due date would be past year 9999: its reviews are
    dated near then (an import before such times were refused stored them)."""
    try:
        yield
    except OverflowError as exc:
        raise store_db.UnreadableRow(
            f"the reviews of {question_id!r} are dated too far in the future to schedule"
        ) from exc


def iso_utc(moment: datetime) -> str:
    """``moment`` as fixed-width UTC ISO 8601 text (``2025-01-02T03:04:05.000006+00:00``)."""
    return schedule.as_utc(moment).isoformat(timespec="microseconds")


def parse_utc(text: str) -> datetime:
    """Inverse of :func:`iso_utc` (accepts any ISO 8601 text with an offset)."""
    return schedule.as_utc(datetime.fromisoformat(text))


def attempt_problem(attempt: Attempt) -> str | None:
    """What is wrong with ``attempt`` (a sentence), or None if it can be stored."""
    checks: tuple[tuple[bool, str], ...] = (
        (not attempt.question_id, "question_id is empty"),
        (attempt.seed not in _INT64, "seed must fit in a signed 64-bit integer"),
        (attempt.mode not in MODES, f"mode must be one of {sorted(MODES)}"),
        (attempt.part < 0, "part must be 0 or more"),
        (attempt.attempt_no < 1, "attempt_no starts at 1"),
        (attempt.hints_used < 0, "hints_used must be 0 or more"),
        (not math.isfinite(attempt.score), "score must be a finite number"),
        (not math.isfinite(attempt.elapsed_s), "elapsed_s must be a finite number"),
        (attempt.at.utcoffset() is None, "at must be an aware (UTC) datetime"),
        (not all(isinstance(key, str) for key in attempt.params), "params keys must be text"),
    )
    return next((message for failed, message in checks if failed), None)


def encode_params(params: Mapping[str, object]) -> str:
    """Sampled parameters as canonical JSON (NumPy scalars and arrays become numbers/lists)."""
    try:
        return json.dumps(dict(params), sort_keys=True, default=_plain)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"params cannot be stored as JSON: {exc}") from exc


def _plain(value: object) -> object:
    for method in ("tolist", "item"):  # NumPy arrays and scalars, without importing NumPy
        convert = getattr(value, method, None)
        if callable(convert):
            return convert()
    raise TypeError(f"{type(value).__name__} is not a JSON value")


_ATTEMPT_COLUMNS = (
    "uuid, question_id, seed, topic, concepts, mode, part, attempt_no, final, answer_text, "
    "correct, score, mistake, hints_used, elapsed_s, expected, params, bank_hash, at, rating, "
    "reviewed_at"
)
_CARD_COLUMNS = "question_id, state, step, stability, difficulty, due, last_review"


def _has_uuid(conn: sqlite3.Connection, uuid: str) -> bool:
    return conn.execute("SELECT 1 FROM attempts WHERE uuid = ?", (uuid,)).fetchone() is not None


def _insert(conn: sqlite3.Connection, record: Recorded) -> bool:
    """Insert unless the uuid is already stored; True if a row was added."""
    cursor = conn.execute(
        f"INSERT OR IGNORE INTO attempts ({_ATTEMPT_COLUMNS}) VALUES ({', '.join('?' * 21)})",
        _attempt_row(record),
    )
    return cursor.rowcount == 1


def _attempt_row(record: Recorded) -> tuple[object, ...]:
    a = record.attempt
    return (
        *(a.uuid, a.question_id, a.seed, a.topic, json.dumps(list(a.concepts)), a.mode),
        *(a.part, a.attempt_no, int(a.final), a.answer_text, int(a.correct), float(a.score)),
        *(a.mistake, a.hints_used, float(a.elapsed_s), a.expected, encode_params(a.params)),
        *(a.bank_hash, iso_utc(a.at), None if record.rating is None else int(record.rating)),
        None if record.reviewed_at is None else iso_utc(record.reviewed_at),
    )


def _read_attempts(conn: sqlite3.Connection) -> list[Recorded]:
    rows = conn.execute(f"SELECT {_ATTEMPT_COLUMNS} FROM attempts ORDER BY seq")
    return [_attempt_from_row(row) for row in rows]


#: What decoding a stored value can raise when the value is not one the store writes.
_DECODE_ERRORS = (ValueError, TypeError, OverflowError, RecursionError)


def _attempt_from_row(row: Sequence[Any]) -> Recorded:
    try:
        return _decode_attempt(row)
    except _DECODE_ERRORS as exc:
        raise store_db.UnreadableRow(f"attempt {row[0]}: {exc}") from exc


def _decode_attempt(row: Sequence[Any]) -> Recorded:
    (uuid, qid, seed, topic, concepts, mode, part, attempt_no, final, answer_text) = row[:10]
    (correct, score, mistake, hints, elapsed, expected, params, bank_hash, at) = row[10:19]
    attempt = Attempt(
        *(qid, seed, topic, _stored_concepts(concepts), mode, part, attempt_no, bool(final)),
        *(answer_text, bool(correct), score, mistake, hints, elapsed, expected),
        *(_stored_json("params", params, dict), bank_hash, _stored_time("at", at), uuid),
    )
    problem = attempt_problem(attempt)
    if problem is not None:
        raise ValueError(problem)
    rating, reviewed_at = row[19:21]
    if (rating is None) != (reviewed_at is None):
        raise ValueError("rating and reviewed_at must be both set or both null")
    return Recorded(
        attempt,
        None if rating is None else Rating(rating),
        None if reviewed_at is None else _stored_time("reviewed_at", reviewed_at),
    )


def _stored_time(name: str, text: str) -> datetime:
    try:
        return parse_utc(text)
    except (ValueError, OverflowError) as exc:  # (overflow: past year 9999 in UTC)
        raise ValueError(f"{name} is not a time with a UTC offset: {text!r}") from exc


def _stored_json(name: str, text: str, kind: type[T]) -> T:
    """A JSON column's value, which must be of type ``kind`` (list or dict)."""
    try:
        value = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"{name} is not JSON: {text[:40]!r}") from exc
    if not isinstance(value, kind):
        raise ValueError(f"{name} is not a JSON {kind.__name__}: {text[:40]!r}")
    return value


def _stored_concepts(text: str) -> tuple[str, ...]:
    concepts = _stored_json("concepts", text, list)
    if not all(isinstance(concept, str) for concept in concepts):
        raise ValueError(f"concepts is not a list of texts: {text[:40]!r}")
    return tuple(concepts)


def _read_cards(conn: sqlite3.Connection) -> dict[str, Card]:
    rows = conn.execute(f"SELECT {_CARD_COLUMNS} FROM cards ORDER BY question_id")
    return {row[0]: _card_from_row(row) for row in rows}


def _load_card(conn: sqlite3.Connection, question_id: str) -> Card | None:
    row = conn.execute(
        f"SELECT {_CARD_COLUMNS} FROM cards WHERE question_id = ?", (question_id,)
    ).fetchone()
    return None if row is None else _card_from_row(row)


def _card_from_row(row: Sequence[Any]) -> Card:
    try:
        return _decode_card(row)
    except _DECODE_ERRORS as exc:
        raise store_db.UnreadableRow(f"the card of {row[0]!r}: {exc}") from exc


def _decode_card(row: Sequence[Any]) -> Card:
    question_id, state, step, stability, difficulty, due, last_review = row
    card = Card(
        card_id=schedule.card_id(question_id),
        state=State(state),
        step=step,
        stability=stability,
        difficulty=difficulty,
        due=_stored_time("due", due),
        last_review=None if last_review is None else _stored_time("last_review", last_review),
    )
    problem = _card_problem(card)
    if problem is not None:
        raise ValueError(problem)
    return card


def _card_problem(card: Card) -> str | None:
    """What would make FSRS fail on a stored card (every stored card has been reviewed)."""
    learning = card.state in (State.Learning, State.Relearning)
    checks: tuple[tuple[bool, str], ...] = (
        (card.last_review is None, "last_review is missing"),
        (not _positive(card.stability), "stability must be a positive number"),
        (not _positive(card.difficulty), "difficulty must be a positive number"),
        (learning and not (isinstance(card.step, int) and card.step >= 0),
         "a learning card needs a step of 0 or more"),
    )  # fmt: skip
    return next((message for failed, message in checks if failed), None)


def _positive(value: object) -> bool:
    return isinstance(value, float) and math.isfinite(value) and value > 0


def _save_card(conn: sqlite3.Connection, question_id: str, card: Card) -> None:
    last = None if card.last_review is None else iso_utc(card.last_review)
    conn.execute(
        f"INSERT OR REPLACE INTO cards ({_CARD_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            question_id,
            int(card.state),
            card.step,
            card.stability,
            card.difficulty,
            iso_utc(card.due),
            last,
        ),
    )


def utc_now() -> datetime:
    """The current time in UTC (the one clock read front ends should pass to ``record``)."""
    return datetime.now(UTC)
