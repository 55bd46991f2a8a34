"""Parsing learners' answers and grading them: spellings, messages, tolerances, properties."""

from __future__ import annotations

import math

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tutor.answers import (
    DEFAULT_TOLERANCE,
    Tolerance,
    Verdict,
    distinct,
    grade,
    is_close,
    parse_answer,
    parse_bool,
    parse_choice,
    tolerance_problem,
)
from tutor.errors import AnswerFormatError, BankError
from tutor.expr import ANSWER_HELP

HINT = "Type a number such as 0.0123, 1.2e-5 or 0.25^10."

ACCEPTED: list[tuple[str, float]] = [
    ("0.00095", 0.00095),
    ("9.5e-4", 9.5e-4),
    ("9.5E-4", 9.5e-4),
    ("9.5e−4", 9.5e-4),
    (".5", 0.5),
    ("5.", 5.0),
    ("1e3", 1000.0),
    ("42", 42.0),
    ("+3", 3.0),
    (" 0.5 ", 0.5),
    ("\t0.5\n", 0.5),
    ("−0.5", -0.5),
    ("–0.5", -0.5),
    ("-0.0", -0.0),
    ("0", 0.0),
    ("0.25^10", 0.25**10),
    ("0.25**10", 0.25**10),
    ("2**-10", 2.0**-10),
    ("2^-10", 2.0**-10),
    ("2^(-10)", 2.0**-10),
    ("(0.235)^8", 0.235**8),
    ("-2^2", -4.0),
    ("2^3^2", 512.0),
    ("9.5×10^-4", 9.5e-4),
    ("9.5 × 10^-4", 9.5e-4),
    ("9.5 x 10^-4", 9.5e-4),
    ("9.5x10^-4", 9.5e-4),
    ("9.5 X 10^-4", 9.5e-4),
    ("9.5*10^(-4)", 9.5e-4),
    ("9.5×10⁻⁴", 9.5e-4),
    ("9.5 · 10^-4", 9.5e-4),
    ("−9.5×10⁻⁴", -9.5e-4),
    ("10⁻⁴", 1e-4),
    ("10^-4", 1e-4),
    ("1.2e-5", 1.2e-5),
    ("1/4^3", 1 / 64),
    ("1 ÷ 4", 0.25),
    ("sqrt(2/512)", 0.0625),
    ("e^-3", math.e**-3),
    ("exp(-3)", math.exp(-3)),
    ("ln(2)", math.log(2)),
    ("log(2)", math.log(2)),
    ("log10(2)", math.log10(2)),
    ("log2(0.5)", -1.0),
    ("abs(-0.25)", 0.25),
    ("min(0.25, 0.5)", 0.25),
    ("max(1, 2, 3)", 3.0),
    ("pi/4", math.pi / 4),
    ("2e3", 2000.0),
    ("0.25 * 0.25 * 0.25", 0.25**3),
    ("(1/4)^2", 0.0625),
    ("1 - 0.5^2", 0.75),
    ("5e-324", 5e-324),
    ("1.7976931348623157e308", 1.7976931348623157e308),
]


@pytest.mark.parametrize(("text", "expected"), ACCEPTED)
def test_accepted_spellings(text: str, expected: float) -> None:
    value = parse_answer(text)
    assert type(value) is float
    assert value == expected
    assert math.copysign(1.0, value) == math.copysign(1.0, expected)


REJECTED: list[tuple[str, str]] = [
    ("", f"The answer is empty. {HINT}"),
    ("   ", f"The answer is empty. {HINT}"),
    ("1,000", "Don't use thousands separators: write 1000."),
    ("12,345,678", "Don't use thousands separators: write 12345678."),
    ("1,000.5", "Don't use thousands separators: write 1000.5."),
    ("1 000", "Don't use thousands separators: write 1000."),
    ("0,5", "Use a point for decimals: write 0.5."),
    ("0,500", "Use a point for decimals: write 0.500."),
    ("-1,5e-3", "Use a point for decimals: write -1.5e-3."),
    ("0x10", "Write numbers in decimal: type 16, not 0x10."),
    ("0b101", "Write numbers in decimal: type 5, not 0b101."),
    ("0o17", "Write numbers in decimal: type 15, not 0o17."),
    ("0b12", "Write numbers in decimal: 0b12 is not a decimal number."),
    ("5%", "Write percentages as decimals: for 5%, type 0.05."),
    ("12.5 %", "Write percentages as decimals: for 12.5%, type 0.125."),
    ("−0.7%", "Write percentages as decimals: for -0.7%, type -0.007."),
    ("(1/2)%", "Write percentages as decimals: for example, for 5%, type 0.05."),
    ("1e3%", "Write percentages as decimals: for example, for 5%, type 0.05."),
    ("inf", "This answer must be a finite number, not infinity or NaN."),
    ("-Infinity", "This answer must be a finite number, not infinity or NaN."),
    ("∞", "This answer must be a finite number, not infinity or NaN."),
    ("NaN", "This answer must be a finite number, not infinity or NaN."),
    ("1e999", "That number is too large to be an answer; check the exponent."),
    ("10^400", "That number is too large to be an answer; check the exponent."),
    ("1e-999", "That number is too small to be an answer; check the exponent."),
    ("10^-400", "That number is too small to be an answer; check the exponent."),
    ("2^-99999", "That number is too small to be an answer; check the exponent."),
    ("0.25^600", "That number is too small to be an answer; check the exponent."),
    ("exp(1000)", "That number is too large to be an answer; check the exponent."),
    ("x" * 201, "That answer is too long (at most 200 characters)."),
    ("2 3", f"Missing operator before '3' at position 3. {HINT}"),
    ("0.25^", f"Missing a number after '^' at position 5. {HINT}"),
    ("(0.25", f"Missing ')' to close '(' at position 1. {HINT}"),
    ("0.25)", f"Unexpected ')' at position 5. {HINT}"),
    ("1.2.3", f"Missing operator before '.3' at position 4. {HINT}"),
    ("1/0", f"Division by zero. {HINT}"),
    ("sqrt(-1)", f"Cannot take sqrt of a negative number. {HINT}"),
    ("(-8)^(1/3)", f"A negative number to a fractional power is not a real number. {HINT}"),
    ("sqr(2)", f"Unknown function 'sqr' (did you mean 'sqrt'?). {HINT}"),
    ("pie", f"Unknown name 'pie' (did you mean 'pi'?). {HINT}"),
    ("about 0.5", f"'about' is not allowed in an answer; {ANSWER_HELP}."),
    ("x", f"'x' is not allowed in an answer; {ANSWER_HELP}."),
    ("0.5 < 1", f"'<' is not allowed in an answer; {ANSWER_HELP}."),
    ("1 $", f"Unexpected character '$' at position 3. {HINT}"),
    ("٣", f"Unexpected character '٣' at position 1. {HINT}"),
    ("1,2,3", f"Unexpected ',' at position 2. {HINT}"),
]


@pytest.mark.parametrize(("text", "message"), REJECTED)
def test_rejected_spellings(text: str, message: str) -> None:
    with pytest.raises(AnswerFormatError) as caught:
        parse_answer(text)
    assert str(caught.value) == message


NONFINITE: list[tuple[str, float]] = [
    ("inf", math.inf),
    ("+inf", math.inf),
    ("-inf", -math.inf),
    ("INF", math.inf),
    ("Infinity", math.inf),
    ("∞", math.inf),
    ("−∞", -math.inf),
    ("- inf", -math.inf),
]


@pytest.mark.parametrize(("text", "expected"), NONFINITE)
def test_infinity_is_accepted_when_allowed(text: str, expected: float) -> None:
    assert parse_answer(text, allow_nonfinite=True) == expected


@pytest.mark.parametrize("text", ["nan", "NaN", "-nan", "NAN"])
def test_nan_is_accepted_when_allowed(text: str) -> None:
    assert math.isnan(parse_answer(text, allow_nonfinite=True))


def test_allowing_nonfinite_still_reads_numbers() -> None:
    assert parse_answer("3.4e38", allow_nonfinite=True) == 3.4e38


CHOICES: list[tuple[str, int]] = [
    ("a", 0),
    ("B", 1),
    ("(c)", 2),
    ("c)", 2),
    ("[d]", 3),
    ("d.", 3),
    (" b ", 1),
    ("1", 0),
    ("4", 3),
    ("(2)", 1),
]


@pytest.mark.parametrize(("text", "index"), CHOICES)
def test_choices(text: str, index: int) -> None:
    assert parse_choice(text, 4) == index


BAD_CHOICES: list[tuple[str, int, str]] = [
    ("", 4, "Type the letter of your choice: a, b, c or d."),
    ("ab", 4, "Type the letter of your choice: a, b, c or d."),
    ("option b", 3, "Type the letter of your choice: a, b or c."),
    ("e", 4, "There are only 4 choices: type a, b, c or d."),
    ("5", 4, "There are only 4 choices: type a, b, c or d."),
    ("0", 2, "There are only 2 choices: type a or b."),
    ("b", 1, "There are only 1 choices: type a."),
]


@pytest.mark.parametrize(("text", "n_options", "message"), BAD_CHOICES)
def test_bad_choices(text: str, n_options: int, message: str) -> None:
    with pytest.raises(AnswerFormatError) as caught:
        parse_choice(text, n_options)
    assert str(caught.value) == message


@pytest.mark.parametrize("n_options", [0, 27])
def test_choice_count_is_checked(n_options: int) -> None:
    with pytest.raises(ValueError, match="n_options"):
        parse_choice("a", n_options)


BOOLS = [(t, True) for t in ("true", "True", "T", "yes", "Y", " y ")]
BOOLS += [(t, False) for t in ("false", "FALSE", "f", "no", "N", "n\n")]


@pytest.mark.parametrize(("text", "expected"), BOOLS)
def test_bools(text: str, expected: bool) -> None:
    assert parse_bool(text) is expected


@pytest.mark.parametrize("text", ["", "maybe", "1", "truth", "yes!"])
def test_bad_bools(text: str) -> None:
    with pytest.raises(AnswerFormatError) as caught:
        parse_bool(text)
    assert str(caught.value) == "Type true or false (or yes or no)."


# ---------------------------------------------------------------------------------------------
# Tolerances

REL = DEFAULT_TOLERANCE
SIG3 = Tolerance("sigfigs", 3)
SIG2 = Tolerance("sigfigs", 2)
FACTOR2 = Tolerance("decades", math.log10(2))
ORDER = Tolerance("decades", 0.5)
ABS = Tolerance("absolute", 0.5)
EXACT = Tolerance("absolute", 0)
INF, NAN = math.inf, math.nan

CLOSE: list[tuple[float, float, Tolerance, bool]] = [
    # tiny expected values: no implicit absolute tolerance
    (1.005e-12, 1e-12, REL, True),
    (0.0, 1e-12, REL, False),
    (1.02e-12, 1e-12, REL, False),
    (1e-300, 1e-300, REL, True),
    # sign
    (-1e-12, 1e-12, REL, False),
    (-2.5, 2.5, REL, False),
    (-2.52, -2.5, REL, True),
    (2.5, -2.5, ABS, False),
    # relative edges (1% of 100 is 1)
    (101.0, 100.0, REL, True),
    (99.0, 100.0, REL, True),
    (101.01, 100.0, REL, False),
    # significant figures: half a unit in the last figure, times 1.02
    (0.123505, 0.123, SIG3, True),
    (0.123515, 0.123, SIG3, False),
    (0.122495, 0.123, SIG3, True),
    (0.122485, 0.123, SIG3, False),
    (1050.0, 1000.0, SIG2, True),
    (1052.0, 1000.0, SIG2, False),
    (10.04, 9.99, SIG2, True),
    (10.06, 9.99, SIG2, False),
    (-9.5e-7, -9.537e-7, SIG2, True),
    (-9.4e-7, -9.537e-7, SIG2, False),
    (0.0, 0.0004, Tolerance("sigfigs", 1), False),
    (1.5e308, 1e308, Tolerance("sigfigs", 1), True),
    (1.7976931348623157e308, 1.79e308, SIG3, False),
    (1.7976931348623157e308, 1.795e308, SIG3, True),
    # decades
    (1.9e-6, 1e-6, FACTOR2, True),
    (2.1e-6, 1e-6, FACTOR2, False),
    (0.51e-6, 1e-6, FACTOR2, True),
    (0.49e-6, 1e-6, FACTOR2, False),
    (-1e-6, 1e-6, FACTOR2, False),
    (0.0, 1e-6, FACTOR2, False),
    (3e-6, 1e-6, ORDER, True),
    (3.2e-6, 1e-6, ORDER, False),
    (-3e-6, -1e-6, ORDER, True),
    # absolute
    (0.5, 0.0, ABS, True),
    (-0.5, 0.0, ABS, True),
    (0.51, 0.0, ABS, False),
    (3.0, 3.0, EXACT, True),
    (3.0000001, 3.0, EXACT, False),
    # expected exactly 0 without an absolute tolerance: only 0 itself
    (0.0, 0.0, REL, True),
    (-0.0, 0.0, REL, True),
    (1e-300, 0.0, REL, False),
    (0.0, 0.0, SIG3, True),
    (1e-300, 0.0, FACTOR2, False),
    # nonfinite
    (INF, INF, REL, True),
    (-INF, -INF, SIG3, True),
    (-INF, INF, REL, False),
    (1.7976931348623157e308, INF, REL, False),
    (INF, 1.0, ABS, False),
    (NAN, NAN, REL, True),
    (0.0, NAN, ABS, False),
    (NAN, 1.0, ABS, False),
    (NAN, INF, REL, False),
    # huge values do not overflow the comparison
    (1.79e308, -1.79e308, REL, False),
    (1.7976931348623157e308, 1.79e308, REL, True),
]


@pytest.mark.parametrize(("value", "expected", "tol", "close"), CLOSE)
def test_is_close(value: float, expected: float, tol: Tolerance, close: bool) -> None:
    assert is_close(value, expected, tol) is close


DESCRIPTIONS: list[tuple[Tolerance, str]] = [
    (DEFAULT_TOLERANCE, "within 1% of the answer"),
    (Tolerance("relative", 0.005), "within 0.5% of the answer"),
    (Tolerance("relative", 0.1), "within 10% of the answer"),
    (SIG3, "to 3 significant figures"),
    (Tolerance("sigfigs", 1), "to 1 significant figure"),
    (FACTOR2, "within a factor of 2"),
    (Tolerance("decades", 1), "within a factor of 10"),
    (ORDER, "to the right order of magnitude"),
    (ABS, "within ±0.5"),
    (Tolerance("absolute", 1e-6), "within ±1 × 10⁻⁶"),
    (Tolerance("absolute", 2e6), "within ±2 × 10⁶"),
    (EXACT, "exactly"),
]


@pytest.mark.parametrize(("tol", "text"), DESCRIPTIONS)
def test_describe(tol: Tolerance, text: str) -> None:
    assert tol.describe() == text


BAD_TOLERANCES: list[tuple[str, object, str]] = [
    (
        "relatve",
        0.01,
        "unknown tolerance kind 'relatve' (did you mean 'relative'?): "
        "use relative, sigfigs, decades or absolute",
    ),
    ("percent", 1, "unknown tolerance kind 'percent': use relative, sigfigs, decades or absolute"),
    ("relative", 0, "a relative tolerance must be a positive number, not 0"),
    ("relative", -0.01, "a relative tolerance must be a positive number, not -0.01"),
    ("relative", 1.0, "a relative tolerance must be below 1 (100%), not 1.0"),
    ("relative", math.nan, "a relative tolerance must be a positive number, not nan"),
    ("decades", math.inf, "a decades tolerance must be a positive number, not inf"),
    ("absolute", -1, "a absolute tolerance must be a positive number, not -1"),
    ("sigfigs", 2.5, "significant figures must be a whole number from 1 to 17, not 2.5"),
    ("sigfigs", 18, "significant figures must be a whole number from 1 to 17, not 18"),
    ("sigfigs", "3", "a sigfigs tolerance must be a number, not '3'"),
    ("sigfigs", True, "a sigfigs tolerance must be a number, not True"),
]


@pytest.mark.parametrize(("kind", "value", "message"), BAD_TOLERANCES)
def test_bad_tolerances(kind: str, value: object, message: str) -> None:
    with pytest.raises(BankError) as caught:
        Tolerance(kind, value)  # type: ignore[arg-type]
    assert caught.value.message == message


def test_tolerance_value_is_a_float() -> None:
    assert Tolerance("sigfigs", 3).value == 3.0
    assert type(Tolerance("sigfigs", 3).value) is float


PROBLEMS: list[tuple[float, Tolerance, str | None]] = [
    (1e-12, REL, None),
    (0.0, ABS, None),
    (-3.0, SIG3, None),
    (
        0.0,
        REL,
        "the expected answer is 0, which needs an absolute tolerance "
        "(a relative tolerance accepts only exactly 0)",
    ),
    (
        0.0,
        FACTOR2,
        "the expected answer is 0, which needs an absolute tolerance "
        "(a decades tolerance accepts only exactly 0)",
    ),
    (INF, REL, "the expected answer is inf, not a finite number"),
    (NAN, ABS, "the expected answer is nan, not a finite number"),
    (5e-324, REL, "the expected answer 5e-324 is too small to be a normal float"),
]


@pytest.mark.parametrize(("expected", "tol", "problem"), PROBLEMS)
def test_tolerance_problem(expected: float, tol: Tolerance, problem: str | None) -> None:
    assert tolerance_problem(expected, tol) == problem


# ---------------------------------------------------------------------------------------------
# Grading

MISTAKES = {
    "sigma instead of sigma'": 0.5**10,
    "N-1 layers": 0.25**9,
    "weights forgotten": 0.25**10,
}

GRADES: list[tuple[float, Tolerance, str | None, bool]] = [
    (0.25**10 * 1.5, REL, None, True),
    (0.25**10 * 1.5 * 1.009, REL, None, True),
    (0.5**10, REL, "sigma instead of sigma'", False),
    (0.25**9 * 1.005, REL, "N-1 layers", False),
    (0.25**10, REL, "weights forgotten", False),
    (0.0, REL, None, False),
    (-(0.25**10) * 1.5, REL, None, False),
    (0.3e-5, FACTOR2, "N-1 layers", False),
    (1.0e-6, Tolerance("decades", 0.1), "weights forgotten", False),
]


@pytest.mark.parametrize(("value", "tol", "mistake", "correct"), GRADES)
def test_grade(value: float, tol: Tolerance, mistake: str | None, correct: bool) -> None:
    verdict = grade(value, 0.25**10 * 1.5, tol, MISTAKES)
    assert verdict == Verdict(value, correct, 1.0 if correct else 0.0, mistake)


def test_grade_without_mistakes() -> None:
    assert grade(2.0, 1.0, REL) == Verdict(2.0, False, 0.0, None)
    assert grade(1.0, 1.0, REL) == Verdict(1.0, True, 1.0, None)


def test_grade_picks_the_closest_mistake_by_ratio() -> None:
    mistakes = {"far": 1.09, "near": 0.97, "exact": 1.0}
    tol = Tolerance("relative", 0.2)
    assert grade(1.0, 5.0, tol, mistakes).mistake == "exact"
    assert grade(0.99, 5.0, tol, mistakes).mistake == "exact"
    assert grade(0.96, 5.0, tol, mistakes).mistake == "near"


def test_grade_nonfinite_answers() -> None:
    assert grade(INF, INF, REL).correct
    assert grade(-INF, INF, REL, {"sign": -INF}) == Verdict(-INF, False, 0.0, "sign")
    assert grade(NAN, 1.0, REL, {"overflow": NAN}).mistake == "overflow"


DISTINCT: list[tuple[float, float, Tolerance, bool]] = [
    (1.0, 1.5, REL, True),
    (1.0, 1.005, REL, False),
    (1.0, 1.0102, REL, True),  # neither within 1% of the other
    (1.0, 1.0101, REL, False),  # 1.0 is within 1% of 1.0101, not the other way round
    (1e-12, 0.0, REL, True),
    (0.0, 0.0, REL, False),
    (1e-6, 2.5e-6, FACTOR2, True),
    (1e-6, -1e-6, FACTOR2, True),
    (0.25, 0.25, SIG3, False),
    (INF, 1e308, REL, True),
    (NAN, NAN, REL, False),
]


@pytest.mark.parametrize(("a", "b", "tol", "expected"), DISTINCT)
def test_distinct(a: float, b: float, tol: Tolerance, expected: bool) -> None:
    assert distinct(a, b, tol) is expected
    assert distinct(b, a, tol) is expected


# ---------------------------------------------------------------------------------------------
# Properties

_FINITE = st.floats(allow_nan=False, allow_infinity=False)
_NONZERO = _FINITE.filter(lambda x: x != 0)
_TOLERANCES = st.one_of(
    st.floats(min_value=1e-9, max_value=0.99).map(lambda v: Tolerance("relative", v)),
    st.integers(min_value=1, max_value=17).map(lambda v: Tolerance("sigfigs", v)),
    st.floats(min_value=1e-9, max_value=3).map(lambda v: Tolerance("decades", v)),
    st.floats(min_value=0, max_value=1e6).map(lambda v: Tolerance("absolute", v)),
)
_ANY_FLOAT = st.floats()


@given(_FINITE)
@example(-0.0)
@example(5e-324)
@example(1.7976931348623157e308)
def test_float_repr_parses_back(x: float) -> None:
    value = parse_answer(repr(x))
    assert value == x
    assert math.copysign(1.0, value) == math.copysign(1.0, x)


@given(st.text(max_size=300))
@example("9" * 200)
@example("(" * 100)
@example("-" * 199 + "1")
@example("1e" + "9" * 150)
@example("0x" + "f" * 190)
@example("1," * 99 + "1")
@example("\x00\ud800")
def test_any_text_parses_or_gives_a_format_error(text: str) -> None:
    for allow in (False, True):
        try:
            value = parse_answer(text, allow_nonfinite=allow)
        except AnswerFormatError as error:
            assert str(error)
            assert "cannot be evaluated" not in str(error)
        else:
            assert type(value) is float
            assert allow or math.isfinite(value)


@given(_NONZERO, _TOLERANCES)
def test_the_expected_answer_grades_as_correct(expected: float, tol: Tolerance) -> None:
    verdict = grade(expected, expected, tol, {"other": -expected})
    assert verdict == Verdict(expected, True, 1.0, None)


@given(_ANY_FLOAT, _ANY_FLOAT, _TOLERANCES)
def test_distinct_is_symmetric(a: float, b: float, tol: Tolerance) -> None:
    assert distinct(a, b, tol) == distinct(b, a, tol)
    if distinct(a, b, tol):
        assert not grade(a, b, tol).correct


@given(_NONZERO, _TOLERANCES)
def test_a_wrong_sign_is_never_close_unless_absolute(x: float, tol: Tolerance) -> None:
    if tol.kind != "absolute":
        assert not is_close(-x, x, tol)


@pytest.mark.parametrize(
    ("text", "value"),
    [("-+5×10^2", -500.0), ("9.5E1×10^-4", 0.0095), ("+-2×10^1", -20.0), ("1e1×10^1", 100.0)],
)
def test_odd_scientific_spellings_are_read_not_crashed_on(text: str, value: float) -> None:
    assert parse_answer(text) == pytest.approx(value)


def test_a_misconception_is_recognised_under_an_exact_tolerance() -> None:
    """An exact answer is graded exactly, but a mistake need not be typed to every digit."""
    verdict = grade(1.3133, 2.0, Tolerance("absolute", 0.0), {"product-of-weights": 1.313279})
    assert not verdict.correct
    assert verdict.mistake == "product-of-weights"
