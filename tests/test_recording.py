"""Graded answers become stored attempts and review ratings (quiz and practice share this)."""

from __future__ import annotations

import io
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from fsrs import Rating
from hypothesis import given
from hypothesis import strategies as st
from practice_helpers import FakeClock, write_banks
from store_helpers import T0

from tutor.answers import Verdict
from tutor.catalog import Catalog
from tutor.cli import main
from tutor.quiz import Asker, Submission
from tutor.recording import StoreRecorder, expected_text, part_rating, to_attempt
from tutor.schedule import rate_numeric
from tutor.store import Store, open_store
from tutor.terminal import Console
from tutor.variant import Variant, make_variant

RIGHT = Verdict(1.0, True, 1.0, None)
WRONG = Verdict(0.0, False, 0.0, None)


def variant(catalog: Catalog, question_id: str, seed: int = 3) -> Variant:
    return make_variant(catalog.get(question_id), seed)


def submission(
    verdict: Verdict = RIGHT,
    *,
    part: int = 0,
    attempt_no: int = 1,
    hints: int = 0,
    elapsed: float = 10.0,
    final: bool = True,
    rating: str | None = None,
) -> Submission:
    return Submission(part, "42", verdict, attempt_no, hints, elapsed, final, rating)


# --- attempts -------------------------------------------------------------------------------


def test_an_attempt_keeps_the_variant_and_the_answer(catalog: Catalog) -> None:
    v = variant(catalog, "times-two")
    mistaken = Verdict(1.5, False, 0.0, "divided")
    attempt = to_attempt(v, submission(mistaken, attempt_no=2, hints=1, final=False), "quiz", T0)
    assert (attempt.question_id, attempt.seed, attempt.topic, attempt.concepts) == (
        "times-two", 3, "arithmetic", ("C1",),
    )  # fmt: skip
    assert (attempt.mode, attempt.part, attempt.attempt_no, attempt.final) == ("quiz", 0, 2, False)
    assert (attempt.correct, attempt.score, attempt.mistake, attempt.hints_used) == (
        False, 0.0, "divided", 1,
    )  # fmt: skip
    assert attempt.params == dict(v.params)
    assert attempt.expected == repr(float(v.parts[0].expected))
    assert attempt.bank_hash == v.question.source.bank_hash
    assert attempt.at == T0


def test_expected_text_for_every_kind(catalog: Catalog) -> None:
    choice = variant(catalog, "pick-even")
    right = next(i for i, c in enumerate(choice.parts[0].choices) if c.correct)
    assert expected_text(choice, 0) == "ABC"[right]
    assert expected_text(variant(catalog, "true-or-false"), 0) == "true"
    assert expected_text(variant(catalog, "why-c1"), 0) == ""
    chained = variant(catalog, "chained")
    assert expected_text(chained, 1) == repr(float(chained.parts[1].expected))


# --- ratings --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("verdict", "attempt_no", "hints", "elapsed", "rating"),
    [
        (RIGHT, 1, 0, 10.0, Rating.Easy),  # faster than the question's minute
        (RIGHT, 1, 0, 75.0, Rating.Good),
        (RIGHT, 1, 1, 10.0, Rating.Hard),
        (RIGHT, 2, 1, 10.0, Rating.Hard),
        (WRONG, 3, 2, 10.0, Rating.Again),
    ],
)
def test_auto_graded_answers_are_rated_against_the_questions_minutes(
    catalog: Catalog, verdict: Verdict, attempt_no: int, hints: int, elapsed: float, rating: Rating
) -> None:
    sub = submission(verdict, attempt_no=attempt_no, hints=hints, elapsed=elapsed)
    assert part_rating(variant(catalog, "times-two"), sub) == rating


@pytest.mark.parametrize(
    ("verdict", "said", "rating"),
    [
        (RIGHT, "easy", Rating.Easy),
        (RIGHT, "good", Rating.Good),
        (RIGHT, "2", Rating.Hard),
        (WRONG, "again", Rating.Again),
        (RIGHT, None, Rating.Good),  # the quiz's "did you cover the points? yes"
        (WRONG, None, Rating.Again),
    ],
)
def test_explain_cards_use_the_learners_own_rating(
    catalog: Catalog, verdict: Verdict, said: str | None, rating: Rating
) -> None:
    assert part_rating(variant(catalog, "why-c1"), submission(verdict, rating=said)) == rating


@given(
    correct=st.booleans(),
    attempt_no=st.integers(1, 3),
    hints=st.integers(0, 3),
    elapsed=st.floats(0, 1e4),
)
def test_a_single_part_rating_is_rate_numeric(
    catalog: Catalog, correct: bool, attempt_no: int, hints: int, elapsed: float
) -> None:
    question = catalog.get("times-three")
    sub = submission(RIGHT if correct else WRONG, attempt_no=attempt_no, hints=hints,
                     elapsed=elapsed)  # fmt: skip
    expected = rate_numeric(
        correct=correct, attempt_no=attempt_no, hints_used=hints, elapsed_s=elapsed, expected_s=60
    )
    assert part_rating(make_variant(question, 1), sub) == expected


# --- the recorder ---------------------------------------------------------------------------


def _rows(path: Path) -> list[tuple[object, ...]]:
    """What another connection sees: committed rows only."""
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT question_id, part, attempt_no, rating FROM attempts").fetchall()
    finally:
        conn.close()


def test_each_answer_is_committed_before_the_recorder_returns(
    catalog: Catalog, store: Store
) -> None:
    recorder = StoreRecorder(store, "practice", lambda: T0)
    v = variant(catalog, "times-two")
    recorder(v, submission(WRONG, final=False))
    assert _rows(store.path) == [("times-two", 0, 1, None)]
    recorder(v, submission(RIGHT, attempt_no=2, hints=1))
    assert _rows(store.path)[1] == ("times-two", 0, 2, int(Rating.Hard))
    assert recorder.ratings == {v.id: Rating.Hard}
    assert recorder.recorded == 2


def test_a_chained_question_reviews_its_card_once_with_its_weakest_part(
    catalog: Catalog, store: Store
) -> None:
    recorder = StoreRecorder(store, "practice", lambda: T0)
    v = variant(catalog, "chained")
    recorder(v, submission(RIGHT, part=0, elapsed=5.0))  # Easy on its own
    assert store.card("chained") is None
    recorder(v, submission(RIGHT, part=1, attempt_no=2, hints=1, elapsed=50.0))  # Hard
    ratings = [r.rating for r in store.attempts()]
    assert ratings == [None, Rating.Hard]
    assert store.card("chained") is not None


def test_a_replayed_variant_is_stored_but_reviews_nothing(catalog: Catalog, store: Store) -> None:
    v = variant(catalog, "times-two")
    StoreRecorder(store, "quiz", lambda: T0)(v, submission(WRONG))  # missed: answer shown
    card = store.card("times-two")
    replay = StoreRecorder(store, "quiz", lambda: T0)  # a later `--question times-two@seed`
    replay(v, submission(RIGHT, elapsed=5.0))
    assert [r.rating for r in store.attempts()] == [Rating.Again, None]
    assert store.card("times-two") == card and replay.ratings == {}
    other = variant(catalog, "times-two", seed=v.seed + 1)  # fresh numbers review as usual
    replay(other, submission(RIGHT, elapsed=5.0))
    assert replay.ratings == {other.id: Rating.Easy}


def test_a_chained_replay_reviews_nothing_after_its_first_part_is_stored(
    catalog: Catalog, store: Store
) -> None:
    recorder = StoreRecorder(store, "practice", lambda: T0)
    v = variant(catalog, "chained")
    recorder(v, submission(RIGHT, part=0))
    recorder(v, submission(RIGHT, part=1))  # the same run: its own first part is no replay
    assert recorder.ratings.keys() == {v.id}


def test_the_asker_feeds_the_recorder_before_showing_feedback(
    catalog: Catalog, store: Store
) -> None:
    v = variant(catalog, "times-four")
    out = io.StringIO()
    answer = repr(v.parts[0].expected)
    seen: list[str] = []
    recorder = StoreRecorder(store, "quiz", lambda: T0)

    def record(var: Variant, sub: Submission) -> None:
        recorder(var, sub)
        seen.append(out.getvalue())

    clock = FakeClock()
    Asker(Console(io.StringIO(f"{answer}\n"), out, color=False), record, clock).ask(v)
    assert "✓ Correct." not in seen[0]
    assert "✓ Correct." in out.getvalue()
    [stored] = store.attempts()
    assert stored.attempt.correct and stored.rating == Rating.Easy
    assert stored.attempt.mode == "quiz"


# --- tutor quiz records, unless --no-record -----------------------------------------------


def _quiz(db: Path, banks: Path, *extra: str, stdin: str = "1\n1\n1\n") -> str:
    args = ["quiz", "--bank", str(banks), "--only-banks", "--topic", "arithmetic", "-n", "1"]
    result = CliRunner().invoke(main, [*args, "--seed", "4", "--db", str(db), *extra], input=stdin)
    assert result.exit_code == 0, result.output
    return result.output


def test_quiz_records_every_try_with_mode_quiz(tmp_path: Path) -> None:
    db = tmp_path / "quiz.sqlite3"
    _quiz(db, write_banks(tmp_path / "banks"))
    with open_store(db) as store:
        records = store.attempts()
    assert [(r.attempt.mode, r.attempt.attempt_no, r.attempt.final) for r in records] == [
        ("quiz", 1, False), ("quiz", 2, False), ("quiz", 3, True),
    ]  # fmt: skip
    assert [r.rating for r in records] == [None, None, Rating.Again]


def test_quiz_no_record_leaves_no_file(tmp_path: Path) -> None:
    db = tmp_path / "quiz.sqlite3"
    out = _quiz(db, write_banks(tmp_path / "banks"), "--no-record")
    assert "Summary" in out
    assert not db.exists()


def test_quiz_uses_tutor_db_when_no_db_is_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "from-env.sqlite3"
    monkeypatch.setenv("TUTOR_DB", str(db))
    banks = write_banks(tmp_path / "banks")
    args = ["quiz", "--bank", str(banks), "--only-banks", "--topic", "arithmetic", "-n", "1"]
    result = CliRunner().invoke(main, args, input="1\n1\n1\n")
    assert result.exit_code == 0, result.output
    with open_store(db) as store:
        assert len(store.attempts()) == 3
