"""charts: text tables and bar charts for the terminal, <table> and SVG for HTML."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tutor.charts import display_width, html_table, svg_bar_chart, text_bar_chart, text_table
from tutor.errors import TutorError

SVG = "{http://www.w3.org/2000/svg}"
LAYERS = ["layer 1", "layer 2", "layer 3"]
GRADS = [0.25, 0.016, 9.54e-7]
NAN = float("nan")
INF = float("inf")

# --------------------------------------------------------------------------- text_table


def test_text_table_three_layers() -> None:
    rows = [[1, 0.25, 9.54e-7], [2, 0.105, 3.8e-6], [3, 0.2, 1.5e-5]]
    assert text_table(["layer", "σ′(z)", "|∂L/∂h|"], rows, title="Per layer") == (
        "Per layer\n"
        "layer  σ′(z)      |∂L/∂h|\n"
        "─────  ─────  ───────────\n"
        "    1   0.25  9.54 × 10⁻⁷\n"
        "    2  0.105   3.8 × 10⁻⁶\n"
        "    3    0.2   1.5 × 10⁻⁵"
    )


def test_text_table_text_columns_left_none_as_dash_no_trailing_spaces() -> None:
    out = text_table(["name", "value"], [["sigmoid", 0.25], ["tanh", None], ["relu", 1]])
    assert out == ("name     value\n───────  ─────\nsigmoid   0.25\ntanh         —\nrelu         1")


def test_text_table_wide_and_combining_characters_keep_alignment() -> None:
    out = text_table(["層", "x"], [["深い層", 1], ["y\u0302", 22]])
    assert out.splitlines() == ["層       x", "──────  ──", "深い層   1", "ŷ       22"]
    assert {display_width(line) for line in out.splitlines()} == {10}


def test_text_table_strips_control_characters() -> None:
    out = text_table(["a\x1b[31m"], [["x\ny\x07"]])
    assert "\x1b" not in out and "\x07" not in out
    assert out.splitlines()[-1] == "x y"


@pytest.mark.parametrize(
    ("headers", "rows", "title", "expected"),
    [([], [], None, ""), ([], [], "T", "T"), (["a"], [], None, "a\n─")],
)
def test_text_table_empty(headers: list[str], rows: list[list[object]], title: str | None,
                          expected: str) -> None:  # fmt: skip
    assert text_table(headers, rows, title=title) == expected


def test_tables_reject_ragged_rows() -> None:
    with pytest.raises(TutorError, match="row 2 has 1 cells"):
        text_table(["a", "b"], [[1, 2], [3]])
    with pytest.raises(TutorError):
        html_table(["a"], [[1, 2]])


@pytest.mark.parametrize(
    ("text", "width"), [("abc", 3), ("深い", 4), ("y\u0302", 1), ("", 0), ("10⁻⁷", 4)]
)
def test_display_width(text: str, width: int) -> None:
    assert display_width(text) == width


# --------------------------------------------------------------------------- html_table


def test_html_table_three_layers() -> None:
    out = html_table(["layer", "gradient"], [[1, 9.54e-7], [2, -0.5]], caption="Per layer")
    assert out == (
        '<table class="gt-table">\n'
        "<caption>Per layer</caption>\n"
        "<thead>\n"
        '<tr><th scope="col" class="num">layer</th><th scope="col" class="num">gradient</th></tr>\n'
        "</thead>\n"
        "<tbody>\n"
        '<tr><td class="num">1</td><td class="num">9.54&#8239;×&#8239;10<sup>−7</sup></td></tr>\n'
        '<tr><td class="num">2</td><td class="num">−0.5</td></tr>\n'
        "</tbody>\n"
        "</table>"
    )


def test_html_table_escapes_everything() -> None:
    out = html_table(["<th>", "x"], [["<script>alert(1)</script>", None]], caption='"&<b>')
    assert "<script" not in out and "<b>" not in out
    assert "<caption>&quot;&amp;&lt;b&gt;</caption>" in out
    assert '<th scope="col">&lt;th&gt;</th>' in out
    assert "<td>—</td>" in out
    ET.fromstring(out)


def test_html_table_without_caption() -> None:
    assert "<caption>" not in html_table(["a"], [["b"]])


# --------------------------------------------------------------------------- text_bar_chart


def test_text_bar_chart_three_layers() -> None:
    assert text_bar_chart(LAYERS, GRADS, title="‖∂L/∂h‖ per layer", width=20) == (
        "‖∂L/∂h‖ per layer\n"
        "layer 1 │██████████████████▎  0.25\n"
        "layer 2 │██████████████▉      0.016\n"
        "layer 3 │██▊                  9.54 × 10⁻⁷\n"
        "        └ log scale 10⁻⁷ … 10⁰ (each █ ≈ ×2.2)"
    )


def test_text_bar_charts_given_each_others_values_share_one_scale() -> None:
    both = [*GRADS, 1e-12, 1e-1]
    alone = text_bar_chart(LAYERS, GRADS, width=20).splitlines()
    shared = text_bar_chart(LAYERS, GRADS, width=20, span=both).splitlines()
    other = text_bar_chart(LAYERS, [1e-12, 1e-6, 1e-1], width=20, span=both).splitlines()
    assert shared[-1] == other[-1] == "        └ log scale 10⁻¹³ … 10⁰ (each █ ≈ ×4.5)"
    assert shared[-1] != alone[-1]
    assert shared[:-1] != alone[:-1]  # the bars are drawn on the longer scale


def test_text_bar_chart_spans_many_decades() -> None:
    out = text_bar_chart(LAYERS, [1e-12, 1e-6, 1e-1], title="t", width=24)
    assert out.splitlines()[1:] == [
        "layer 1 │██                       1 × 10⁻¹²",
        "layer 2 │██████████████           1 × 10⁻⁶",
        "layer 3 │████████████████████████ 0.1",
        "        └ log scale 10⁻¹³ … 10⁻¹ (each █ ≈ ×3.2)",
    ]


def test_text_bar_chart_zero_nonfinite_and_negative() -> None:
    out = text_bar_chart(
        ["zero", "inf", "nan", "neg", "big"], [0.0, -INF, NAN, -1e-3, 10.0], title="t", width=8
    )
    assert out.splitlines()[1:] == [
        "zero │         0",
        "inf  │         −∞ (overflow)",
        "nan  │         NaN (not a number)",
        "neg  │█▋       −0.001",
        "big  │████████ 10",
        "     └ log scale 10⁻⁴ … 10¹ (each █ ≈ ×4.2); bars show |value|",
    ]


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([0.25], ["a │███▏     0.25", "  └ log scale 10⁻¹ … 10⁰ (each █ ≈ ×1.3)"]),
        ([0.0], ["a │         0", "  └ no finite non-zero values to draw"]),
        ([INF], ["a │         ∞ (overflow)", "  └ no finite non-zero values to draw"]),
        ([1e-300], ["a │████████ 1 × 10⁻³⁰⁰", "  └ log scale 10⁻³⁰¹ … 10⁻³⁰⁰ (each █ ≈ ×1.3)"]),
    ],
)
def test_text_bar_chart_single_value(values: list[float], expected: list[str]) -> None:
    assert text_bar_chart(["a"], values, title="t", width=8).splitlines()[1:] == expected


def test_text_bar_chart_all_equal_values_have_equal_bars() -> None:
    lines = text_bar_chart(list("abc"), [0.5, 0.5, 0.5], title="t", width=10).splitlines()[1:4]
    assert len(set(lines_bar(lines))) == 1


def lines_bar(lines: list[str]) -> list[str]:
    return [line.split("│")[1] for line in lines]


def test_text_bar_chart_linear() -> None:
    out = text_bar_chart(["a", "b"], [-0.5, 2], title="t", log=False, width=8)
    assert out.splitlines()[1:] == [
        "a │██       −0.5",
        "b │████████ 2",
        "  └ linear scale 0 … 2 (each █ ≈ 0.25); bars show |value|",
    ]


def test_text_bar_chart_empty_and_errors() -> None:
    assert text_bar_chart([], [], title="t") == "t\n(no data)"
    with pytest.raises(TutorError, match="one label per value"):
        text_bar_chart(["a"], [1.0, 2.0], title="t")
    with pytest.raises(TutorError, match="width"):
        text_bar_chart(["a"], [1.0], title="t", width=0)


@settings(deadline=None)
@given(
    st.lists(st.floats() | st.integers(-(10**6), 10**6), min_size=1, max_size=12),
    st.integers(1, 60),
    st.booleans(),
)
def test_text_bar_chart_never_overflows_its_width(values: list[float], width: int,
                                                  log: bool) -> None:  # fmt: skip
    labels = [f"layer {i + 1}" for i in range(len(values))]
    out = text_bar_chart(labels, values, title="t", log=log, width=width)
    lines = out.splitlines()
    assert len(lines) == len(values) + 2
    for line, value in zip(lines[1:-1], values, strict=True):
        bar = line.split("│", 1)[1][:width]
        assert len(bar) == width and set(bar) <= set("█▏▎▍▌▋▊▉ ")
        assert (bar.strip() != "") == (value != 0 and abs(value) < INF)


# --------------------------------------------------------------------------- svg_bar_chart


def svg_chart(**overrides: object) -> str:
    arguments: dict[str, object] = {
        "title": "Gradient norm per layer",
        "description": "The gradient shrinks from 0.25 at layer 1 to 9.5e-7 at layer 3.",
        "value_label": "‖∂L/∂h‖",
    }
    arguments.update(overrides)
    return svg_bar_chart(LAYERS, GRADS, **arguments)  # type: ignore[arg-type]


def test_svg_is_accessible_self_contained_and_deterministic() -> None:
    out = svg_chart()
    root = ET.fromstring(out)
    assert root.tag == SVG + "svg"
    assert root.get("role") == "img" and root.get("width") == "100%"
    assert root.get("viewBox") == "0 0 640 150"
    title_id, desc_id = str(root.get("aria-labelledby")).split()
    assert root.find(f"{SVG}title[@id='{title_id}']").text == "Gradient norm per layer"  # type: ignore[union-attr]
    assert root.find(f"{SVG}desc[@id='{desc_id}']") is not None
    assert 'xmlns="http://www.w3.org/2000/svg"' in out
    without_namespace = out.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert not re.search(r"<script|<style|style=|url\(|href|@import|https?:", without_namespace)
    assert out == svg_chart()
    assert svg_chart(title="other") != out


def test_svg_has_one_bar_per_drawn_value_and_decade_ticks() -> None:
    root = ET.fromstring(svg_chart())
    bars = root.findall(f"{SVG}rect")
    assert [b.get("width") for b in bars] == ["390.27", "317.45", "59.75"]
    texts = [t.text for t in root.iter(f"{SVG}text")]
    ticks = [t for t in texts if t and t.startswith("10")]
    assert ticks == ["10⁻⁷", "10⁻⁶", "10⁻⁵", "10⁻⁴", "10⁻³", "10⁻²", "10⁻¹", "10⁰"]
    assert {"layer 1", "0.25", "9.54 × 10⁻⁷", "‖∂L/∂h‖, log scale"} <= set(texts)


def test_svg_coordinates_have_at_most_two_decimals() -> None:
    numbers = re.findall(r'\s(?:x|y|x1|x2|y1|y2|width|height)="([^"]+)"', svg_chart())
    assert all(re.fullmatch(r"-?\d+(\.\d{1,2})?|100%", n) for n in numbers)


def test_svg_escapes_every_text() -> None:
    out = svg_bar_chart(
        ["<b>x</b>", "a&b"],
        [1.0, 2.0],
        title="</title><script>alert(1)</script>",
        description="\x1b]0;pwn\x07 & <desc>",
        value_label='" onload="alert(1)',
    )
    root = ET.fromstring(out)
    assert "<script" not in out and "<b>" not in out and "\x1b" not in out
    assert all(not name.startswith("on") for e in root.iter() for name in e.attrib)
    assert "&lt;b&gt;x&lt;/b&gt;" in out and "a&amp;b" in out


def test_svg_edge_values() -> None:
    out = svg_bar_chart(
        ["zero", "inf", "nan", "neg"], [0.0, INF, NAN, -3e-5], title="t", description="d"
    )
    root = ET.fromstring(out)
    assert len(root.findall(f"{SVG}rect")) == 1
    texts = {t.text for t in root.iter(f"{SVG}text")}
    assert {"0", "∞ (overflow)", "NaN (not a number)", "−3 × 10⁻⁵"} <= texts
    assert "log scale, bars show |value|" in texts


def test_svg_linear_and_empty() -> None:
    linear = ET.fromstring(svg_chart(log=False))
    ticks = [t.text for t in linear.iter(f"{SVG}text") if t.get("font-size") == "11"]
    assert ticks == ["0", "0.0625", "0.125", "0.188", "0.25"]
    empty = svg_bar_chart([], [], title="t", description="d")
    assert ET.fromstring(empty).findall(f"{SVG}rect") == []


def test_svg_many_decades_limits_labels() -> None:
    out = svg_bar_chart(["a", "b"], [1e-300, 1e300], title="t", description="d")
    labels = [t.text for t in ET.fromstring(out).iter(f"{SVG}text") if t.get("font-size") == "11"]
    assert 2 <= len(labels) <= 9


@settings(deadline=None)
@given(
    st.lists(st.tuples(st.text(max_size=30), st.floats()), max_size=10),
    st.text(max_size=40),
    st.booleans(),
)
def test_svg_always_parses(rows: list[tuple[str, float]], title: str, log: bool) -> None:
    labels = [label for label, _ in rows]
    values = [value for _, value in rows]
    out = svg_bar_chart(labels, values, title=title, description=title, log=log)
    root = ET.fromstring(out)
    assert {e.tag.removeprefix(SVG) for e in root.iter()} <= {"svg", "title", "desc", "text",
                                                              "line", "rect"}  # fmt: skip
