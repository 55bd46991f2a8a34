"""Moving progress between machines: export every attempt to JSON, import (merge) it back.

The document is ``{"format": "gradient-tutor-progress", "version": 1, "attempts": [...]}``
with one object per attempt: the :class:`~tutor.store.Attempt` fields plus ``rating`` and
``reviewed_at``. Cards are not exported: they are rebuilt on import by replaying each
template's reviews, so the history is the single source of truth. Importing is a merge keyed
by each attempt's uuid (importing the same file twice adds nothing), is validated completely
before anything is written, and happens in one transaction.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final
from uuid import UUID

from fsrs import Rating

from tutor.errors import StoreError
from tutor.files import FileWriteError, write_atomic
from tutor.store import Attempt, Recorded, Store, attempt_problem, iso_utc, parse_utc, utc_now

FORMAT: Final = "gradient-tutor-progress"
VERSION: Final = 1
#: Imported times before this are refused: no answer was recorded then, so the date is a
#: broken clock or a hand-edited file.
EARLIEST: Final = datetime(2000, 1, 1, tzinfo=UTC)
#: How far past this computer's clock an imported time may be (the exporting machine's clock
#: may run a little ahead). A review dated later would keep its card from coming due, and
#: every later review would be moved to that date.
CLOCK_SKEW: Final = timedelta(days=1)
#: The ranges of what the quiz and practice record, so of what an export holds unless it was
#: edited: seeds as ``--seed`` takes them, parts numbered from 0 (a question has at most
#: ``tutor.bank.MAX_OPTIONS`` parts), tries numbered from 1 (at most the largest of
#: ``tutor.quiz.MAX_ATTEMPTS``). Written out here so that importing loads neither module; a
#: test keeps them equal.
MAX_SEED: Final = 2**63 - 1
MAX_PARTS: Final = 26
MAX_TRIES: Final = 3


class _Invalid(Exception):
    """A field that does not fit; turned into a StoreError naming where it is."""


def export_progress(store: Store) -> dict[str, Any]:
    """Every attempt in ``store`` as a JSON-ready document, in recording order."""
    return _document([_attempt_json(record) for record in store.attempts()])


def _document(attempts: list[dict[str, Any]]) -> dict[str, Any]:
    return {"format": FORMAT, "version": VERSION, "attempts": attempts}


def import_progress(
    store: Store, data: object, *, source: str = "progress export", now: datetime | None = None
) -> int:
    """Merge an export document into ``store``; return the number of attempts added.

    Raises :class:`StoreError` naming the first problem (prefixed by ``source``) if ``data``
    is not a valid export; nothing is imported then. Attempts already in the store (same
    uuid) are skipped. Times before :data:`EARLIEST` or more than :data:`CLOCK_SKEW` after
    ``now`` (default: the clock) are refused.
    """
    return import_counted(store, data, source=source, now=now)[0]


def import_counted(
    store: Store, data: object, *, source: str = "progress export", now: datetime | None = None
) -> tuple[int, int]:
    """:func:`import_progress`, returning (attempts added, attempts in ``data``).

    An attempt that ``data`` holds more than once, word for word, counts (and is added) once;
    two different attempts with one uuid are refused, since only one of them can be kept.
    """
    records = export_records(data, source=source, now=now)
    return store.merge(records), len(records)


def export_records(
    data: object, *, source: str = "progress export", now: datetime | None = None
) -> list[Recorded]:
    """The attempts of an export document, each checked and each once, ready to merge; raises
    :class:`StoreError` as :func:`import_progress` does, before any store is touched."""
    attempts = _document_attempts(data, source)
    latest = (utc_now() if now is None else now) + CLOCK_SKEW
    records = [
        _record_from_json(item, f"{source}: attempts[{index}]", latest)
        for index, item in enumerate(attempts)
    ]
    return _distinct(records, source)


def _distinct(records: list[Recorded], source: str) -> list[Recorded]:
    """``records`` without repeats of an earlier one (same uuid, same content)."""
    first: dict[str, int] = {}  # uuid -> index of its first record
    kept: list[Recorded] = []
    for index, record in enumerate(records):
        seen = first.setdefault(record.attempt.uuid, index)
        if seen == index:
            kept.append(record)
        elif records[seen] != record:
            raise StoreError(
                f"{source}: attempts[{index}] has the uuid of attempts[{seen}] but differs "
                "from it; an attempt's uuid must be its own."
            )
    return kept


def write_export(store: Store, path: Path | str) -> None:
    """Write :func:`export_progress` to ``path`` atomically (a crash leaves the old file; a
    folder, pipe or device is refused, not replaced)."""
    _write_document(export_progress(store), path)


def write_empty_export(path: Path | str) -> None:
    """Write an export with no attempts, as :func:`write_export` does: with no progress file
    yet there is nothing to export, but the file is still one that imports (adding nothing)."""
    _write_document(_document([]), path)


def _write_document(document: dict[str, Any], path: Path | str) -> None:
    text = json.dumps(document, indent=1, ensure_ascii=False) + "\n"
    try:
        write_atomic(Path(path), text)
    except FileWriteError as exc:
        raise StoreError(f"cannot write the export: {exc}.") from None


def read_export(path: Path | str) -> object:
    """The parsed JSON document in ``path`` (validated later by :func:`import_progress`)."""
    source = Path(path)
    try:
        return json.loads(_bounded_read(source).decode("utf-8"))
    except OSError as exc:
        raise StoreError(f"cannot read export {source}: {exc.strerror or exc}.") from exc
    except UnicodeDecodeError as exc:
        raise StoreError(f"export {source} is not UTF-8 text ({exc.reason}).") from exc
    except json.JSONDecodeError as exc:
        raise StoreError(
            f"export {source} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})."
        ) from exc
    except RecursionError as exc:
        raise StoreError(f"export {source} is nested too deeply to be a progress export.") from exc
    except ValueError as exc:  # an integer of thousands of digits
        raise StoreError(f"export {source} holds a number too long to read ({exc}).") from exc


MAX_EXPORT_BYTES = 64_000_000
"""The largest export read (about 100,000 attempts)."""


def _bounded_read(source: Path) -> bytes:
    """The file's bytes, refused once past :data:`MAX_EXPORT_BYTES` before more is read (a
    device such as /dev/zero never ends)."""
    with source.open("rb") as handle:
        data = handle.read(MAX_EXPORT_BYTES + 1)
    if len(data) > MAX_EXPORT_BYTES:
        raise StoreError(f"export {source} is larger than {MAX_EXPORT_BYTES // 1_000_000} MB.")
    return data


def import_file(store: Store, path: Path | str) -> int:
    """:func:`read_export` then :func:`import_progress`; every message names the file."""
    return import_progress(store, read_export(path), source=f"export {path}")


def _attempt_json(record: Recorded) -> dict[str, Any]:
    a = record.attempt
    return {
        **{"uuid": a.uuid, "question_id": a.question_id, "seed": a.seed, "topic": a.topic},
        **{"concepts": list(a.concepts), "mode": a.mode, "part": a.part},
        **{"attempt_no": a.attempt_no, "final": a.final, "answer_text": a.answer_text},
        **{"correct": a.correct, "score": a.score, "mistake": a.mistake},
        **{"hints_used": a.hints_used, "elapsed_s": a.elapsed_s, "expected": a.expected},
        **{"params": dict(a.params), "bank_hash": a.bank_hash, "at": iso_utc(a.at)},
        "rating": None if record.rating is None else int(record.rating),
        "reviewed_at": None if record.reviewed_at is None else iso_utc(record.reviewed_at),
    }


def _document_attempts(data: object, source: str) -> list[object]:
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise StoreError(
            f"{source}: not a gradient-tutor progress export (expected a JSON object with "
            f'"format": "{FORMAT}").'
        )
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise StoreError(f'{source}: "version" must be a positive integer.')
    if version > VERSION:
        raise StoreError(
            f"{source} has version {version}, newer than this gradient-tutor reads "
            f"({VERSION}); upgrade gradient-tutor to import it."
        )
    attempts = data.get("attempts")
    if not isinstance(attempts, list):
        raise StoreError(f'{source}: "attempts" must be a list.')
    return attempts


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise _Invalid("expected text")
    return value


def _optional_text(value: object) -> str | None:
    return None if value is None else _text(value)


def _integer(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise _Invalid("expected an integer")
    return value


def _number(value: object) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
        raise _Invalid("expected a finite number")
    return float(value)


def _flag(value: object) -> bool:
    if not isinstance(value, bool):
        raise _Invalid("expected true or false")
    return value


def _concepts(value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise _Invalid("expected a list of texts")
    return tuple(value)


def _params(value: object) -> dict[str, object]:
    if not isinstance(value, dict):
        raise _Invalid("expected an object")
    return value


def _moment(value: object) -> datetime:
    try:
        return parse_utc(_text(value))
    except ValueError as exc:
        raise _Invalid("expected an ISO 8601 time with a UTC offset") from exc
    except OverflowError as exc:  # e.g. 9999-12-31T23:00-05:00 is past year 9999 in UTC
        raise _Invalid("the time is out of range") from exc


def _optional_moment(value: object) -> datetime | None:
    return None if value is None else _moment(value)


def _uuid(value: object) -> str:
    try:
        return str(UUID(_text(value)))
    except ValueError as exc:
        raise _Invalid("expected a UUID") from exc


def _rating(value: object) -> Rating | None:
    if value is None:
        return None
    number = _integer(value)
    if number not in {int(rating) for rating in Rating}:
        raise _Invalid("expected null or a rating from 1 (again) to 4 (easy)")
    return Rating(number)


#: Every key of an exported attempt and how its value is checked and converted.
_FIELDS: Final[Mapping[str, Callable[[object], object]]] = {
    **{"uuid": _uuid, "question_id": _text, "seed": _integer, "topic": _text},
    **{"concepts": _concepts, "mode": _text, "part": _integer, "attempt_no": _integer},
    **{"final": _flag, "answer_text": _text, "correct": _flag, "score": _number},
    **{"mistake": _optional_text, "hints_used": _integer, "elapsed_s": _number},
    **{"expected": _text, "params": _params, "bank_hash": _text, "at": _moment},
    **{"rating": _rating, "reviewed_at": _optional_moment},
}


def _record_from_json(item: object, where: str, latest: datetime) -> Recorded:
    fields = _checked_fields(item, where)
    for key in ("at", "reviewed_at"):
        _check_time(fields[key], latest, f"{where}.{key}")
    rating, reviewed_at = fields.pop("rating"), fields.pop("reviewed_at")
    if (rating is None) != (reviewed_at is None):
        raise StoreError(f"{where}: rating and reviewed_at are both set or both null.")
    record = Recorded(Attempt(**fields), rating, reviewed_at)
    problem = attempt_problem(record.attempt) or _range_problem(record)
    if problem is not None:
        raise StoreError(f"{where}: {problem}.")
    return record


def _range_problem(record: Recorded) -> str | None:
    """What no recorded attempt can hold (a sentence), or None; see :data:`MAX_SEED`.

    The store reads such values (an earlier import may have let them in); only new ones are
    refused, since a score of 5 or a rating on a first, non-final try would skew statistics
    and the schedule.
    """
    a, reviewed_at = record.attempt, record.reviewed_at
    checks: tuple[tuple[bool, str], ...] = (
        (not 0 <= a.seed <= MAX_SEED, f"seed must be from 0 to {MAX_SEED}"),
        (not 0 <= a.part < MAX_PARTS, f"part must be from 0 to {MAX_PARTS - 1}"),
        (not 1 <= a.attempt_no <= MAX_TRIES, f"attempt_no must be from 1 to {MAX_TRIES}"),
        # a hint is given between two tries, so never more than attempt_no - 1 of them
        (not 0 <= a.hints_used < a.attempt_no, "hints_used must be from 0 to attempt_no - 1"),
        (not 0 <= a.score <= 1, "score must be from 0 to 1"),
        (a.elapsed_s < 0, "elapsed_s must be 0 or more"),
        (
            record.rating is not None and not a.final,
            "only the final attempt at a question has a rating",
        ),
        (reviewed_at is not None and reviewed_at < a.at, "reviewed_at is before at"),
    )
    return next((message for failed, message in checks if failed), None)


def _check_time(moment: datetime | None, latest: datetime, where: str) -> None:
    """Refuse a time that no recorded answer can have (see :data:`EARLIEST`, :data:`CLOCK_SKEW`)."""
    if moment is None:
        return
    if moment < EARLIEST:
        raise StoreError(f"{where}: {iso_utc(moment)} is before {EARLIEST.year}.")
    if moment > latest:
        raise StoreError(
            f"{where}: {iso_utc(moment)} is in the future (more than a day past this "
            "computer's clock)."
        )


def _checked_fields(item: object, where: str) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise StoreError(f"{where} must be an object.")
    missing = [key for key in _FIELDS if key not in item]
    if missing:
        raise StoreError(f"{where}: missing {', '.join(missing)}.")
    unknown = sorted(str(key) for key in item if key not in _FIELDS)
    if unknown:
        raise StoreError(f"{where}: unknown keys {', '.join(unknown)}.")
    converted: dict[str, Any] = {}
    for key, convert in _FIELDS.items():
        try:
            converted[key] = convert(item[key])
        except _Invalid as exc:
            raise StoreError(f"{where}.{key}: {exc}.") from exc
    return converted
