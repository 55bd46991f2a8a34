"""Spaced repetition: the FSRS configuration, how answers become ratings, and review order.

One FSRS card per question template (keyed by question id); every review of a template draws
a fresh variant, so a card measures how well the learner knows the *kind* of question. This
module is pure: no SQLite, no clock, no printing. :mod:`tutor.store` calls :func:`review` and
:func:`replay` inside its transactions, and the practice front end orders its queue with
:func:`prioritize` and :func:`find_recurring`.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta

from fsrs import Card, Rating, Scheduler, State

from tutor.errors import AnswerFormatError

#: A right first try without hints faster than this (seconds) is rated Easy when the question
#: declares no expected time of its own.
QUICK_SECONDS = 30.0
#: A mistake "keeps coming back" when it is named at least RECUR_MIN times among the last
#: RECENT_ATTEMPTS attempts, or at least RECUR_MIN times within the last RECENT_DAYS days.
RECENT_ATTEMPTS = 20
RECENT_DAYS = 14
RECUR_MIN = 2

_SELF_RATINGS: dict[str, Rating] = {
    "again": Rating.Again,
    "hard": Rating.Hard,
    "good": Rating.Good,
    "easy": Rating.Easy,
    "1": Rating.Again,
    "2": Rating.Hard,
    "3": Rating.Good,
    "4": Rating.Easy,
}


def default_scheduler() -> Scheduler:
    """FSRS with its published default weights, 90% target retention, learning steps of 1 and
    10 minutes, a 10 minute relearning step, and no fuzzing, so that the same history always
    gives the same schedule (and an export replays to exactly the same cards)."""
    return Scheduler(desired_retention=0.9, enable_fuzzing=False)


def as_utc(moment: datetime) -> datetime:
    """``moment`` in UTC; a naive datetime is a programming error (its zone is unknown)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"datetime {moment.isoformat()} has no time zone; pass an aware UTC time")
    return moment.astimezone(UTC)


def rate_numeric(
    *,
    correct: bool,
    attempt_no: int,
    hints_used: int,
    elapsed_s: float,
    expected_s: float | None = None,
) -> Rating:
    """The FSRS rating of an automatically graded answer.

    Wrong → Again. Right after a hint or on a later try → Hard. Right on the first try without
    hints → Easy when faster than ``expected_s`` (the question's expected time, default
    :data:`QUICK_SECONDS`), else Good.
    """
    if not correct:
        return Rating.Again
    if attempt_no > 1 or hints_used > 0:
        return Rating.Hard
    quick = QUICK_SECONDS if expected_s is None else expected_s
    return Rating.Easy if elapsed_s < quick else Rating.Good


def rate_self(text: str) -> Rating:
    """The learner's own rating of an explain card: ``again``/``hard``/``good``/``easy`` or 1-4.

    Raises :class:`AnswerFormatError` (re-ask, nothing is recorded) for anything else.
    """
    rating = _SELF_RATINGS.get(text.strip().lower())
    if rating is None:
        raise AnswerFormatError("Rate yourself with again, hard, good or easy (or 1, 2, 3, 4).")
    return rating


def card_id(question_id: str) -> int:
    """A stable FSRS card id for a template: 48 bits of SHA-256 of its id, same everywhere."""
    return int.from_bytes(hashlib.sha256(question_id.encode()).digest()[:6], "big")


def review(
    scheduler: Scheduler, card: Card | None, question_id: str, rating: Rating, at: datetime
) -> tuple[Card, datetime]:
    """The card after one review with ``rating`` at ``at`` (``card`` None: first review),
    and the review time FSRS was given.

    That time is ``max(at, card.last_review)``: a clock set back never makes a review happen
    before the previous one, so intervals never go negative and a due date is never computed
    from a time earlier than what the card has already seen.
    """
    when = as_utc(at)
    if card is None:
        card = Card(card_id=card_id(question_id), due=when)
    elif card.last_review is not None:
        when = max(when, card.last_review)
    reviewed, _log = scheduler.review_card(card, rating, review_datetime=when)
    return reviewed, when


def replay(
    scheduler: Scheduler, question_id: str, reviews: Iterable[tuple[Rating, datetime]]
) -> Card | None:
    """The card a template ends with after ``reviews`` (rating, review time), oldest first.

    Replaying a template's stored reviews gives exactly the card :func:`review` built step by
    step, which is how merged imports recompute their cards. None when there are no reviews.
    """
    card: Card | None = None
    for rating, when in reviews:
        card, _ = review(scheduler, card, question_id, rating, when)
    return card


def retrievability(card: Card, now: datetime, scheduler: Scheduler | None = None) -> float:
    """FSRS's predicted chance (0-1) of recalling ``card`` at ``now`` (0 if never reviewed).

    FSRS counts elapsed time in whole days, so the value is 1 on the day of a review.
    """
    return float((scheduler or default_scheduler()).get_card_retrievability(card, as_utc(now)))


def is_learned(card: Card) -> bool:
    """True once a card has graduated to FSRS's Review state (not learning or relearning)."""
    return card.state == State.Review


def find_recurring(
    mistakes: Sequence[tuple[str | None, datetime]],
    now: datetime,
    *,
    last_n: int = RECENT_ATTEMPTS,
    days: int = RECENT_DAYS,
    min_count: int = RECUR_MIN,
) -> dict[str, int]:
    """Mistakes that keep coming back, with how often they were made recently.

    ``mistakes`` holds (mistake name or None, time) for every attempt in time order, oldest
    first. A name recurs when it appears at least ``min_count`` times among the last
    ``last_n`` attempts or among the attempts of the last ``days`` days (up to ``now``). The
    count reported is the larger of the two; the dict is ordered most frequent first.
    """
    since = as_utc(now) - timedelta(days=days)
    by_count = Counter(name for name, _ in mistakes[-last_n:] if name) if last_n > 0 else Counter()
    by_time = Counter(name for name, at in mistakes if name and as_utc(at) >= since)
    merged = {name: max(by_count[name], by_time[name]) for name in by_count | by_time}
    recurring = {name: n for name, n in merged.items() if n >= min_count}
    return dict(sorted(recurring.items(), key=lambda item: (-item[1], item[0])))


def prioritize(
    now: datetime,
    due_at: Mapping[str, datetime | None],
    targets: Mapping[str, Collection[str]] | None = None,
    recurring: Collection[str] = (),
) -> list[str]:
    """The candidate templates to review now, most overdue first.

    ``due_at`` maps each candidate question id to its card's due time (None: never reviewed).
    ``targets`` maps a question id to the mistake names it is written to catch; a candidate
    aimed at any ``recurring`` mistake is treated as due now (if it is not due already), so it
    comes back before its FSRS interval is up. Never-reviewed candidates that aim at no
    recurring mistake are left out: they are new material, not reviews. Ties are broken by
    the number of recurring mistakes aimed at (more first), then by the order of ``due_at``.
    """
    moment = as_utc(now)
    wanted = set(recurring)
    keyed: list[tuple[datetime, int, int, str]] = []
    for index, (question_id, due) in enumerate(due_at.items()):
        hits = len(set((targets or {}).get(question_id, ())) & wanted)
        effective = _effective_due(due, moment, aimed=hits > 0)
        if effective is not None and effective <= moment:
            keyed.append((effective, -hits, index, question_id))
    return [question_id for *_, question_id in sorted(keyed)]


def _effective_due(due: datetime | None, now: datetime, *, aimed: bool) -> datetime | None:
    """A card's due time, pulled forward to ``now`` when it aims at a recurring mistake."""
    if not aimed:
        return None if due is None else as_utc(due)
    return now if due is None else min(as_utc(due), now)
