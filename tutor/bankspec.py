"""The frozen dataclasses a question bank is loaded into.

Expressions and Jinja texts are kept as written; :mod:`tutor.compiled` compiles them when a
question is first used, so start-up pays only for the questions actually asked.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Literal

from tutor.answers import DEFAULT_TOLERANCE, Tolerance

PartType = Literal["numeric", "choice", "truefalse", "explain"]
PART_TYPES: tuple[str, ...] = ("numeric", "choice", "truefalse", "explain")
Show = Literal["prompt", "explanation"]
Scalar = float | int | str | bool

MAX_BANK_BYTES = 1_000_000
"""The largest bank file read."""


@dataclass(frozen=True)
class Source:
    """Where a question was written: file, line and the bank file's content hash."""

    path: str
    line: int
    bank_hash: str


@dataclass(frozen=True)
class ParamSpec:
    """How one parameter is drawn: an int or float range, a choice, a constant or a formula."""

    name: str
    kind: Literal["int", "float", "choice", "const", "expr"]
    line: int
    low: float = 0.0
    high: float = 0.0
    step: float | None = None
    log: bool = False
    digits: int | None = None
    sig: int | None = None
    choices: tuple[Scalar, ...] = ()
    value: Scalar = 0
    expr: str = ""
    size: int | str | None = None  # draw a list: a fixed length or the name of an int parameter


@dataclass(frozen=True)
class SimSpec:
    """One run of a simulation model; string arguments are formulas or option names."""

    name: str
    model: str
    args: tuple[tuple[str, Scalar | tuple[Scalar, ...]], ...]
    line: int


@dataclass(frozen=True)
class MistakeSpec:
    """A named misconception: its wrong answer (a formula) and feedback aimed at it."""

    name: str
    feedback: str
    line: int
    answer: str | None = None


@dataclass(frozen=True)
class OptionSpec:
    """A written option of a multiple-choice part; ``correct`` is a flag or a formula."""

    text: str
    correct: bool | str
    line: int
    mistake: str | None = None
    feedback: str | None = None


@dataclass(frozen=True)
class TableSpec:
    """A per-layer table: one formula per column, each giving a list."""

    title: str
    columns: tuple[tuple[str, str], ...]
    show: Show
    line: int


@dataclass(frozen=True)
class ChartSpec:
    """A log-scale bar chart of a list of per-layer values."""

    title: str
    values: str
    show: Show
    line: int
    labels: str | None = None
    value_label: str = ""


@dataclass(frozen=True)
class Part:
    """One thing the learner answers. Single-part questions have exactly one."""

    type: PartType
    prompt: str
    line: int
    explanation: str = ""
    answer: str | bool | None = None
    tolerance: Tolerance = DEFAULT_TOLERANCE
    allow_nonfinite: bool = False
    mistakes: tuple[MistakeSpec, ...] = ()
    options: tuple[OptionSpec, ...] = ()
    shuffle: bool = True
    hints: tuple[str, ...] = ()
    working: str | None = None
    model_answer: str | None = None
    simulate: tuple[SimSpec, ...] = ()
    values: tuple[tuple[str, str], ...] = ()
    tables: tuple[TableSpec, ...] = ()
    charts: tuple[ChartSpec, ...] = ()
    lines: tuple[tuple[str, int], ...] = ()

    def line_of(self, key: str) -> int:
        """The line of one of this part's fields (``values.x`` for a value), else the part's."""
        return self._line_map.get(key, self.line)

    @functools.cached_property
    def _line_map(self) -> dict[str, int]:  # looked up as every variant is drawn
        return dict(self.lines)

    @property
    def is_text_choice(self) -> bool:
        """A multiple-choice part with written options (else its options are numbers)."""
        return self.type == "choice" and bool(self.options)


@dataclass(frozen=True)
class Question:
    """A question template: a seed turns it into a variant with its own numbers."""

    id: str
    title: str
    topic: str
    concepts: tuple[str, ...]
    difficulty: int
    parts: tuple[Part, ...]
    source: Source
    tags: tuple[str, ...] = ()
    claim: str | None = None
    stem: str = ""
    params: tuple[ParamSpec, ...] = ()
    simulate: tuple[SimSpec, ...] = ()
    values: tuple[tuple[str, str], ...] = ()
    require: tuple[str, ...] = ()
    minutes: float = 2.0
    lines: tuple[tuple[str, int], ...] = ()

    def line_of(self, key: str) -> int:
        """The line of one of the question's fields, else the question's own line."""
        return self._line_map.get(key, self.source.line)

    @functools.cached_property
    def _line_map(self) -> dict[str, int]:  # looked up as every variant is drawn
        return dict(self.lines)

    @property
    def kind(self) -> str:
        """The question's kind for listings: its part type, or "chained" for several parts."""
        return "chained" if len(self.parts) > 1 else self.parts[0].type

    @property
    def mistake_names(self) -> frozenset[str]:
        """Every named misconception this question can detect."""
        names = {m.name for p in self.parts for m in p.mistakes}
        names |= {o.mistake for p in self.parts for o in p.options if o.mistake}
        return frozenset(names)


@dataclass(frozen=True)
class Bank:
    """One bank file: its questions in order."""

    path: str
    topic: str
    title: str
    content_hash: str
    questions: tuple[Question, ...] = field(default=())
