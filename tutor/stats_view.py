"""What ``tutor stats`` and ``tutor import`` do: statistics as text or JSON, export, import.

:func:`read_view` reads the store (read-only: statistics never write, and a missing or empty
file is simply no progress yet) into a :class:`StatsView`; :func:`stats_text` and :func:`stats_json`
render it: overall accuracy, due counts, streak, a per-topic table, the mistakes made most
(with the questions they come from), and reviews per day as a bar chart.
:func:`export_to` and :func:`import_from` move progress between machines.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

from tutor import progress_io, stats
from tutor.bankspec import Question
from tutor.charts import text_bar_chart, text_table
from tutor.errors import StoreError
from tutor.numfmt import counted
from tutor.session_plan import templates_by_topic
from tutor.stats import DayCount, MistakeCount, Summary, TopicStats
from tutor.store import Progress, Store, open_store, resolve_path
from tutor.store_db import NothingRecorded


@dataclass(frozen=True)
class StatsView:
    """A summary with what it needs to be shown: the file it came from, question titles
    (by id), the number of templates never reviewed, the number of cards whose questions are
    not in the banks loaded, and the time zone of its days (None: local time), its name and
    its offset from UTC now (``+05:30``)."""

    summary: Summary
    path: Path
    titles: Mapping[str, str]
    new: int
    not_loaded: int
    tz: tzinfo | None
    zone: str
    utc_offset: str


def read_view(
    db: Path | None,
    questions: Sequence[Question],
    now: datetime,
    tz: tzinfo | None,
    days: int = 14,
) -> StatsView:
    """Statistics of the progress file ``db`` (see :func:`tutor.store.resolve_path`) at
    ``now``, with days counted in ``tz`` (None: the computer's local time); ``questions``
    are the templates the banks hold, and due counts are over them only."""
    path = resolve_path(db)
    progress = _read_progress(path)
    summary = stats.summary(progress, now, templates_by_topic(questions), days=days, tz=tz)
    loaded = {question.id for question in questions}
    new = len(loaded - progress.cards.keys())
    not_loaded = len(progress.cards.keys() - loaded)
    titles = {question.id: question.title for question in questions}
    zone = str(tz) if tz is not None else (now.astimezone().tzname() or "local time")
    offset = _utc_offset(now.astimezone(tz))  # the zone's name may be an abbreviation
    return StatsView(summary, path, titles, new, not_loaded, tz, zone, offset)


def _utc_offset(moment: datetime) -> str:
    """``+05:30`` or ``-04:00``: ISO 8601's form, which a program can read (``CET`` it cannot)."""
    minutes = round((moment.utcoffset() or timedelta()).total_seconds() / 60)
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _read_progress(path: Path) -> Progress:
    """The file's snapshot, read-only; no file yet, or an empty one, means no progress
    (nothing is created or written)."""
    store = _open_existing(path)
    if store is None:
        return Progress(attempts=(), cards={})
    with store:
        return store.progress()


def _open_existing(path: Path) -> Store | None:
    """The progress file opened read-only, or None when nothing was recorded in it yet (no
    file, or an empty one such as ``touch`` makes, which a practice session would use as new).
    """
    if _not_created(path):
        return None
    try:
        return open_store(path, readonly=True)
    except NothingRecorded:
        return None


def _not_created(path: Path) -> bool:
    """No progress file yet. A dangling link is not that: opening it reports the problem."""
    return not path.exists() and not path.is_symlink()


def export_to(db: Path | None, target: Path) -> int:
    """Write every attempt in ``db`` to ``target`` (atomically); return how many.

    With no progress file yet (or an empty one), ``target`` gets an empty export (and ``db``
    is neither created nor written), so a script that exports and then imports works on a
    fresh machine too.
    """
    path = resolve_path(db)
    if _overwrites(target, path):
        raise StoreError(
            f"cannot export to {target}: that would overwrite the progress file {path}. "
            "Choose another file for the export."
        )
    store = _open_existing(path)
    if store is None:
        progress_io.write_empty_export(target)
        return 0
    with store:
        progress_io.write_export(store, target)
        return len(store.attempts())


#: SQLite's side files next to a database (write-ahead log, its index, rollback journal).
_SIDE_FILES = ("", "-wal", "-shm", "-journal")


def _overwrites(target: Path, db: Path) -> bool:
    """Whether writing ``target`` would replace ``db`` or one of its side files, through a
    link or a second name for the same file too."""
    parts = [Path(f"{base}{side}") for base in (db, _real(db)) for side in _SIDE_FILES]
    if any(_real(target) == _real(part) for part in parts):
        return True
    return target.exists() and any(part.exists() and target.samefile(part) for part in parts)


def _real(path: Path) -> Path:
    """``path`` with links resolved, as far as they can be (a loop of links stays as is)."""
    try:
        return path.resolve()
    except (OSError, RuntimeError):
        return path.absolute()


def import_from(db: Path | None, source: Path) -> tuple[int, int, Path]:
    """Merge the export ``source`` into ``db``: (attempts added, attempts in the file, db).

    The file is validated completely before anything is written; attempts already stored
    are skipped, so importing twice adds nothing the second time. An attempt the file repeats
    word for word is counted once.
    """
    data = progress_io.read_export(source)
    records = progress_io.export_records(data, source=f"export {source}")
    with open_store(db) as store:  # only now: a refused file creates no progress file
        return store.merge(records), len(records), store.path


def import_report(added: int, total: int, source: Path, db: Path) -> str:
    """The line ``tutor import`` prints for :func:`import_from`'s counts."""
    skipped = total - added
    known = ""
    if skipped:
        known = f" ({skipped} {'was' if skipped == 1 else 'were'} already there)"
    return f"Imported {added} of {total} attempts from {source} into {db}{known}."


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.0f}%"


# --------------------------------------------------------------------------- text


def stats_text(view: StatsView) -> str:
    """The terminal report; no trailing newline."""
    s = view.summary
    if not s.attempts:
        return (
            f"No progress recorded yet in {view.path}.\n"
            "Answer some questions with `tutor practice` or `tutor quiz` first."
        )
    blocks = [
        _overview(view),
        _topics_table(s.topics),
        _mistakes_text(view),
        _per_day_chart(s.per_day),
    ]
    return "\n\n".join(block for block in blocks if block)


def _overview(view: StatsView) -> str:
    s = view.summary
    due = s.due
    streak = f"Streak: {counted(s.streak.current, 'day')} (longest {s.streak.longest})"
    return "\n".join(
        [
            f"Progress in {view.path}",
            f"Attempts: {s.attempts}, {s.correct} right ({_percent(s.accuracy)})",
            f"Due: {due.now} now, {due.cards - due.now} later ({due.today - due.now} of them "
            f"today), {view.new} new",
            *_not_loaded_text(view.not_loaded),
            streak,
        ]
    )


def _not_loaded_text(count: int) -> list[str]:
    """A line saying how many cards the due counts leave out (their banks are not loaded)."""
    if count == 0:
        return []
    if count == 1:
        return ["1 more card belongs to a bank not loaded now."]
    return [f"{count} more cards belong to banks not loaded now."]


def _topics_table(topics: Sequence[TopicStats]) -> str:
    headers = ["topic", "attempts", "accuracy", "mastery", "due", "reviewed"]
    rows = [
        [t.topic, t.attempts, _percent(t.accuracy), _percent(t.mastery), t.due,
         f"{t.reviewed} of {t.templates}"]
        for t in topics
    ]  # fmt: skip
    return text_table(headers, rows, title="Topics, weakest first") if rows else ""


def _mistakes_text(view: StatsView) -> str:
    mistakes, recurring = view.summary.mistakes, view.summary.recurring
    if not mistakes:
        return ""
    lines = ["Mistakes you make most"]
    for m in mistakes:
        where = ", ".join(view.titles.get(qid, qid) for qid in m.question_ids)
        last = stats.local_day(m.last_at, view.tz)
        lines.append(f"  {m.mistake}  ×{m.count}  (last {last:%Y-%m-%d})  in: {where}")
    if recurring:
        names = ", ".join(recurring)
        lines.append(
            f"Keep coming back: {names}. `tutor practice` brings their questions back sooner."
        )
    return "\n".join(lines)


def _per_day_chart(days: Sequence[DayCount]) -> str:
    labels = [f"{d.day:%a %m-%d}" for d in days]
    title = f"Reviews per day (last {len(days)} days)"
    return text_bar_chart(labels, [d.reviews for d in days], title=title, log=False, width=30)


# --------------------------------------------------------------------------- JSON


def stats_json(view: StatsView) -> dict[str, Any]:
    """Everything ``stats_text`` shows, JSON-ready; ``attempts`` counts every stored try."""
    s = view.summary
    return {
        "db": str(view.path),
        "attempts": s.attempts,
        "correct": s.correct,
        "accuracy": s.accuracy,
        "due": {
            "now": s.due.now,
            "today": s.due.today,
            "later": s.due.cards - s.due.now,
            "new": view.new,
            "cards": s.due.cards,
            "not_loaded": view.not_loaded,
        },
        "streak": {
            "current": s.streak.current,
            "longest": s.streak.longest,
            "last_day": None if s.streak.last_day is None else s.streak.last_day.isoformat(),
        },
        "topics": [_topic_json(t) for t in s.topics],
        "mistakes": [_mistake_json(m, view.titles) for m in s.mistakes],
        "recurring": dict(s.recurring),
        "per_day": [_day_json(d) for d in s.per_day],
        "time_zone": view.zone,
        "utc_offset": view.utc_offset,
    }


def _topic_json(t: TopicStats) -> dict[str, Any]:
    return {
        "topic": t.topic,
        "attempts": t.attempts,
        "correct": t.correct,
        "accuracy": t.accuracy,
        "mastery": t.mastery,
        "due": t.due,
        "reviewed": t.reviewed,
        "templates": t.templates,
    }


def _mistake_json(m: MistakeCount, titles: Mapping[str, str]) -> dict[str, Any]:
    return {
        "mistake": m.mistake,
        "count": m.count,
        "last_at": m.last_at.isoformat(),
        "questions": [{"id": qid, "title": titles.get(qid)} for qid in m.question_ids],
    }


def _day_json(d: DayCount) -> dict[str, Any]:
    return {"day": d.day.isoformat(), "attempts": d.attempts, "reviews": d.reviews}
