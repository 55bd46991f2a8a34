"""Lexing for the expression language: text to tokens, with look-alike symbols normalized."""

from __future__ import annotations

import math
import re
from typing import NamedTuple, cast

from tutor.errors import ExpressionError

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
    if kind == "str":  # text in quotes is kept as typed: '×' in a label stays '×'
        return _Token(kind, typed[1:-1], typed, pos)
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
