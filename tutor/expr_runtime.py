"""The runtime of the expression language: value types, limits, and the closures that run.

Each closure builder returns ``run(env) -> value``; :mod:`tutor.expr` parses text straight into
these closures, so evaluation is a few nested calls with no tree walking.
"""

from __future__ import annotations

import math
import operator
import sys
from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import Any, Literal, TypeAlias, cast

from tutor.errors import ExpressionError, close_matches

Value: TypeAlias = float | int | bool | str | tuple["Value", ...]
"""What an expression evaluates to; lists are tuples. Names may also hold mappings (records)."""

Mode: TypeAlias = Literal["answer", "bank"]
Env: TypeAlias = Mapping[str, object]
_Run: TypeAlias = Callable[[Env], Any]
_Op: TypeAlias = Callable[[Any, Any], Any]

MAX_LENGTH: Mapping[str, int] = MappingProxyType({"answer": 200, "bank": 1000})
MAX_DEPTH = 40
MAX_EXPONENT = 1e6  # |y| in x^y; larger exponents are never meaningful in a question
MAX_SEQUENCE = 10_000
MAX_RANGES = 4  # range() is the only source of long lists: this bounds an evaluation's work
_FMAX = sys.float_info.max
_EXACT = 2**53  # whole numbers stay whole under + - * up to here, then become floats
_NO_ENV: Env = MappingProxyType({})

ANSWER_HELP = (
    "use numbers, + - * / ^, parentheses, pi, e and the functions "
    "sqrt, exp, ln, log, log10, log2, abs, min and max"
)
_INTERNAL = "this expression cannot be evaluated"

# ---------------------------------------------------------------------------------------------
# Runtime helpers shared by the closures. Values are float, int, bool, str, tuple or Mapping.


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, tuple):
        return "a list"
    return "a record" if isinstance(value, Mapping) else f"a {type(value).__name__}"


def _number(value: object, what: str, pos: int | None = None) -> float | int:
    """Return an int or float unchanged; anything else (including true/false) is an error."""
    if type(value) is float or type(value) is int:
        return value
    raise ExpressionError(f"{what} needs a number, not {_kind(value)}", position=pos)


def _real(value: object, what: str, pos: int | None = None) -> float:
    number = _number(value, what, pos)
    try:
        return float(number)
    except OverflowError:
        raise ExpressionError("number too large", position=pos) from None


def _whole(value: object, what: str, pos: int | None = None) -> int:
    number = _number(value, what, pos)
    if isinstance(number, int):
        return number
    if math.isfinite(number) and number.is_integer():
        return int(number)
    raise ExpressionError(f"{what} needs a whole number, not {number!r}", position=pos)


def _truth(value: object, what: str, pos: int) -> bool:
    if value is True or value is False:
        return value
    raise ExpressionError(f"{what} needs true or false, not {_kind(value)}", position=pos)


_PLAIN_TYPES = frozenset({float, int, bool, str, tuple, dict})


def _coerce(value: object, name: str, pos: int | None = None) -> object:
    """Turn a value from the environment (lists, NumPy scalars and arrays) into a plain Value."""
    if type(value) in _PLAIN_TYPES:  # the usual values, without the slower checks below
        return value
    if isinstance(value, bool | str | tuple | Mapping):
        return value
    if isinstance(value, float):
        return float(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, list):
        return tuple(_coerce(item, name, pos) for item in value)
    tolist = getattr(value, "tolist", None)  # NumPy scalars and arrays
    if callable(tolist):
        return _coerce(tolist(), name, pos)
    message = f"'{name}' holds a value that is not a number, text or list"
    raise ExpressionError(message, position=pos)


def _suggestion(word: str, candidates: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest candidate, or an empty string."""
    pool = list(candidates)
    lowered = {c.lower(): c for c in pool}
    best = lowered.get(word.lower())
    if best is None:
        close = close_matches(word, pool, n=1, cutoff=0.6)
        best = close[0] if close else None
    return f" (did you mean '{best}'?)" if best else ""


def _unknown_name(name: str, known: Iterable[object]) -> str:
    return f"unknown name '{name}'" + _suggestion(name, (k for k in known if isinstance(k, str)))


def _at(error: ExpressionError, pos: int) -> ExpressionError:
    """Give a position to an error raised by a function body, which does not know where it is."""
    if error.position is not None:
        return error
    return ExpressionError(error.message, position=pos)


def _arith(op: _Op, sym: str, x: object, y: object, pos: int) -> float | int:
    """x op y for + - * /: whole numbers stay whole while exact, overflow is an error."""
    tx, ty = type(x), type(y)
    if (tx is float and (ty is float or ty is int)) or (tx is int and ty is float):
        try:
            result = op(x, y)
        except (ZeroDivisionError, OverflowError):
            return _arith_checked(op, sym, x, y, pos)  # explains the failure
        if -_FMAX <= result <= _FMAX:
            return cast(float, result)
    elif tx is int and ty is int and op is not operator.truediv:
        exact = op(x, y)
        if -_EXACT <= exact <= _EXACT:
            return cast(int, exact)
    return _arith_checked(op, sym, x, y, pos)


def _arith_checked(op: _Op, sym: str, x: object, y: object, pos: int) -> float:
    """The slow path of :func:`_arith`: check types, compute in floats, explain failures."""
    a, b = float(_number(x, f"'{sym}'", pos)), _number(y, f"'{sym}'", pos)
    try:
        result = cast(float, op(a, float(b)))
    except ZeroDivisionError:
        raise ExpressionError("division by zero", position=pos) from None
    except OverflowError:
        raise ExpressionError("number too large", position=pos) from None
    if not -_FMAX <= result <= _FMAX and math.isfinite(a) and math.isfinite(b):
        raise ExpressionError("number too large", position=pos)
    return result


def _power(x: float, y: float, pos: int) -> float:
    """x ** y in floats: overflow, huge exponents and complex results are errors."""
    try:
        result = x**y
    except OverflowError:
        raise ExpressionError("number too large", position=pos) from None
    except ZeroDivisionError:
        raise ExpressionError("division by zero", position=pos) from None
    if not -MAX_EXPONENT <= y <= MAX_EXPONENT and math.isfinite(y):
        raise ExpressionError("exponent too large", position=pos)
    if type(result) is not float:  # a negative base to a fractional power gives a complex
        message = "a negative number to a fractional power is not a real number"
        raise ExpressionError(message, position=pos)
    return result


def _equal(x: object, y: object) -> bool:
    if isinstance(x, bool) != isinstance(y, bool):
        return False
    return bool(x == y)


# ---------------------------------------------------------------------------------------------
# Closures. Each builder returns run(env) -> value; the hot ones have an inline float fast path.


def _const(value: object) -> _Run:
    def run(_env: Env) -> object:
        return value

    return run


def _lookup(name: str, pos: int) -> _Run:
    def run(env: Env) -> object:
        try:
            value = env[name]
        except KeyError:
            raise ExpressionError(_unknown_name(name, env), position=pos) from None
        if type(value) is float or type(value) is int:
            return value
        return _coerce(value, name, pos)

    return run


def _binary(op: _Op, sym: str, a: _Run, b: _Run, pos: int) -> _Run:
    def run(env: Env) -> object:
        return _arith(op, sym, a(env), b(env), pos)

    return run


def _chain(first: _Run, rest: list[tuple[_Op, str, _Run, int]]) -> _Run:
    """A run of three or more + - or * / operands, evaluated left to right without recursion."""

    def run(env: Env) -> object:
        acc = first(env)
        for op, sym, operand, pos in rest:
            acc = _arith(op, sym, acc, operand(env), pos)
        return acc

    return run


def _pow(a: _Run, b: _Run, sym: str, pos: int, *, nonzero: bool = False) -> _Run:
    """x^y; with ``nonzero``, a power of x != 0 that underflows to 0 is an error."""

    def run(env: Env) -> object:
        x, y = a(env), b(env)
        if type(x) is not float:
            x = _real(x, f"'{sym}'", pos)
        if type(y) is int and -_EXACT <= y <= _EXACT:
            y = float(y)  # 0.25 ** n: never an int power, which could grow without bound
        elif type(y) is not float:
            y = _real(y, f"'{sym}'", pos)
        if x > 0.0 and -MAX_EXPONENT <= y <= MAX_EXPONENT:
            try:
                result = x**y
            except OverflowError:
                result = _power(x, y, pos)  # raises it, with a message
        else:
            result = _power(x, y, pos)
        if nonzero and result == 0.0 and x != 0.0:
            raise ExpressionError("number too small", position=pos)
        return result

    return run


def _sign(a: _Run, sym: str, pos: int, negate: bool) -> _Run:
    def run(env: Env) -> object:
        x = _number(a(env), f"'{sym}'", pos)
        return -x if negate else x

    return run


def _compare(op: _Op, sym: str, a: _Run, b: _Run, pos: int) -> _Run:
    def run(env: Env) -> object:
        x, y = a(env), b(env)
        if op is _equal or op is _unequal:
            return op(x, y)
        return op(_number(x, f"'{sym}'", pos), _number(y, f"'{sym}'", pos))

    return run


def _unequal(x: object, y: object) -> bool:
    return not _equal(x, y)


def _logic(is_and: bool, parts: list[tuple[_Run, str, int]]) -> _Run:
    """``and``/``or`` over two or more operands, short-circuiting like Python's."""

    def run(env: Env) -> object:
        for operand, sym, pos in parts:
            if _truth(operand(env), f"'{sym}'", pos) is not is_and:
                return not is_and
        return is_and

    return run


def _not(a: _Run, pos: int) -> _Run:
    def run(env: Env) -> object:
        return not _truth(a(env), "'not'", pos)

    return run


def _if(cond: _Run, then: _Run, other: _Run, pos: int) -> _Run:
    def run(env: Env) -> object:
        return then(env) if _truth(cond(env), "if()", pos) else other(env)

    return run


def _field(a: _Run, key: str, base: str, pos: int) -> _Run:
    def run(env: Env) -> object:
        record = a(env)
        if type(record) is not dict and not isinstance(record, Mapping):
            message = f"'{base}' is {_kind(record)}, so it has no field '{key}'"
            raise ExpressionError(message, position=pos)
        try:
            value = record[key]
        except KeyError:
            hint = _suggestion(key, (k for k in record if isinstance(k, str)))
            raise ExpressionError(f"'{base}' has no field '{key}'{hint}", position=pos) from None
        return _coerce(value, f"{base}.{key}", pos)

    return run


def _index(a: _Run, i: _Run, pos: int) -> _Run:
    def run(env: Env) -> object:
        items, k = a(env), i(env)
        if type(items) is not tuple:
            raise ExpressionError(f"cannot index {_kind(items)}", position=pos)
        n = _whole(k, "a list index", pos)
        if not -len(items) <= n < len(items):
            message = f"index {n} is out of range for a list of length {len(items)}"
            raise ExpressionError(message, position=pos)
        return items[n]

    return run


def _list(items: list[_Run], pos: int) -> _Run:
    def run(env: Env) -> object:
        built = tuple(item(env) for item in items)
        if _count_items(built) > MAX_SEQUENCE:
            raise ExpressionError(
                f"list too long (the limit is {MAX_SEQUENCE} numbers in all)", position=pos
            )
        return built

    return run


def _count_items(value: object, limit: int = MAX_SEQUENCE) -> int:
    """The numbers in a nested list, counted up to just past ``limit``: lists of lists of the
    same list ten times over hold exponentially many while costing nothing to build, and
    only showing them in a text would pay."""
    if type(value) is not tuple:
        return 1
    total = 0
    for item in value:
        total += _count_items(item, limit - total)
        if total > limit:
            break
    return total


def _call(body: Callable[..., object], args: list[_Run], pos: int) -> _Run:
    """Evaluate the arguments, then the function body; its errors get the call's position."""
    single = args[0] if len(args) == 1 else None

    def run(env: Env) -> object:
        try:
            if single is not None:
                return body(single(env))
            return body(*[arg(env) for arg in args])
        except ExpressionError as error:
            raise _at(error, pos) from None
        except OverflowError:
            raise ExpressionError("number too large", position=pos) from None

    return run
