"""A question's formulas, model runs and texts, compiled and cross-checked once.

Loading a bank checks its structure; this module does the deeper work the first time a
question is used: every formula is compiled and may name only what is defined before it, every
model and argument exists, and every Jinja text parses, obeys the sandbox rules and uses only
defined names. ``tutor check`` compiles every question, so a typo never reaches a learner.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, NamedTuple, NoReturn

from tutor.bankspec import ParamSpec, Part, Question, SimSpec
from tutor.errors import BankError, ExpressionError, SimulationError, close_matches
from tutor.expr import Expression, compile_expression
from tutor.models import MODELS, REQUIRED, Arg, Model, check_arg

# Names every template may use besides the question's own.
TEMPLATE_NAMES = frozenset({"answer", "mistakes", "tolerance", "seed"})
Evaluator = Callable[[Mapping[str, Any]], Any]


# An option as written (``he-normal``), or a name: a value that is neither is a formula.
_OPTION_LIKE = re.compile(r"[A-Za-z_][\w-]*")


class CompiledSim(NamedTuple):
    """A model run whose arguments are ready to evaluate against a variant's values."""

    name: str
    model: Model
    fixed: Mapping[str, Any]  # arguments given as constants (or left at their defaults), checked
    formulas: tuple[tuple[str, Arg, Evaluator], ...]  # the others, checked as they are evaluated
    line: int
    seeded: bool  # the model takes a seed drawn from the variant's stream


def _drawn_seed(env: Mapping[str, Any]) -> Any:
    return env["__seed__"]


class CompiledPart(NamedTuple):
    """The evaluators of one part: its own runs and values, answer, mistakes, options."""

    part: Part
    sims: tuple[CompiledSim, ...]
    values: tuple[tuple[str, Expression, int], ...]  # (name, formula, line)
    answer: Expression | None
    mistakes: tuple[tuple[str, Expression | None, int], ...]  # (name, formula, line)
    correct: tuple[bool | Expression, ...]
    tolerance_text: str  # the tolerance in words, for texts
    tables: tuple[tuple[tuple[str, Expression], ...], ...]  # per table: (header, column)
    charts: tuple[tuple[Expression, Expression | None], ...]  # per chart: (values, labels)


class CompiledQuestion(NamedTuple):
    """Everything needed to draw variants of a question quickly."""

    question: Question
    params: tuple[tuple[str, Expression | None], ...]
    sims: tuple[CompiledSim, ...]
    values: tuple[tuple[str, Expression, int], ...]  # (name, formula, line)
    require: tuple[tuple[Expression, int], ...]  # (rule, line)
    parts: tuple[CompiledPart, ...]


_CACHE: dict[int, tuple[Question, CompiledQuestion]] = {}


def compile_question(question: Question) -> CompiledQuestion:
    """Compile (once) and cross-check a question's formulas and models; raise BankError.

    Its texts are checked by the sandbox when they are first rendered; ``check_texts`` checks
    them all at once (tutor check does), including that they use only defined names.
    """
    hit = _CACHE.get(id(question))
    if hit is not None and hit[0] is question:
        return hit[1]
    compiled = _Compiler(question).run()
    _CACHE[id(question)] = (question, compiled)
    return compiled


def check_texts(question: Question) -> None:
    """Check every Jinja text of a question against the sandbox rules and the defined names."""
    _Compiler(question, texts=True).run()


class _Compiler:
    """Walks a question in evaluation order, tracking which names are defined."""

    def __init__(self, question: Question, *, texts: bool = False) -> None:
        self.question = question
        self.texts = texts
        self.known: set[str] = set()

    def fail(self, line: int, message: str) -> NoReturn:
        q = self.question
        raise BankError(message, path=q.source.path, line=line, question=q.id)

    def run(self) -> CompiledQuestion:
        q = self.question
        params = tuple((p.name, self.param(p)) for p in q.params)
        sims = self.sims(q.simulate)
        values = self.values(q.values, q.line_of)
        lines = (q.line_of(f"require.{i}") for i in range(len(q.require)))
        require = tuple(
            (self.formula(rule, line, "require"), line)
            for rule, line in zip(q.require, lines, strict=True)
        )
        scope = set(self.known)
        parts = tuple(self.part(p, scope) for p in q.parts)
        self.template(q.stem, q.line_of("prompt"), scope)
        return CompiledQuestion(q, params, sims, values, require, parts)

    def param(self, spec: ParamSpec) -> Expression | None:
        """Compile an ``expr`` parameter; check a list parameter's size names an earlier one."""
        size = spec.size
        if isinstance(size, str) and size not in self.known:
            self.fail(
                spec.line, f"parameter {spec.name!r}: size {size!r} is not an earlier parameter"
            )
        compiled = (
            self.formula(spec.expr, spec.line, f"parameter {spec.name!r}")
            if spec.kind == "expr"
            else None
        )
        self.define(spec.name, spec.line)
        return compiled

    def define(self, name: str, line: int) -> None:
        if name in self.known:
            self.fail(line, f"the name {name!r} is defined twice")
        self.known.add(name)

    def formula(self, text: str, line: int, what: str) -> Expression:
        try:
            compiled = compile_expression(text, mode="bank")
        except ExpressionError as exc:
            self.fail(line, f"{what}: {exc.message} in {text!r}")
        for name in sorted(compiled.names - self.known):
            hint = close_matches(name, sorted(self.known), n=1)
            more = f" (did you mean {hint[0]!r}?)" if hint else ""
            self.fail(line, f"{what}: unknown name {name!r}{more} in {text!r}")
        return compiled

    def values(
        self, values: Iterable[tuple[str, str]], line_of: Callable[[str], int]
    ) -> tuple[tuple[str, Expression, int], ...]:
        result = []
        for name, text in values:
            line = line_of(f"values.{name}")
            result.append((name, self.formula(text, line, f"value {name!r}"), line))
            self.define(name, line)
        return tuple(result)

    def sims(self, specs: Iterable[SimSpec]) -> tuple[CompiledSim, ...]:
        result = tuple(self.sim(spec) for spec in specs)
        for spec in specs:
            self.define(spec.name, spec.line)
        return result

    def sim(self, spec: SimSpec) -> CompiledSim:
        model = MODELS.get(spec.model)
        if model is None:
            hint = close_matches(spec.model, list(MODELS), n=1)
            more = f" (did you mean {hint[0]!r}?)" if hint else f"; known: {', '.join(MODELS)}"
            self.fail(spec.line, f"unknown model {spec.model!r}{more}")
        given = dict(spec.args)
        for name in given:
            if name not in model.args:
                hint = close_matches(name, list(model.args), n=1)
                more = f" (did you mean {hint[0]!r}?)" if hint else ""
                self.fail(spec.line, f"model {model.name!r} has no argument {name!r}{more}")
        seeded = "seed" in model.args and "seed" not in given
        fixed: dict[str, Any] = {}
        formulas: list[tuple[str, Arg, Evaluator]] = []
        for name, arg in model.args.items():
            if seeded and name == "seed":
                formulas.append((name, arg, _drawn_seed))
                continue
            value = self.argument(spec, name, arg, given.get(name, arg.default))
            if isinstance(value, Expression):
                formulas.append((name, arg, value))
            else:
                fixed[name] = value
        return CompiledSim(spec.name, model, fixed, tuple(formulas), spec.line, seeded)

    def argument(self, spec: SimSpec, name: str, arg: Arg, value: Any) -> Any:
        """An argument's formula, or its constant value (checked here, once)."""
        if value is REQUIRED:
            self.fail(spec.line, f"model {spec.model!r} needs the argument {name!r}")
        literal = not isinstance(value, str) or (arg.kind == "option" and value in arg.options)
        if not literal:
            if arg.kind == "option" and _OPTION_LIKE.fullmatch(value) and value not in self.known:
                self.unknown_option(spec, name, arg, value)
            return self.formula(value, spec.line, f"argument {name!r} of {spec.name!r}")
        if value is not None:
            try:
                value = check_arg(spec.model, name, arg, value)
            except SimulationError as exc:
                self.fail(spec.line, str(exc))
        return value

    def unknown_option(self, spec: SimSpec, name: str, arg: Arg, value: str) -> NoReturn:
        """A misspelt option (``relux``, ``he-normall``) or name: list the options, and
        suggest the closest option or name."""
        hint = close_matches(value, [*arg.options, *sorted(self.known)], n=1)
        more = f" (did you mean {hint[0]!r}?)" if hint else ""
        self.fail(
            spec.line,
            f"model {spec.model!r}, argument {name!r}: {value!r} is not one of "
            f"{', '.join(arg.options)}, nor a name defined before this simulation{more}",
        )

    def part(self, part: Part, scope: set[str]) -> CompiledPart:
        self.known = set(scope)
        sims = self.sims(part.simulate)
        values = self.values(part.values, part.line_of)

        def formula(text: str | None, line: int, what: str) -> Expression | None:
            return None if text is None else self.formula(text, line, what)

        answer = part.answer if isinstance(part.answer, str) else None
        mistakes = tuple(
            (m.name, formula(m.answer, m.line, f"mistake {m.name!r}"), m.line)
            for m in part.mistakes
        )
        correct = tuple(
            o.correct if isinstance(o.correct, bool) else self.formula(o.correct, o.line, "correct")
            for o in part.options
        )
        tables = tuple(
            tuple((h, self.formula(f, t.line, f"column {h!r}")) for h, f in t.columns)
            for t in part.tables
        )
        charts = tuple(
            (self.formula(c.values, c.line, "chart values"), formula(c.labels, c.line, "labels"))
            for c in part.charts
        )
        self.part_texts(part, self.known | TEMPLATE_NAMES)
        compiled_answer = formula(answer, part.line_of("answer"), "answer")
        return CompiledPart(
            part,
            sims,
            values,
            compiled_answer,
            mistakes,
            correct,
            part.tolerance.describe(),
            tables,
            charts,
        )

    def part_texts(self, part: Part, scope: set[str]) -> None:
        """Check every text of a part, each located at its own field."""
        fields = ("prompt", "explanation", "working", "model_answer")
        located = [(getattr(part, key), part.line_of(key)) for key in fields]
        located += [(hint, part.line_of("hints")) for hint in part.hints]
        located += [(m.feedback, m.line) for m in part.mistakes]
        located += [(t, o.line) for o in part.options for t in (o.text, o.feedback)]
        located += [
            (t, table.line)
            for table in part.tables
            for t in (table.title, *(h for h, _ in table.columns))
        ]
        located += [(c.title, c.line) for c in part.charts]
        for text, line in located:
            self.template(text, line, scope)

    def template(self, text: str | None, line: int, scope: set[str]) -> None:
        if not text or not self.texts:
            return
        from tutor.sandbox import template_problem

        problem = template_problem(text, scope)
        if problem:
            self.fail(line, problem)
