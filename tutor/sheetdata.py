"""What a worksheet shows of each variant, ready for the page templates.

Texts come from :class:`tutor.present.PartView` with target "html": escaped HTML fragments
(paragraphs, lists, sanitized MathML). They are wrapped in :class:`markupsafe.Markup` here and
nowhere else, so the autoescaping page templates insert them as markup and escape everything
else. Tables are drawn as HTML tables, charts as inline SVG with a title and a text alternative.
"""

from __future__ import annotations

import html as html_text
import json
import numbers
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from markupsafe import Markup

from tutor.answers import Verdict
from tutor.bankspec import Question, Show
from tutor.charts import svg_bar_chart
from tutor.numfmt import format_number
from tutor.present import LETTERS, Chart, PartView, Table
from tutor.selfcheck import grading_data, help_count
from tutor.variant import make_variant

_EMPTY = Markup("")
_CHART_ID = re.compile(r'id="(gt-chart-[0-9a-f]+)-title"')


@dataclass(frozen=True)
class SelfCheck:
    """One part's grading data (JSON for a ``data-key`` attribute) and its hidden texts."""

    data: str  # tutor.selfcheck.grading_data as JSON
    help: tuple[tuple[str, Markup], ...]
    feedback: tuple[tuple[str, Markup], ...]  # (mistake name, feedback) for typed answers
    option_feedback: tuple[tuple[int, Markup], ...]  # (option index, feedback) for choices


def self_check(view: PartView) -> SelfCheck:
    """What the page needs to grade ``view``'s part as the terminal quiz would."""
    return SelfCheck(
        data=json.dumps(grading_data(view), separators=(",", ":"), allow_nan=False),
        help=_help(view),
        feedback=_mistake_feedback(view),
        option_feedback=_option_feedback(view),
    )


@dataclass(frozen=True)
class PartSheet:
    """One part: what the learner sees, and what the key (or a self-check page) reveals."""

    anchor: str  # element id, unique in the page: "v2-q3-p1"
    label: str  # "a", "b", ... for the parts of a chained question
    type: str
    prompt: Markup
    figures: Markup  # tables and charts shown with the prompt
    options: tuple[Markup, ...]  # multiple choice, in the variant's order
    tolerance: str  # numeric answers: "within 1% of the answer"
    answer: Markup = _EMPTY
    explanation: Markup = _EMPTY
    key_figures: Markup = _EMPTY  # tables and charts shown with the explanation, in the key
    check_figures: Markup = _EMPTY  # the same, revealed on a self-check page (other element ids)
    model_answer: Markup = _EMPTY
    check: SelfCheck | None = None


@dataclass(frozen=True)
class QuestionSheet:
    """One numbered question of a version."""

    number: int
    anchor: str
    title: str
    variant_id: str
    stem: Markup  # the shared introduction of a chained question
    parts: tuple[PartSheet, ...]


@dataclass(frozen=True)
class VersionSheet:
    """One version: ``ident`` is the id "S-k" printed on it, ``anchor`` its element id."""

    number: int
    ident: str
    anchor: str
    title: str
    questions: tuple[QuestionSheet, ...]


def version_sheet(
    plan: Sequence[tuple[Question, int]],
    *,
    number: int,
    ident: str,
    title: str,
    key: bool,
    check: bool,
) -> VersionSheet:
    """Draw and render every question of a version: for its key, its self-check, or both."""
    anchor = f"v{number}"
    questions = tuple(
        question_sheet(question, seed, anchor=f"{anchor}-q{i}", number=i, key=key, check=check)
        for i, (question, seed) in enumerate(plan, start=1)
    )
    return VersionSheet(number, ident, anchor, title, questions)


def question_sheet(
    question: Question, seed: int, *, anchor: str, number: int, key: bool, check: bool
) -> QuestionSheet:
    """Draw one variant and render what the page shows of it."""
    variant = make_variant(question, seed)
    parts = []
    stem = _EMPTY
    for i in range(len(variant.parts)):
        view = PartView(variant, i, "html")
        stem = html(view.stem) if i == 0 else stem
        parts.append(part_sheet(view, f"{anchor}-p{i + 1}", key=key, check=check))
    return QuestionSheet(number, anchor, question.title, variant.id, stem, tuple(parts))


def part_sheet(view: PartView, anchor: str, *, key: bool, check: bool) -> PartSheet:
    """One part; ``key`` adds what its answer key shows, ``check`` what a self-check reveals."""
    numeric = view.part.type == "numeric"
    sheet = PartSheet(
        anchor=anchor,
        label=LETTERS[view.index].lower(),
        type=view.part.type,
        prompt=html(view.prompt),
        figures=figures(view, "prompt", anchor),
        options=tuple(inline(view.choice_text(i)) for i in range(len(view.key.choices))),
        tolerance=view.tolerance_text() if numeric else "",
    )
    if not (key or check):
        return sheet
    return replace(
        sheet,
        answer=answer(view),
        explanation=html(view.explanation),
        key_figures=figures(view, "explanation", f"{anchor}-key") if key else _EMPTY,
        check_figures=figures(view, "explanation", f"{anchor}-check") if check else _EMPTY,
        model_answer=html(view.model_answer),
        check=self_check(view) if check else None,
    )


def answer(view: PartView) -> Markup:
    """The right answer as one line: a number, "B. option text", "true" or "false"."""
    part, key = view.part, view.key
    if part.type == "choice":
        right = next(i for i, c in enumerate(key.choices) if c.correct)
        return Markup("{}. {}").format(LETTERS[right], inline(view.choice_text(right)))
    if part.type == "explain":
        return _EMPTY
    return inline(view.answer_text())


def html(fragment: str) -> Markup:
    """A rendered fragment as page markup, its paragraphs reflowed to the page's width.

    The renderer keeps a bank text's single line breaks as ``<br>``; on a page they would
    break lines mid-sentence wherever the author's editor wrapped, so they become spaces
    (blank lines still separate paragraphs). ``<br>`` can only come from the renderer: bank
    text is escaped.
    """
    return Markup(fragment.replace("<br>", "\n"))


def inline(fragment: str) -> Markup:
    """A one-paragraph fragment without its ``<p>``, to sit in a line, a label or a cell.

    ``<p>`` can only come from the renderer (bank text is escaped), so a fragment that starts
    with one paragraph and holds no other is that paragraph's content.
    """
    if fragment.startswith("<p>") and fragment.endswith("</p>") and fragment.count("<p>") == 1:
        return html(fragment[3:-4])
    return html(fragment)


def _help(view: PartView) -> tuple[tuple[str, Markup], ...]:
    """The hints, then the partial working: one more after each wrong try, as in the quiz."""
    items = []
    for n in range(help_count(view)):
        label = "Hint" if n < len(view.part.hints) else "Partial working"
        items.append((label, html(view.hint(n))))
    return tuple(items)


def _mistake_feedback(view: PartView) -> tuple[tuple[str, Markup], ...]:
    if view.part.type not in ("numeric", "truefalse"):
        return ()
    found = []
    for mistake in view.part.mistakes:
        text = view.feedback(Verdict(0.0, False, 0.0, mistake.name))
        if text:
            found.append((mistake.name, html(text)))
    return tuple(found)


def _option_feedback(view: PartView) -> tuple[tuple[int, Markup], ...]:
    if view.part.type != "choice":
        return ()
    found = []
    for i, choice in enumerate(view.key.choices):
        if not choice.correct:
            text = view.feedback(Verdict(float(i), False, 0.0, choice.mistake))
            if text:
                found.append((i, html(text)))
    return tuple(found)


# ---------------------------------------------------------------------------------- figures


def figures(view: PartView, show: Show, scope: str) -> Markup:
    """The part's tables and charts for the prompt or the explanation, as HTML.

    ``scope`` prefixes the charts' element ids, which must be unique in the page even when
    the same chart is shown twice (in a self-check's explanation and in the key).
    """
    tables = [table_html(table) for table in view.tables(show)]
    if not view.part.charts:
        return Markup("\n".join(tables))
    # Chart titles go into SVG text, which takes plain text: the terminal rendering is that.
    charts = PartView(view.variant, view.index, "terminal").charts(show)
    svgs = (chart_svg(chart, f"{scope}-chart{i}") for i, chart in enumerate(charts, start=1))
    return Markup("\n".join([*tables, *svgs]))


def table_html(table: Table) -> str:
    """A ``<table class="gt-table">`` whose caption and headers keep their MathML.

    :func:`tutor.charts.html_table` escapes headers as plain text; here they are already
    escaped HTML fragments. Numbers are formatted and right-aligned as it does.
    """
    columns = list(zip(*table.rows, strict=True)) or [() for _ in table.headers]
    numeric = [bool(c) and all(_is_number(v) for v in c if v is not None) for c in columns]
    head = "".join(
        f'<th scope="col"{_num(n)}>{inline(h)}</th>'
        for h, n in zip(table.headers, numeric, strict=True)
    )
    rows = [
        "<tr>" + "".join(f"<td{_num(_is_number(v))}>{_cell(v)}</td>" for v in row) + "</tr>"
        for row in table.rows
    ]
    caption = f"<caption>{inline(table.title)}</caption>" if table.title else ""
    return (
        f'<table class="gt-table">{caption}<thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _is_number(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _num(numeric: bool) -> str:
    return ' class="num"' if numeric else ""


def _cell(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "true" if value else "false"
    if _is_number(value):
        exact = int(value) if isinstance(value, numbers.Integral) else float(value)  # type: ignore[arg-type]
        return format_number(exact, style="html")
    return html_text.escape(str(value))


def chart_svg(chart: Chart, ident: str) -> str:
    """An inline SVG bar chart on a log scale, with a title and the values as a description.

    Its element ids (from a hash of the chart's data, the same for the same chart) become
    ``ident``-title and ``ident``-desc.
    """
    svg = svg_bar_chart(
        chart.labels,
        chart.values,
        title=chart.title,
        description=describe_chart(chart),
        value_label=chart.value_label,
    )
    generated = _CHART_ID.search(svg)
    if generated is not None:
        svg = svg.replace(generated.group(1), ident)
    return f'<figure class="chart">{svg}</figure>'


def describe_chart(chart: Chart) -> str:
    """The text alternative of a chart: what it plots and every value, for screen readers."""
    note = f" ({chart.value_label})" if chart.value_label else ""
    listed = "; ".join(
        f"{label}: {format_number(value)}"
        for label, value in zip(chart.labels, chart.values, strict=True)
    )
    return f"Bar chart on a log scale{note}, one bar per label. {listed}."
