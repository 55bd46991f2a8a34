"""What a learner sees of a variant's part, for one target (terminal or HTML).

Front ends ask a :class:`PartView` for the prompt, the options, a hint, the explanation, the
feedback on a verdict and the part's table and chart; rendering problems become BankErrors
located at the question, so a broken text is reported, never shown half-done.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, NamedTuple

from tutor.answers import Verdict
from tutor.bankspec import ChartSpec, Part, Show, TableSpec
from tutor.errors import BankError, ExpressionError
from tutor.numfmt import format_number
from tutor.render import RenderError, Target, convert, number_marker, render
from tutor.variant import PartKey, Variant

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


class Table(NamedTuple):
    """A per-layer table ready to draw: rendered title and headers, numeric rows."""

    title: str
    headers: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]


class Chart(NamedTuple):
    """A log-scale chart ready to draw."""

    title: str
    labels: tuple[str, ...]
    values: tuple[float, ...]
    value_label: str


class PartView:
    """Renders the texts of one part of a variant for one target."""

    def __init__(self, variant: Variant, index: int, target: Target) -> None:
        self.variant = variant
        self.index = index
        self.target = target
        self.key: PartKey = variant.parts[index]
        self.part: Part = variant.question.parts[index]

    def text(self, source: str | None) -> str:
        """A bank text rendered with this part's values ("" for none)."""
        if not source:
            return ""
        try:
            return render(source, self.key.context, self.target)
        except RenderError as exc:
            raise self._error(str(exc)) from None

    def _error(self, message: str) -> BankError:
        q = self.variant.question
        return BankError(
            f"{message} (variant {self.variant.id})",
            path=q.source.path,
            line=self.part.line,
            question=q.id,
        )

    @property
    def prompt(self) -> str:
        return self.text(self.part.prompt)

    @property
    def stem(self) -> str:
        """The shared introduction of a chained question (shown before its first part)."""
        return self.text(self.variant.question.stem) if self.index == 0 else ""

    def options(self) -> list[str]:
        """The choices as "A. text", in the variant's order."""
        return [f"{LETTERS[i]}. {self.choice_text(i)}" for i in range(len(self.key.choices))]

    def choice_text(self, i: int) -> str:
        choice = self.key.choices[i]
        if choice.text is not None:
            return self.text(choice.text)
        return self.number(choice.value, self.option_sig())

    def number(self, value: float | None, sig: int) -> str:
        """A number formatted for this view's target."""
        return convert(number_marker(float("nan") if value is None else value, sig), self.target)

    def option_sig(self) -> int:
        """Enough significant figures that no two numeric options look the same, and none
        looks rounder than it is (1.0023 is shown as 1.002, not 1, beside 1.02)."""
        values = [c.value for c in self.key.choices if c.value is not None]
        for sig in range(3, 8):
            shown = [format_number(v, sig, "plain") for v in values]
            faithful = all(_reads_back(text, v) for text, v in zip(shown, values, strict=True))
            if faithful and len(set(shown)) == len(values):
                return sig
        return 8

    def hint(self, n: int) -> str:
        """The n-th hint (0-based), or the partial working once hints run out."""
        hints = self.part.hints
        if n < len(hints):
            return self.text(hints[n])
        return self.text(self.part.working) if n == len(hints) else ""

    def has_more_help(self, n: int) -> bool:
        return n < len(self.part.hints) or (n == len(self.part.hints) and bool(self.part.working))

    @property
    def explanation(self) -> str:
        return self.text(self.part.explanation)

    @property
    def model_answer(self) -> str:
        return self.text(self.part.model_answer)

    def answer_text(self) -> str:
        """The right answer as the learner would write it."""
        expected = self.key.expected
        if self.part.type == "choice":
            return self.options()[expected] if self.part.is_text_choice else self._right_option()
        if self.part.type == "truefalse":
            return "true" if expected else "false"
        if self.part.type == "explain":
            return self.model_answer
        sig = 4 if self.key.tolerance.kind != "sigfigs" else int(self.key.tolerance.value) + 1
        return self.number(expected, sig)

    def tolerance_text(self) -> str:
        """The tolerance in words; an infinite or NaN answer is matched exactly."""
        expected = self.key.expected
        finite = isinstance(expected, float) and math.isfinite(expected)
        return self.key.tolerance.describe() if finite else "exactly"

    def _right_option(self) -> str:
        i = next(i for i, c in enumerate(self.key.choices) if c.correct)
        return self.options()[i]

    def feedback(self, verdict: Verdict) -> str:
        """Feedback aimed at the mistake the learner made, if it is a known one."""
        if verdict.correct:
            return ""
        if self.part.type == "choice":
            choice = self.key.choices[int(verdict.value)]
            if choice.feedback:
                return self.text(choice.feedback)
        for mistake in self.part.mistakes:
            if mistake.name == verdict.mistake:
                return self.text(mistake.feedback)
        return ""

    def tables(self, show: Show) -> list[Table]:
        """The part's tables shown with the prompt or with the explanation."""
        compiled = self.variant.compiled.parts[self.index]
        return [
            self._table(spec, columns)
            for spec, columns in zip(self.part.tables, compiled.tables, strict=True)
            if spec.show == show
        ]

    def _table(self, spec: TableSpec, formulas: Sequence[tuple[str, Any]]) -> Table:
        columns = [self._evaluate(formula) for _, formula in formulas]
        if any(not isinstance(c, tuple) for c in columns) or len({len(c) for c in columns}) != 1:
            raise self._error(
                f"table {spec.title!r}: every column must be a list, all of one length"
            )
        headers = tuple(self.text(h) for h, _ in spec.columns)
        return Table(self.text(spec.title), headers, tuple(zip(*columns, strict=True)))

    def charts(self, show: Show) -> list[Chart]:
        """The part's charts shown with the prompt or with the explanation."""
        compiled = self.variant.compiled.parts[self.index]
        return [
            self._chart(spec, *formulas)
            for spec, formulas in zip(self.part.charts, compiled.charts, strict=True)
            if spec.show == show
        ]

    def _chart(self, spec: ChartSpec, values_formula: Any, labels_formula: Any) -> Chart:
        values = self._evaluate(values_formula)
        labels = self._evaluate(labels_formula) if labels_formula else None
        if not isinstance(values, tuple) or not all(isinstance(v, int | float) for v in values):
            raise self._error(f"chart {spec.title!r}: values must be a list of numbers")
        names = labels if isinstance(labels, tuple) else range(1, len(values) + 1)
        if len(names) != len(values):
            raise self._error(f"chart {spec.title!r}: {len(names)} labels for {len(values)} values")
        return Chart(
            self.text(spec.title),
            tuple(f"{n}" for n in names),
            tuple(float(v) for v in values),
            spec.value_label,
        )

    def _evaluate(self, formula: Any) -> Any:
        try:
            return formula(self.key.context)
        except ExpressionError as exc:
            raise self._error(exc.message) from None


def views(variant: Variant, target: Target) -> Sequence[PartView]:
    """One view per part of a variant."""
    return [PartView(variant, i, target) for i in range(len(variant.parts))]


def _reads_back(text: str, value: float) -> bool:
    """Whether a shown number is within a thousandth of the value it stands for."""
    try:
        shown = float(text)
    except ValueError:  # NaN and infinities are shown as words
        return True
    return abs(shown - value) <= 1e-3 * abs(value)


def json_number(value: float) -> float | str:
    """A float for JSON: infinities and NaN as the text a learner would type."""
    if math.isnan(value):
        return "nan"
    if value in (float("inf"), float("-inf")):
        return "inf" if value > 0 else "-inf"
    return value


def answer_value(view: PartView) -> Any:
    """The machine-readable right answer: a number, a letter, true/false or None."""
    expected = view.key.expected
    if view.part.type == "choice":
        index = (
            expected
            if view.part.is_text_choice
            else next(i for i, c in enumerate(view.key.choices) if c.correct)
        )
        return LETTERS[index]
    if view.part.type == "numeric":
        return json_number(expected)
    return expected


def describe_part(view: PartView) -> dict[str, Any]:
    """One part as a JSON-ready mapping (terminal text)."""
    tol = view.key.tolerance
    return {
        "type": view.part.type,
        "prompt": view.prompt,
        "options": view.options(),
        "answer": answer_value(view),
        "answer_text": view.answer_text(),
        "tolerance": {"kind": tol.kind, "value": tol.value, "description": view.tolerance_text()},
        "hints": [view.text(h) for h in view.part.hints],
        "explanation": view.explanation,
        "model_answer": view.model_answer or None,
        "mistakes": {name: json_number(v) for name, v in view.key.mistakes.items()},
    }


def describe(variant: Variant) -> dict[str, Any]:
    """A variant as JSON: the first part's fields at the top, every part under "parts"."""
    q = variant.question
    parts = [describe_part(view) for view in views(variant, "terminal")]
    params = {k: json_number(v) if isinstance(v, float) else v for k, v in variant.params.items()}
    head = {
        "id": q.id,
        "seed": variant.seed,
        "variant": variant.id,
        "title": q.title,
        "topic": q.topic,
        "difficulty": q.difficulty,
        "concepts": list(q.concepts),
        "params": params,
        "stem": views(variant, "terminal")[0].stem,
    }
    return {**head, **parts[0], "parts": parts}
