"""Shared builders for the progress-store tests (attempts with sensible defaults)."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from fsrs import Card, Rating

from tutor import schedule
from tutor.store import Attempt, Store

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def make_attempt(**changes: Any) -> Attempt:
    """An attempt at ``sigmoid-chain-gradient`` at T0, with any field replaced."""
    fields: dict[str, Any] = {
        "question_id": "sigmoid-chain-gradient",
        "seed": 7,
        "topic": "vanishing",
        "concepts": ("C2", "C4"),
        "mode": "practice",
        "part": 0,
        "attempt_no": 1,
        "final": True,
        "answer_text": "0.0039",
        "correct": True,
        "score": 1.0,
        "mistake": None,
        "hints_used": 0,
        "elapsed_s": 12.5,
        "expected": "0.00390625",
        "params": {"depth": 4, "z": 0.0, "activation": "sigmoid"},
        "bank_hash": "0f3a9c",
        "at": T0,
    }
    fields.update(changes)
    return Attempt(**fields)


def replayed_cards(store: Store) -> dict[str, Card]:
    """Every card rebuilt from the stored reviews, ordered by review time then recording order.

    A store is consistent when this equals ``store.cards()``: no review was lost or applied
    out of order (concurrent sessions, merged imports).
    """
    reviews: dict[str, list[tuple[datetime, int, Rating]]] = defaultdict(list)
    for index, record in enumerate(store.attempts()):
        if record.rating is not None and record.reviewed_at is not None:
            reviews[record.attempt.question_id].append((record.reviewed_at, index, record.rating))
    cards: dict[str, Card] = {}
    for question_id, steps in reviews.items():
        ordered = [(rating, when) for when, _, rating in sorted(steps)]
        card = schedule.replay(store.scheduler, question_id, ordered)
        if card is not None:
            cards[question_id] = card
    return cards
