"""Planning a practice session: which question templates to ask, in what order, and why.

The order is: cards due for review (most overdue first), with templates aimed at a mistake
that keeps coming back treated as due now; then up to N templates never reviewed before,
weakest topic first. While the session runs, an auto-graded question on a concept is followed
by an explain card ("Why?") on the same concept, asked as a card of its own. Pure functions:
no store, no clock, no printing.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from tutor import schedule, stats
from tutor.bankspec import Question
from tutor.store import Progress

#: Why a template is asked: a due review, a review brought forward because it aims at a
#: recurring mistake, a new template, a "why?" follow-up, or a card due again this session.
Reason = Literal["review", "mistake", "new", "why", "again"]

REASON_LABELS: Mapping[Reason, str] = {
    "review": "review",
    "mistake": "mistake check",
    "new": "new",
    "why": "why?",
    "again": "again",
}


@dataclass(frozen=True)
class Planned:
    """One template to ask, why, and the recurring mistakes it is written to catch."""

    question: Question
    reason: Reason
    aims_at: tuple[str, ...] = ()


def is_explain(question: Question) -> bool:
    """True for an explain card: every part is self-rated against a model answer."""
    return all(part.type == "explain" for part in question.parts)


def templates_by_topic(pool: Iterable[Question]) -> dict[str, list[str]]:
    """Topic → its template ids in bank order (the layout :mod:`tutor.stats` expects)."""
    topics: dict[str, list[str]] = {}
    for question in pool:
        topics.setdefault(question.topic, []).append(question.id)
    return topics


def plan_session(
    pool: Sequence[Question], progress: Progress, now: datetime, new_count: int
) -> list[Planned]:
    """The session's queue: due reviews (and recurring-mistake checks), then new templates.

    ``pool`` holds the templates the session may use, in bank order; ``progress`` is the
    store's snapshot; at most ``new_count`` never-reviewed templates are added.
    """
    by_id = {question.id: question for question in pool}
    due_at = {qid: (progress.cards[qid].due if qid in progress.cards else None) for qid in by_id}
    recurring = list(stats.recurring_mistakes(progress, now))
    targets = {question.id: question.mistake_names for question in pool}
    reviews = schedule.prioritize(now, due_at, targets, recurring)
    queue = [_review(by_id[qid], due_at[qid], now, recurring) for qid in reviews]
    fresh = [
        qid
        for qid in stats.new_templates(progress, now, templates_by_topic(pool))
        if qid not in set(reviews)
    ]
    return queue + [Planned(by_id[qid], "new") for qid in fresh[:new_count]]


def _review(
    question: Question, due: datetime | None, now: datetime, recurring: Sequence[str]
) -> Planned:
    """A due card, or a card brought forward because it aims at recurring mistakes."""
    aims = tuple(name for name in recurring if name in question.mistake_names)
    early = due is None or schedule.as_utc(due) > schedule.as_utc(now)
    return Planned(question, "mistake" if aims and early else "review", aims)


def follow_up(
    question: Question,
    pool: Sequence[Question],
    asked: Collection[str],
    queue: Sequence[Planned],
    also: Collection[str] = (),
) -> Planned | None:
    """The explain card to ask right after ``question``, or None.

    Only auto-graded questions get a follow-up: an explain card sharing one of its concepts,
    not asked yet this session (``asked`` holds question ids), and either in the ``queue`` or
    in ``also`` (the cards the session may add: those due now, and new ones while its budget
    of new cards lasts). A card already in the ``queue`` is preferred (it is brought forward
    rather than asked twice), then one on the question's first concept, then bank order.
    """
    if is_explain(question):
        return None
    concepts = list(question.concepts)
    queued = [item.question.id for item in queue]
    candidates = [
        (_rank(candidate, concepts, queued), index, candidate)
        for index, candidate in enumerate(pool)
        if is_explain(candidate)
        and candidate.id not in asked
        and (candidate.id in queued or candidate.id in also)
        and set(candidate.concepts) & set(concepts)
    ]
    if not candidates:
        return None
    _, _, chosen = min(candidates, key=lambda item: (item[0], item[1]))
    return Planned(chosen, "why")


def _rank(candidate: Question, concepts: list[str], queued: list[str]) -> tuple[int, int]:
    """(position in the queue or after it, position of the first shared concept)."""
    position = queued.index(candidate.id) if candidate.id in queued else len(queued)
    shared = min(concepts.index(c) for c in candidate.concepts if c in concepts)
    return position, shared
