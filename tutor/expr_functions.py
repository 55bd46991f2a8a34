"""The functions formulas and answers may call: math, list summaries and thresholds."""

from __future__ import annotations

import collections
import math
import operator
from collections.abc import Callable, Iterable, Mapping
from contextlib import suppress
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation
from itertools import compress, count, repeat
from typing import Any, NamedTuple, cast

from tutor.errors import ExpressionError
from tutor.expr_runtime import _FMAX, MAX_SEQUENCE, _coerce, _kind, _number, _real, _whole

# ---------------------------------------------------------------------------------------------
# Function bodies: take evaluated values, return a value, raise ExpressionError without position.


# The last few lists found to hold only numbers: a variant's formulas often read a long list or
# two (a 400-layer chain's products) several times, recent chains are reused from variant to
# variant, and a tuple never changes. Held by identity, so a list is checked once.
_checked: collections.deque[tuple[float | int, ...]] = collections.deque(maxlen=8)
_WORTH_REMEMBERING = 32


def _numbers(values: object, name: str) -> tuple[float | int, ...]:
    """A list of numbers (plain ints and floats) or an error naming the function."""
    if type(values) is not tuple:
        raise ExpressionError(f"{name} needs a list, not {_kind(values)}")
    long = len(values) >= _WORTH_REMEMBERING  # short lists, such as min(a, b)'s, come and go
    if long and any(values is seen for seen in _checked):
        return cast(tuple[float | int, ...], values)
    if not set(map(type, values)) <= {int, float}:
        values = tuple(_coerce(v, name) for v in values)  # NumPy scalars inside a tuple
        if not set(map(type, values)) <= {int, float}:
            raise ExpressionError(f"{name} needs a list of numbers")
    numbers = cast(tuple[float | int, ...], values)
    if long:
        _checked.append(numbers)
    return numbers


def _finite_result(result: float, inputs: Iterable[float]) -> float:
    if not -_FMAX <= result <= _FMAX and all(map(math.isfinite, inputs)):
        raise ExpressionError("number too large")
    return result


def _unary(name: str, body: Callable[[float], object]) -> Callable[[object], object]:
    def run(x: object) -> object:
        return body(_real(x, name))

    return run


def _sqrt(x: float) -> float:
    if x < 0:
        raise ExpressionError("cannot take sqrt of a negative number")
    return math.sqrt(x)


def _logarithm(name: str, body: Callable[[float], float]) -> Callable[[float], float]:
    def run(x: float) -> float:
        if x <= 0:
            raise ExpressionError(f"cannot take {name} of zero or a negative number")
        return body(x)

    return run


def _to_int(name: str, body: Callable[[float], int]) -> Callable[[float], int]:
    def run(x: float) -> int:
        if not math.isfinite(x):
            raise ExpressionError(f"cannot take {name} of a number that is not finite")
        return body(x)

    return run


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)  # stable for large negative x
    return z / (1.0 + z)


def _abs(x: object) -> float | int:
    return abs(_number(x, "abs"))


_DECIMAL = Context(prec=40, rounding=ROUND_HALF_UP)


def _round(x: object, ndigits: object = None) -> float | int:
    """Round half away from zero on the number as written (round(2.675, 2) is 2.68)."""
    value = _real(x, "round")
    if not math.isfinite(value):
        raise ExpressionError("cannot round a number that is not finite")
    digits = 0 if ndigits is None else max(-400, min(400, _whole(ndigits, "round")))
    exact = Decimal(repr(value))
    with suppress(InvalidOperation):  # more digits than a float holds: already rounded
        exact = exact.quantize(Decimal(1).scaleb(-digits, _DECIMAL), context=_DECIMAL)
    return int(exact) if ndigits is None else float(exact)


def _extreme(name: str, pick: Callable[[Iterable[float | int]], float | int]) -> Any:
    def run(*args: object) -> float | int:
        values = args[0] if len(args) == 1 and type(args[0]) is tuple else args
        numbers = _numbers(values, name)
        if not numbers:
            raise ExpressionError(f"cannot take {name} of an empty list")
        return pick(numbers)

    return run


def _sum(values: object) -> float:
    numbers = _numbers(values, "sum")
    try:
        return math.fsum(numbers)
    except ValueError:  # inf + -inf
        return math.nan


def _prod(values: object) -> float:
    numbers = _numbers(values, "prod")
    return _finite_result(math.prod(map(float, numbers)), map(float, numbers))


def _mean(values: object) -> float:
    numbers = _numbers(values, "mean")
    if not numbers:
        raise ExpressionError("cannot take mean of an empty list")
    return _sum(numbers) / len(numbers)


def _norm(values: object) -> float:
    return math.hypot(*_numbers(values, "norm"))


def _len(values: object) -> int:
    if type(values) is not tuple:
        raise ExpressionError(f"len needs a list, not {_kind(values)}")
    return len(values)


def _position(name: str, pick: Callable[..., float | int]) -> Callable[[object], int]:
    """argmax/argmin: the 1-based position of the first largest or smallest number."""

    def run(values: object) -> int:
        numbers = _numbers(values, name)
        if not numbers:
            raise ExpressionError(f"cannot take {name} of an empty list")
        return numbers.index(pick(numbers)) + 1

    return run


def _threshold(name: str, below: bool, first: bool) -> Callable[[object, object], int]:
    """first_below/first_above (1-based, 0 if none) and count_below/count_above, on abs values.

    Built from C-level iterators, so a list of 10,000 numbers costs well under a millisecond.
    """
    test = operator.gt if below else operator.lt  # t > abs(v) or t < abs(v)

    def run(values: object, limit: object) -> int:
        numbers, t = _numbers(values, name), _real(limit, name)
        hits = map(test, repeat(t), map(abs, numbers))
        return next(compress(count(1), hits), 0) if first else sum(hits)

    return run


def _range(start: object, stop: object) -> tuple[int, ...]:
    low, high = _whole(start, "range"), _whole(stop, "range")
    if high - low > MAX_SEQUENCE:
        raise ExpressionError(f"range is too long (the limit is {MAX_SEQUENCE} numbers)")
    return tuple(range(low, high))


def _clip(x: object, low: object, high: object) -> float | int:
    value, lo, hi = _number(x, "clip"), _number(low, "clip"), _number(high, "clip")
    if lo > hi:
        raise ExpressionError("clip needs its lower bound first (clip(x, low, high))")
    return min(max(value, lo), hi)


class _Spec(NamedTuple):
    body: Callable[..., object]
    low: int  # fewest arguments
    high: int | None  # most arguments, None for any number
    answer: bool  # also allowed in what a learner types


def _math(name: str, body: Callable[[float], object]) -> _Spec:
    return _Spec(_unary(name, body), 1, 1, name in ANSWER_FUNCTIONS)


ANSWER_FUNCTIONS = frozenset({"sqrt", "exp", "ln", "log", "log10", "log2", "abs", "min", "max"})
_FUNCTIONS: Mapping[str, _Spec] = {
    "sqrt": _math("sqrt", _sqrt),
    "exp": _math("exp", math.exp),
    "ln": _math("ln", _logarithm("ln", math.log)),
    "log": _math("log", _logarithm("log", math.log)),
    "log10": _math("log10", _logarithm("log10", math.log10)),
    "log2": _math("log2", _logarithm("log2", math.log2)),
    "abs": _Spec(_abs, 1, 1, True),
    "min": _Spec(_extreme("min", min), 1, None, True),
    "max": _Spec(_extreme("max", max), 1, None, True),
    "floor": _math("floor", _to_int("floor", math.floor)),
    "ceil": _math("ceil", _to_int("ceil", math.ceil)),
    "round": _Spec(_round, 1, 2, False),
    "tanh": _math("tanh", math.tanh),
    "sigmoid": _math("sigmoid", _sigmoid),
    "clip": _Spec(_clip, 3, 3, False),
    "sum": _Spec(_sum, 1, 1, False),
    "prod": _Spec(_prod, 1, 1, False),
    "mean": _Spec(_mean, 1, 1, False),
    "norm": _Spec(_norm, 1, 1, False),
    "len": _Spec(_len, 1, 1, False),
    "argmax": _Spec(_position("argmax", max), 1, 1, False),
    "argmin": _Spec(_position("argmin", min), 1, 1, False),
    "first_below": _Spec(_threshold("first_below", True, True), 2, 2, False),
    "first_above": _Spec(_threshold("first_above", False, True), 2, 2, False),
    "count_below": _Spec(_threshold("count_below", True, False), 2, 2, False),
    "count_above": _Spec(_threshold("count_above", False, False), 2, 2, False),
    "range": _Spec(_range, 2, 2, False),
}
BANK_FUNCTIONS = frozenset({*_FUNCTIONS, "if"})
_CONSTANTS: Mapping[str, Mapping[str, object]] = {
    "answer": {"pi": math.pi, "e": math.e},
    "bank": {"pi": math.pi, "e": math.e, "inf": math.inf, "nan": math.nan}
    | {"true": True, "false": False},
}
RESERVED_NAMES = frozenset({*_CONSTANTS["bank"], *BANK_FUNCTIONS, "and", "or", "not"})
