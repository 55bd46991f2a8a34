"""Progress statistics: pure queries over a store snapshot, returned as frozen dataclasses.

Definitions (also in the README):

* **accuracy** — correct attempts / all attempts; every try counts, so a question answered
  right on the second try contributes one wrong and one right attempt.
* **mastery** of a topic — the mean, over the topic's templates, of FSRS's predicted chance
  of recalling the template now (its retrievability), counting a template as 0 while it has
  never been reviewed or is still in a learning or relearning step. 1.0 means every template
  has graduated and was reviewed recently; it decays as reviews fall due.
* **streak** — consecutive calendar days with at least one attempt, ending today or yesterday;
  days after today (a clock set back) are ignored.
* **recurring mistake** — see :func:`tutor.schedule.find_recurring`.

Every function takes a :class:`~tutor.store.Store` or a :class:`~tutor.store.Progress`
snapshot (read once with :meth:`Store.progress` when computing several statistics). Days are
calendar days in ``tz``: UTC by default, and ``None`` for the computer's local time, whose
offset is looked up at each instant (a fixed offset would move answers to the wrong day
across a daylight-saving change).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from fsrs import Card

from tutor import schedule
from tutor.store import Progress, Recorded, Store

#: Bank layout for statistics: topic → its template ids, in bank order.
TemplatesByTopic = Mapping[str, Sequence[str]]


@dataclass(frozen=True)
class TopicStats:
    """One topic's numbers; ``accuracy`` is None before its first attempt."""

    topic: str
    attempts: int
    correct: int
    accuracy: float | None
    templates: int  # templates known in the topic (from the bank, and any seen in history)
    reviewed: int  # templates with an FSRS card
    due: int  # cards due now
    mastery: float  # 0..1, see the module docstring


@dataclass(frozen=True)
class DueCounts:
    """Cards due now, due before the end of today, and cards in total."""

    now: int
    today: int
    cards: int


@dataclass(frozen=True)
class Streak:
    """The current run of active days, the longest run ever, and the last active day."""

    current: int
    longest: int
    last_day: date | None


@dataclass(frozen=True)
class DayCount:
    """Attempts made on ``day`` and how many of them reviewed a card."""

    day: date
    attempts: int
    reviews: int


@dataclass(frozen=True)
class MistakeCount:
    """A named misconception, how often it was made, when last, and in which templates."""

    mistake: str
    count: int
    last_at: datetime
    question_ids: tuple[str, ...]


@dataclass(frozen=True)
class Summary:
    """Everything ``tutor stats`` shows, from one snapshot."""

    attempts: int
    correct: int
    accuracy: float | None
    due: DueCounts
    streak: Streak
    topics: tuple[TopicStats, ...]  # weakest first
    mistakes: tuple[MistakeCount, ...]  # most frequent first
    recurring: Mapping[str, int]
    per_day: tuple[DayCount, ...]  # oldest first, ending today


def _snapshot(source: Store | Progress) -> Progress:
    return source.progress() if isinstance(source, Store) else source


def _accuracy(correct: int, attempts: int) -> float | None:
    return correct / attempts if attempts else None


def card_topics(progress: Progress, templates: TemplatesByTopic | None = None) -> dict[str, str]:
    """Question id → topic: the bank's topic when given, else the latest attempt's topic."""
    topics = {r.attempt.question_id: r.attempt.topic for r in progress.attempts}
    for topic, question_ids in (templates or {}).items():
        topics.update(dict.fromkeys(question_ids, topic))
    return topics


def mastery(cards: Iterable[Card | None], now: datetime) -> float:
    """Mean retrievability at ``now`` of graduated cards, counting others (or None) as 0."""
    values = [
        schedule.retrievability(card, now) if card and schedule.is_learned(card) else 0.0
        for card in cards
    ]
    return sum(values) / len(values) if values else 0.0


def topic_stats(
    source: Store | Progress,
    now: datetime,
    templates: TemplatesByTopic | None = None,
    *,
    loaded_only: bool = False,
) -> list[TopicStats]:
    """Per-topic numbers, sorted by topic; ``templates`` adds unseen templates and topics.

    With ``loaded_only`` (and ``templates``), a topic's templates, reviewed, due and mastery
    count the templates of ``templates`` only, as :func:`due_counts` does; its attempts and
    accuracy still count every answer, as the overall ones do.
    """
    progress = _snapshot(source)
    topic_of = card_topics(progress, templates)
    counted = _question_ids(templates) if loaded_only else None
    members: dict[str, set[str]] = defaultdict(set)
    for question_id, topic in topic_of.items():
        if counted is None or question_id in counted:
            members[topic].add(question_id)
    tally: dict[str, Counter[str]] = defaultdict(Counter)
    for record in progress.attempts:
        topic = topic_of[record.attempt.question_id]
        tally[topic].update(attempts=1, correct=int(record.attempt.correct))
    return [
        _one_topic(topic, members[topic], tally[topic], progress.cards, now)
        for topic in sorted(members.keys() | tally.keys())
    ]


def _question_ids(templates: TemplatesByTopic | None) -> set[str] | None:
    """Every template id in ``templates`` (None: no bank layout given)."""
    return None if templates is None else {q for ids in templates.values() for q in ids}


def _one_topic(
    topic: str,
    question_ids: set[str],
    tally: Counter[str],
    cards: Mapping[str, Card],
    now: datetime,
) -> TopicStats:
    own = [cards.get(question_id) for question_id in sorted(question_ids)]
    reviewed = [card for card in own if card is not None]
    moment = schedule.as_utc(now)
    return TopicStats(
        topic=topic,
        attempts=tally["attempts"],
        correct=tally["correct"],
        accuracy=_accuracy(tally["correct"], tally["attempts"]),
        templates=len(question_ids),
        reviewed=len(reviewed),
        due=sum(card.due <= moment for card in reviewed),
        mastery=mastery(own, now),
    )


def weakest_first(topics: Iterable[TopicStats]) -> list[TopicStats]:
    """Topics ordered weakest first: lowest mastery, then lowest accuracy, with untried topics
    after tried ones of equal mastery (a topic the learner gets wrong needs help more than one
    not yet started), then by name."""
    return sorted(
        topics,
        key=lambda t: (t.mastery, t.accuracy is None, t.accuracy or 0.0, t.topic),
    )


def new_templates(
    source: Store | Progress, now: datetime, templates: TemplatesByTopic
) -> list[str]:
    """Never-reviewed templates to introduce next: weakest topic first, bank order within it."""
    progress = _snapshot(source)
    order = weakest_first(topic_stats(progress, now, templates))
    return [
        question_id
        for topic in order
        for question_id in templates.get(topic.topic, ())
        if question_id not in progress.cards
    ]


def local_day(moment: datetime, tz: tzinfo | None = UTC) -> date:
    """The calendar day of ``moment`` in ``tz`` (None: the computer's local time).

    Within hours of year 1 or 9999 the local day may not exist as a date; the UTC day is used
    then (such times are far outside any range of days shown).
    """
    try:
        return moment.astimezone(tz).date()
    except OverflowError:
        return schedule.as_utc(moment).date()


def _midnight(day: date, tz: tzinfo | None) -> datetime:
    """The aware start of ``day`` in ``tz`` (None: the computer's local time)."""
    if tz is None:
        return datetime.combine(day, time()).astimezone()  # a naive time is taken as local
    return datetime.combine(day, time(), tz)


def due_counts(
    source: Store | Progress,
    now: datetime,
    tz: tzinfo | None = UTC,
    question_ids: Collection[str] | None = None,
) -> DueCounts:
    """How many cards are due at ``now`` and before midnight at the end of today in ``tz``.

    Only the cards of ``question_ids`` count when given: a card whose question is not in the
    banks in use cannot be reviewed now.
    """
    cards = [
        card
        for question_id, card in _snapshot(source).cards.items()
        if question_ids is None or question_id in question_ids
    ]
    moment = schedule.as_utc(now)
    tomorrow = _midnight(local_day(moment, tz) + timedelta(days=1), tz)
    return DueCounts(
        now=sum(card.due <= moment for card in cards),
        today=sum(card.due < tomorrow for card in cards),
        cards=len(cards),
    )


def _days(attempts: Iterable[Recorded], tz: tzinfo | None) -> Counter[date]:
    return Counter(local_day(r.attempt.at, tz) for r in attempts)


def streak(source: Store | Progress, now: datetime, tz: tzinfo | None = UTC) -> Streak:
    """Consecutive active days ending today or yesterday (in ``tz``), and the longest run."""
    today = local_day(schedule.as_utc(now), tz)
    days = sorted(day for day in _days(_snapshot(source).attempts, tz) if day <= today)
    runs: list[tuple[date, int]] = []  # (last day of the run, its length)
    for day in days:
        if runs and (day - runs[-1][0]).days == 1:  # (no date before 1 January of year 1)
            runs[-1] = (day, runs[-1][1] + 1)
        else:
            runs.append((day, 1))
    if not runs:
        return Streak(current=0, longest=0, last_day=None)
    last_day, length = runs[-1]
    current = length if last_day >= today - timedelta(days=1) else 0
    return Streak(current=current, longest=max(n for _, n in runs), last_day=last_day)


def per_day(
    source: Store | Progress, now: datetime, days: int = 14, tz: tzinfo | None = UTC
) -> list[DayCount]:
    """Attempts and reviews on each of the last ``days`` days (in ``tz``), oldest first."""
    attempts = _snapshot(source).attempts
    all_days = _days(attempts, tz)
    reviews = _days((r for r in attempts if r.rating is not None), tz)
    today = local_day(schedule.as_utc(now), tz)
    span = [today - timedelta(days=back) for back in range(days - 1, -1, -1)]
    return [DayCount(day, all_days[day], reviews[day]) for day in span]


def top_mistakes(source: Store | Progress, limit: int = 5) -> list[MistakeCount]:
    """The misconceptions hit most (all time): most frequent, then most recent, then by name."""
    made: dict[str, list[Recorded]] = defaultdict(list)
    for record in _snapshot(source).attempts:
        if record.attempt.mistake:
            made[record.attempt.mistake].append(record)
    counts = [
        MistakeCount(
            mistake=name,
            count=len(records),
            last_at=max(r.attempt.at for r in records),
            question_ids=tuple(sorted({r.attempt.question_id for r in records})),
        )
        for name, records in made.items()
    ]
    counts.sort(key=lambda m: (-m.count, -m.last_at.timestamp(), m.mistake))
    return counts[:limit]


def recurring_mistakes(
    source: Store | Progress,
    now: datetime,
    *,
    last_n: int = schedule.RECENT_ATTEMPTS,
    days: int = schedule.RECENT_DAYS,
    min_count: int = schedule.RECUR_MIN,
) -> dict[str, int]:
    """Mistakes that keep coming back (see :func:`tutor.schedule.find_recurring`).

    "Recent" is by the time of each answer, not the order it was stored in: attempts imported
    from another machine may be older than those recorded here. (The sort is stable, so
    answers at the same time stay in recording order.)
    """
    attempts = sorted(_snapshot(source).attempts, key=lambda r: r.attempt.at)
    history = [(r.attempt.mistake, r.attempt.at) for r in attempts]
    return schedule.find_recurring(history, now, last_n=last_n, days=days, min_count=min_count)


def summary(
    source: Store | Progress,
    now: datetime,
    templates: TemplatesByTopic | None = None,
    *,
    days: int = 14,
    tz: tzinfo | None = UTC,
) -> Summary:
    """All statistics from one snapshot; with ``templates``, due counts and the topics' cards
    are over its templates only (see :func:`due_counts`), so that the two agree."""
    progress = _snapshot(source)
    correct = sum(r.attempt.correct for r in progress.attempts)
    topics = topic_stats(progress, now, templates, loaded_only=True)
    return Summary(
        attempts=len(progress.attempts),
        correct=correct,
        accuracy=_accuracy(correct, len(progress.attempts)),
        due=due_counts(progress, now, tz, _question_ids(templates)),
        streak=streak(progress, now, tz),
        topics=tuple(weakest_first(topics)),
        mistakes=tuple(top_mistakes(progress)),
        recurring=recurring_mistakes(progress, now),
        per_day=tuple(per_day(progress, now, days, tz)),
    )
