"""Bank texts render through the sandbox: exact numbers, safe HTML, clean terminal text."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tutor.render import CLOSE, OPEN, RenderError, render, strip_controls, to_terminal, wrap
from tutor.sandbox import template_problem

CONTEXT: dict[str, Any] = {
    "z": 1.25,
    "g": 9.5449e-7,
    "n": 12,
    "w": -0.5,
    "xs": (0.25, 1e-5),
    "name": "tanh",
}


@pytest.mark.parametrize(
    ("source", "terminal"),
    [
        ("z = {{ z }}", "z = 1.25"),  # a drawn value is shown exactly as drawn
        ("g = {{ g }}", "g = 9.5449 × 10⁻⁷"),
        ("g = {{ g|num }}", "g = 9.54 × 10⁻⁷"),
        ("g = {{ g|num(2) }}", "g = 9.5 × 10⁻⁷"),
        ("{{ 0.05|pct }}", "5%"),
        ("{{ n }} layers", "12 layers"),
        ("{{ xs }}", "0.25, 1 × 10⁻⁵"),
        ("{{ xs|join(' and ') }}", "0.25 and 1 × 10⁻⁵"),
        ("{{ w }}", "−0.5"),
        ("$\\sigma'(z) = {{ g|num }}$", "σ′(z) = 9.54 × 10⁻⁷"),
        ("${{ g|num }}^{ {{ n }} }$", "(9.54 × 10⁻⁷)¹²"),
        ("${{ z }}^{ {{ n }} }$", "1.25¹²"),
        ("${{ w }}^2$", "(−0.5)²"),
        ("**bold** text", "bold text"),
        ("{% if n > 10 %}deep{% else %}shallow{% endif %}", "deep"),
        ("{% for x in xs %}[{{ x|num }}]{% endfor %}", "[0.25][1 × 10⁻⁵]"),
    ],
)
def test_terminal_text(source: str, terminal: str) -> None:
    assert render(source, CONTEXT, "terminal") == terminal


@pytest.mark.parametrize(
    "hostile",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        '<a href="javascript:alert(1)">click</a>',
        "$\\text{<script>alert(1)</script>}$",
        "$\\href{javascript:alert(1)}{x}$",
        "</math><script>alert(1)</script>",
        "{{ name }}<style>body{background:url(http://x)}</style>",
    ],
)
def test_html_from_a_bank_is_inert(hostile: str) -> None:
    html = render(hostile, CONTEXT, "html")
    tree = ET.fromstring(f"<div>{html}</div>")  # well-formed: nothing broke out of its element
    tags = {element.tag.split("}")[-1] for element in tree.iter()}
    assert tags <= {"div", "p", "br", "strong", "sup", "ul", "li", "math", "semantics", "mrow",
                    "mi", "mo", "mn", "mtext", "msup", "msub", "annotation"}  # fmt: skip
    attributes = {name for element in tree.iter() for name in element.attrib}
    assert not any(name.startswith("on") or name in ("href", "src", "style") for name in attributes)


def test_parameter_text_is_escaped_in_html() -> None:
    html = render("activation: {{ name }}", {"name": "<b onmouseover=x>"}, "html")
    assert "<b" not in html
    assert "&lt;b onmouseover=x&gt;" in html


def test_terminal_control_characters_are_removed() -> None:
    text = render(
        "a\x1b[2J\x1b]0;title\x07b\u202ec\x00d {{ name }}", {"name": "\x1b[31mred"}, "terminal"
    )
    assert text == "a[2J]0;titlebcd [31mred"


@pytest.mark.parametrize(
    "forged", ["\ue0001e308|3\ue001", "\ue0001e+308|3\ue001", "\ue000x|3\ue001"]
)
@pytest.mark.parametrize("target", ["terminal", "html"])
def test_forged_number_markers_are_harmless(forged: str, target: str) -> None:
    """A bank's own text loses the markers; a parameter's at most shows a number."""
    text = render(forged + "{{ name }}", {"name": forged}, target)  # type: ignore[arg-type]
    assert "\ue000" not in text and "\ue001" not in text
    assert forged.strip("\ue000\ue001") in text


def test_html_numbers_and_paragraphs() -> None:
    html = render("g is {{ g|num }}\n\n- one\n- two", CONTEXT, "html")
    assert (
        html == "<p>g is 9.54&#8239;×&#8239;10<sup>−7</sup></p>\n<ul><li>one</li><li>two</li></ul>"
    )


def test_math_becomes_mathml_with_the_numbers_inside() -> None:
    html = render("$x = {{ g|num }}$", CONTEXT, "html")
    assert html.startswith('<p><math xmlns="http://www.w3.org/1998/Math/MathML" display="inline">')
    assert (
        "<mn>9.54</mn><mo>×</mo><msup><mn>10</mn><mrow><mo>−</mo><mn>7</mn></mrow></msup>" in html
    )
    assert (
        '<annotation encoding="application/x-tex">x = {9.54 \\times 10^{-7}}</annotation>' in html
    )


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        ("{{ z }}", None),
        ("{{ zz }}", "text uses the unknown name 'zz' (did you mean 'z'?)"),
        ("{% if z > 0 %}{% set big = 2 %}{{ big }}{% endif %}", None),
        (
            "{% if z > 0 %}{% set big = 2 %}{{ bug }}{% endif %}",
            "text uses the unknown name 'bug' (did you mean 'big'?)",
        ),
        ("{{ range(10) }}", "texts cannot use call"),
        ("{{ z.__class__() }}", "texts cannot use call"),
        ("{% macro m() %}{{ m() }}{% endmacro %}", "texts cannot use macro"),
        ("{% for a in xs %}{% for b in xs %}{% endfor %}{% endfor %}", "texts cannot nest loops"),
        ("{{ 10 ** 10 ** 10 }}", "texts cannot use '**' (compute powers in 'values')"),
        ("{% extends 'x' %}", "texts cannot use extends"),
        (
            "{{ z",
            "text does not parse: unexpected end of template, expected 'end of print statement'. (line 1 of the text)",
        ),
    ],
)
def test_template_rules(source: str, problem: str | None) -> None:
    assert template_problem(source, CONTEXT) == problem


@pytest.mark.parametrize(
    "source",
    [
        "{{ name * 1000000000 }}",  # no huge strings
        "{{ '%999999999d' % 1 }}",
        "{{ name.__class__ }}",  # sandboxed attribute access gives undefined, StrictUndefined fails
        "{{ xs.missing }}",
        "{{ g|num(40) }}",
        "{{ g|num(3.5) }}",  # showed the marker's raw text
        "{% set a = name %}" + "{% set a = a ~ a %}" * 40 + "{{ a|length }}",  # 2**40 letters
        "{% set a = xs %}{% set b = a + a %}{{ b }}",  # sets feeding sets, however named
        "{{ name|pct }}",  # a ValueError
        "{{ xs|pct }}",  # a TypeError
    ],
)
def test_unsafe_or_broken_texts_fail_cleanly(source: str) -> None:
    with pytest.raises(RenderError):
        render(source, CONTEXT, "terminal")


def test_a_whole_float_indexes_a_list() -> None:
    assert render("{{ xs[k - 1]|num }}", {"xs": (0.5, 0.25), "k": 2.0}, "terminal") == "0.25"


def test_an_undefined_number_names_what_is_missing() -> None:
    with pytest.raises(RenderError, match="tuple object has no element 5"):
        render("{{ xs[5]|num }}", {"xs": (0.5, 0.25)}, "terminal")


def bank_texts() -> list[tuple[str, object, str]]:
    """(variant id, context, text) for every text of every bundled question, seeds 0 to 2."""
    from tutor.catalog import load_catalog
    from tutor.variant import make_variant

    found = []
    for question in load_catalog().questions:
        for seed in range(3):
            variant = make_variant(question, seed)
            for part, key in zip(question.parts, variant.parts, strict=True):
                texts = [
                    question.stem,
                    part.prompt,
                    part.explanation,
                    part.working,
                    part.model_answer,
                ]
                texts += [*part.hints, *(m.feedback for m in part.mistakes)]
                texts += [t for o in part.options for t in (o.text, o.feedback)]
                texts += [t.title for t in part.tables] + [
                    h for t in part.tables for h, _ in t.columns
                ]
                found += [(variant.id, key.context, t) for t in texts if t]
    return found


def test_direct_substitution_gives_exactly_what_jinja_gives() -> None:
    from tutor.render import clean, direct
    from tutor.sandbox import render_template

    compared = 0
    for ident, context, text in bank_texts():
        fast = direct(text, context)  # type: ignore[arg-type]
        if fast is not None:
            assert fast == render_template(clean(text), context), (ident, text)  # type: ignore[arg-type]
            compared += 1
    assert compared > 500  # most prompts are plain substitutions


@pytest.mark.parametrize(
    ("source", "context"),
    [
        ("{{ missing }}", {}),
        ("{{ d.items }}", {"d": {"items": 1}}),  # a dict method name: Jinja's rules apply
        ("{{ xs[5] }}", {"xs": (1, 2)}),
        ("{{ x + 1 }}", {"x": 1}),
        ("{% if x %}a{% endif %}", {"x": 1}),
        ("{{ x|round }}", {"x": 1.5}),
    ],
)
def test_texts_needing_jinja_are_left_to_it(source: str, context: dict[str, object]) -> None:
    from tutor.render import direct

    assert direct(source, context) is None


def test_direct_substitution_keeps_jinjas_newline_rule() -> None:
    from tutor.render import direct

    assert direct("a {{ n }}\n", {"n": 3}) == "a 3"
    assert direct("a {{ n }}\n\n", {"n": 3}) == "a 3\n"


# Printable text, with line breaks, markers and a sprinkling of everything that must go.
_RISKY = st.sampled_from(["\n", "\t", "\r", "\x1b", "\x7f", "\x85", "\u200b", "\u202e", "\u2066",
                          "\ufeff", "\ud800", "\ue000", "\ue001", "\ue002", "\uf8ff", "\U000f0000",
                          "\u2009", "\u00a0", "\u2028", "\u0378", OPEN, CLOSE])  # fmt: skip
_TEXT = st.lists(st.one_of(st.text(max_size=5), _RISKY), max_size=12).map("".join)


# What strip_controls removes: control, format and bidi, surrogate and private-use characters
# (the last two private-use characters, our number markers, kept when asked).
_UNSAFE = "\x00-\x09\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff\ud800-\udfff"
_STRIPPED = {
    False: re.compile(f"[{_UNSAFE}\ue000-\uf8ff\U000f0000-\U0010ffff]"),
    True: re.compile(f"[{_UNSAFE}\ue002-\uf8ff\U000f0000-\U0010ffff]"),
}


@given(text=_TEXT, keep_markers=st.booleans())
def test_stripping_controls_is_what_the_pattern_removes(text: str, keep_markers: bool) -> None:
    normalized = text.replace("\t", "    ").replace("\r\n", "\n")
    assert strip_controls(text, keep_markers=keep_markers) == _STRIPPED[keep_markers].sub(
        "", normalized
    )


def test_terminal_text_keeps_paragraphs_and_items_on_one_line_each() -> None:
    text = to_terminal(
        "A paragraph an editor\nwrapped.\n\n- an item\n  that goes on\n    x = 1  (kept)"
    )
    assert text == "A paragraph an editor wrapped.\n\n- an item that goes on\n    x = 1  (kept)"


@pytest.mark.parametrize("width", [40, 60, 88])
def test_wrap_fits_the_width_and_loses_no_word(width: int) -> None:
    words = " ".join(f"word{i}" for i in range(60))
    verbatim = f"    {words}"
    text = f"Hint: {words}\n\n- {words}\n{verbatim}"
    lines = wrap(text, width, hang="   ").split("\n")
    assert all(len(line) <= width for line in lines if line != verbatim)
    assert lines[-1] == verbatim  # an aligned formula is never re-wrapped
    blank, bullet = lines.index(""), next(i for i, x in enumerate(lines) if x.startswith("- "))
    assert all(line.startswith("   ") for line in lines[1:blank])  # the hang
    assert all(line.startswith("  ") for line in lines[bullet + 1 : -1])  # under the item
    assert " ".join(wrap(text, width).split()) == " ".join(text.split())


def test_bold_marks_are_read_in_text_never_in_math() -> None:
    text = "**Powers** like $0.25**10$ and $0.5**10$ stay math; **odd"
    page = render(text, {}, "html")
    assert page.count("<strong>") == 1 and "<strong>Powers</strong>" in page
    assert page.count("<math") == page.count("</math>") == 2
    assert '<annotation encoding="application/x-tex">0.25**10</annotation>' in page
    assert page.rstrip("</p>").endswith("**odd")
    assert render(text, {}, "terminal") == "Powers like 0.25**10 and 0.5**10 stay math; odd"
