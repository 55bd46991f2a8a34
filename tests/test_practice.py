"""Practice sessions: planning, the timed loop, follow-ups, scheduling and the report.

Every session here runs on a fake clock with a scripted learner that reads the transcript,
over banks of our own (tests/practice_helpers.py), so nothing sleeps and nothing depends on
the bundled questions.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from fsrs import Rating
from practice_helpers import ARITHMETIC as ARITHMETIC_BANK
from practice_helpers import FakeClock, Learner, Policy, write_banks
from store_helpers import T0, make_attempt

from tutor.bankspec import Question
from tutor.catalog import Catalog, load_catalog
from tutor.cli import main
from tutor.practice import PracticeReport, Session, Settings, ask_recall, print_report
from tutor.session_plan import Planned, follow_up, plan_session
from tutor.store import Store, open_store
from tutor.terminal import Console

ARITHMETIC = ("times-two", "times-three", "times-four")
WITH_WHY = (*ARITHMETIC, "why-c1", "why-c2")


def pool_of(catalog: Catalog, ids: Sequence[str]) -> list[Question]:
    return [q for q in catalog.questions if q.id in ids]


class Run:
    """One finished session: its report, transcript and learner."""

    def __init__(self, report: PracticeReport, transcript: str, learner: Learner) -> None:
        self.report, self.transcript, self.learner = report, transcript, learner

    @property
    def asked(self) -> list[tuple[str, str]]:
        return [(a.planned.question.id, a.planned.reason) for a in self.report.asked]


def run_session(
    store: Store,
    pool: Sequence[Question],
    policy: Policy = lambda _title: True,
    *,
    minutes: float = 10,
    new: int = 5,
    rating: str = "good",
    seconds: float = 20.0,
    limit: int = 200,
    clock: FakeClock | None = None,
    learner: Callable[[io.StringIO, FakeClock], Learner] | None = None,
) -> Run:
    clock = clock or FakeClock()
    out = io.StringIO()
    make = learner or (lambda o, c: Learner(o, policy, rating=rating, clock=c, seconds=seconds,
                                            limit=limit))  # fmt: skip
    answers = make(out, clock)
    seeds = iter(range(1000, 100_000, 7))
    settings = Settings(minutes, new, clock, clock.utc, lambda: next(seeds))
    console = Console(answers, out, color=False)
    report = Session(console, store, pool, settings).run()
    print_report(console, report)
    return Run(report, out.getvalue(), answers)


def wrong_first_time(*titles: str) -> Policy:
    """Answer every try at these titles wrong on their first showing, right afterwards."""
    showings: dict[str, int] = {}

    def policy(title: str) -> bool:
        showings[title] = showings.get(title, 0) + 1
        return title not in titles or showings[title] > 3

    return policy


# --- planning -------------------------------------------------------------------------------


def _review(store: Store, question_id: str, when: timedelta, rating: Rating, **kw: object) -> None:
    store.record(make_attempt(question_id=question_id, topic="arithmetic", at=T0 + when, **kw),
                 rating)  # fmt: skip


def test_new_templates_follow_bank_order_and_are_capped(catalog: Catalog, store: Store) -> None:
    plan = plan_session(pool_of(catalog, WITH_WHY), store.progress(), T0, new_count=4)
    assert [(p.question.id, p.reason) for p in plan] == [
        ("times-two", "new"), ("times-three", "new"), ("times-four", "new"), ("why-c1", "new"),
    ]  # fmt: skip


def test_due_reviews_come_first_most_overdue_first(catalog: Catalog, store: Store) -> None:
    _review(store, "times-three", timedelta(days=-20), Rating.Good)
    _review(store, "times-four", timedelta(days=-30), Rating.Good)
    plan = plan_session(pool_of(catalog, WITH_WHY), store.progress(), T0, new_count=1)
    assert [(p.question.id, p.reason) for p in plan] == [
        ("times-four", "review"), ("times-three", "review"), ("times-two", "new"),
    ]  # fmt: skip


def test_weakest_topic_first_for_new_templates(catalog: Catalog, store: Store) -> None:
    """A topic the learner gets wrong comes before one not started (both at mastery 0)."""
    _review(store, "times-two", timedelta(days=-1), Rating.Again, correct=False)
    plan = plan_session(pool_of(catalog, WITH_WHY), store.progress(), T0, new_count=5)
    assert [(p.question.id, p.reason) for p in plan] == [
        ("times-two", "review"), ("times-three", "new"), ("times-four", "new"),
        ("why-c1", "new"), ("why-c2", "new"),
    ]  # fmt: skip


def test_a_recurring_mistake_brings_aimed_templates_forward(catalog: Catalog, store: Store) -> None:
    pool = pool_of(catalog, (*WITH_WHY, "pick-even"))
    _review(store, "times-two", timedelta(hours=-2), Rating.Easy, correct=False,
            mistake="divided")  # fmt: skip
    assert [p.reason for p in plan_session(pool, store.progress(), T0, 0)] == []
    _review(store, "times-two", timedelta(hours=-1), Rating.Easy, correct=False,
            mistake="divided", seed=8)  # fmt: skip
    plan = plan_session(pool, store.progress(), T0, 0)
    assert [(p.question.id, p.reason, p.aims_at) for p in plan] == [
        (qid, "mistake", ("divided",)) for qid in ARITHMETIC
    ]  # the card of times-two is not due for days, the others were never reviewed


@pytest.mark.parametrize(
    ("after", "asked", "queued", "expected"),
    [
        ("times-two", (), (), "why-c1"),
        ("times-three", (), (), "why-c2"),
        ("times-four", ("why-c2",), (), None),  # each card once a session
        ("why-c1", (), (), None),  # explain cards get no follow-up
        ("chained", (), (), None),  # no explain card on C6
        ("times-two", (), ("times-four", "why-c1"), "why-c1"),
    ],
)
def test_follow_up_picks_a_why_card_on_the_same_concept(
    catalog: Catalog, after: str, asked: tuple[str, ...], queued: tuple[str, ...],
    expected: str | None,
) -> None:  # fmt: skip
    queue = [Planned(catalog.get(qid), "new") for qid in queued]
    addable = {"why-c1", "why-c2"}
    chosen = follow_up(catalog.get(after), catalog.questions, {after, *asked}, queue, addable)
    assert (chosen.question.id if chosen else None) == expected
    assert chosen is None or chosen.reason == "why"


def test_follow_up_takes_only_a_queued_card_or_one_the_session_may_add(
    catalog: Catalog,
) -> None:
    after, queue = catalog.get("times-two"), [Planned(catalog.get("times-four"), "new")]
    assert follow_up(after, catalog.questions, {"times-two"}, queue) is None
    queue.append(Planned(catalog.get("why-c1"), "review"))
    chosen = follow_up(after, catalog.questions, {"times-two"}, queue)
    assert chosen is not None and chosen.question.id == "why-c1"


def test_no_new_card_as_a_follow_up_with_new_0(catalog: Catalog, store: Store) -> None:
    _review(store, "times-two", timedelta(days=-30), Rating.Good)
    run = run_session(store, pool_of(catalog, WITH_WHY), new=0)
    assert run.asked == [("times-two", "review")]  # why-c1 was never reviewed: not asked


def test_a_follow_up_uses_up_the_budget_of_new_cards(catalog: Catalog, store: Store) -> None:
    for qid in ARITHMETIC:
        _review(store, qid, timedelta(days=-30), Rating.Good)
    run = run_session(store, pool_of(catalog, WITH_WHY), new=1)
    assert run.asked == [
        ("times-two", "review"), ("why-c1", "why"), ("times-three", "review"),
        ("times-four", "review"),
    ]  # fmt: skip  # why-c2 would be a second new card


def test_a_follow_up_is_never_a_card_not_due_yet(catalog: Catalog, store: Store) -> None:
    _review(store, "times-two", timedelta(days=-30), Rating.Good)
    _review(store, "why-c1", timedelta(hours=-1), Rating.Easy)  # due in days
    run = run_session(store, pool_of(catalog, WITH_WHY), new=0)
    assert run.asked == [("times-two", "review")]


# --- the session ----------------------------------------------------------------------------


def test_a_numeric_question_is_followed_by_its_why_card(catalog: Catalog, store: Store) -> None:
    run = run_session(store, pool_of(catalog, WITH_WHY))
    assert run.asked == [
        ("times-two", "new"), ("why-c1", "why"), ("times-three", "new"), ("why-c2", "why"),
        ("times-four", "new"),
    ]  # fmt: skip
    assert "Question 2  ·  ideas  ·  why?  ·  9:40 left" in run.transcript
    assert "Why? Explain the idea behind the question you just answered." in run.transcript
    assert run.report.ending == "done"


def test_every_answer_is_stored_with_the_seed_it_was_drawn_with(
    catalog: Catalog, store: Store
) -> None:
    run = run_session(store, pool_of(catalog, WITH_WHY), wrong_first_time("Multiply by 2"))
    records = store.attempts()
    marked = run.transcript.count("✓ Correct.") + run.transcript.count("✗ Not quite.")
    explained = run.transcript.count("How well did you know it?")
    assert len(records) == marked + explained == 8  # 3 + 1 + 1 + 1 + 1 tries, 2 explained
    assert all(r.attempt.mode == "practice" for r in records)
    variants = list(dict.fromkeys((r.attempt.question_id, r.attempt.seed) for r in records))
    assert [seed for _, seed in variants] == [1000 + 7 * i for i in range(6)]  # fresh each time
    assert [qid for qid, _ in variants] == [
        "times-two", "why-c1", "times-three", "why-c2", "times-four", "times-two",
    ]  # fmt: skip  # times-two was missed, so it fell due again during the session


@pytest.mark.parametrize(
    ("said", "rating"),
    [("again", Rating.Again), ("hard", Rating.Hard), ("good", Rating.Good),
     ("easy", Rating.Easy), ("1", Rating.Again), ("4", Rating.Easy)],
)  # fmt: skip
def test_explain_cards_store_the_learners_own_rating(
    catalog: Catalog, store: Store, said: str, rating: Rating
) -> None:
    run_session(store, pool_of(catalog, ("times-two", "why-c1")), rating=said)
    [why] = [r for r in store.attempts() if r.attempt.question_id == "why-c1"]
    assert why.rating == rating
    assert why.attempt.correct == (rating != Rating.Again)


def test_an_unreadable_self_rating_is_asked_again() -> None:
    out = io.StringIO()
    assert ask_recall(Console(io.StringIO("meh\n3\n"), out, color=False)) == (True, "good")
    assert "Rate yourself with again, hard, good or easy" in out.getvalue()


def test_a_wrong_answer_comes_back_sooner_than_a_right_one(catalog: Catalog, store: Store) -> None:
    run_session(store, pool_of(catalog, ARITHMETIC[:2]), wrong_first_time("Multiply by 2"),
                seconds=5)  # fmt: skip
    wrong, right = store.card("times-two"), store.card("times-three")
    assert wrong is not None and right is not None
    assert wrong.due < T0 + timedelta(minutes=5) < T0 + timedelta(days=1) < right.due


def test_a_card_due_again_is_asked_again_with_new_numbers(catalog: Catalog, store: Store) -> None:
    run = run_session(store, pool_of(catalog, ARITHMETIC), wrong_first_time("Multiply by 2"),
                      seconds=40)  # fmt: skip
    assert run.asked == [
        ("times-two", "new"), ("times-three", "new"), ("times-four", "new"),
        ("times-two", "again"),
    ]  # fmt: skip
    seeds = [r.attempt.seed for r in store.attempts() if r.attempt.question_id == "times-two"]
    assert len(set(seeds)) == 2
    assert store.attempts()[-1].rating in (Rating.Good, Rating.Easy, Rating.Hard)


def test_when_time_is_up_the_current_question_finishes(catalog: Catalog, store: Store) -> None:
    run = run_session(store, pool_of(catalog, ARITHMETIC), wrong_first_time("Multiply by 4"),
                      minutes=1, seconds=25)  # fmt: skip
    assert "Question 1  ·  arithmetic  ·  new  ·  1:00 left" in run.transcript
    assert "Question 3  ·  arithmetic  ·  new  ·  0:10 left" in run.transcript
    tries = [
        r.attempt.attempt_no for r in store.attempts() if r.attempt.question_id == "times-four"
    ]
    assert tries == [1, 2, 3]  # asked with 10 s left, finished long after
    assert run.report.ending == "time"
    assert "Time is up." in run.transcript.split("Session report")[1]
    assert run.transcript.count("Time is up.") == 1  # said once, in the report
    assert run.transcript.count("Question ") == 3


def test_the_question_timer_is_shown_after_each_question(catalog: Catalog, store: Store) -> None:
    run = run_session(store, pool_of(catalog, ARITHMETIC[:1]), seconds=75)
    assert "Time: 1m 15s (expected 1m 00s)" in run.transcript


def test_end_of_input_ends_with_the_report_and_keeps_the_answers(
    catalog: Catalog, store: Store
) -> None:
    run = run_session(store, pool_of(catalog, ARITHMETIC), lambda _t: False, limit=2)
    assert run.report.ending == "interrupted"
    assert "The session was ended early." in run.transcript
    assert "Session report" in run.transcript
    assert [r.attempt.attempt_no for r in store.attempts()] == [1, 2]


def test_ctrl_c_ends_with_the_report_and_keeps_the_answers(catalog: Catalog, store: Store) -> None:
    class Interrupting(Learner):
        def readline(self, _size: int | None = -1) -> str:
            if len(self.lines) == 1:
                raise KeyboardInterrupt
            return super().readline()

    run = run_session(store, pool_of(catalog, ARITHMETIC),
                      learner=lambda out, clock: Interrupting(out, clock=clock))  # fmt: skip
    assert run.report.ending == "cancelled"
    assert len(store.attempts()) == 1
    assert "Session report" in run.transcript


def test_the_report_gives_accuracy_time_and_topics_to_review(
    catalog: Catalog, store: Store
) -> None:
    run = run_session(store, pool_of(catalog, ARITHMETIC), wrong_first_time("Multiply by 3"),
                      seconds=30)  # fmt: skip
    report = run.transcript.split("Session report")[1]
    assert "Accuracy: 2 of 3 questions right (67%)" in report  # times-three missed
    assert "Average time per question: 50s" in report  # (30 + 90 + 30) / 3
    assert (
        "Topics to review next:\n  arithmetic: mastery 67%, 3 wrong answers this session" in report
    )
    assert "Reviews due now: 0; next review in less than a minute." in report


def test_nothing_to_practice(catalog: Catalog, store: Store) -> None:
    _review(store, "times-two", timedelta(hours=-1), Rating.Easy)
    run = run_session(store, pool_of(catalog, ARITHMETIC[:1]), new=5)
    assert run.report.ending == "empty"
    assert "Nothing to practice now" in run.transcript
    assert "Reviews due now: 0; next review in " in run.transcript


def test_nothing_due_with_no_new_questions_asked_for(catalog: Catalog, store: Store) -> None:
    run = run_session(store, pool_of(catalog, ARITHMETIC), new=0)
    assert run.report.ending == "none-due"
    assert "no reviews are due, and --new 0 asked for no new ones" in run.transcript


# --- the command ----------------------------------------------------------------------------


def test_tutor_practice_from_piped_answers(tmp_path: Path) -> None:
    db, banks = tmp_path / "p.sqlite3", write_banks(tmp_path / "banks")
    args = ["practice", "--bank", str(banks), "--only-banks", "--topic", "arithmetic"]
    result = CliRunner().invoke(main, [*args, "--new", "2", "--db", str(db)], input="1\n" * 6)
    assert result.exit_code == 0, result.output
    assert "Practice: 0 to review, 2 new" in result.output
    assert "Accuracy: 0 of 2 questions right (0%)" in result.output
    with open_store(db) as store:
        assert [r.attempt.mode for r in store.attempts()] == ["practice"] * 6


def test_tutor_practice_unknown_topic(tmp_path: Path) -> None:
    banks = write_banks(tmp_path / "banks")
    args = ["practice", "--bank", str(banks), "--only-banks", "--topic", "nope"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1
    assert "Error: unknown topic 'nope'" in result.output


@pytest.mark.parametrize(
    ("due_now", "line"),
    [(0, "Reviews due now: 0; next review in 2 days."),
     (3, "Reviews due now: 3; the next one after those in 2 days.")],
)  # fmt: skip
def test_the_report_tells_reviews_due_now_from_the_next_one(due_now: int, line: str) -> None:
    out = io.StringIO()
    report = PracticeReport([], 60.0, "done", due_now=due_now, next_due=T0 + timedelta(days=2), at=T0)  # fmt: skip
    print_report(Console(io.StringIO(), out, color=False), report)
    assert line in out.getvalue()


def test_an_answer_that_cannot_be_saved_ends_the_session_with_its_report(
    catalog: Catalog, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tutor.errors import StoreError
    from tutor.practice import practice

    record, calls = store.record, []

    def busy_after_the_first(*args: object) -> None:
        calls.append(args)
        if len(calls) > 1:
            raise StoreError("progress file is busy")
        record(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(store, "record", busy_after_the_first)
    monkeypatch.setattr("tutor.practice.open_store", lambda _db: store)
    out, clock = io.StringIO(), FakeClock()
    learner = Learner(out, lambda _title: True, rating="good", clock=clock, seconds=20.0, limit=50)
    settings = Settings(10, 5, clock, clock.utc, iter(range(1000, 9000, 7)).__next__)
    with pytest.raises(StoreError, match="busy"):
        practice(Console(learner, out, color=False), pool_of(catalog, ARITHMETIC), None, settings)
    assert "The session stopped: the last answer could not be saved" in out.getvalue()
    assert "Accuracy: 1 of 1 questions right" in out.getvalue()
    with open_store(store.path) as reopened:  # the session closed its store
        assert len(reopened.attempts()) == 1


# --- a card its bank keeps from being shown --------------------------------------------------

BROKEN_CARD = """\
  - id: times-zero
    title: Multiply by 0
    concepts: [C9]
    minutes: 1
    params:
      x: {int: [2, 99]}
    prompt: "What is {{ x }} times 0?"
    answer: x * 0
    tolerance: exact
    hints: [Nothing at all.]
    explanation: "It is {{ x / (x - x) }}."
"""


def write_broken_bank(folder: Path) -> Path:
    """The arithmetic bank with a card whose explanation divides by zero, second in it."""
    folder.mkdir(parents=True, exist_ok=True)
    bank = folder / "arithmetic.yaml"
    bank.write_text(
        ARITHMETIC_BANK.replace("  - id: times-three", BROKEN_CARD + "  - id: times-three")
    )
    return bank


def test_a_card_that_cannot_be_shown_is_skipped_and_the_session_goes_on(
    tmp_path: Path, store: Store
) -> None:
    bank = write_broken_bank(tmp_path / "banks")
    pool = pool_of(load_catalog([bank], replace=True), ("times-two", "times-zero", "times-three"))
    run = run_session(store, pool)
    assert run.asked == [("times-two", "new"), ("times-three", "new")]
    assert run.report.ending == "done"
    [why] = run.report.skipped
    assert (
        why.startswith(f"{bank}:") and "question 'times-zero'" in why and "division by zero" in why
    )
    assert "Question 'times-zero' skipped: its bank has a problem.\nError: " + why in run.transcript
    assert "Multiply by 0" not in run.transcript  # never shown
    report = run.transcript.split("Session report", 1)[1]
    assert "Every planned question was asked or skipped." in report
    assert "Accuracy: 2 of 2 questions right (100%)" in report
    assert (
        f"1 question skipped because of a problem in its bank. Find every problem with:\n  tutor check {bank}"
        in report
    )
    assert [r.attempt.question_id for r in store.attempts()] == ["times-two", "times-three"]


def test_tutor_practice_reports_a_skipped_card_and_exits_with_status_1(tmp_path: Path) -> None:
    db, bank = tmp_path / "p.sqlite3", write_broken_bank(tmp_path / "banks")
    args = ["practice", "--bank", str(bank), "--only-banks", "--new", "2", "--db", str(db)]
    result = CliRunner().invoke(main, args, input="1\n" * 6)
    assert result.exit_code == 1
    assert "Question 'times-zero' skipped: its bank has a problem." in result.output
    assert "Accuracy: 0 of 1 questions right (0%)" in result.output.split("Session report")[1]
    assert f"Find every problem with:\n  tutor check {bank} --only-banks\n" in result.output
    with open_store(db) as store:
        assert [r.attempt.question_id for r in store.attempts()] == ["times-two"] * 3


def test_ctrl_c_after_a_skipped_card_still_counts_as_cancelled(
    tmp_path: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tutor.practice import practice

    class Interrupting(Learner):
        def readline(self, _size: int | None = -1) -> str:
            raise KeyboardInterrupt

    bank = write_broken_bank(tmp_path / "banks")
    pool = pool_of(load_catalog([bank], replace=True), ("times-zero", "times-three"))
    monkeypatch.setattr("tutor.practice.open_store", lambda _db: store)
    out, clock = io.StringIO(), FakeClock()
    settings = Settings(10, 5, clock, clock.utc, iter(range(1000, 9000, 7)).__next__)
    report = practice(
        Console(Interrupting(out, clock=clock), out, color=False), pool, None, settings
    )
    assert report.ending == "cancelled" and len(report.skipped) == 1
