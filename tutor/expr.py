"""A small, safe, bounded expression language for learners' answers and question banks.

One grammar serves two modes. In ``"answer"`` mode the text is what a learner typed: numbers,
arithmetic, ``pi``, ``e`` and a few functions. In ``"bank"`` mode (banks are untrusted input
written by teachers) it adds names, fields (``sim.grad``), indexing, comparisons, ``and``/``or``/
``not``, strings, lists and list functions.

Text is tokenized and parsed by hand, never with ``eval`` or Python's ``ast``, and compiled once
into nested closures, so a compiled expression evaluates in well under a microsecond per
operation. Everything is bounded (text length, nesting depth, exponent size, sequence length)
and every failure is an :class:`~tutor.errors.ExpressionError` written for the person who typed
the text. Positions, in messages and in ``ExpressionError.position``, count characters from 1.
"""

from __future__ import annotations

import difflib
import math
import operator
import re
import sys
from collections.abc import Callable, Iterable, Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation
from functools import lru_cache
from itertools import compress, count, repeat
from types import MappingProxyType
from typing import Any, Literal, NamedTuple, TypeAlias, cast

from tutor.errors import ExpressionError

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
# Lexing. Look-alike symbols are mapped one character to one, so positions stay those typed.

_SYMBOLS = str.maketrans(
    {
        **dict.fromkeys("\u2212\u2010\u2011\u2012\u2013\u2014\ufe63\uff0d", "-"),
        **dict.fromkeys("\u00d7\u00b7\u22c5\u2219\u2217", "*"),
        **dict.fromkeys("\u00f7\u2215\u2044", "/"),
    }
)
_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻", "0123456789+-")
_LEXEME = re.compile(
    r"""(?P<num>(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)
      | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<sup>[⁺⁻]?[⁰¹²³⁴⁵⁶⁷⁸⁹]+)
      | (?P<str>"[^"]*"|'[^']*')
      | (?P<op>\*\*|<=|>=|==|!=|[-+*/^()\[\],.<>≤≥≠])""",
    re.VERBOSE,
)
_SPACE = re.compile(r"\s+")
_TIMES_X = re.compile(r"\s*[xX](?![A-Za-z_])")  # 9.5 x 10^-4: after a number, x multiplies
_OTHER_BASE = re.compile(r"[xXbBoO][0-9A-Fa-f]")
_CANONICAL = {"**": "^", "≤": "<=", "≥": ">=", "≠": "!="}


def normalize_symbols(text: str) -> str:
    """Map minus, times and division look-alikes (−, –, ×, ·, ÷ ...) to ``- * /``, 1 to 1."""
    return text.translate(_SYMBOLS)


class _Token(NamedTuple):
    kind: str  # "num", "name", "str", "sup", "op" or "end"
    value: str  # canonical spelling: operator, name, string contents or number
    text: str  # as typed, for messages
    pos: int  # 0-based index into the text
    num: float = 0.0  # value of a "num" or "sup" token


def _shown(text: str) -> str:
    return text if len(text) <= 24 else text[:20] + "..."


def _tokenize(text: str) -> list[_Token]:
    """Split text into tokens, ending with an "end" token; raise on a character out of grammar."""
    norm = normalize_symbols(text)
    tokens: list[_Token] = []
    i = 0
    while True:
        space = _SPACE.match(norm, i)
        i = space.end() if space else i
        if i >= len(norm):
            break
        match = _LEXEME.match(norm, i)
        if match is None:
            raise _bad_character(text, i)
        tok = _token(match, text)
        tokens.append(tok)
        i = match.end()
        if tok.kind in ("num", "sup") or (tok.kind == "op" and tok.value == ")"):
            i = _times_x(norm, i, tok, tokens)
    tokens.append(_Token("end", "", "", len(norm)))
    return tokens


def _token(match: re.Match[str], text: str) -> _Token:
    kind = cast(str, match.lastgroup)
    raw, pos, typed = match.group(), match.start(), text[match.start() : match.end()]
    if kind == "num":
        value = float(raw)
        if value == math.inf:
            raise ExpressionError("number too large", position=pos + 1)
        if value == 0.0 and raw.lower().split("e")[0].strip("0.") != "":
            raise ExpressionError("number too small", position=pos + 1)  # 1e-400, not 0
        return _Token(kind, raw, typed, pos, value)
    if kind == "sup":
        exponent = raw.translate(_SUPERSCRIPTS)
        return _Token(kind, exponent, typed, pos, float(exponent))
    if kind == "str":
        return _Token(kind, raw[1:-1], typed, pos)
    return _Token(kind, _CANONICAL.get(raw, raw), typed, pos)


def _times_x(norm: str, i: int, tok: _Token, tokens: list[_Token]) -> int:
    """After a number or ')', read an ``x`` that stands for multiplication; reject ``0x10``."""
    if tok.kind == "num" and tok.value == "0" and _OTHER_BASE.match(norm, i):
        word = re.match(r"[0-9A-Za-z_]*", norm[i:])
        shown = _shown("0" + (word.group() if word else ""))
        raise ExpressionError(
            f"only decimal numbers are supported: '{shown}' at position {tok.pos + 1}",
            position=tok.pos + 1,
        )
    match = _TIMES_X.match(norm, i)
    if match is None:
        return i
    at = match.end() - 1
    tokens.append(_Token("op", "*", norm[at], at))
    return match.end()


def _bad_character(text: str, i: int) -> ExpressionError:
    ch = text[i]
    if ch in "\"'":
        message = f"unterminated string starting at position {i + 1}"
    elif ch == "=":
        message = f"unexpected '=' at position {i + 1} (use '==' to compare)"
    else:
        shown = ch if ch.isprintable() else f"U+{ord(ch):04X}"
        message = f"unexpected character '{shown}' at position {i + 1}"
    return ExpressionError(message, position=i + 1)


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


def _coerce(value: object, name: str, pos: int | None = None) -> object:
    """Turn a value from the environment (lists, NumPy scalars and arrays) into a plain Value."""
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
        close = difflib.get_close_matches(word, pool, n=1, cutoff=0.6)
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


def _pow(a: _Run, b: _Run, sym: str, pos: int) -> _Run:
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
                return x**y
            except OverflowError:
                pass  # _power raises it with a message
        return _power(x, y, pos)

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
        if not isinstance(record, Mapping):
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


def _list(items: list[_Run]) -> _Run:
    def run(env: Env) -> object:
        return tuple(item(env) for item in items)

    return run


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


# ---------------------------------------------------------------------------------------------
# Function bodies: take evaluated values, return a value, raise ExpressionError without position.


def _numbers(values: object, name: str) -> tuple[float | int, ...]:
    """A list of numbers (plain ints and floats) or an error naming the function."""
    if type(values) is not tuple:
        raise ExpressionError(f"{name} needs a list, not {_kind(values)}")
    if not set(map(type, values)) <= {int, float}:
        values = tuple(_coerce(v, name) for v in values)  # NumPy scalars inside a tuple
        if not set(map(type, values)) <= {int, float}:
            raise ExpressionError(f"{name} needs a list of numbers")
    return cast(tuple[float | int, ...], values)


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

# ---------------------------------------------------------------------------------------------
# Parsing: precedence climbing straight into closures.

_OR, _AND, _NOT, _CMP, _ADD, _MUL, _POW = 1, 2, 3, 4, 5, 6, 8
_INFIX = {"or": _OR, "and": _AND, "+": _ADD, "-": _ADD, "*": _MUL, "/": _MUL, "^": _POW}
_INFIX |= dict.fromkeys(("<", "<=", ">", ">=", "==", "!="), _CMP)
_ARITH: Mapping[str, _Op] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
}
_COMPARE: Mapping[str, _Op] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": _equal,
    "!=": _unequal,
}


class _Node(NamedTuple):
    run: _Run
    start: int  # 0-based span in the text
    end: int
    const: float | None = None  # value of a number literal, possibly signed or 10^k
    literal: str = ""  # spelling of a number literal, for exact scientific notation
    pow10: int | None = None  # k when the node is the literal 10^k


def _infix(tok: _Token) -> int:
    if tok.kind == "op" or (tok.kind == "name" and tok.value in ("and", "or")):
        return _INFIX.get(tok.value, -1)
    return -1


def _number_node(value: float, start: int, end: int, literal: str = "") -> _Node:
    """A number literal; a whole one (``3``, ``-1``) is an int, so ``n + 1`` stays whole."""
    digits = literal.lstrip("+-")
    whole = digits.isdigit() and value.is_integer() and abs(value) <= _EXACT
    return _Node(_const(int(value) if whole else value), start, end, const=value, literal=literal)


def _power_node(base: _Node, exponent: _Node, tok: _Token) -> _Node:
    """x^y; the literal 10^k is folded to the float 1ek, so 9.5×10^-4 equals 9.5e-4 exactly."""
    end = max(exponent.end, tok.pos + len(tok.text))
    k = exponent.const
    if base.const == 10.0 and k is not None and k.is_integer() and abs(k) <= 400:
        value = float(f"1e{int(k)}")
        if value == math.inf:
            raise ExpressionError("number too large", position=tok.pos + 1)
        return _Node(_const(value), base.start, end, const=value, pow10=int(k))
    return _Node(_pow(base.run, exponent.run, tok.text, tok.pos + 1), base.start, end)


def _chain_node(first: _Node, parts: list[tuple[_Token, _Node]]) -> _Node:
    end = parts[-1][1].end
    if len(parts) == 1:
        tok, second = parts[0]
        mantissa = first.literal
        if tok.value == "*" and second.pow10 is not None and mantissa and "e" not in mantissa:
            value = float(f"{mantissa}e{second.pow10}")
            if abs(value) == math.inf:
                raise ExpressionError("number too large", position=tok.pos + 1)
            return _number_node(value, first.start, end)
        run = _binary(_ARITH[tok.value], tok.text, first.run, second.run, tok.pos + 1)
        return _Node(run, first.start, end)
    rest = [(_ARITH[t.value], t.text, node.run, t.pos + 1) for t, node in parts]
    return _Node(_chain(first.run, rest), first.start, end)


class _Parser:
    """Recursive descent over the tokens of one text; ``names`` collects free names."""

    def __init__(self, text: str, mode: Mode) -> None:
        self.text = text
        self.mode = mode
        self.tokens = _tokenize(text)
        self.i = 0
        self.depth = 0
        self.names: dict[str, int] = {}  # free name -> position of its first use
        self.ranges = 0

    def peek(self) -> _Token:
        return self.tokens[self.i]

    def take(self) -> _Token:
        tok = self.tokens[self.i]
        self.i += tok.kind != "end"
        return tok

    def is_op(self, value: str) -> bool:
        tok = self.tokens[self.i]
        return tok.kind == "op" and tok.value == value

    def parse(self) -> _Node:
        if self.peek().kind == "end":
            raise ExpressionError("empty expression", position=1)
        node = self.expr(0)
        if self.peek().kind != "end":
            raise self.stray(self.peek())
        return node

    def expr(self, min_prec: int) -> _Node:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            message = f"expression nested too deeply (the limit is {MAX_DEPTH} levels)"
            raise ExpressionError(message, position=self.peek().pos + 1)
        node = self.prefix()
        while (prec := _infix(self.peek())) >= min_prec:
            node = self.infix(node, prec)
        self.depth -= 1
        return node

    def infix(self, left: _Node, prec: int) -> _Node:
        if prec == _POW:
            tok = self.take()
            return _power_node(left, self.expr(_POW), tok)
        if prec == _CMP:
            return self.compare(left)
        parts: list[tuple[_Token, _Node]] = []
        while _infix(self.peek()) == prec:
            tok = self.take()
            if prec < _CMP:
                self.bank_only(tok)
            parts.append((tok, self.expr(prec + 1)))
        if prec in (_ADD, _MUL):
            return _chain_node(left, parts)
        logic = [(left.run, parts[0][0].value, parts[0][0].pos + 1)]
        logic += [(node.run, tok.value, tok.pos + 1) for tok, node in parts]
        return _Node(_logic(prec == _AND, logic), left.start, parts[-1][1].end)

    def compare(self, left: _Node) -> _Node:
        tok = self.take()
        self.bank_only(tok)
        right = self.expr(_CMP + 1)
        if _infix(self.peek()) == _CMP:
            message = "chained comparisons are not supported: write a < b and b < c"
            raise ExpressionError(message, position=self.peek().pos + 1)
        run = _compare(_COMPARE[tok.value], tok.text, left.run, right.run, tok.pos + 1)
        return _Node(run, left.start, right.end)

    def prefix(self) -> _Node:
        tok = self.peek()
        if tok.kind == "op" and tok.value in ("+", "-"):
            self.take()
            return self.signed(tok, self.expr(_POW))
        if tok.kind == "name" and tok.value == "not":
            self.bank_only(tok)
            self.take()
            operand = self.expr(_NOT)
            return _Node(_not(operand.run, tok.pos + 1), tok.pos, operand.end)
        return self.postfix(self.atom())

    def signed(self, tok: _Token, operand: _Node) -> _Node:
        negate = tok.value == "-"
        if operand.const is not None:
            value = -operand.const if negate else operand.const
            literal = operand.literal if operand.literal[:1] not in ("", "-") else ""
            return _number_node(value, tok.pos, operand.end, tok.value * bool(literal) + literal)
        return _Node(_sign(operand.run, tok.text, tok.pos + 1, negate), tok.pos, operand.end)

    def postfix(self, node: _Node) -> _Node:
        while True:
            tok = self.peek()
            if tok.kind == "sup":
                self.take()
                exponent = _number_node(tok.num, tok.pos, tok.pos + len(tok.text))
                node = _power_node(node, exponent, tok)
            elif self.is_op(".") or self.is_op("["):
                self.bank_only(self.take())
                node = self.field(node, tok) if tok.value == "." else self.index(node, tok)
            else:
                return node

    def field(self, base: _Node, dot: _Token) -> _Node:
        key = self.take()
        if key.kind != "name":
            raise self.missing_operand(key, "a field name")
        base_text = _shown(self.text[base.start : base.end])
        end = key.pos + len(key.text)
        return _Node(_field(base.run, key.value, base_text, dot.pos + 1), base.start, end)

    def index(self, base: _Node, bracket: _Token) -> _Node:
        position = self.expr(0)
        close = self.expect("]", bracket)
        run = _index(base.run, position.run, bracket.pos + 1)
        return _Node(run, base.start, close.pos + 1)

    def atom(self) -> _Node:
        tok = self.take()
        end = tok.pos + len(tok.text)
        if tok.kind == "num":
            return _number_node(tok.num, tok.pos, end, tok.value)
        if tok.kind == "name":
            return self.name(tok)
        if tok.kind == "str":
            self.bank_only(tok, "text in quotes")
            return _Node(_const(tok.value), tok.pos, end)
        if tok.kind == "op" and tok.value == "(":
            inner = self.expr(0)
            close = self.expect(")", tok)
            return inner._replace(start=tok.pos, end=close.pos + 1)
        if tok.kind == "op" and tok.value == "[":
            self.bank_only(tok)
            items, close = self.arguments(tok, "]")
            return _Node(_list([item.run for item in items]), tok.pos, close.pos + 1)
        raise self.missing_operand(tok)

    def name(self, tok: _Token) -> _Node:
        end = tok.pos + len(tok.text)
        if self.is_op("("):
            return self.call(tok)
        key = tok.value.lower() if self.mode == "answer" else tok.value
        constants = _CONSTANTS[self.mode]
        if key in constants:
            return _Node(_const(constants[key]), tok.pos, end, const=_float_or_none(constants[key]))
        if key in ("and", "or"):
            raise self.stray(tok)
        if key in BANK_FUNCTIONS:
            message = f"'{tok.text}' is a function: write {tok.text}(...)"
            raise ExpressionError(message, position=tok.pos + 1)
        if self.mode == "answer":
            hint = _suggestion(tok.value, constants)
            if hint:
                raise ExpressionError(f"unknown name '{tok.text}'{hint}", position=tok.pos + 1)
            self.bank_only(tok)
        self.names.setdefault(tok.value, tok.pos + 1)
        return _Node(_lookup(tok.value, tok.pos + 1), tok.pos, end)

    def call(self, tok: _Token) -> _Node:
        key = tok.value.lower() if self.mode == "answer" else tok.value
        if key not in BANK_FUNCTIONS:
            allowed = ANSWER_FUNCTIONS if self.mode == "answer" else BANK_FUNCTIONS
            hint = _suggestion(tok.value, sorted(allowed))
            raise ExpressionError(f"unknown function '{tok.text}'{hint}", position=tok.pos + 1)
        if key not in ANSWER_FUNCTIONS:
            self.bank_only(tok)
        self.ranges += key == "range"
        if self.ranges > MAX_RANGES:
            message = f"too many range() calls (the limit is {MAX_RANGES} in one expression)"
            raise ExpressionError(message, position=tok.pos + 1)
        args, close = self.arguments(self.take(), ")")
        spec = _FUNCTIONS.get(key, _Spec(_if, 3, 3, False))
        _check_arity(key, len(args), spec, tok.pos + 1)
        runs, pos = [arg.run for arg in args], tok.pos + 1
        run = _if(runs[0], runs[1], runs[2], pos) if key == "if" else _call(spec.body, runs, pos)
        return _Node(run, tok.pos, close.pos + 1)

    def arguments(self, opener: _Token, closer: str) -> tuple[list[_Node], _Token]:
        items: list[_Node] = []
        if self.is_op(closer):
            return items, self.take()
        while True:
            items.append(self.expr(0))
            if not self.is_op(","):
                return items, self.expect(closer, opener)
            self.take()

    def expect(self, closer: str, opener: _Token) -> _Token:
        if self.is_op(closer):
            return self.take()
        if self.peek().kind == "end":
            message = f"missing '{closer}' to close '{opener.text}' at position {opener.pos + 1}"
            raise ExpressionError(message, position=opener.pos + 1)
        raise self.stray(self.peek())

    def stray(self, tok: _Token) -> ExpressionError:
        """A token where an operator or the end was expected."""
        starts = tok.kind in ("num", "name", "str") or tok.value in ("(", "[")
        if starts and tok.value not in ("and", "or"):
            message = f"missing operator before '{_shown(tok.text)}' at position {tok.pos + 1}"
        else:
            message = f"unexpected '{_shown(tok.text)}' at position {tok.pos + 1}"
        return ExpressionError(message, position=tok.pos + 1)

    def missing_operand(self, tok: _Token, what: str = "") -> ExpressionError:
        """A token where a number, name or '(' was expected."""
        if tok.kind != "end":
            return self.stray(tok) if tok.kind != "op" else self.unexpected(tok)
        prev = self.tokens[-2]
        what = what or ("a number" if self.mode == "answer" else "a value")
        message = f"missing {what} after '{_shown(prev.text)}' at position {prev.pos + 1}"
        return ExpressionError(message, position=prev.pos + 1)

    def unexpected(self, tok: _Token) -> ExpressionError:
        message = f"unexpected '{_shown(tok.text)}' at position {tok.pos + 1}"
        return ExpressionError(message, position=tok.pos + 1)

    def bank_only(self, tok: _Token, what: str = "") -> None:
        if self.mode == "answer":
            shown = what or f"'{_shown(tok.text)}'"
            message = f"{shown} is not allowed in an answer; {ANSWER_HELP}"
            raise ExpressionError(message, position=tok.pos + 1)


def _float_or_none(value: object) -> float | None:
    return value if type(value) is float else None


def _check_arity(name: str, count: int, spec: _Spec, pos: int) -> None:
    low, high = spec.low, spec.high
    if low <= count and (high is None or count <= high):
        return
    if high is None:
        wanted = f"at least {low} argument" + "s" * (low != 1)
    elif low == high:
        wanted = f"{low} argument" + "s" * (low != 1)
    else:
        wanted = f"{low} or {high} arguments"
    raise ExpressionError(f"{name}() takes {wanted}, not {count}", position=pos)


# ---------------------------------------------------------------------------------------------
# Public API.


@dataclass(frozen=True)
class Expression:
    """A compiled expression: call it with a mapping of names to values to evaluate it.

    ``names`` holds the free names it reads (``sim`` for ``sim.grad``), for load-time checks.
    """

    text: str
    mode: Mode
    names: frozenset[str]
    _run: _Run = field(repr=False, compare=False)
    _first_use: tuple[tuple[str, int], ...] = field(repr=False, compare=False, default=())

    def __call__(self, env: Mapping[str, object] = _NO_ENV) -> Value:
        try:
            result = self._run(env)
        except ExpressionError:
            raise
        except RecursionError:  # only when called from an already deep stack
            raise ExpressionError("expression nested too deeply") from None
        except (ArithmeticError, ValueError, TypeError):  # a safety net: none are expected
            raise ExpressionError(_INTERNAL) from None
        if type(result) is float:
            return result
        if isinstance(result, Mapping):
            raise ExpressionError("the result is a record: pick one of its fields with '.'")
        return cast(Value, result)


def compile_expression(text: str, *, mode: Mode = "bank") -> Expression:
    """Parse ``text`` once into a fast, safe :class:`Expression`; raise ExpressionError."""
    if mode not in ("answer", "bank"):
        raise ValueError(f"mode must be 'answer' or 'bank', not {mode!r}")
    return _compile(text, mode)


@lru_cache(maxsize=4096)
def _compile(text: str, mode: Mode) -> Expression:
    limit = MAX_LENGTH[mode]
    if len(text) > limit:
        message = f"expression too long ({len(text)} characters; the limit is {limit})"
        raise ExpressionError(message, position=limit + 1)
    parser = _Parser(text, mode)
    node = parser.parse()
    names = frozenset(parser.names)
    return Expression(text, mode, names, node.run, tuple(parser.names.items()))


def check_names(expr: Expression, known: Iterable[str]) -> None:
    """Raise the evaluation-time "unknown name" error now, for the first name not in ``known``."""
    pool = set(known)
    for name, pos in expr._first_use:
        if name not in pool:
            raise ExpressionError(_unknown_name(name, sorted(pool)), position=pos)
