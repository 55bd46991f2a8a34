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

import math
import operator
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple, cast

from tutor.errors import ExpressionError
from tutor.expr_functions import (
    _CONSTANTS,
    _FUNCTIONS,
    ANSWER_FUNCTIONS,
    BANK_FUNCTIONS,
    RESERVED_NAMES,
    _Spec,
)
from tutor.expr_lexer import _shown, _Token, _tokenize, normalize_symbols
from tutor.expr_runtime import (
    _EXACT,
    _INTERNAL,
    _NO_ENV,
    ANSWER_HELP,
    MAX_DEPTH,
    MAX_LENGTH,
    MAX_RANGES,
    Mode,
    Value,
    _binary,
    _call,
    _chain,
    _compare,
    _const,
    _equal,
    _field,
    _if,
    _index,
    _list,
    _logic,
    _lookup,
    _not,
    _Op,
    _pow,
    _Run,
    _sign,
    _suggestion,
    _unequal,
    _unknown_name,
)

__all__ = [
    "ANSWER_FUNCTIONS",
    "ANSWER_HELP",
    "BANK_FUNCTIONS",
    "MAX_DEPTH",
    "MAX_LENGTH",
    "RESERVED_NAMES",
    "Expression",
    "Value",
    "check_names",
    "compile_expression",
    "normalize_symbols",
]

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


def _power_node(base: _Node, exponent: _Node, tok: _Token, mode: Mode) -> _Node:
    """x^y; the literal 10^k is folded to the float 1ek, so 9.5×10^-4 equals 9.5e-4 exactly.

    Like the number 1e-400, a power that is too small for a float is an error rather than 0,
    in an answer (in a bank formula, underflow to 0 is what a vanishing gradient does)."""
    end = max(exponent.end, tok.pos + len(tok.text))
    k = exponent.const
    if base.const == 10.0 and k is not None and k.is_integer() and abs(k) <= 400:
        value = float(f"1e{int(k)}")
        if value in (math.inf, 0.0):
            size = "large" if value else "small"
            raise ExpressionError(f"number too {size}", position=tok.pos + 1)
        return _Node(_const(value), base.start, end, const=value, pow10=int(k))
    run = _pow(base.run, exponent.run, tok.text, tok.pos + 1, nonzero=mode == "answer")
    return _Node(run, base.start, end)


# A mantissa that can take an exponent as written: signed digits with a point, no exponent.
# (Signs may stack, as in -+3; the self-check script folds the same spellings.)
_PLAIN_MANTISSA = re.compile(r"(?P<signs>[-+]*)(?P<digits>[0-9]+\.?[0-9]*|\.[0-9]+)\Z")


def _chain_node(first: _Node, parts: list[tuple[_Token, _Node]]) -> _Node:
    end = parts[-1][1].end
    if len(parts) == 1:
        tok, second = parts[0]
        plain = _PLAIN_MANTISSA.match(first.literal)
        if tok.value == "*" and second.pow10 is not None and plain:
            value = float(f"{plain['digits']}e{second.pow10}")  # 9.5×10^-4 is exactly 9.5e-4
            value = -value if plain["signs"].count("-") % 2 else value
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
            return _power_node(left, self.expr(_POW), tok, self.mode)
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
                node = _power_node(node, exponent, tok, self.mode)
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
            return _Node(_list([item.run for item in items], tok.pos), tok.pos, close.pos + 1)
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

_PLAIN_RESULTS = frozenset({float, int, bool, str, tuple})


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
        if type(result) in _PLAIN_RESULTS:  # the usual results, without the slower check below
            return cast(Value, result)
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
