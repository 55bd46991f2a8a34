"""The safe expression language: values, exact error messages, bounds and properties."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tutor.errors import ExpressionError
from tutor.expr import (
    ANSWER_HELP,
    RESERVED_NAMES,
    check_names,
    compile_expression,
    normalize_symbols,
)

ENV: Mapping[str, object] = {
    "n": 10,
    "w": 1.5,
    "s": 0.25,
    "neg": -8.0,
    "xs": (0.5, 0.02, 0.001),
    "empty": (),
    "act": "sigmoid",
    "flag": True,
    "sim": {"grad": (1.0, 0.1, 0.001), "depth": 3, "meta": {"name": "mlp"}},
}

BANK_VALUES: list[tuple[str, object]] = [
    # arithmetic, precedence and number spellings
    ("0.25 ** n * w", 0.25**10 * 1.5),
    ("n + 1", 11),
    ("n * n", 100),
    ("n - 12", -2),
    ("n / 4", 2.5),
    ("1 + 2 + 3 + 4", 10),
    ("1 - 2 - 3", -4),
    ("2 * 3 / 4", 1.5),
    ("1 / 2 / 4", 0.125),
    ("2 ^ 10", 1024.0),
    ("-2^2", -4.0),
    ("2^-3", 0.125),
    ("2^3^2", 512.0),
    ("(2^3)^2", 64.0),
    ("n²", 100.0),
    ("10⁻³", 0.001),
    ("9.5 x 10^-4", 9.5e-4),
    ("9.5×10⁻⁴", 9.5e-4),
    ("-+3 * 10^-1", -0.3),  # stacked signs fold exactly too, as in the self-check page
    ("-++1.1 × 10^-5", -1.1e-5),
    ("2 × 3 ÷ 4", 1.5),
    ("−w", -1.5),
    ("s * (1 - s)", 0.1875),
    ("1e3 + .5 + 5.", 1005.5),
    ("pi", math.pi),
    ("e", math.e),
    ("2e3", 2000.0),
    # names, fields and indexing
    ("sim.grad[0]", 1.0),
    ("sim.grad[-1]", 0.001),
    ("sim.meta.name", "mlp"),
    ("sim.depth + 1", 4),
    ("xs[n - 9]", 0.02),
    ("xs[2.0]", 0.001),
    # comparisons and logic
    ("act == 'sigmoid'", True),
    ('act != "tanh"', True),
    ("n >= 10 and w < 2", True),
    ("not flag or n == 3", False),
    ("n < 3 or n > 5", True),
    ("n ≥ 10", True),
    ("1 == true", False),
    ("nan == nan", False),
    ("inf > 1e308", True),
    ("xs == [0.5, 0.02, 0.001]", True),
    ("if(n > 5, 'deep', 'shallow')", "deep"),
    ("if(n < 5, 1/0, 2)", 2),
    ("[1, 'a', [2]]", (1, "a", (2,))),
    # functions
    ("sqrt(2/512)", 0.0625),
    ("exp(0)", 1.0),
    ("ln(e)", 1.0),
    ("log(1)", 0.0),
    ("log10(1000)", 3.0),
    ("log2(8)", 3.0),
    ("abs(neg)", 8.0),
    ("tanh(0)", 0.0),
    ("sigmoid(0) * (1 - sigmoid(0))", 0.25),
    ("sigmoid(-1000)", 0.0),
    ("round(2.675, 2)", 2.68),
    ("round(2.5)", 3),
    ("round(-2.5)", -3),
    ("round(1234, -2)", 1200.0),
    ("floor(2.7)", 2),
    ("ceil(-2.5)", -2),
    ("clip(5, -1, 1)", 1),
    ("clip(-0.5, -1, 1)", -0.5),
    ("max(xs)", 0.5),
    ("min(xs)", 0.001),
    ("max(1, 7, 3)", 7),
    ("min(2.5, -1)", -1),
    ("sum(xs)", math.fsum((0.5, 0.02, 0.001))),
    ("sum(empty)", 0.0),
    ("prod([2, 3, 4])", 24.0),
    ("mean([1, 2, 3, 4])", 2.5),
    ("norm([3, 4])", 5.0),
    ("len(xs)", 3),
    ("len([])", 0),
    ("argmax([1, 5, 5])", 2),
    ("argmin(xs)", 3),
    ("first_below(xs, 0.01)", 3),
    ("first_below(xs, 1e-6)", 0),
    ("first_above([-0.5, 2], 1)", 2),
    ("count_below(xs, 0.1)", 2),
    ("count_above([-3, 0.5, 4], 1)", 2),
    ("range(1, 4)", (1, 2, 3)),
    ("range(3, 1)", ()),
    ("len(range(0, 10000))", 10000),
]


@pytest.mark.parametrize(("text", "expected"), BANK_VALUES)
def test_bank_values(text: str, expected: object) -> None:
    value = compile_expression(text)(ENV)
    assert value == expected
    assert type(value) is type(expected)


BANK_ERRORS: list[tuple[str, str]] = [
    # names and functions
    ("nn + 1", "unknown name 'nn' (did you mean 'n'?)"),
    ("q", "unknown name 'q'"),
    ("N", "unknown name 'N' (did you mean 'n'?)"),
    ("sqr(2)", "unknown function 'sqr' (did you mean 'sqrt'?)"),
    ("zzz(1)", "unknown function 'zzz'"),
    ("sqrt", "'sqrt' is a function: write sqrt(...)"),
    ("sqrt(1, 2)", "sqrt() takes 1 argument, not 2"),
    ("round(1, 2, 3)", "round() takes 1 or 2 arguments, not 3"),
    ("max()", "max() takes at least 1 argument, not 0"),
    ("if(true, 1)", "if() takes 3 arguments, not 2"),
    # syntax
    ("", "empty expression"),
    ("   ", "empty expression"),
    ("(1 + 2", "missing ')' to close '(' at position 1"),
    ("1 + 2)", "unexpected ')' at position 6"),
    ("sqrt(2))", "unexpected ')' at position 8"),
    ("[1, 2", "missing ']' to close '[' at position 1"),
    ("(1]", "unexpected ']' at position 3"),
    ("1 +", "missing a value after '+' at position 3"),
    ("1 + * 2", "unexpected '*' at position 5"),
    ("2 3", "missing operator before '3' at position 3"),
    ("2 n", "missing operator before 'n' at position 3"),
    ("2(3)", "missing operator before '(' at position 2"),
    ("and", "unexpected 'and' at position 1"),
    ("n and", "missing a value after 'and' at position 3"),
    ("sim.", "missing a field name after '.' at position 4"),
    ("sim.1", "missing operator before '.1' at position 4"),
    ("1 < 2 < 3", "chained comparisons are not supported: write a < b and b < c"),
    ("n = 3", "unexpected '=' at position 3 (use '==' to compare)"),
    ("'abc", "unterminated string starting at position 1"),
    ("1 $ 2", "unexpected character '$' at position 3"),
    ("1 \x00 2", "unexpected character 'U+0000' at position 3"),
    ("0x10", "only decimal numbers are supported: '0x10' at position 1"),
    ("2 * 0b101", "only decimal numbers are supported: '0b101' at position 5"),
    # indexing and fields
    ("xs[3]", "index 3 is out of range for a list of length 3"),
    ("xs[-4]", "index -4 is out of range for a list of length 3"),
    ("xs[0.5]", "a list index needs a whole number, not 0.5"),
    ("xs[flag]", "a list index needs a number, not true/false"),
    ("n[0]", "cannot index a number"),
    ("n.grad", "'n' is a number, so it has no field 'grad'"),
    ("xs.grad", "'xs' is a list, so it has no field 'grad'"),
    ("sim.grd", "'sim' has no field 'grd' (did you mean 'grad'?)"),
    ("sim.meta.nme", "'sim.meta' has no field 'nme' (did you mean 'name'?)"),
    ("sim", "the result is a record: pick one of its fields with '.'"),
    # arithmetic limits
    ("9**9**9", "number too large"),
    ("10^400", "number too large"),
    ("1e308 * 10", "number too large"),
    ("w * 1e308 * 1e308", "number too large"),
    ("-1e308 - 1e308", "number too large"),
    ("exp(1000)", "number too large"),
    ("1e999", "number too large"),
    ("1e-999", "number too small"),
    ("10^-400", "number too small"),
    ("0.5^2e6", "exponent too large"),
    ("(-8)^(1/3)", "a negative number to a fractional power is not a real number"),
    ("1/0", "division by zero"),
    ("n / (w - 1.5)", "division by zero"),
    ("0^-1", "division by zero"),
    ("sqrt(-1)", "cannot take sqrt of a negative number"),
    ("log(0)", "cannot take log of zero or a negative number"),
    ("log10(neg)", "cannot take log10 of zero or a negative number"),
    ("floor(inf)", "cannot take floor of a number that is not finite"),
    ("round(nan)", "cannot round a number that is not finite"),
    # types
    ("if(1, 2, 3)", "if() needs true or false, not a number"),
    ("n and true", "'and' needs true or false, not a number"),
    ("not flag or 1", "'or' needs true or false, not a number"),
    ("not n", "'not' needs true or false, not a number"),
    ("act + 1", "'+' needs a number, not text"),
    ("xs * 2", "'*' needs a number, not a list"),
    ("flag + 1", "'+' needs a number, not true/false"),
    ("2 × act", "'×' needs a number, not text"),
    ("-act", "'-' needs a number, not text"),
    ("act < 'b'", "'<' needs a number, not text"),
    ("sim ^ 2", "'^' needs a number, not a record"),
    ("sqrt(xs)", "sqrt needs a number, not a list"),
    ("sum(act)", "sum needs a list, not text"),
    ("len(n)", "len needs a list, not a number"),
    ("sum([1, 'a'])", "sum needs a list of numbers"),
    ("mean(empty)", "cannot take mean of an empty list"),
    ("max(empty)", "cannot take max of an empty list"),
    ("argmax(empty)", "cannot take argmax of an empty list"),
    ("clip(1, 2, 0)", "clip needs its lower bound first (clip(x, low, high))"),
    ("range(0, 20000)", "range is too long (the limit is 10000 numbers)"),
    ("[range(0, 6000), range(0, 6000)]", "list too long (the limit is 10000 numbers in all)"),
    (
        "[[range(0, 3000)], [[range(0, 3000)]], range(0, 4001)]",
        "list too long (the limit is 10000 numbers in all)",
    ),
    ("range(0, 1.5)", "range needs a whole number, not 1.5"),
    ("len(range(0, 9)) + " * 5 + "1", "too many range() calls (the limit is 4 in one expression)"),
    # size
    ("(" * 41 + "1" + ")" * 41, "expression nested too deeply (the limit is 40 levels)"),
    ("-" * 41 + "1", "expression nested too deeply (the limit is 40 levels)"),
    ("2^" * 41 + "1", "expression nested too deeply (the limit is 40 levels)"),
    ("1+" * 500 + "1", "expression too long (1001 characters; the limit is 1000)"),
]


@pytest.mark.parametrize(("text", "message"), BANK_ERRORS)
def test_bank_errors(text: str, message: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        compile_expression(text)(ENV)
    assert caught.value.message == message
    assert str(caught.value) == message


POSITIONS: list[tuple[str, int]] = [
    ("1 + 2)", 6),
    ("nn + 1", 1),
    ("n + nn", 5),
    ("1 + 1/0", 6),
    ("xs[1] + xs[7]", 11),
    ("sum([1, 2]) + sqrt(-1)", 15),
    ("9.5 × act", 5),
    ("1+" * 500 + "1", 1001),
]


@pytest.mark.parametrize(("text", "position"), POSITIONS)
def test_error_positions_count_from_one(text: str, position: int) -> None:
    with pytest.raises(ExpressionError) as caught:
        compile_expression(text)(ENV)
    assert caught.value.position == position


ANSWER_ERRORS: list[tuple[str, str]] = [
    ("n", f"'n' is not allowed in an answer; {ANSWER_HELP}"),
    ("'a'", f"text in quotes is not allowed in an answer; {ANSWER_HELP}"),
    ("[1]", f"'[' is not allowed in an answer; {ANSWER_HELP}"),
    ("1 < 2", f"'<' is not allowed in an answer; {ANSWER_HELP}"),
    ("1 and 2", f"'and' is not allowed in an answer; {ANSWER_HELP}"),
    ("not 1", f"'not' is not allowed in an answer; {ANSWER_HELP}"),
    ("round(2.5)", f"'round' is not allowed in an answer; {ANSWER_HELP}"),
    ("(2).x", f"'.' is not allowed in an answer; {ANSWER_HELP}"),
    ("pie", "unknown name 'pie' (did you mean 'pi'?)"),
    ("sqr(2)", "unknown function 'sqr' (did you mean 'sqrt'?)"),
    ("1+" * 100 + "1", "expression too long (201 characters; the limit is 200)"),
    ("-" * 41 + "1", "expression nested too deeply (the limit is 40 levels)"),
]


@pytest.mark.parametrize(("text", "message"), ANSWER_ERRORS)
def test_answer_mode_errors(text: str, message: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        compile_expression(text, mode="answer")()
    assert caught.value.message == message


@pytest.mark.parametrize(
    ("text", "expected"),
    [("PI", math.pi), ("E^2", math.e**2), ("SQRT(4)", 2.0), ("Ln(1)", 0.0), ("2 X 3", 6)],
)
def test_answer_mode_ignores_case(text: str, expected: float) -> None:
    assert compile_expression(text, mode="answer")() == expected


def test_names_are_the_free_names() -> None:
    expr = compile_expression("sim.grad[n] + if(a > pi, b, c) + sum(xs) * e + len('s')")
    assert expr.names == {"sim", "n", "a", "b", "c", "xs"}
    assert compile_expression("0.25^10 * sqrt(2)", mode="answer").names == frozenset()


def test_check_names_reports_the_first_unknown_name() -> None:
    expr = compile_expression("depht * w + sigma")
    check_names(compile_expression("n * w"), ["n", "w"])
    with pytest.raises(ExpressionError) as caught:
        check_names(expr, ["depth", "w", "sigma"])
    assert caught.value.message == "unknown name 'depht' (did you mean 'depth'?)"
    assert caught.value.position == 1


def test_expression_is_immutable_and_cached() -> None:
    expr = compile_expression("n + 1")
    with pytest.raises(dataclasses.FrozenInstanceError):
        expr.text = "n + 2"  # type: ignore[misc]
    assert compile_expression("n + 1") is expr
    assert compile_expression("n + 1", mode="bank") == expr
    assert expr.mode == "bank"


def test_a_list_read_again_gives_the_same_answers_and_another_list_is_still_checked() -> None:
    xs = tuple(0.5**k for k in range(400))
    first, count = compile_expression("first_below(xs, 0.01)"), compile_expression("sum(xs)")
    env = {"xs": xs, "bad": (*xs[:3], "text")}
    assert [first(env), first(env), count(env)] == [8, 8, pytest.approx(2.0)]
    with pytest.raises(ExpressionError, match="needs a list of numbers"):
        compile_expression("sum(bad)")(env)
    assert count(env) == pytest.approx(2.0)


def test_numpy_values_are_read_as_plain_values() -> None:
    env = {
        "arr": np.array([1.0, 0.5, 0.25]),
        "k": np.int64(2),
        "x": np.float32(0.5),
        "rows": [np.float64(1.0), 2],
    }
    assert compile_expression("arr[k] * x")(env) == 0.125
    assert compile_expression("first_below(arr, 0.6)")(env) == 2
    assert compile_expression("sum(rows)")(env) == 3.0
    assert compile_expression("len(tuple_of_numpy)")({"tuple_of_numpy": tuple(np.ones(3))}) == 3
    assert compile_expression("sum(t)")({"t": tuple(np.ones(3))}) == 3.0


def test_unsupported_environment_values_are_reported() -> None:
    with pytest.raises(ExpressionError) as caught:
        compile_expression("obj + 1")({"obj": object()})
    assert caught.value.message == "'obj' holds a value that is not a number, text or list"


def test_nonfinite_values_from_the_environment_propagate() -> None:
    env = {"big": math.inf, "bad": math.nan}
    assert compile_expression("big * 2")(env) == math.inf
    value = compile_expression("bad + 1")(env)
    assert isinstance(value, float)
    assert math.isnan(value)
    assert compile_expression("-big")(env) == -math.inf


def test_unknown_mode_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="mode must be"):
        compile_expression("1", mode="teacher")  # type: ignore[arg-type]


def test_reserved_names_cover_constants_functions_and_keywords() -> None:
    assert {"pi", "e", "true", "if", "sqrt", "first_below", "and", "not"} <= RESERVED_NAMES


def test_normalize_symbols_keeps_positions() -> None:
    text = "9.5×10−4 ÷ 2 · 3 – 1"
    assert normalize_symbols(text) == "9.5*10-4 / 2 * 3 - 1"
    assert len(normalize_symbols(text)) == len(text)


# ---------------------------------------------------------------------------------------------
# Properties

_PIECES = st.sampled_from(
    [
        *"0123456789.eE+-*/^()[],<>=!'\" x×⁻²",
        "**",
        "1e308",
        "9.5",
        "n",
        "w",
        "xs",
        "sim",
        ".grad",
        "act",
        "empty",
        "and",
        "or",
        "not ",
        "if(",
        "sum(",
        "range(",
        "first_below(",
        "round(",
        "sqrt(",
        "max(",
        "inf",
        "nan",
        "true",
    ]
)
_GRAMMARISH = st.lists(_PIECES, max_size=60).map("".join)


def _evaluates_or_explains(text: str, mode: str) -> None:
    try:
        value = compile_expression(text, mode=mode)(ENV)  # type: ignore[arg-type]
    except ExpressionError as error:
        assert error.message != "this expression cannot be evaluated", text
        assert error.position is None or 1 <= error.position <= len(text) + 1
        return
    assert isinstance(value, float | int | bool | str | tuple)


@given(st.one_of(st.text(max_size=300), _GRAMMARISH))
@example("((((((((((((((((((((((((((((((((((((((((1))))))))))))))))))))))))))))))))))))))))")
@example("range(0, 10000)[-1] ^ 1e6")
def test_any_text_compiles_and_evaluates_or_raises_expression_error(text: str) -> None:
    _evaluates_or_explains(text, "bank")
    _evaluates_or_explains(text, "answer")


_FINITE = st.floats(allow_nan=False, allow_infinity=False)


@given(_FINITE, _FINITE, st.sampled_from(["+", "-", "*", "/"]))
def test_arithmetic_matches_python_floats(a: float, b: float, op: str) -> None:
    expected = {"+": a + b, "-": a - b, "*": a * b, "/": a / b if b else math.nan}[op]
    try:
        value = compile_expression(f"a {op} b")({"a": a, "b": b})
    except ExpressionError as error:
        assert error.message == ("division by zero" if b == 0 and op == "/" else "number too large")
        assert b == 0 or math.isinf(expected)
        return
    assert isinstance(value, float)
    assert value == expected or (math.isnan(value) and math.isnan(expected))


@given(st.floats(min_value=1e-3, max_value=1e3), st.floats(min_value=-300, max_value=300))
def test_power_matches_python_floats(base: float, exponent: float) -> None:
    try:
        value = compile_expression("b ^ x")({"b": base, "x": exponent})
    except ExpressionError as error:
        assert error.message == "number too large"
        return
    assert value == base**exponent


@given(_FINITE)
def test_float_repr_round_trips(x: float) -> None:
    value = compile_expression(repr(x))()
    assert value == x
    assert math.copysign(1.0, value) == math.copysign(1.0, x)


def test_text_in_quotes_keeps_its_symbols() -> None:
    assert compile_expression("['k × a', 'x − 1']", mode="bank")({}) == ("k × a", "x − 1")


def test_a_power_that_underflows_is_0_in_a_bank_and_an_error_in_an_answer() -> None:
    assert compile_expression("0.25^600")() == 0.0  # a vanishing gradient, as floats give it
    with pytest.raises(ExpressionError, match="number too small"):
        compile_expression("0.25^600", mode="answer")()
    assert compile_expression("0.5^1074", mode="answer")() == 5e-324  # subnormal, not 0
    assert compile_expression("0^3", mode="answer")() == 0.0
