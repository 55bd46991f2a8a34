"""The terminal quiz: progressive help, re-asking unreadable answers, ending cleanly,
skipping a question its bank keeps from being shown."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from tutor.bankspec import Question
from tutor.catalog import load_catalog
from tutor.cli import main
from tutor.errors import BankError
from tutor.quiz import Asker, Submission, plan, print_summary, run_quiz
from tutor.store import open_store
from tutor.terminal import Console
from tutor.variant import Variant, make_variant

CATALOG = load_catalog()
CHAIN = CATALOG.get("sigmoid-chain-gradient")


def console(answers: str, color: bool = False) -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(io.StringIO(answers), out, color=color), out


def chain(seed: int = 12) -> Variant:
    return make_variant(CHAIN, seed)  # n = 16 for seed 12


def right(variant: Variant) -> str:
    return repr(variant.parts[0].expected)


def test_right_first_time_gets_full_marks_and_the_explanation() -> None:
    variant = chain()
    con, out = console(right(variant) + "\n")
    result = Asker(con).ask(variant)
    assert result.score == 1.0
    text = out.getvalue()
    assert "✓ Correct." in text
    assert "Explanation" in text
    assert "Hint" not in text


def test_wrong_answers_get_a_hint_then_more_help_then_the_answer() -> None:
    variant = chain()
    con, out = console("1\n2\n3\n")
    result = Asker(con).ask(variant)
    text = out.getvalue()
    assert result.score == 0.0
    assert result.parts[0].attempts == 3
    assert text.count("✗ Not quite.") == 3
    hint1, hint2 = text.index("Hint: By the chain rule"), text.index("Hint: σ′(0) = σ(0)")
    assert hint1 < hint2 < text.index("The answer: 2.328 × 10⁻¹⁰") < text.index("Explanation")


def test_a_named_mistake_gets_feedback_aimed_at_it() -> None:
    variant = chain()
    con, out = console("0.25^15\n" + right(variant) + "\n")
    result = Asker(con).ask(variant)
    assert "There is one factor per layer, so 16 factors in all." in out.getvalue()
    assert result.score == 0.5  # right on the second try


def test_unreadable_answers_are_re_asked_without_using_a_try() -> None:
    variant = chain()
    con, out = console("\nabc\n1,000\n0x10\ninf\n" + right(variant) + "\n")
    result = Asker(con).ask(variant)
    assert result.parts[0].attempts == 1
    assert result.score == 1.0
    assert " ".join(out.getvalue().split()).count("(This try did not count.)") == 5


def test_answers_are_recorded_before_their_feedback_is_shown() -> None:
    variant = chain()
    con, out = console("1\n" + right(variant) + "\n")
    seen: list[tuple[Submission, str]] = []
    Asker(con, recorder=lambda _variant, s: seen.append((s, out.getvalue()))).ask(variant)
    assert [(s.attempt_no, s.verdict.correct, s.final) for s, _ in seen] == [
        (1, False, False),
        (2, True, True),
    ]
    first_output = seen[0][1]
    assert "Not quite" not in first_output  # recorded before the verdict was written
    assert "Not quite" not in seen[1][1].split("Your answer: 1")[0]


def planned(count: int) -> list[tuple[Question, int]]:
    return [(CHAIN, seed) for seed in range(count)]


def test_input_ending_early_ends_the_quiz_with_a_summary() -> None:
    first = chain(0)
    con, out = console(right(first) + "\n1\n")
    summary = run_quiz(con, planned(3), make_variant)
    print_summary(con, summary)
    text = out.getvalue()
    assert summary.interrupted and not summary.cancelled
    assert len(summary.results) == 1
    assert "Quiz ended early." in text
    assert "Score: 1 / 1 (100%), 1 of 3 answered" in text


def test_input_ending_inside_a_question_says_its_tries_are_saved() -> None:
    seen: list[Submission] = []
    con, out = console("1\n")  # one wrong try, then the input ends before the next
    summary = run_quiz(con, planned(2), make_variant, recorder=lambda _v, s: seen.append(s))
    print_summary(con, summary)
    text = out.getvalue()
    assert (len(summary.results), summary.saved, len(seen)) == (0, 1, 1)
    assert "No question finished (of 2)." in text
    assert "The 1 answer given so far is saved." in text


def test_ctrl_c_ends_the_quiz_with_a_summary() -> None:
    class Interrupting(io.StringIO):
        def readline(self, _size: int | None = -1) -> str:
            raise KeyboardInterrupt

    out = io.StringIO()
    summary = run_quiz(Console(Interrupting(), out, color=False), planned(2), make_variant)
    assert summary.interrupted and summary.cancelled
    assert "Quiz ended early." in out.getvalue()


def test_summary_lists_missed_questions_with_how_to_replay_them() -> None:
    con, out = console("1\n1\n1\n")
    summary = run_quiz(con, [(CHAIN, 12)], make_variant)
    print_summary(con, summary)
    assert "sigmoid-chain-gradient@12" in out.getvalue()
    assert "tutor quiz --question sigmoid-chain-gradient --seed 12" in out.getvalue()


def test_colour_only_when_asked() -> None:
    variant = chain()
    plain, out_plain = console(right(variant) + "\n", color=False)
    Asker(plain).ask(variant)
    coloured, out_colour = console(right(variant) + "\n", color=True)
    Asker(coloured).ask(variant)
    assert "\x1b[" not in out_plain.getvalue()
    assert "\x1b[" in out_colour.getvalue()


def test_no_color_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert Console(io.StringIO(), Tty()).color
    monkeypatch.setenv("NO_COLOR", "1")
    assert not Console(io.StringIO(), Tty()).color


def test_piped_answers_are_echoed() -> None:
    variant = chain()
    con, out = console(right(variant) + "\n")
    Asker(con).ask(variant)
    assert f"Your answer: {right(variant)}\n" in out.getvalue()


def test_running_text_is_wrapped_to_the_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setenv("COLUMNS", "60")
    out = Tty()
    con = Console(io.StringIO("0.25^15\n0.25^14\n0.25^13\n"), out, color=False)
    assert con.width == 59
    Asker(con).ask(chain())
    prose = [line for line in out.getvalue().split("\n") if "│" not in line and "└" not in line]
    assert max(map(len, prose)) <= 59
    assert "Hint: " in out.getvalue()
    monkeypatch.setenv("COLUMNS", "200")
    assert Console(io.StringIO(), Tty()).width == 88  # long lines are hard to read
    assert Console(io.StringIO(), io.StringIO()).width == 88  # a pipe: the same every time


def test_a_long_piped_answer_is_echoed_in_part() -> None:
    variant = chain()
    con, out = console("9" * 5000 + "\n" + right(variant) + "\n")
    assert Asker(con).ask(variant).score == 1.0
    assert "9" * 200 + "…" in out.getvalue()
    assert "9" * 201 not in out.getvalue()


# --- a question its bank keeps from being shown ---------------------------------------------


def broken_at(*seeds: int) -> Callable[[Question, int], Variant]:
    """A draw that fails, as a bank with a broken text does, for the given seeds."""

    def draw(question: Question, seed: int) -> Variant:
        if seed in seeds:
            message = "text does not render: division by zero\x07"
            raise BankError(message, path="mine.yaml", line=15, question=f"q{seed}")
        return make_variant(question, seed)

    return draw


def test_a_question_that_cannot_be_drawn_is_skipped_and_counted_in_the_summary() -> None:
    con, out = console(right(chain(0)) + "\n" + right(chain(2)) + "\n")
    summary = run_quiz(con, planned(3), broken_at(1))
    print_summary(con, summary, check=["mine.yaml", "--only-banks"])
    text = out.getvalue()
    assert summary.skipped == [
        "mine.yaml:15: question 'q1': text does not render: division by zero"
    ]
    assert (len(summary.results), summary.interrupted) == (2, False)
    assert "Question 2 of 3 skipped: its bank has a problem." in text
    assert "Error: mine.yaml:15: question 'q1': text does not render" in text
    assert "\x07" not in text
    assert text.index("skipped") < text.index("Question 3 of 3") < text.index("Summary")
    assert "Score: 2 / 2 (100%), 2 of 3 answered" in text
    assert (
        "1 question skipped because of a problem in its bank. Find every problem with:\n  tutor check mine.yaml --only-banks"
        in text
    )


def test_a_quiz_whose_every_question_is_skipped_still_ends_with_its_summary() -> None:
    con, out = console("")
    summary = run_quiz(con, planned(2), broken_at(0, 1))
    print_summary(con, summary)
    text = out.getvalue()
    assert len(summary.skipped) == 2 and not summary.interrupted
    assert "No question finished (of 2)." in text
    assert (
        "2 questions skipped because of problems in their banks. Find every problem with:\n  tutor check\n"
        in text
    )


def test_ctrl_c_after_a_skipped_question_still_ends_the_quiz_as_cancelled() -> None:
    class Interrupting(io.StringIO):
        def readline(self, _size: int | None = -1) -> str:
            raise KeyboardInterrupt

    summary = run_quiz(
        Console(Interrupting(), io.StringIO(), color=False), planned(2), broken_at(0)
    )
    assert summary.cancelled and len(summary.skipped) == 1


TWO = """\
topic: demo
questions:
  - id: q1
    title: A question
    concepts: [C1]
    params:
      a: {int: [1, 5]}
    prompt: What is {{ a }} + 1?
    answer: a + 1
    hints: [Add.]
    explanation: It is {{ a + 1 }}.
  - id: q2
    title: Another question
    concepts: [C1]
    params:
      a: {int: [1, 5]}
    prompt: What is {{ a }} + 2?
    answer: a + 2
    hints: [Add.]
    explanation: It is {{ (a + 2) / (a - a) }}.
"""


def quiz_on(bank: Path, *args: str, stdin: str = "") -> tuple[int, str]:
    result = CliRunner().invoke(
        main, ["quiz", "--bank", str(bank), "--only-banks", *args], input=stdin
    )
    return result.exit_code, result.output


def test_tutor_quiz_skips_a_broken_second_question_and_keeps_the_first(tmp_path: Path) -> None:
    bank, db = tmp_path / "two.yaml", tmp_path / "p.sqlite3"
    bank.write_text(TWO)
    code, out = quiz_on(bank, "-n", "2", "--seed", "3", "--db", str(db), stdin="9\n" * 6)
    assert code == 1
    assert out.index("A question") < out.index("Question 2 of 2 skipped: its bank has a problem.")
    [skip] = [line for line in out.splitlines() if line.startswith("Error: ")]
    assert (
        skip.startswith(f"Error: {bank}:")
        and "question 'q2'" in skip
        and "division by zero" in skip
    )
    assert "Another question" not in out  # never shown
    summary = out.split("Summary", 1)[1]
    assert "Score: 0 / 1 (0%), 1 of 2 answered" in summary
    assert (
        f"1 question skipped because of a problem in its bank. Find every problem with:\n  tutor check {bank} --only-banks"
        in summary
    )
    assert "try again: tutor quiz --question q1 --seed " in summary
    with open_store(db) as store:
        assert [(r.attempt.question_id, r.attempt.attempt_no) for r in store.attempts()] == [
            ("q1", 1),
            ("q1", 2),
            ("q1", 3),
        ]


def test_tutor_quiz_of_only_broken_questions_prints_its_summary(tmp_path: Path) -> None:
    bank = tmp_path / "broken.yaml"
    bank.write_text(
        TWO.split("  - id: q1", maxsplit=1)[0] + "  - id: q2" + TWO.split("  - id: q2")[1]
    )
    code, out = quiz_on(bank, "--no-record", stdin="9\n")
    assert code == 1
    assert "No question finished (of 1)." in out
    assert "1 question skipped because of a problem in its bank." in out


def test_tutor_quiz_of_one_broken_question_by_id_is_just_an_error(tmp_path: Path) -> None:
    bank = tmp_path / "two.yaml"
    bank.write_text(TWO)
    code, out = quiz_on(bank, "--question", "q2@5", "--no-record", stdin="9\n")
    assert code == 1
    assert f"Error: {bank}:" in out and "question 'q2'" in out
    assert "Summary" not in out and "Another question" not in out


def test_a_quiz_seed_names_the_same_questions_on_every_python() -> None:
    """Drawn from ``random()`` alone, whose sequence Python keeps across versions: pinned."""
    pool = [SimpleNamespace(id=f"q{i}") for i in range(6)]
    chosen = [(q.id, seed) for q, seed in plan(pool, 4, 7)]  # type: ignore[arg-type]
    assert chosen == [("q5", 463847), ("q4", 314152), ("q0", 233112), ("q1", 882315)]
    assert len(plan(pool, 10, 7)) == 6  # type: ignore[arg-type]  # no question twice
