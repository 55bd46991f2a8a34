"""Statistics over a small, fully known history: exact numbers."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fsrs import Rating
from store_helpers import T0, make_attempt

from tutor import schedule, stats
from tutor.stats import DayCount, DueCounts, MistakeCount, Streak, TopicStats
from tutor.store import Progress, Recorded, Store, open_store

NOW = T0 + timedelta(days=5, hours=2)
SIGMA = "sigma-not-derivative"
XAVIER = "xavier-for-relu"
BANK = {"vanishing": ["sig", "relu", "tanh"], "init": ["he", "xavier"], "clipping": ["clip"]}

# (question, topic, offset from T0, correct, attempt_no, final, mistake, rating)
HISTORY = [
    ("sig", "vanishing", timedelta(0), False, 1, False, SIGMA, None),
    ("sig", "vanishing", timedelta(minutes=1), True, 2, True, None, Rating.Hard),
    ("relu", "vanishing", timedelta(days=1), True, 1, True, None, Rating.Easy),
    ("he", "init", timedelta(days=2), False, 1, True, XAVIER, Rating.Again),
    ("he", "init", timedelta(days=4), False, 1, True, XAVIER, Rating.Again),
    ("sig", "vanishing", timedelta(days=5), False, 1, True, SIGMA, Rating.Again),
    ("relu", "vanishing", timedelta(days=5, hours=1), True, 1, True, None, Rating.Good),
]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_store(tmp_path / "p.sqlite3") as opened:
        for qid, topic, offset, correct, attempt_no, final, mistake, rating in HISTORY:
            attempt = make_attempt(
                question_id=qid,
                topic=topic,
                correct=correct,
                attempt_no=attempt_no,
                final=final,
                mistake=mistake,
                at=T0 + offset,
            )
            opened.record(attempt, rating)
        yield opened


def test_topic_stats_from_history_alone(store: Store) -> None:
    # sig: Hard then Again -> still learning (counts 0); relu: Easy then Good -> reviewed today
    # (retrievability 1); he: Again twice -> learning, due.
    assert stats.topic_stats(store, NOW) == [
        TopicStats("init", attempts=2, correct=0, accuracy=0.0, templates=1, reviewed=1, due=1,
                   mastery=0.0),
        TopicStats("vanishing", attempts=5, correct=3, accuracy=0.6, templates=2, reviewed=2,
                   due=1, mastery=0.5),
    ]  # fmt: skip


def test_topic_stats_with_the_bank(store: Store) -> None:
    by_topic = {t.topic: t for t in stats.topic_stats(store, NOW, BANK)}
    assert by_topic["vanishing"].templates == 3
    assert by_topic["vanishing"].mastery == pytest.approx(1 / 3)
    assert by_topic["clipping"] == TopicStats("clipping", 0, 0, None, 1, 0, 0, 0.0)
    assert [t.topic for t in stats.weakest_first(by_topic.values())] == [
        "init",  # mastery 0, accuracy 0
        "clipping",  # mastery 0, never tried
        "vanishing",
    ]
    assert stats.new_templates(store, NOW, BANK) == ["xavier", "clip", "tanh"]


def test_due_counts(store: Store) -> None:
    assert stats.due_counts(store, NOW) == DueCounts(now=2, today=2, cards=3)
    assert stats.due_counts(store, T0 - timedelta(days=1)) == DueCounts(now=0, today=0, cards=3)


def test_due_counts_only_the_templates_in_use(store: Store) -> None:
    """A card whose question is in no loaded bank cannot be reviewed, so it is not due."""
    assert stats.due_counts(store, NOW, question_ids={"relu", "he"}) == DueCounts(1, 1, 2)
    without_he = {topic: [q for q in ids if q != "he"] for topic, ids in BANK.items()}
    assert stats.summary(store, NOW, without_he).due == DueCounts(1, 1, 2)
    assert stats.summary(store, NOW).due == DueCounts(2, 2, 3)  # no bank given: every card


def test_summary_topics_count_the_templates_in_use_only(store: Store) -> None:
    """As the due counts do: "he" is in no loaded bank, so its card is not one of init's (it
    was counted as reviewed and due); its answers still count."""
    without_he = {topic: [q for q in ids if q != "he"] for topic, ids in BANK.items()}
    topics = {t.topic: t for t in stats.summary(store, NOW, without_he).topics}
    assert topics["init"] == TopicStats("init", attempts=2, correct=0, accuracy=0.0,
                                        templates=1, reviewed=0, due=0, mastery=0.0)  # fmt: skip
    assert topics["vanishing"] == stats.topic_stats(store, NOW, BANK)[2]
    no_init = {topic: ids for topic, ids in BANK.items() if topic != "init"}
    topics = {t.topic: t for t in stats.summary(store, NOW, no_init).topics}
    assert topics["init"] == TopicStats("init", 2, 0, 0.0, 0, 0, 0, 0.0)  # answers only
    assert sum(t.due for t in topics.values()) == stats.summary(store, NOW, no_init).due.now
    assert stats.topic_stats(store, NOW, without_he)[1].templates == 2  # by default, with "he"


def test_streak_and_days(store: Store) -> None:
    assert stats.streak(store, NOW) == Streak(current=2, longest=3, last_day=date(2025, 3, 6))
    assert stats.per_day(store, NOW, days=7) == [
        DayCount(date(2025, 2, 28), 0, 0),
        DayCount(date(2025, 3, 1), 2, 1),
        DayCount(date(2025, 3, 2), 1, 1),
        DayCount(date(2025, 3, 3), 1, 1),
        DayCount(date(2025, 3, 4), 0, 0),
        DayCount(date(2025, 3, 5), 1, 1),
        DayCount(date(2025, 3, 6), 2, 2),
    ]


def test_mistakes(store: Store) -> None:
    assert stats.top_mistakes(store) == [
        MistakeCount(SIGMA, 2, T0 + timedelta(days=5), ("sig",)),
        MistakeCount(XAVIER, 2, T0 + timedelta(days=4), ("he",)),
    ]
    assert stats.top_mistakes(store, limit=1)[0].mistake == SIGMA
    assert stats.recurring_mistakes(store, NOW) == {SIGMA: 2, XAVIER: 2}
    assert stats.recurring_mistakes(store, NOW + timedelta(days=30), last_n=2) == {}


def test_summary(store: Store) -> None:
    summary = stats.summary(store.progress(), NOW, BANK, days=3)
    assert summary.attempts == 7
    assert summary.correct == 3
    assert summary.accuracy == pytest.approx(3 / 7)
    assert summary.due == DueCounts(2, 2, 3)
    assert summary.streak.current == 2
    assert [t.topic for t in summary.topics] == ["init", "clipping", "vanishing"]
    assert [m.mistake for m in summary.mistakes] == [SIGMA, XAVIER]
    assert dict(summary.recurring) == {SIGMA: 2, XAVIER: 2}
    assert [d.attempts for d in summary.per_day] == [0, 1, 2]


def test_an_empty_store(tmp_path: Path) -> None:
    with open_store(tmp_path / "empty.sqlite3") as empty:
        summary = stats.summary(empty, NOW)
    assert (summary.attempts, summary.accuracy, summary.topics) == (0, None, ())
    assert summary.streak == Streak(0, 0, None)
    assert summary.due == DueCounts(0, 0, 0)


def test_mastery_is_retrievability_of_graduated_cards() -> None:
    card, _ = schedule.review(schedule.default_scheduler(), None, "q", Rating.Easy, T0)
    decay = -0.1542
    factor = 0.9 ** (1 / decay) - 1
    expected = (1 + factor * 10 / card.stability) ** decay
    assert stats.mastery([card], T0 + timedelta(days=10, hours=3)) == pytest.approx(expected)
    assert stats.mastery([card, None], T0) == 0.5
    assert stats.mastery([], T0) == 0.0


def _days_progress(days: list[int], today: datetime) -> Progress:
    """A snapshot with one attempt on each of ``days`` (offsets from ``today``)."""
    return Progress(tuple(Recorded(make_attempt(at=today + timedelta(days=d))) for d in days), {})


@pytest.mark.parametrize(
    ("days", "current", "longest"),
    [
        ([], 0, 0),
        ([0], 1, 1),
        ([0, 0, 0], 1, 1),
        ([-1], 1, 1),  # yesterday still counts: today is not over
        ([-2], 0, 1),
        ([-3, -2, -1], 3, 3),
        ([-9, -8, -7, -6, -1, 0], 2, 4),
        ([1, 2], 0, 0),  # days after today (a clock set back) are ignored
    ],
)
def test_streak_table(days: list[int], current: int, longest: int) -> None:
    got = stats.streak(_days_progress(days, T0), T0)
    assert (got.current, got.longest) == (current, longest)


def test_streak_days_follow_the_time_zone() -> None:
    late = datetime(2025, 3, 1, 23, 30, tzinfo=UTC)
    progress = _days_progress([0, 0], late)
    progress = Progress(
        (progress.attempts[0], Recorded(make_attempt(at=late + timedelta(hours=1)))), {}
    )
    now = late + timedelta(hours=1)
    assert stats.streak(progress, now) == Streak(2, 2, date(2025, 3, 2))  # two UTC days
    berlin = ZoneInfo("Europe/Berlin")  # both attempts fall on 2 March there
    assert stats.streak(progress, now, tz=berlin) == Streak(1, 1, date(2025, 3, 2))


def _mistakes_at(*entries: tuple[str | None, datetime]) -> Progress:
    """A snapshot with one attempt per (mistake, time), recorded in the order given."""
    return Progress(tuple(Recorded(make_attempt(mistake=m, at=at)) for m, at in entries), {})


def test_recent_mistakes_are_recent_by_answer_time_not_recording_order() -> None:
    """Two old attempts imported after twenty new ones do not make their mistake recur."""
    recent = [(None, NOW - timedelta(minutes=n)) for n in range(20)]
    old = [("m", NOW - timedelta(days=60)), ("m", NOW - timedelta(days=59))]
    assert stats.recurring_mistakes(_mistakes_at(*recent, *old), NOW) == {}
    assert stats.recurring_mistakes(_mistakes_at(*old, *recent[:18]), NOW) == {"m": 2}


def test_answers_at_the_same_time_keep_their_recording_order() -> None:
    then = NOW - timedelta(days=60)  # outside the recent days: only the last answers count
    assert stats.recurring_mistakes(_mistakes_at(("m", then), ("m", then), (None, then)),
                                    NOW, last_n=2) == {}  # fmt: skip
    assert stats.recurring_mistakes(_mistakes_at((None, then), ("m", then), ("m", then)),
                                    NOW, last_n=2) == {"m": 2}  # fmt: skip


@contextmanager
def local_zone(name: str) -> Iterator[None]:
    """Make ``name`` the process's local time zone (TZ and time.tzset) inside the block."""
    old = os.environ.get("TZ")
    os.environ["TZ"] = name
    time.tzset()
    try:
        yield
    finally:
        if old is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = old
        time.tzset()


NEW_YORK = ZoneInfo("America/New_York")
AFTER_DST = datetime(2026, 11, 5, 17, 0, tzinfo=UTC)  # New York is on EST (UTC-5) again


def test_days_in_local_time_follow_daylight_saving() -> None:
    """00:30 EDT (UTC-4) on 30 and 31 October stays on those days when now is in EST."""
    late = [datetime(2026, 10, day, 0, 30, tzinfo=NEW_YORK) for day in (30, 31)]
    progress = Progress(tuple(Recorded(make_attempt(at=t.astimezone(UTC))) for t in late), {})
    expected = [0, 1, 1, 0, 0, 0, 0, 0]  # 29 October to 5 November
    for tz in (NEW_YORK, None):
        with local_zone("America/New_York"):
            days = stats.per_day(progress, AFTER_DST, days=8, tz=tz)
            assert [d.day.isoformat() for d in days if d.attempts] == ["2026-10-30", "2026-10-31"]
            assert [d.attempts for d in days] == expected
            assert stats.streak(progress, AFTER_DST, tz).last_day == date(2026, 10, 31)


def test_today_in_local_time_ends_at_local_midnight_after_a_change() -> None:
    """At 00:30 EDT on 1 November, today ends at midnight EST: 05:00 UTC, not 04:00."""
    card, _ = schedule.review(schedule.default_scheduler(), None, "q", Rating.Good, T0)
    card.due = datetime(2026, 11, 2, 4, 30, tzinfo=UTC)  # 23:30 EST on 1 November
    now = datetime(2026, 11, 1, 4, 30, tzinfo=UTC)
    with local_zone("America/New_York"):
        assert stats.due_counts(Progress((), {"q": card}), now, tz=None).today == 1


@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "Etc/GMT+12"])
def test_times_at_the_ends_of_the_calendar_do_not_overflow(zone: str) -> None:
    """Local days of times within hours of year 1 or 9999 (a hand-edited or old import)."""
    edges = [datetime(9999, 12, 31, 23, tzinfo=UTC), datetime(1, 1, 1, 0, 30, tzinfo=UTC)]
    progress = Progress(tuple(Recorded(make_attempt(mistake="m", at=at)) for at in edges), {})
    for tz in (ZoneInfo(zone), None):
        with local_zone(zone):
            summary = stats.summary(progress, NOW, days=3, tz=tz)
        assert summary.streak == Streak(0, 1, date(1, 1, 1))
        assert summary.mistakes[0].count == 2
