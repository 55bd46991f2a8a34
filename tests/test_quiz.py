"""The terminal quiz: progressive help, re-asking unreadable answers, ending cleanly."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest

from tutor.catalog import load_catalog
from tutor.quiz import Asker, Submission, print_summary, run_quiz
from tutor.terminal import Console
from tutor.variant import Variant, make_variant

CATALOG = load_catalog()


def console(answers: str, color: bool = False) -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(io.StringIO(answers), out, color=color), out


def chain(seed: int = 12) -> Variant:
    return make_variant(CATALOG.get("sigmoid-chain-gradient"), seed)  # n = 16 for seed 12


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


def quiz_variants(count: int) -> Iterator[Variant]:
    for seed in range(count):
        yield chain(seed)


def test_input_ending_early_ends_the_quiz_with_a_summary() -> None:
    first = chain(0)
    con, out = console(right(first) + "\n1\n")
    summary = run_quiz(con, quiz_variants(3), 3)
    print_summary(con, summary)
    text = out.getvalue()
    assert summary.interrupted and not summary.cancelled
    assert len(summary.results) == 1
    assert "Quiz ended early." in text
    assert "Score: 1 / 1 (100%), 1 of 3 answered" in text


def test_input_ending_inside_a_question_says_its_tries_are_saved() -> None:
    seen: list[Submission] = []
    con, out = console("1\n")  # one wrong try, then the input ends before the next
    summary = run_quiz(con, quiz_variants(2), 2, recorder=lambda _v, s: seen.append(s))
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
    summary = run_quiz(Console(Interrupting(), out, color=False), quiz_variants(2), 2)
    assert summary.interrupted and summary.cancelled
    assert "Quiz ended early." in out.getvalue()


def test_summary_lists_missed_questions_with_how_to_replay_them() -> None:
    con, out = console("1\n1\n1\n")
    summary = run_quiz(con, iter([chain(12)]), 1)
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
