"""Per-layer tables and bar charts: aligned text for a terminal, ``<table>`` and SVG for HTML.

Numbers in cells and on bars go through :func:`tutor.numfmt.format_number`; everything else is
shown as text with control characters removed (terminal) and escaped (HTML, SVG). Charts keep
the order they are given, so pass layer 1 first to have it at the top. Bars have length
proportional to log10(abs(value)) by default, so 1e-12 and 1e-1 are both visible; negative
values are drawn by magnitude (the chart says so) and their printed value keeps the sign.
Zero, infinities and NaN get no bar and a printed marker.
"""

from __future__ import annotations

import hashlib
import html
import math
import numbers
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from tutor.errors import TutorError
from tutor.numfmt import format_number

_PARTIAL = " ▏▎▍▌▋▊▉"  # eighth blocks: _PARTIAL[k] is k/8 of a cell
_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
_MISSING = "—"
_GAP = "  "


# --------------------------------------------------------------------------- shared helpers


def _clean(value: object) -> str:
    """``value`` as one line of text without control characters (banks are untrusted).

    NFC-normalized, so a letter and its combining accent take one terminal cell when they can.
    """
    text = str(value)
    if text.isprintable():  # no control, format or unassigned characters: nothing to drop
        return text if text.isascii() else unicodedata.normalize("NFC", text)
    text = "".join(
        " " if c in "\t\n\r" else c
        for c in str(value)
        if c in "\t\n\r" or unicodedata.category(c)[0] != "C"
    )
    return unicodedata.normalize("NFC", text)


def _is_number(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _cell(value: object, style: Literal["unicode", "html"]) -> str:
    if value is None:
        return _MISSING
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        exact = int(value) if isinstance(value, numbers.Integral) else float(value)
        return format_number(exact, style=style)
    return _clean(value) if style == "unicode" else html.escape(_clean(value))


def display_width(text: str) -> int:
    """Terminal cells taken by ``text``: wide East Asian characters 2, combining marks 0."""
    return sum(_char_width(c) for c in text)


def _char_width(c: str) -> int:
    if unicodedata.combining(c) or unicodedata.category(c) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(c) in ("W", "F") else 1


def _pad(text: str, width: int, *, right: bool) -> str:
    fill = " " * max(0, width - display_width(text))
    return fill + text if right else text + fill


def _check_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    for number, row in enumerate(rows, start=1):
        if len(row) != len(headers):
            raise TutorError(
                f"table row {number} has {len(row)} cells but there are {len(headers)} headers"
            )


def _numeric_columns(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> list[bool]:
    """A column is numeric when it has a number and every filled cell is a number."""
    columns = [[row[i] for row in rows if row[i] is not None] for i in range(len(headers))]
    return [bool(cells) and all(_is_number(v) for v in cells) for cells in columns]


# --------------------------------------------------------------------------- tables


def text_table(
    headers: Sequence[str], rows: Sequence[Sequence[object]], *, title: str | None = None
) -> str:
    """Aligned columns for a terminal or a text file; no trailing spaces, no final newline.

    Numbers are right-aligned and formatted with ``format_number`` (unicode style), other
    values are left-aligned text, ``None`` is shown as "—". A rule of "─" separates the
    headers. Raises :class:`TutorError` if a row's length differs from the headers'.
    """
    _check_table(headers, rows)
    if not headers:
        return _clean(title) if title else ""
    numeric = _numeric_columns(headers, rows)
    head = [_clean(h) for h in headers]
    body = [[_cell(v, "unicode") for v in row] for row in rows]
    widths = [max(display_width(c) for c in column) for column in zip(head, *body, strict=True)]
    lines = [_clean(title)] if title else []
    lines.append(_text_row(head, widths, numeric))
    lines.append(_text_row(["─" * w for w in widths], widths, numeric))
    for raw, cells in zip(rows, body, strict=True):
        right = [_is_number(v) or (v is None and n) for v, n in zip(raw, numeric, strict=True)]
        lines.append(_text_row(cells, widths, right))
    return "\n".join(lines)


def _text_row(cells: Sequence[str], widths: Sequence[int], right: Sequence[bool]) -> str:
    padded = (_pad(c, w, right=r) for c, w, r in zip(cells, widths, right, strict=True))
    return _GAP.join(padded).rstrip()


def html_table(
    headers: Sequence[str], rows: Sequence[Sequence[object]], *, caption: str | None = None
) -> str:
    """A semantic ``<table class="gt-table">``: caption, thead with ``scope="col"``, tbody.

    Numbers use ``format_number`` (html style) and their cells, and the headers of numeric
    columns, carry ``class="num"`` so a stylesheet can right-align them. All text is escaped.
    """
    _check_table(headers, rows)
    numeric = _numeric_columns(headers, rows)
    lines = ['<table class="gt-table">']
    if caption:
        lines.append(f"<caption>{html.escape(_clean(caption))}</caption>")
    head = "".join(
        f'<th scope="col"{_num_class(n)}>{html.escape(_clean(h))}</th>'
        for h, n in zip(headers, numeric, strict=True)
    )
    lines += ["<thead>", f"<tr>{head}</tr>", "</thead>", "<tbody>"]
    for row in rows:
        cells = "".join(f"<td{_num_class(_is_number(v))}>{_cell(v, 'html')}</td>" for v in row)
        lines.append(f"<tr>{cells}</tr>")
    lines += ["</tbody>", "</table>"]
    return "\n".join(lines)


def _num_class(numeric: bool) -> str:
    return ' class="num"' if numeric else ""


# --------------------------------------------------------------------------- scales


@dataclass(frozen=True)
class _Axis:
    """Where a magnitude falls along a bar: log10 units from lo to hi, or linear 0..hi."""

    log: bool
    lo: float
    hi: float

    def fraction(self, value: float) -> float | None:
        """0..1 along the axis for abs(value); None for values without a bar (0, inf, NaN)."""
        magnitude = abs(value)
        if magnitude == 0 or not math.isfinite(magnitude):
            return None
        t = math.log10(magnitude) if self.log else magnitude
        return min(1.0, max(0.0, (t - self.lo) / (self.hi - self.lo)))


def _axis(values: Sequence[float], log: bool) -> _Axis | None:
    """The axis spanning the data, or None when no value is finite and non-zero.

    On a log axis the start is the decade strictly below the smallest magnitude, so even the
    smallest value has a visible bar, and the end is the decade at or above the largest.
    """
    drawn = [abs(v) for v in values if v != 0 and math.isfinite(v)]
    if not drawn:
        return None
    if not log:
        return _Axis(log=False, lo=0.0, hi=max(drawn))
    lo = math.ceil(math.log10(min(drawn))) - 1
    hi = max(math.ceil(math.log10(max(drawn))), lo + 1)
    return _Axis(log=True, lo=float(lo), hi=float(hi))


def _power(exponent: float) -> str:
    return "10" + str(int(exponent)).translate(_SUPERSCRIPT)


def _value_text(value: float) -> str:
    text = format_number(value)
    if math.isinf(value):
        return f"{text} (overflow)"
    return f"{text} (not a number)" if math.isnan(value) else text


def _check_series(labels: Sequence[str], values: Sequence[float]) -> list[float]:
    if len(labels) != len(values):
        raise TutorError(
            f"a chart needs one label per value: {len(labels)} labels, {len(values)} values"
        )
    return [float(v) for v in values]


# --------------------------------------------------------------------------- text chart


def text_bar_chart(
    labels: Sequence[str],
    values: Sequence[float],
    *,
    title: str | None = None,
    log: bool = True,
    width: int = 40,
    span: Sequence[float] = (),
) -> str:
    """Horizontal bars, one line per label, drawn with eighth blocks, value printed after;
    the title, if any, on the first line.

    The last line notes the scale, e.g. ``log scale 10⁻¹³ … 10⁰ (each █ ≈ ×2.1)``. ``width``
    is the length of a full bar in cells (at least 1). The scale also covers the values of
    ``span``: charts drawn side by side share one scale when given all their values. No
    trailing spaces, no final newline.
    """
    numbers_ = _check_series(labels, values)
    if width < 1:
        raise TutorError(f"a chart needs a width of at least 1 cell, got {width}")
    lines = [_clean(title)] if title else []
    if not numbers_:
        return "\n".join([*lines, "(no data)"])
    axis = _axis([*numbers_, *span], log)
    names = [_clean(label) for label in labels]
    label_width = max((display_width(n) for n in names), default=0)
    for name, value in zip(names, numbers_, strict=True):
        bar = _bar(axis.fraction(value) if axis else None, width)
        lines.append(f"{_pad(name, label_width, right=False)} │{bar} {_value_text(value)}")
    lines.append(f"{' ' * label_width} └ {_scale_note(axis, width, numbers_)}")
    return "\n".join(line.rstrip() for line in lines)


def _bar(fraction: float | None, width: int) -> str:
    """A bar of ``fraction * width`` cells padded to ``width``; a drawn value gets >= 1/8."""
    if fraction is None:
        return " " * width
    eighths = max(1, round(fraction * width * 8))
    full, part = divmod(eighths, 8)
    return ("█" * full + (_PARTIAL[part] if part else "")).ljust(width)


def _scale_note(axis: _Axis | None, width: int, values: Sequence[float]) -> str:
    if axis is None:
        return "no finite non-zero values to draw"
    if axis.log:
        decades = (axis.hi - axis.lo) / width
        # A factor reads best ("×2.2"); past ×1000 per cell, decades are easier to take in.
        step = (
            f"×{format_number(10**decades, sig=2)}"
            if decades < 3
            else (f"{format_number(decades, sig=2)} decades")
        )
        note = f"log scale {_power(axis.lo)} … {_power(axis.hi)} (each █ ≈ {step})"
    else:
        step = format_number(axis.hi / width, sig=2)
        note = f"linear scale 0 … {format_number(axis.hi)} (each █ ≈ {step})"
    return note + ("; bars show |value|" if any(v < 0 for v in values) else "")


# --------------------------------------------------------------------------- SVG chart

_SVG_WIDTH = 640
_ROW = 24  # height of one bar's row
_BAR = 16
_TOP = 34  # below the visible title
_VALUE_ROOM = 150  # right of the plot: value text of a full-width bar
_BAR_FILL = "#3a6ea5"
_GRID = "#cccccc"
_INK = "#222222"


def svg_bar_chart(
    labels: Sequence[str],
    values: Sequence[float],
    *,
    title: str,
    description: str,
    log: bool = True,
    value_label: str = "",
) -> str:
    """An inline ``<svg role="img">`` bar chart with ``<title>`` and ``<desc>``.

    Self-contained (no scripts, styles or external references), sized by ``viewBox`` with
    ``width="100%"``, and deterministic: the same arguments give the same bytes (coordinates
    are rounded to 2 decimals; element ids come from a hash of the arguments).
    """
    numbers_ = _check_series(labels, values)
    axis = _axis(numbers_, log)
    names = [_short(_clean(label)) for label in labels]
    left = min(200.0, max(40.0, 7.0 * max((len(n) for n in names), default=0) + 14))
    plot = _Plot(left=left, right=_SVG_WIDTH - _VALUE_ROOM, top=_TOP, rows=len(names))
    key = repr((title, description, list(labels), numbers_, log, value_label))
    caption = _axis_caption(value_label, axis, numbers_)
    parts = [
        *_svg_head(key, plot.axis_y + (40 if caption else 24), title, description),
        *_svg_grid(plot, axis),
        *_svg_bars(plot, axis, names, numbers_),
    ]
    if caption:
        middle = (plot.left + plot.right) / 2
        parts.append(
            f'<text x="{_n(middle)}" y="{_n(plot.axis_y + 34)}" text-anchor="middle">'
            f"{_esc(caption)}</text>"
        )
    parts.append("</svg>")
    return "\n".join(parts)


def _svg_head(key: str, height: float, title: str, description: str) -> list[str]:
    """The root element, its accessible name and description, and the visible title.

    Ids come from a hash of the chart's arguments: unique per chart, stable across runs.
    """
    ident = "gt-chart-" + hashlib.sha256(key.encode("utf-8", "replace")).hexdigest()[:12]
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_SVG_WIDTH} {_n(height)}" '
        f'width="100%" role="img" aria-labelledby="{ident}-title {ident}-desc" '
        f'font-family="sans-serif" font-size="12" fill="{_INK}">',
        f'<title id="{ident}-title">{_esc(title)}</title>',
        f'<desc id="{ident}-desc">{_esc(description)}</desc>',
        f'<text x="{_n(_SVG_WIDTH / 2)}" y="20" text-anchor="middle" font-size="15" '
        f'font-weight="bold">{_esc(title)}</text>',
    ]


@dataclass(frozen=True)
class _Plot:
    """The plotting rectangle in SVG user units; row i's bar is centred at ``row_y(i)``."""

    left: float
    right: float
    top: float
    rows: int

    @property
    def axis_y(self) -> float:
        return self.top + self.rows * _ROW + 4

    def x(self, fraction: float) -> float:
        return self.left + fraction * (self.right - self.left)

    def row_y(self, i: int) -> float:
        return self.top + i * _ROW + _ROW / 2


def _svg_grid(plot: _Plot, axis: _Axis | None) -> list[str]:
    """Gridlines and tick labels (decades on a log axis, quarters on a linear one), axes."""
    parts = []
    for fraction, label in _ticks(axis):
        x = _n(plot.x(fraction))
        parts.append(
            f'<line x1="{x}" y1="{_n(plot.top - 4)}" x2="{x}" y2="{_n(plot.axis_y)}" '
            f'stroke="{_GRID}" stroke-width="1"/>'
        )
        if label:
            parts.append(
                f'<text x="{x}" y="{_n(plot.axis_y + 15)}" text-anchor="middle" '
                f'font-size="11">{_esc(label)}</text>'
            )
    y = _n(plot.axis_y)
    parts.append(
        f'<line x1="{_n(plot.left)}" y1="{_n(plot.top - 4)}" x2="{_n(plot.left)}" '
        f'y2="{y}" stroke="{_INK}" stroke-width="1"/>'
    )
    parts.append(
        f'<line x1="{_n(plot.left)}" y1="{y}" x2="{_n(plot.right)}" y2="{y}" '
        f'stroke="{_INK}" stroke-width="1"/>'
    )
    return parts


def _ticks(axis: _Axis | None) -> list[tuple[float, str]]:
    """(fraction along the axis, label or "") for each gridline; at most 9 labels."""
    if axis is None:
        return []
    if not axis.log:
        return [(k / 4, format_number(axis.hi * k / 4)) for k in range(5)]
    decades = round(axis.hi - axis.lo)
    step = max(1, math.ceil(decades / 8))
    # Unlabelled decade lines only while they stay sparse enough to read.
    kept = [k for k in range(decades + 1) if k % step == 0 or step <= 2]
    return [(k / decades, _power(axis.lo + k) if k % step == 0 else "") for k in kept]


def _svg_bars(plot: _Plot, axis: _Axis | None, names: list[str], values: list[float]) -> list[str]:
    parts = []
    for i, (name, value) in enumerate(zip(names, values, strict=True)):
        y = plot.row_y(i)
        parts.append(
            f'<text x="{_n(plot.left - 6)}" y="{_n(y + 4)}" text-anchor="end">{_esc(name)}</text>'
        )
        fraction = axis.fraction(value) if axis else None
        end = plot.left
        if fraction is not None:
            end = plot.x(fraction)
            parts.append(
                f'<rect x="{_n(plot.left)}" y="{_n(y - _BAR / 2)}" '
                f'width="{_n(max(end - plot.left, 1.0))}" height="{_BAR}" '
                f'fill="{_BAR_FILL}"/>'
            )
        parts.append(
            f'<text x="{_n(max(end, plot.left) + 6)}" y="{_n(y + 4)}">'
            f"{_esc(_value_text(value))}</text>"
        )
    return parts


def _axis_caption(value_label: str, axis: _Axis | None, values: Sequence[float]) -> str:
    notes = [value_label] if value_label else []
    if axis is not None and axis.log:
        notes.append("log scale")
    if any(v < 0 for v in values):
        notes.append("bars show |value|")
    return ", ".join(notes)


def _short(label: str, limit: int = 28) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def _esc(text: str) -> str:
    return html.escape(_clean(text), quote=False)


def _n(x: float) -> str:
    """A coordinate with at most 2 decimals and no "-0": deterministic, compact output."""
    text = f"{round(x, 2):.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text
