"""Numbers as learners read them: one rule set, four spellings (terminal, LaTeX, HTML, plain).

Rules, in order (``sig`` = significant figures, default 3; rounding is half away from zero,
applied to the exact binary value of the float):

1. NaN -> ``NaN``; infinities -> ``∞`` / ``−∞`` (plain: ``inf`` / ``-inf``, typable back).
2. Zero (including -0.0) -> ``0``.
3. Integral values with abs < 1e6 (ints, or floats such as 4.0) -> their integer digits, never
   rounded: ``64``, ``−3``, ``123456``.
4. If the value *rounded to sig figures* has 1e-3 <= abs < 1e4 -> fixed notation with ``sig``
   significant figures, trailing zeros after the point removed (0.25, 0.0235, 12.3). Integer
   digits are never replaced by zeros, so 1234.5 -> ``1235`` rather than ``1230``: a zero that
   looks significant would be a worse lie than one extra digit.
5. Otherwise scientific notation with ``sig`` significant figures in the mantissa, trailing
   zeros removed, and the mantissa always shown, ``1 × 10⁻⁷`` rather than ``10⁻⁷``.

Because the magnitude is judged after rounding, a carry moves to the next decade:
9.996e-7 -> ``1 × 10⁻⁶``, 0.00099996 -> ``0.001``, 9999.6 -> ``1 × 10⁴``.

Styles: ``unicode`` (terminal: U+2212 minus, superscript exponent, plain spaces around ×, which
every terminal font has), ``latex`` (ASCII minus, ``\\times 10^{-7}``), ``html`` (U+2212 minus,
``&#8239;×&#8239;10<sup>−7</sup>``, safe to insert as markup), ``plain`` (``9.54e-07``: Python's
spelling, which a learner can type back as an answer; in the one case where rounding would
read back as infinity, near the largest float, it shows more figures instead).
"""

from __future__ import annotations

import functools
import math
import numbers
from decimal import ROUND_HALF_UP, Context, Decimal
from typing import Literal

from tutor.errors import TutorError

Style = Literal["unicode", "latex", "html", "plain"]

STYLES: tuple[Style, ...] = ("unicode", "latex", "html", "plain")
MAX_SIG = 17  # a float64 carries at most 17 significant decimal digits

_MINUS = {"unicode": "\u2212", "html": "\u2212", "latex": "-", "plain": "-"}
_INF = {"unicode": "∞", "html": "∞", "latex": r"\infty", "plain": "inf"}
_NAN = {"unicode": "NaN", "html": "NaN", "latex": r"\mathrm{NaN}", "plain": "NaN"}
_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
# A private context: the caller's decimal settings must not change how numbers look.
_CTX = Context(prec=60, rounding=ROUND_HALF_UP)


@functools.lru_cache(maxsize=65536, typed=True)
def format_number(x: float, sig: int = 3, style: Style = "unicode") -> str:
    """Format ``x`` for display with ``sig`` significant figures in the given style.

    Accepts Python ints and floats and NumPy scalars. Raises :class:`TutorError` for a
    ``sig`` outside 1..17 or an unknown style. Results are memoized: a worksheet formats the
    same drawn values, tick labels and layer numbers many times. (By type too: ``sig=2.0``
    equals 2 but must still raise, and ``True`` equals 1.)
    """
    _check_options(sig, style)
    if isinstance(x, numbers.Integral):
        value: Decimal | float = Decimal(int(x))
    else:
        value = float(x)
        if math.isnan(value):
            return _NAN[style]
        if math.isinf(value):
            return (_MINUS[style] if value < 0 else "") + _INF[style]
    text = (_MINUS[style] if value < 0 else "") + _format_magnitude(abs(Decimal(value)), sig, style)
    if style == "plain" and isinstance(value, float) and math.isinf(float(text)):
        # Rounded up past the largest float (1.8e+308 reads back as inf): show one more figure.
        return format_number(value, sig + 1, style)
    return text


def _check_options(sig: int, style: str) -> None:
    if isinstance(sig, bool) or not isinstance(sig, int) or not 1 <= sig <= MAX_SIG:
        raise TutorError(
            f"significant figures must be a whole number from 1 to {MAX_SIG}, got {sig!r}"
        )
    if style not in STYLES:
        raise TutorError(f"unknown number style {style!r}; expected one of {', '.join(STYLES)}")


def _format_magnitude(d: Decimal, sig: int, style: Style) -> str:
    """Format a finite, non-negative exact value (the sign is added by the caller)."""
    if d == 0:
        return "0"
    if d < 1_000_000 and d == d.to_integral_value():
        return str(int(d))
    rounded = _round_sig(d, sig)
    if Decimal("0.001") <= rounded < 10_000:
        return _fixed(d, max(0, sig - 1 - rounded.adjusted()))
    mantissa, exponent = _mantissa_exponent(rounded, sig)
    return _scientific(mantissa, exponent, style)


def _round_sig(d: Decimal, sig: int) -> Decimal:
    """``d`` rounded half away from zero to ``sig`` significant figures."""
    quantum = Decimal(1).scaleb(d.adjusted() - sig + 1, context=_CTX)
    return d.quantize(quantum, rounding=ROUND_HALF_UP, context=_CTX)


def _fixed(d: Decimal, decimals: int) -> str:
    text = format(d.quantize(Decimal(1).scaleb(-decimals), ROUND_HALF_UP, _CTX), "f")
    return _strip_zeros(text)


def _mantissa_exponent(rounded: Decimal, sig: int) -> tuple[str, int]:
    """Split an already-rounded value into a trimmed mantissa string and a decimal exponent."""
    mantissa, _, exponent = format(rounded, f".{sig - 1}e").partition("e")
    return _strip_zeros(mantissa), int(exponent)


def _strip_zeros(text: str) -> str:
    return text.rstrip("0").rstrip(".") if "." in text else text


def _scientific(mantissa: str, exponent: int, style: Style) -> str:
    if style == "plain":
        return f"{mantissa}e{exponent:+03d}"
    if style == "latex":
        return f"{mantissa} \\times 10^{{{exponent}}}"
    if style == "html":
        power = str(exponent).replace("-", "\u2212")
        return f"{mantissa}&#8239;×&#8239;10<sup>{power}</sup>"
    return f"{mantissa} × 10{str(exponent).translate(_SUPERSCRIPT)}"


def counted(count: int, noun: str) -> str:
    """``count`` and ``noun``, plural unless there is exactly one: "1 bank", "3 banks"."""
    return f"{count} {noun}{'' if count == 1 else 's'}"
