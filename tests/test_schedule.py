"""The pure scheduling layer: rating rules, FSRS reviews, recurring mistakes, review order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from fsrs import Card, Rating, State
from hypothesis import given, settings
from hypothesis import strategies as st

from tutor import schedule
from tutor.errors import AnswerFormatError

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
QID = "sigmoid-chain-gradient"


@pytest.mark.parametrize(
    ("correct", "attempt_no", "hints", "elapsed", "expected_s", "rating"),
    [
        (False, 1, 0, 5.0, None, Rating.Again),
        (False, 2, 1, 5.0, None, Rating.Again),
        (True, 1, 0, 5.0, None, Rating.Easy),
        (True, 1, 0, 29.9, None, Rating.Easy),
        (True, 1, 0, 30.0, None, Rating.Good),
        (True, 1, 0, 300.0, None, Rating.Good),
        (True, 1, 0, 45.0, 60.0, Rating.Easy),
        (True, 1, 0, 10.0, 8.0, Rating.Good),
        (True, 2, 0, 5.0, None, Rating.Hard),
        (True, 3, 0, 5.0, None, Rating.Hard),
        (True, 1, 1, 5.0, None, Rating.Hard),
    ],
)
def test_rate_numeric(
    correct: bool,
    attempt_no: int,
    hints: int,
    elapsed: float,
    expected_s: float | None,
    rating: Rating,
) -> None:
    got = schedule.rate_numeric(
        correct=correct,
        attempt_no=attempt_no,
        hints_used=hints,
        elapsed_s=elapsed,
        expected_s=expected_s,
    )
    assert got == rating


@pytest.mark.parametrize(
    ("text", "rating"),
    [
        ("again", Rating.Again),
        ("Hard", Rating.Hard),
        ("  good\n", Rating.Good),
        ("EASY", Rating.Easy),
        ("1", Rating.Again),
        ("4", Rating.Easy),
    ],
)
def test_rate_self(text: str, rating: Rating) -> None:
    assert schedule.rate_self(text) == rating


@pytest.mark.parametrize("text", ["", "0", "5", "ok", "good!", "g"])
def test_rate_self_rejects_other_text(text: str) -> None:
    with pytest.raises(AnswerFormatError, match="again, hard, good or easy"):
        schedule.rate_self(text)


def test_card_id_is_stable_and_fits_48_bits() -> None:
    assert schedule.card_id(QID) == schedule.card_id(QID)
    assert schedule.card_id(QID) != schedule.card_id(QID + "-2")
    assert 0 <= schedule.card_id(QID) < 2**48


def test_default_scheduler_does_not_fuzz() -> None:
    assert schedule.default_scheduler().enable_fuzzing is False


def test_as_utc_converts_and_refuses_naive_times() -> None:
    paris = datetime(2025, 3, 1, 13, 0, tzinfo=ZoneInfo("Europe/Paris"))
    assert schedule.as_utc(paris) == T0
    assert schedule.as_utc(paris).tzinfo is UTC
    with pytest.raises(ValueError, match="no time zone"):
        schedule.as_utc(datetime(2025, 3, 1, 12, 0))


def _first_review(rating: Rating, at: datetime = T0) -> Card:
    card, _ = schedule.review(schedule.default_scheduler(), None, QID, rating, at)
    return card


@pytest.mark.parametrize(
    ("rating", "interval", "state"),
    [
        (Rating.Again, timedelta(minutes=1), State.Learning),
        (Rating.Hard, timedelta(minutes=5.5), State.Learning),
        (Rating.Good, timedelta(minutes=10), State.Learning),
        (Rating.Easy, timedelta(days=8), State.Review),
    ],
)
def test_first_review_intervals(rating: Rating, interval: timedelta, state: State) -> None:
    card = _first_review(rating)
    assert card.due - T0 == interval
    assert card.state == state
    assert card.last_review == T0
    assert card.card_id == schedule.card_id(QID)


def test_wrong_answer_brings_a_graduated_card_back_sooner() -> None:
    scheduler = schedule.default_scheduler()
    learned = _first_review(Rating.Easy)
    later = learned.due
    after_again, _ = schedule.review(scheduler, learned, QID, Rating.Again, later)
    after_good, _ = schedule.review(scheduler, learned, QID, Rating.Good, later)
    assert after_again.due < after_good.due
    assert after_again.state == State.Relearning


def test_clock_set_back_reviews_at_the_last_review_time() -> None:
    scheduler = schedule.default_scheduler()
    card = _first_review(Rating.Good)
    back, when = schedule.review(scheduler, card, QID, Rating.Good, T0 - timedelta(days=3))
    same, _ = schedule.review(scheduler, card, QID, Rating.Good, T0)
    assert when == T0
    assert back == same
    assert back.due > T0


ratings = st.sampled_from(list(Rating))
offsets = st.integers(min_value=-3 * 24 * 60, max_value=60 * 24 * 60)  # minutes, may go back


@settings(deadline=None, max_examples=60)
@given(st.lists(st.tuples(ratings, offsets), min_size=1, max_size=12))
def test_replay_rebuilds_the_incremental_card(steps: list[tuple[Rating, int]]) -> None:
    scheduler = schedule.default_scheduler()
    card: Card | None = None
    reviews: list[tuple[Rating, datetime]] = []
    for rating, minutes in steps:
        before = card.last_review if card else None
        card, when = schedule.review(scheduler, card, QID, rating, T0 + timedelta(minutes=minutes))
        reviews.append((rating, when))
        assert before is None or when >= before  # review time never goes back
        assert card.due > when
    assert schedule.replay(scheduler, QID, reviews) == card


def test_replay_of_nothing_is_no_card() -> None:
    assert schedule.replay(schedule.default_scheduler(), QID, []) is None


def test_retrievability_counts_whole_days() -> None:
    card = _first_review(Rating.Easy)
    assert schedule.retrievability(card, T0 + timedelta(hours=20)) == 1.0
    assert 0.0 < schedule.retrievability(card, T0 + timedelta(days=30)) < 0.9
    assert schedule.retrievability(Card(card_id=1, due=T0), T0) == 0.0


def _history(*items: tuple[str | None, int]) -> list[tuple[str | None, datetime]]:
    """(mistake, day offset from T0) pairs, oldest first."""
    return [(name, T0 + timedelta(days=day)) for name, day in items]


NOW = T0 + timedelta(days=40)


@pytest.mark.parametrize(
    ("history", "last_n", "expected"),
    [
        ([], 20, {}),
        (_history(("sigma-not-derivative", 39)), 20, {}),
        (_history(("n-1-layers", 38), (None, 39), ("n-1-layers", 39)), 20, {"n-1-layers": 2}),
        # long ago, and pushed out of the last 2 attempts: not recurring
        (_history(("xavier-for-relu", 1), ("xavier-for-relu", 2), (None, 3), (None, 4)), 2, {}),
        # outside the last 2 attempts but within 14 days: recurring by time
        (
            _history(("clip-by-value", 30), ("clip-by-value", 31), (None, 39), (None, 39)),
            2,
            {"clip-by-value": 2},
        ),
        # older than 14 days but among the last 3 attempts: recurring by count
        (
            _history(("forgot-weights", 1), ("forgot-weights", 2), (None, 3)),
            3,
            {"forgot-weights": 2},
        ),
        # most frequent first, then by name
        (
            _history(("b", 39), ("a", 39), ("b", 39), ("a", 39), ("c", 39), ("c", 39), ("c", 39)),
            20,
            {"c": 3, "a": 2, "b": 2},
        ),
    ],
)
def test_find_recurring(
    history: list[tuple[str | None, datetime]], last_n: int, expected: dict[str, int]
) -> None:
    got = schedule.find_recurring(history, NOW, last_n=last_n)
    assert got == expected
    assert list(got) == list(expected)


def test_find_recurring_accepts_other_time_zones() -> None:
    tokyo = timezone(timedelta(hours=9))
    history = [("m", NOW.astimezone(tokyo)), ("m", NOW.astimezone(tokyo))]
    assert schedule.find_recurring(history, NOW, last_n=0) == {"m": 2}


DUE = {
    "a": T0 - timedelta(days=2),
    "b": T0 - timedelta(days=5),
    "c": T0 + timedelta(days=3),
    "d": None,
    "e": T0,
}


@pytest.mark.parametrize(
    ("targets", "recurring", "expected"),
    [
        ({}, (), ["b", "a", "e"]),
        # c (not due) and d (new) aim at recurring mistakes: due now, after the overdue ones,
        # and ahead of e (due exactly now) because they aim at more recurring mistakes
        ({"c": ["m1"], "d": ["m2", "m1"]}, ("m1", "m2"), ["b", "a", "d", "c", "e"]),
        # aiming at a mistake that is not recurring changes nothing
        ({"c": ["m1"]}, ("m9",), ["b", "a", "e"]),
        # an overdue card keeps its place
        ({"b": ["m1"]}, ("m1",), ["b", "a", "e"]),
    ],
)
def test_prioritize(
    targets: dict[str, list[str]], recurring: tuple[str, ...], expected: list[str]
) -> None:
    assert schedule.prioritize(T0, DUE, targets, recurring) == expected


moments = st.datetimes(
    min_value=datetime(2024, 1, 1), max_value=datetime(2026, 1, 1), timezones=st.just(UTC)
)


@settings(deadline=None, max_examples=100)
@given(
    st.dictionaries(st.text("abcdef", min_size=1, max_size=3), st.none() | moments, max_size=8),
    st.dictionaries(st.text("abcdef", min_size=1, max_size=3), st.lists(st.sampled_from("xyz"))),
    st.sets(st.sampled_from("xyz")),
    moments,
)
def test_prioritize_returns_due_candidates_in_due_order(
    due_at: dict[str, datetime | None],
    targets: dict[str, list[str]],
    recurring: set[str],
    now: datetime,
) -> None:
    order = schedule.prioritize(now, due_at, targets, recurring)
    aimed = {q for q in due_at if set(targets.get(q, ())) & recurring}
    expected = {q for q, due in due_at.items() if q in aimed or (due is not None and due <= now)}
    assert set(order) == expected
    assert len(order) == len(set(order))

    def effective(question_id: str) -> datetime:
        due = due_at[question_id]
        if question_id in aimed and (due is None or due > now):
            return now
        assert due is not None
        return due

    times = [effective(q) for q in order]
    assert times == sorted(times)
