"""Reading what a learner typed, and grading it against a declared tolerance.

Parsing turns text into a number or raises :class:`~tutor.errors.AnswerFormatError`, whose
message tells the learner how to type it; a format error is re-asked and never uses up an
attempt. Grading compares a number with the expected answer under a :class:`Tolerance` and, when
it is wrong, names the misconception it matches. There is no implicit absolute tolerance: with
gradients like 1e-12 the tiny value is the answer and 0 is wrong.
"""

from __future__ import annotations

import functools
import math
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType
from typing import Literal, NamedTuple

from tutor.errors import AnswerFormatError, BankError, ExpressionError, close_matches
from tutor.expr import ANSWER_HELP, MAX_LENGTH, compile_expression, normalize_symbols
from tutor.numfmt import format_number

__all__ = [
    "DEFAULT_TOLERANCE",
    "Tolerance",
    "Verdict",
    "distinct",
    "grade",
    "is_close",
    "parse_answer",
    "parse_bool",
    "parse_choice",
    "tolerance_problem",
]

HINT = "Type a number such as 0.0123, 1.2e-5 or 0.25^10."
MAX_ANSWER_LENGTH = MAX_LENGTH["answer"]

# Whole-text shapes that are not numbers here but clearly mean one; matched after stripping.
# Patterns are kept as text and compiled when an answer is first read (``_pattern``): the
# first question is on screen sooner.
_NONFINITE = r"(?i)([+-]?)\s*(inf|infinity|∞|nan)"
_PERCENT = r"([+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+))\s*%"
_OTHER_BASE = r"[+-]?0[xXbBoO][0-9A-Za-z_]+"
_SEPARATORS = ", \u00a0\u2009\u202f"  # comma, space, no-break space, thin spaces
_THOUSANDS = rf"[+-]?[1-9][0-9]{{0,2}}([{_SEPARATORS}][0-9]{{3}})+(\.[0-9]*)?"
_DECIMAL_COMMA = r"[+-]?[0-9]*,[0-9]+([eE][+-]?[0-9]+)?"


@functools.cache
def _pattern(text: str) -> re.Pattern[str]:
    """``text`` compiled once. Not ``re.fullmatch(text, ...)``: every answer read goes through
    four of these, and ``re``'s own cache lookup costs more than the match itself."""
    return re.compile(text)


def parse_answer(text: str, *, allow_nonfinite: bool = False) -> float:
    """Read a learner's number: ``0.00095``, ``9.5e-4``, ``9.5×10^-4``, ``0.25^10``, ``−0.5``...

    ``inf``, ``-inf``, ``∞`` and ``nan`` are accepted only with ``allow_nonfinite`` (questions
    about overflow). Raises AnswerFormatError, and nothing else, for any text.
    """
    stripped = text.strip()
    if not stripped:
        raise AnswerFormatError(f"The answer is empty. {HINT}")
    if len(stripped) > MAX_ANSWER_LENGTH:
        message = f"That answer is too long (at most {MAX_ANSWER_LENGTH} characters)."
        raise AnswerFormatError(message)
    plain = normalize_symbols(stripped)
    special = _nonfinite(plain)
    if special is not None:
        if allow_nonfinite:
            return special
        raise AnswerFormatError("This answer must be a finite number, not infinity or NaN.")
    _reject_lookalikes(plain)
    return _evaluate(stripped)


def _nonfinite(plain: str) -> float | None:
    match = _pattern(_NONFINITE).fullmatch(plain)
    if match is None:
        return None
    if match.group(2).lower() == "nan":
        return math.nan
    return -math.inf if match.group(1) == "-" else math.inf


def _reject_lookalikes(plain: str) -> None:
    """Percentages, other bases, thousands separators and decimal commas get their own advice."""
    if "%" in plain:
        match = _pattern(_PERCENT).fullmatch(plain)
        number, example = (match.group(1), "") if match else ("5", "for example, ")
        advice = f"{example}for {number}%, type {_hundredth(number)}"
        raise AnswerFormatError(f"Write percentages as decimals: {advice}.")
    if _pattern(_OTHER_BASE).fullmatch(plain):
        raise AnswerFormatError(_in_decimal(plain))
    if _pattern(_THOUSANDS).fullmatch(plain):
        digits = re.sub(f"[{_SEPARATORS}]", "", plain)
        raise AnswerFormatError(f"Don't use thousands separators: write {digits}.")
    if _pattern(_DECIMAL_COMMA).fullmatch(plain):
        raise AnswerFormatError(f"Use a point for decimals: write {plain.replace(',', '.')}.")


def _in_decimal(plain: str) -> str:
    try:
        return f"Write numbers in decimal: type {int(plain, 0)}, not {plain}."
    except ValueError:
        return f"Write numbers in decimal: {plain} is not a decimal number."


def _hundredth(number: str) -> str:
    return f"{Decimal(number).scaleb(-2).normalize():f}"


def _evaluate(text: str) -> float:
    try:
        value = compile_expression(text, mode="answer")()
    except ExpressionError as error:
        raise AnswerFormatError(_explain(error.message)) from None
    if not isinstance(value, int | float) or isinstance(value, bool):  # not reachable in answers
        raise AnswerFormatError(HINT)
    return float(value)


def _explain(message: str) -> str:
    if message in ("number too large", "number too small"):
        size = message.removeprefix("number ")
        return f"That number is {size} to be an answer; check the exponent."
    sentence = message[:1].upper() + message[1:] + "."
    return sentence if ANSWER_HELP in message else f"{sentence} {HINT}"


def _letters(n_options: int) -> str:
    letters = [chr(ord("a") + i) for i in range(n_options)]
    return letters[0] if n_options == 1 else ", ".join(letters[:-1]) + " or " + letters[-1]


_CHOICE = r"[(\[]?\s*([a-z]|[0-9]{1,3})\s*[)\].]?"


def parse_choice(text: str, n_options: int) -> int:
    """The 0-based option a learner picked: ``a``, ``B``, ``(c)``, ``c)`` or the number ``2``."""
    if not 1 <= n_options <= 26:
        raise ValueError(f"n_options must be from 1 to 26, not {n_options}")
    match = _pattern(_CHOICE).fullmatch(text.strip().lower())
    if match is None:
        raise AnswerFormatError(f"Type the letter of your choice: {_letters(n_options)}.")
    picked = match.group(1)
    index = int(picked) - 1 if picked.isdigit() else ord(picked) - ord("a")
    if not 0 <= index < n_options:
        message = f"There are only {n_options} choices: type {_letters(n_options)}."
        raise AnswerFormatError(message)
    return index


_BOOLS = {"true": True, "t": True, "yes": True, "y": True} | dict.fromkeys(
    ("false", "f", "no", "n"), False
)


def parse_bool(text: str) -> bool:
    """True or false as a learner types it: true/false, t/f, yes/no, y/n, in any case."""
    answer = _BOOLS.get(text.strip().lower())
    if answer is None:
        raise AnswerFormatError("Type true or false (or yes or no).")
    return answer


# ---------------------------------------------------------------------------------------------
# Grading.

ToleranceKind = Literal["relative", "sigfigs", "decades", "absolute"]
_KINDS = ("relative", "sigfigs", "decades", "absolute")


@dataclass(frozen=True)
class Tolerance:
    """How close an answer must be: ``relative`` (0.01 is 1%), ``sigfigs`` (a whole number of
    significant figures), ``decades`` (distance in log10: log10(2) is "within a factor of 2")
    or ``absolute`` (a distance in the answer's units; 0 asks for the exact value).

    Raises BankError (without a location; the bank loader adds it) for an unknown kind or a
    value that cannot grade anything.
    """

    kind: ToleranceKind
    value: float

    def __post_init__(self) -> None:
        problem = _tolerance_error(self.kind, self.value)
        if problem:
            raise BankError(problem)
        object.__setattr__(self, "value", float(self.value))

    def describe(self) -> str:
        """The tolerance in words for the learner, e.g. "within 1% of the answer"."""
        if self.kind == "relative":
            return f"within {_short(self.value * 100)}% of the answer"
        if self.kind == "sigfigs":
            n = int(self.value)
            return f"to {n} significant figure" + "s" * (n != 1)
        if self.kind == "decades":
            if self.value == 0.5:
                return "to the right order of magnitude"
            return f"within a factor of {_short(10**self.value)}"
        return f"within ±{format_number(self.value)}" if self.value else "exactly"


def _tolerance_error(kind: object, value: object) -> str | None:
    if kind not in _KINDS:
        hint = close_matches(str(kind), _KINDS, n=1)
        maybe = f" (did you mean '{hint[0]}'?)" if hint else ""
        return f"unknown tolerance kind {kind!r}{maybe}: use relative, sigfigs, decades or absolute"
    if not isinstance(value, int | float) or isinstance(value, bool):
        return f"a {kind} tolerance must be a number, not {value!r}"
    if kind == "absolute" and math.isfinite(value) and value >= 0:
        return None  # 0 is an exact match, for answers that are whole counts
    if not (math.isfinite(value) and value > 0):
        return f"a {kind} tolerance must be a positive number, not {value!r}"
    if kind == "relative" and value >= 1:
        return f"a relative tolerance must be below 1 (100%), not {value!r}"
    if kind == "sigfigs" and not (float(value).is_integer() and value <= 17):
        return f"significant figures must be a whole number from 1 to 17, not {value!r}"
    return None


def _short(x: float) -> str:
    """A number in at most 3 significant figures, without exponent padding: 1e-6, 2, 0.5."""
    text = f"{x:.3g}"
    return re.sub(r"e([+-])0*(\d)", lambda m: "e" + m.group(1).replace("+", "") + m.group(2), text)


DEFAULT_TOLERANCE = Tolerance("relative", 0.01)
_NO_MISTAKES: Mapping[str, float] = MappingProxyType({})


def is_close(value: float, expected: float, tol: Tolerance) -> bool:
    """Whether ``value`` is graded as ``expected`` under ``tol`` (see the module docstring)."""
    if math.isnan(expected) or math.isnan(value):
        return math.isnan(expected) and math.isnan(value)
    if math.isinf(expected) or math.isinf(value):
        return value == expected
    if tol.kind == "absolute":
        return abs(value - expected) <= tol.value
    if expected == 0 or value == 0:
        return value == expected
    if tol.kind == "relative":
        return abs(value - expected) <= tol.value * abs(expected)
    if tol.kind == "sigfigs":
        step: float = 10.0 ** (_decade(expected) - tol.value + 1)  # one unit in the last figure
        return abs(value - expected) <= 0.51 * step
    same_sign = (value > 0) == (expected > 0)
    return same_sign and abs(math.log10(abs(value)) - math.log10(abs(expected))) <= tol.value


def _decade(x: float) -> int:
    """floor(log10(abs(x))), corrected where log10 rounds across a power of ten."""
    k = math.floor(math.log10(abs(x)))
    if 10.0**k > abs(x):
        return k - 1
    return k + 1 if k < 308 and 10.0 ** (k + 1) <= abs(x) else k  # 10.0**309 overflows


def tolerance_problem(expected: float, tol: Tolerance) -> str | None:
    """Why ``tol`` cannot grade ``expected`` (for ``tutor check``), or None when it can."""
    if not math.isfinite(expected):
        return f"the expected answer is {expected}, not a finite number"
    if expected == 0 and tol.kind != "absolute":
        return (
            "the expected answer is 0, which needs an absolute tolerance "
            f"(a {tol.kind} tolerance accepts only exactly 0)"
        )
    if 0 < abs(expected) < sys.float_info.min:
        return f"the expected answer {expected!r} is too small to be a normal float"
    return None


class Verdict(NamedTuple):
    """The grade of one answer: ``mistake`` names the misconception a wrong answer matches."""

    value: float
    correct: bool
    score: float
    mistake: str | None


def grade(
    value: float,
    expected: float,
    tol: Tolerance,
    mistakes: Mapping[str, float] = _NO_MISTAKES,
) -> Verdict:
    """Grade ``value``; when it is wrong, match it to the closest named misconception value."""
    if is_close(value, expected, tol):
        return Verdict(value, True, 1.0, None)
    near = _mistake_tolerance(tol)
    matches = [name for name, wrong in mistakes.items() if is_close(value, wrong, near)]
    best = min(matches, key=lambda name: _distance(value, mistakes[name]), default=None)
    return Verdict(value, False, 0.0, best)


def _mistake_tolerance(tol: Tolerance) -> Tolerance:
    """How close a wrong answer must be to a misconception's value to be recognised as it.

    The question's own tolerance, except that an absolute one (``exact`` for a whole-number
    answer) would recognise a misconception only when typed to every digit; there the default
    relative tolerance applies.
    """
    return DEFAULT_TOLERANCE if tol.kind == "absolute" else tol


def _distance(a: float, b: float) -> tuple[float, float]:
    """Log-ratio distance, then absolute distance (for zero or opposite signs) as tie-break."""
    if a == b:
        return (0.0, 0.0)
    gap = abs(a - b)
    gap = gap if math.isfinite(gap) else math.inf
    if a != 0 and b != 0 and (a > 0) == (b > 0) and math.isfinite(a) and math.isfinite(b):
        return (abs(math.log(abs(a)) - math.log(abs(b))), gap)
    return (math.inf, gap)


def distinct(a: float, b: float, tol: Tolerance) -> bool:
    """True when neither value would be graded as the other (answers vs. distractors)."""
    if tol.kind == "relative" and a and b and math.isfinite(a) and math.isfinite(b):
        # the common case, checked once per pair of options for every variant drawn
        return abs(a - b) > tol.value * max(abs(a), abs(b))
    return not is_close(a, b, tol) and not is_close(b, a, tol)
