"""Interview practice: a timed session of spaced-repetition reviews, with a report at the end.

A session asks the templates :func:`tutor.session_plan.plan_session` picks (due reviews and
recurring-mistake checks, then new templates), each as a freshly seeded variant, through the
quiz's :class:`~tutor.quiz.Asker`. An auto-graded question is followed by a "why?" explain
card on the same concept; explain cards are rated by the learner (again/hard/good/easy).
Every answer is stored by :class:`~tutor.recording.StoreRecorder` before its feedback is
shown. When the time is up the question under way is finished, then the session ends; the end
of input or Ctrl-C ends it at once. Either way the report follows: accuracy, average time and
the topics to review next. A card that a problem in its bank keeps from being drawn or shown
is skipped with a warning (and not asked again in the session), and the report counts it.
"""

from __future__ import annotations

import secrets
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

from fsrs import Rating

from tutor import schedule, stats
from tutor.asking import variant_to_ask
from tutor.bankspec import Question
from tutor.errors import AnswerFormatError, BankError, StoreError
from tutor.numfmt import counted
from tutor.quiz import (
    Asker,
    EndOfInput,
    QuestionResult,
    Submission,
    format_duration,
    say_skipped,
    skipped_line,
)
from tutor.recording import StoreRecorder
from tutor.render import strip_controls
from tutor.session_plan import (
    REASON_LABELS,
    Planned,
    follow_up,
    plan_session,
    templates_by_topic,
)
from tutor.store import Progress, Store, open_store, utc_now
from tutor.terminal import Console
from tutor.variant import Variant

DEFAULT_MINUTES = 10
DEFAULT_NEW = 5
#: Topics whose mastery is below FSRS's target retention are listed to review next.
READY = 0.9
TOPICS_IN_REPORT = 3
SEED_RANGE = 1_000_000  # the range `tutor quiz --seed` replays; ample for fresh numbers

#: How the session ended: time up, queue done, input ended or Ctrl-C, or nothing to ask.
Ending = Literal["time", "done", "interrupted", "cancelled", "unsaved", "empty", "none-due"]
"""How a session ended; "interrupted" is the end of input, "cancelled" is Ctrl-C, "unsaved"
an answer the progress file could not take (busy too long, say)."""


def random_seed() -> int:
    """A fresh variant seed from the operating system's randomness (no shared state)."""
    return secrets.randbelow(SEED_RANGE)


def ask_recall(console: Console) -> tuple[bool, str | None]:
    """Practice's self-rating of an explain card: again, hard, good or easy (or 1-4)."""
    while True:
        text = console.ask("How well did you know it? again, hard, good, easy (or 1-4): ")
        if text is None:
            raise EndOfInput
        try:
            rating = schedule.rate_self(text)
        except AnswerFormatError as exc:
            console.say(str(exc), "warn")
            continue
        return rating != Rating.Again, rating.name.lower()


@dataclass(frozen=True)
class Settings:
    """A session's length, new-template allowance, and its clocks and seeds (injectable).

    ``clock`` is a monotonic clock in seconds (the session and question timers); ``now``
    gives the aware UTC time stored with each answer and used for scheduling.
    """

    minutes: float = DEFAULT_MINUTES
    new_count: int = DEFAULT_NEW
    clock: Callable[[], float] = time.monotonic
    now: Callable[[], datetime] = utc_now
    draw_seed: Callable[[], int] = random_seed
    only_banks: bool = False  # the banks replace the bundled ones (as `tutor check` must know)


@dataclass(frozen=True)
class Asked:
    """One asked variant: why it was asked and how it went."""

    planned: Planned
    result: QuestionResult


@dataclass(frozen=True)
class TopicNext:
    """A topic to review next: its mastery, and this session's wrong answers and mistakes."""

    topic: str
    mastery: float
    misses: int
    mistakes: tuple[str, ...]


@dataclass
class PracticeReport:
    """What the session did and what to do next."""

    asked: list[Asked]
    elapsed_s: float
    ending: Ending
    topics_next: tuple[TopicNext, ...] = ()
    due_now: int = 0
    next_due: datetime | None = None
    at: datetime | None = None  # when the report was made
    skipped: tuple[str, ...] = ()  # why each card skipped for a problem in its bank was
    check: tuple[str, ...] = ()  # the arguments of the `tutor check` that finds those problems

    @property
    def correct(self) -> int:
        return sum(item.result.correct for item in self.asked)

    @property
    def average_s(self) -> float | None:
        times = [item.result.elapsed_s for item in self.asked]
        return sum(times) / len(times) if times else None


class Session:
    """One practice session over ``pool`` (the templates it may ask, in bank order)."""

    def __init__(
        self, console: Console, store: Store, pool: Sequence[Question], settings: Settings
    ) -> None:
        self.console, self.store, self.settings = console, store, settings
        self.pool = list(pool)
        self.by_id = {question.id: question for question in self.pool}
        self.recorder = StoreRecorder(store, "practice", settings.now)
        self.asker = Asker(console, self._record, settings.clock, self_rate=ask_recall)
        self.asked: list[Asked] = []
        self.answers: list[tuple[Variant, Submission]] = []
        self.new_left = settings.new_count  # new cards the session may still add
        self.unsaved: StoreError | None = None  # why the last answer could not be saved
        self.skipped: dict[str, tuple[Question, str]] = {}  # id -> the card and why, in order
        self.start = settings.clock()

    def run(self) -> PracticeReport:
        """Plan, ask until the time is up or the queue is empty, and report."""
        self.start = self.settings.clock()
        queue = plan_session(
            self.pool, self.store.progress(), self.settings.now(), self.settings.new_count
        )
        self.new_left -= sum(item.reason == "new" for item in queue)
        self._announce(queue)
        if queue:
            ending: Ending = self._loop(queue)
        else:  # with --new 0 there may be new questions left, just none asked for
            ending = "empty" if self.settings.new_count else "none-due"
        return self._report(ending)

    def time_left(self) -> float:
        """Seconds left in the session (negative once the time is up)."""
        return self.settings.minutes * 60 - (self.settings.clock() - self.start)

    def _record(self, variant: Variant, submission: Submission) -> None:
        self.recorder(variant, submission)  # commits before the Asker shows feedback
        self.answers.append((variant, submission))

    def _announce(self, queue: Sequence[Planned]) -> None:
        new = sum(item.reason == "new" for item in queue)
        self.console.say(
            f"Practice: {len(queue) - new} to review, {new} new, "
            f"{format_duration(self.settings.minutes * 60)}. Progress: {self.store.path}",
            "dim",
        )
        self.console.say("Ctrl-C ends the session; every answer marked is already saved.", "dim")

    def _loop(self, queue: list[Planned]) -> Ending:
        try:
            while True:
                if self.time_left() <= 0:
                    return "time"  # the report says so
                item = self._next(queue)
                if item is None:
                    return "done"
                self._ask(item, queue)
        except (EndOfInput, KeyboardInterrupt) as stop:  # the report says so
            return "cancelled" if isinstance(stop, KeyboardInterrupt) else "interrupted"
        except StoreError as exc:  # the answers before it are saved: report them, then this
            self.unsaved = exc
            return "unsaved"

    def _next(self, queue: list[Planned]) -> Planned | None:
        """The queue's head; once it is empty, a card that fell due again this session."""
        if queue:
            return queue.pop(0)
        last = self.asked[-1].planned.question.id if self.asked else None
        due = [
            qid
            for qid in self.store.due(self.settings.now(), self.by_id)
            if qid != last and qid not in self.skipped
        ]
        return Planned(self.by_id[due[0]], "again") if due else None

    def _ask(self, item: Planned, queue: list[Planned]) -> None:
        variant = self._draw_or_skip(item.question)
        if variant is None:
            return
        self._header(item)
        result = self.asker.ask(variant)
        self.asked.append(Asked(item, result))
        expected = format_duration(item.question.minutes * 60)
        self.console.say(f"Time: {format_duration(result.elapsed_s)} (expected {expected})", "dim")
        asked_ids = {done.planned.question.id for done in self.asked} | set(self.skipped)
        addable = self._addable()
        why = follow_up(item.question, self.pool, asked_ids, queue, addable)
        if why is None:
            return
        queued = [p for p in queue if p.question.id != why.question.id]
        if len(queued) == len(queue) and addable[why.question.id] is None:
            self.new_left -= 1  # a new card from outside the plan uses up the --new budget
        queue[:] = [why, *queued]

    def _draw_or_skip(self, question: Question) -> Variant | None:
        """A fresh variant of ``question``, or None (with a warning, and the card left out of
        the rest of the session) when a problem in its bank keeps it from being shown."""
        if question.id in self.skipped:  # a queued card skipped already
            return None
        try:
            return variant_to_ask(question, self.settings.draw_seed())
        except BankError as exc:
            message = strip_controls(str(exc))
        self.skipped[question.id] = (question, message)
        say_skipped(self.console, f"Question {question.id!r}", message)
        return None

    def _check_arguments(self) -> tuple[str, ...]:
        """The paths of the skipped cards' banks, as ``tutor check`` takes them."""
        paths = tuple({q.source.path: None for q, _ in self.skipped.values()})
        return (*paths, "--only-banks") if paths and self.settings.only_banks else paths

    def _addable(self) -> dict[str, datetime | None]:
        """The cards a follow-up may add to the session, with their due dates: those due
        now, and never-reviewed ones (None) while the budget of new cards lasts; never a card
        reviewed and not due yet."""
        now = self.settings.now()
        due_at = self.store.due_dates(self.by_id)
        return {
            qid: due
            for qid, due in due_at.items()
            if (due is None and self.new_left > 0) or (due is not None and due <= now)
        }

    def _header(self, item: Planned) -> None:
        q, say = item.question, self.console.say
        left = clock_text(max(0.0, self.time_left()))
        say()
        say(f"Question {len(self.asked) + 1}  ·  {q.topic}  ·  {REASON_LABELS[item.reason]}"
            f"  ·  {left} left", "title")  # fmt: skip
        say(q.title, "bold")
        if item.reason == "why":
            say("Why? Explain the idea behind the question you just answered.", "dim")
        if item.aims_at:
            say(f"Aimed at a mistake you keep making: {', '.join(item.aims_at)}.", "dim")

    def _report(self, ending: Ending) -> PracticeReport:
        now = self.settings.now()
        progress = self.store.progress()
        due_at = self.store.due_dates(self.by_id)
        later = [due for due in due_at.values() if due is not None and due > now]
        return PracticeReport(
            asked=self.asked,
            elapsed_s=self.settings.clock() - self.start,
            ending=ending,
            topics_next=topics_to_review(progress, now, self.pool, self.answers),
            due_now=len(self.store.due(now, self.by_id)),
            next_due=min(later, default=None),
            at=now,
            skipped=tuple(message for _, message in self.skipped.values()),
            check=self._check_arguments(),
        )


def topics_to_review(
    progress: Progress,
    now: datetime,
    pool: Sequence[Question],
    answers: Sequence[tuple[Variant, Submission]],
) -> tuple[TopicNext, ...]:
    """The pool's topics that need work: most wrong answers this session, then lowest
    mastery; only topics with a wrong answer or mastery below :data:`READY`."""
    misses: Counter[str] = Counter()
    named: defaultdict[str, dict[str, None]] = defaultdict(dict)
    for variant, submission in answers:
        if not submission.verdict.correct:
            misses[variant.question.topic] += 1
        if submission.verdict.mistake:
            named[variant.question.topic][submission.verdict.mistake] = None
    layout = templates_by_topic(pool)
    rows = [
        TopicNext(t.topic, t.mastery, misses[t.topic], tuple(named[t.topic]))
        for t in stats.topic_stats(progress, now, layout)
        if t.topic in layout and (misses[t.topic] or t.mastery < READY)
    ]
    rows.sort(key=lambda row: (-row.misses, row.mastery, row.topic))
    return tuple(rows[:TOPICS_IN_REPORT])


def clock_text(seconds: float) -> str:
    """A countdown as ``m:ss`` (``7:05``)."""
    whole = int(seconds)
    return f"{whole // 60}:{whole % 60:02d}"


def until_text(moment: datetime, now: datetime) -> str:
    """How long until ``moment``: "in 9 minutes", "in 3 hours", "in 2 days"."""
    seconds = max(0.0, (moment - now).total_seconds())
    for size, unit in ((86_400, "day"), (3_600, "hour"), (60, "minute")):
        if seconds >= size:
            return f"in {counted(round(seconds / size), unit)}"
    return "in less than a minute"


_ENDINGS: dict[Ending, str] = {
    "time": "Time is up.",
    "done": "Every planned question was asked.",
    "interrupted": "The session was ended early.",
    "cancelled": "The session was ended early.",
    "unsaved": "The session stopped: the last answer could not be saved (see below).",
    "empty": "Nothing to practice now: no reviews are due and no new questions are left.",
    "none-due": "Nothing to practice now: no reviews are due, and --new 0 asked for no new ones.",
}


def print_report(console: Console, report: PracticeReport) -> None:
    """Accuracy, average time per question, topics to review next, and what is due."""
    console.say()
    console.say("Session report", "title")
    ending = _ENDINGS[report.ending]
    if report.ending == "done" and report.skipped:
        ending = "Every planned question was asked or skipped."
    console.say(ending)
    asked = len(report.asked)
    if asked:
        percent = 100 * report.correct / asked
        console.say(f"Accuracy: {report.correct} of {asked} questions right ({percent:.0f}%)")
        console.say(f"Average time per question: {format_duration(report.average_s or 0.0)}")
    console.say(f"Session time: {format_duration(report.elapsed_s)}")
    if report.skipped:
        console.say(skipped_line(len(report.skipped), report.check), "warn")
    _print_topics(console, report.topics_next)
    _print_due(console, report)


def _print_topics(console: Console, topics: Sequence[TopicNext]) -> None:
    if not topics:
        return
    console.say("Topics to review next:")
    for row in topics:
        wrong = f", {counted(row.misses, 'wrong answer')} this session" if row.misses else ""
        names = f" (mistakes: {', '.join(row.mistakes)})" if row.mistakes else ""
        console.say(f"  {row.topic}: mastery {100 * row.mastery:.0f}%{wrong}{names}")


def _print_due(console: Console, report: PracticeReport) -> None:
    due = f"Reviews due now: {report.due_now}"
    if report.next_due is not None and report.at is not None:
        after = "the next one after those" if report.due_now else "next review"
        due += f"; {after} {until_text(report.next_due, report.at)}"
    console.say(due + ".")


def practice(
    console: Console, pool: Sequence[Question], db: Path | None, settings: Settings
) -> PracticeReport:
    """Open the progress store, run one session over ``pool``, print its report; then raise
    the StoreError that stopped it, if one did."""
    with open_store(db) as store:
        session = Session(console, store, pool, settings)
        report = session.run()
        print_report(console, report)
    if session.unsaved is not None:
        raise session.unsaved
    return report
