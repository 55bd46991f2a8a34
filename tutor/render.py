"""Bank texts through Jinja's sandbox, then out as terminal text or escaped HTML.

A bank's prompt or explanation is a Jinja template over the variant's values. It is rendered
once, in a sandbox with StrictUndefined and a short list of filters, into *marked text*: plain
text, ``$...$`` math written in LaTeX, and numbers wrapped in private-use markers by the
``num`` filter. The marked text is then converted for its target:

* terminal: math as Unicode, numbers as ``9.54 × 10⁻⁷``, control characters removed;
* HTML: everything escaped (autoescaping alone would leave a bank's literal text raw), math
  as sanitized MathML, numbers as markup, blank lines as paragraphs and ``- `` lines as lists.

The HTML page layouts (worksheets) use a separate, autoescaped environment in
:mod:`tutor.worksheet`; both share the filters defined here.
"""

from __future__ import annotations

import functools
import math
import re
import textwrap
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Literal

from tutor.errors import TutorError
from tutor.mathtext import latex_to_mathml, latex_to_unicode, split_math_modes
from tutor.numfmt import Style, format_number

Target = Literal["terminal", "html"]
OPEN, CLOSE = "\ue000", "\ue001"
MAX_SOURCE = 20_000
MAX_OUTPUT = 100_000
# A number between markers, as repr() spells a float: 0.25, 9.5449e-07, -inf, nan.
_MARKER = re.compile(f"{OPEN}(-?(?:[0-9]+\\.?[0-9]*(?:e[-+][0-9]+)?|inf|nan))\\|([0-9]+){CLOSE}")
WIDTH = 88  # terminal paragraphs are wrapped to at most this many columns
# Control (Cc), format/bidi (some Cf), private-use (Co) and surrogate (Cs) characters; the
# pattern for keep_markers spares our number markers, which are private-use characters.
_UNSAFE = "\x00-\x09\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff\ud800-\udfff"
_PRIVATE = "\uf8ff\U000f0000-\U0010ffff"


@functools.cache
def _controls(keep_markers: bool) -> re.Pattern[str]:
    # Compiled on first need (about 1 ms each): most texts never reach it (see strip_controls).
    first_private = "\ue002" if keep_markers else OPEN
    return re.compile(f"[{_UNSAFE}{first_private}-{_PRIVATE}]")


class RenderError(TutorError):
    """A bank text that fails to render for a variant (a name or type problem)."""


class _Marked(str):
    """Text made by our filters; only these may carry number markers."""


def number_marker(value: Any, sig: int = 3) -> str:
    """The ``num`` filter: a number in markers, formatted later for its target."""
    return _Marked(f"{OPEN}{_filtered_number('num', value, sig)!r}|{sig}{CLOSE}")


def percent_marker(value: Any, sig: int = 3) -> str:
    """The ``pct`` filter: 0.05 as 5%."""
    return _Marked(f"{OPEN}{_filtered_number('pct', value, sig) * 100!r}|{sig}{CLOSE}%")


def _filtered_number(name: str, value: Any, sig: int) -> float:
    """``value`` as a float, once it and ``sig`` are checked for the ``name`` filter."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        fail = getattr(value, "_fail_with_undefined_error", None)
        if callable(fail):  # Jinja's undefined value: its own message says what is missing
            fail()
        raise RenderError(f"the {name} filter needs a number, not {value!r}")
    if isinstance(sig, bool) or not isinstance(sig, int) or not 1 <= sig <= 15:
        raise RenderError(f"the {name} filter takes 1 to 15 significant figures, not {sig!r}")
    return float(value)


def join_filter(values: Any, separator: str = ", ") -> str:
    """``join`` that shows numbers the way ``{{ x }}`` does."""
    return _Marked(str(separator).join(str(finalize(v)) for v in values))


def finalize(value: Any) -> Any:
    """How a bare ``{{ x }}`` prints: floats exactly as drawn, lists item by item."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return number_marker(value, shortest_sig(value))
    if isinstance(value, tuple | list):
        return join_filter(value)
    return value  # text, including text a {% set %} block made from numbers


def shortest_sig(value: float) -> int:
    """The significant figures of the shortest spelling that reads back as ``value``."""
    if not math.isfinite(value) or value == 0:
        return 1
    digits = repr(abs(value)).split("e")[0].replace(".", "").strip("0")
    return max(1, min(len(digits), 15))


def render_marked(source: str, context: Mapping[str, Any]) -> str:
    """Render a bank text to marked text (see the module docstring)."""
    text = direct(source, context)
    if text is None:
        from tutor.sandbox import render_template  # Jinja is loaded only for the texts that need it

        text = render_template(clean(source), context)
    if len(text) > MAX_OUTPUT:
        raise RenderError(f"a rendered text is longer than {MAX_OUTPUT} characters")
    return text


def clean(source: str) -> str:
    """A bank's own text cannot contain number markers: only our filters make them."""
    return source.replace(OPEN, "").replace(CLOSE, "")


# Most prompts only substitute values: ``{{ n }}``, ``{{ net.grad_norm[0] }}``, ``{{ g|num(4) }}``.
# Such texts are rendered here directly, giving exactly Jinja's output (a test compares the two
# on every bundled text), so that showing the first question does not have to load Jinja.
_SUBSTITUTION = re.compile(
    r"\{\{\s*([A-Za-z_]\w*(?:\.[A-Za-z_]\w*|\[-?[0-9]+\])*)"
    r"\s*(?:\|\s*(num|pct)\s*(?:\(\s*([0-9]+)\s*\))?\s*)?\}\}"
)
_STEP = re.compile(r"\.([A-Za-z_]\w*)|\[(-?[0-9]+)\]")
_MISSING = object()


def direct(source: str, context: Mapping[str, Any]) -> str | None:
    """A text made only of literal text and simple substitutions, rendered without Jinja.

    None when the text needs Jinja (any tag, comment or other expression) or a name is
    missing (Jinja then reports it in its own words).
    """
    if "{%" in source or "{#" in source:
        return None
    text = clean(source)
    pieces: list[str] = []
    position = 0
    for match in _SUBSTITUTION.finditer(text):
        literal = text[position : match.start()]
        value = _lookup(match.group(1), context)
        if "{{" in literal or value is _MISSING:
            return None
        if match.group(2):
            marker = number_marker if match.group(2) == "num" else percent_marker
            value = marker(value, int(match.group(3) or 3))
        pieces += (literal, str(finalize(value)))
        position = match.end()
    rest = text[position:]
    if "{{" in rest:
        return None
    rendered = "".join(pieces) + rest
    return (
        rendered[:-1] if rendered.endswith("\n") else rendered
    )  # as Jinja: one final newline goes


def _lookup(path: str, context: Mapping[str, Any]) -> Any:
    """``a.b[2]`` as Jinja reads it, or _MISSING where Jinja's rules might differ."""
    head = re.match(r"[A-Za-z_]\w*", path)
    assert head is not None  # the pattern guarantees a leading name
    value = context.get(head.group(), _MISSING)
    for match in _STEP.finditer(path, head.end()):
        key, index = match.groups()
        if (
            key is not None
            and isinstance(value, Mapping)
            and key in value
            and not hasattr(value, key)
        ):
            value = value[key]
        elif (
            index is not None
            and isinstance(value, tuple | list)
            and -len(value) <= int(index) < len(value)
        ):
            value = value[int(index)]
        else:
            return _MISSING
        if value is _MISSING:
            return _MISSING
    return value


def render(source: str, context: Mapping[str, Any], target: Target) -> str:
    """Render a bank text for a terminal or as an HTML fragment."""
    return convert(render_marked(source, context), target)


def convert(marked: str, target: Target) -> str:
    """Turn marked text into terminal text or an HTML fragment."""
    return to_html(marked) if target == "html" else to_terminal(marked)


def _numbers(text: str, style: Style) -> str:
    return _MARKER.sub(
        lambda m: format_number(float(m.group(1)), int(m.group(2)) or 3, style), text
    )


# Math is converted once per *skeleton*: numbers become placeholders, the skeleton's conversion
# is cached, and the numbers are put back as target markup. Variants of a question share
# skeletons, so converting their math is nearly free after the first one.
_HOLD_POWER = re.compile(r"QNUM([0-9]+)Q([⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺ⁿⁱ^]?)")
# In MathML a placeholder is an <mtext> (maybe the base of a power); in its LaTeX annotation,
# the \text{} the skeleton put there. HTML-only patterns stay text until ``re`` first compiles
# (and caches) them, so the terminal never pays for them.
_HOLD_HTML = r"(<msup>)?<mtext>QNUM([0-9]+)Q</mtext>|\\text\{QNUM([0-9]+)Q\}"
_LATEX_NUMBER = r"(-?)([0-9.]+|\\infty|\\mathrm\{NaN\})(?: \\times 10\^\{(-?[0-9]+)\})?\Z"


def _skeleton(segment: str) -> tuple[str, list[tuple[float, int]]]:
    numbers: list[tuple[float, int]] = []

    def hold(match: re.Match[str]) -> str:
        numbers.append((float(match.group(1)), int(match.group(2)) or 3))
        return f"\\text{{QNUM{len(numbers) - 1}Q}}"

    return _MARKER.sub(hold, segment), numbers


def _put_back(
    text: str,
    pattern: re.Pattern[str],
    numbers: list[tuple[float, int]],
    show: Callable[[float, int, bool], str],
) -> str:
    """Replace each placeholder; ``show`` learns whether the number is the base of a power."""

    def number(match: re.Match[str]) -> str:
        index, after = int(match.group(1)), match.group(2)
        if index >= len(numbers):
            return ""
        return show(*numbers[index], bool(after)) + after

    return pattern.sub(number, text)


_cached_unicode = functools.lru_cache(maxsize=8192)(latex_to_unicode)


def _math_terminal(segment: str) -> str:
    skeleton, numbers = _skeleton(segment)
    return _put_back(_cached_unicode(skeleton), _HOLD_POWER, numbers, _number_unicode)


def _number_unicode(value: float, sig: int, raised: bool = False) -> str:
    """A number in terminal math; bracketed when a power follows and it has a sign or a ×."""
    text = format_number(value, sig, "unicode")
    compound = " × " in text or text.startswith("\u2212")
    return f"({text})" if raised and compound else text


def _math_html(segment: str, display: bool) -> str:
    skeleton, numbers = _skeleton(segment)
    pieces = []
    for before, index, form in _mathml_pieces(skeleton, display):
        pieces.append(before)
        if 0 <= index < len(numbers):
            value, sig = numbers[index]
            shown = (
                _number_latex(value, sig)
                if form == "latex"
                else _number_mathml(value, sig, raised=form == "base")
            )
            pieces.append(f"<msup>{shown}" if form == "base" else shown)
    return "".join(pieces)


@functools.lru_cache(maxsize=8192)
def _mathml_pieces(skeleton: str, display: bool) -> tuple[tuple[str, int, str], ...]:
    """A skeleton's MathML cut at its placeholders, once: (text before, number, form), where
    form is "latex" (the annotation), "base" (the base of a power) or "mathml"; the last piece
    holds the text after the last placeholder and the number -1 (none)."""
    mathml = latex_to_mathml(skeleton, display=display)
    pieces, pos = [], 0
    for match in re.finditer(_HOLD_HTML, mathml):
        base, index, latex_index = match.groups()
        form = "latex" if latex_index is not None else "base" if base else "mathml"
        pieces.append((mathml[pos : match.start()], int(latex_index or index), form))
        pos = match.end()
    pieces.append((mathml[pos:], -1, "mathml"))
    return tuple(pieces)


def _number_latex(value: float, sig: int, _raised: bool = False) -> str:
    """A number for the LaTeX annotation, braced so that a following power applies to it."""
    return f"{{{format_number(value, sig, 'latex')}}}"


def _number_mathml(value: float, sig: int, raised: bool = False) -> str:
    """A formatted number as MathML: sign, mantissa and a power of ten (bracketed if raised)."""
    match = re.match(_LATEX_NUMBER, format_number(value, sig, "latex"))
    if match is None:  # pragma: no cover - format_number's latex style always matches
        return f"<mtext>{_escape(format_number(value, sig, 'unicode'))}</mtext>"
    sign, mantissa, exponent = match.groups()
    parts = ["<mo>\u2212</mo>"] if sign else []
    parts.append(
        {"\\infty": "<mi>∞</mi>", "\\mathrm{NaN}": "<mtext>NaN</mtext>"}.get(
            mantissa, f"<mn>{mantissa}</mn>"
        )
    )
    if exponent is not None:
        power = (
            f"<mrow><mo>\u2212</mo><mn>{exponent[1:]}</mn></mrow>"
            if exponent.startswith("-")
            else f"<mn>{exponent}</mn>"
        )
        parts.append(f"<mo>×</mo><msup><mn>10</mn>{power}</msup>")
    if raised and (sign or exponent is not None):
        parts = ['<mo stretchy="false">(</mo>', *parts, '<mo stretchy="false">)</mo>']
    return f"<mrow>{''.join(parts)}</mrow>"


def to_terminal(marked: str) -> str:
    """Marked text as plain terminal text: Unicode math, no control characters, one line per
    paragraph or list item (the console wraps them to its width with :func:`wrap`)."""
    pieces = []
    for mode, segment in split_math_modes(marked):
        if mode == "text":  # bold marks go; "**" in math is a power, kept for the math
            pieces.append(_numbers(segment.replace("**", ""), "unicode"))
        else:
            pieces.append(_math_terminal(segment))
    return strip_controls(unwrap("".join(pieces)))


def unwrap(text: str) -> str:
    """Each paragraph (blocks between blank lines) and each list item on one line.

    A bank's line breaks are where its author's editor wrapped, not where a terminal should;
    a line starting with ``- `` begins a list item, and a line indented four spaces is kept
    exactly as written (for an aligned formula).
    """
    blocks = re.split(r"\n[ \t]*\n", text.strip("\n"))
    return "\n\n".join("\n".join(_joined(block)) for block in blocks)


def _joined(block: str) -> list[str]:
    return [text if prefix is None else f"{prefix}{text}" for prefix, text in _items(block)]


def wrap(text: str, width: int = WIDTH, hang: str = "") -> str:
    """Unwrapped text (see :func:`unwrap`) wrapped to ``width`` columns.

    A list item's lines are indented under its text, those of any other line by ``hang``; a
    line indented four spaces is kept as it is.
    """
    return "\n".join(_wrapped_line(line, width, hang) for line in text.split("\n"))


def _wrapped_line(line: str, width: int, hang: str) -> str:
    if line.startswith("    ") or len(line) <= width:
        return line
    indent = "  " if line.startswith("- ") else hang
    lines = textwrap.wrap(line, width, subsequent_indent=indent,
                          break_long_words=False, break_on_hyphens=False)  # fmt: skip
    return "\n".join(lines)


def _items(block: str) -> list[tuple[str | None, str]]:
    """A block's items: (bullet or "" for running text, text); (None, line) for verbatim."""
    items: list[tuple[str | None, str]] = []
    for line in block.split("\n"):
        stripped = line.strip()
        if line.startswith("    ") and not stripped.startswith("- "):
            items.append((None, line.rstrip()))
        elif stripped.startswith("- ") or not items or items[-1][0] is None:
            bullet = "- " if stripped.startswith("- ") else ""
            items.append((bullet, stripped[len(bullet) :]))
        else:  # a continuation line joins the item or paragraph above it
            items[-1] = (items[-1][0], f"{items[-1][1]} {stripped}")
    return items


def strip_controls(text: str, keep_markers: bool = False) -> str:
    """Remove characters that could move the cursor, recolour or reorder a terminal."""
    text = text.replace("\t", "    ").replace("\r\n", "\n")
    # Everything removed is unprintable, and most texts hold nothing unprintable but line
    # breaks and, when kept, our markers: those are checked without the pattern.
    visible = text.replace("\n", "")
    if keep_markers:
        visible = visible.replace(OPEN, "").replace(CLOSE, "")
    if visible.isprintable():
        return text
    return _controls(keep_markers).sub("", text)


def to_html(marked: str) -> str:
    """Marked text as an HTML fragment: paragraphs, lists, MathML, all else escaped."""
    return _to_html_cached(marked) if len(marked) <= _CACHED_UP_TO else _to_html(marked)


# A worksheet shows the same hints, options and titles in every version: each is converted
# once. Only texts of ordinary length are kept, so the cache stays a few megabytes at most.
_CACHED_UP_TO = 2000


def _to_html(marked: str) -> str:
    blocks = [b for b in re.split(r"\n\s*\n", marked.strip()) if b.strip()]
    return "\n".join(_html_block(block) for block in blocks)


_to_html_cached = functools.lru_cache(maxsize=2048)(_to_html)


def _html_block(block: str) -> str:
    items = _items(block)
    if items and all(bullet == "- " for bullet, _ in items):
        return "<ul>" + "".join(f"<li>{_html_inline(text)}</li>" for _, text in items) + "</ul>"
    text = " ".join(text.strip() for _, text in items)
    return f"<p>{_html_inline(text)}</p>"


def _escape(text: str) -> str:
    import html  # here, not at the top: the terminal never needs it

    return html.escape(text, quote=True)


def _html_inline(text: str) -> str:
    pieces: list[str | None] = []  # None: a "**" of the text, where bold starts or ends
    for mode, segment in split_math_modes(text):
        if mode == "text":
            escaped = _escape(strip_controls(segment, keep_markers=True))
            html = clean(_numbers(escaped, "html"))  # a malformed marker just goes
            for index, run in enumerate(html.split("**")):
                pieces += [None, run] if index else [run]
        else:  # never bold marks: "**" in math is a power, and the MathML must stay whole
            pieces.append(_math_html(segment, mode == "display"))
    return "".join(_bold(pieces))


def _bold(pieces: list[str | None]) -> Iterator[str]:
    """The pieces with their bold marks paired in order as <strong> and </strong>; an odd
    last mark stays "**" as typed."""
    marks = pieces.count(None)
    seen = 0
    for piece in pieces:
        if piece is not None:
            yield piece
            continue
        seen += 1
        yield "**" if seen == marks and marks % 2 else ("<strong>" if seen % 2 else "</strong>")


def shared_filters() -> dict[str, Callable[..., Any]]:
    """Filters for the HTML page environment: numbers straight to markup."""
    return {
        "num": lambda v, sig=3: format_number(float(v), sig, "html"),
        "pct": lambda v, sig=3: format_number(float(v) * 100, sig, "html") + "%",
    }
