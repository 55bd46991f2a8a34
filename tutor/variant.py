"""Turn a question and a seed into a variant: its numbers, true answers and wrong answers.

A variant is fully named by (question id, seed). Parameters are drawn, the models run, and the
answer of every part computed by the engine. A draw whose answer is not a finite number (and
the question does not say it is about overflow or underflow), or that breaks a ``require``
rule, is redrawn from the same stream, so the result is still a function of the seed.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from typing import Any, NamedTuple

from tutor.answers import Tolerance, distinct
from tutor.bankspec import ParamSpec, Part, Question
from tutor.compiled import CompiledPart, CompiledQuestion, CompiledSim, compile_question
from tutor.errors import BankError, ExpressionError, SimulationError
from tutor.models import check_arg, run_model
from tutor.params import rng_for, sample_param, shuffle, uniform_index

MAX_DRAWS = 100


class Choice(NamedTuple):
    """One option of a multiple-choice part, in the order shown to the learner."""

    correct: bool
    text: str | None = None
    value: float | None = None
    mistake: str | None = None
    feedback: str | None = None


class PartKey(NamedTuple):
    """The answer key of one part of a variant, and the values its texts may use."""

    expected: Any
    tolerance: Tolerance
    mistakes: Mapping[str, float]
    choices: tuple[Choice, ...]
    context: Mapping[str, Any]


class Variant(NamedTuple):
    """One seeded instance of a question."""

    question: Question
    seed: int
    params: Mapping[str, Any]
    parts: tuple[PartKey, ...]
    compiled: CompiledQuestion

    def __repr__(self) -> str:
        return f"Variant({self.id!r})"

    @property
    def id(self) -> str:
        """The variant id shown to learners: ``question-id@seed``."""
        return f"{self.question.id}@{self.seed}"


class _Redraw(Exception):
    """This draw breaks a rule of the question; draw again from the same stream."""

    def __init__(self, reason: str, line: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.line = line  # of the field that asked for the redraw


def make_variant(question: Question, seed: int) -> Variant:
    """The variant named by (question id, seed)."""
    compiled = compile_question(question)
    rng = rng_for(question.id, seed)
    reasons: dict[tuple[str, int], int] = {}
    for _ in range(MAX_DRAWS):
        try:
            return _draw(compiled, rng, seed)
        except _Redraw as redraw:
            where = (redraw.reason, redraw.line)
            reasons[where] = reasons.get(where, 0) + 1
    common, line = max(reasons, key=reasons.__getitem__)
    raise _bank_error(question, line, f"no valid variant in {MAX_DRAWS} draws: {common}")


def _draw(cq: CompiledQuestion, rng: random.Random, seed: int) -> Variant:
    q = cq.question
    env: dict[str, Any] = {}
    for spec, (_, formula) in zip(q.params, cq.params, strict=True):
        env[spec.name] = _sample(q, spec, formula, rng, env)
    params = dict(env)
    _run_sims(q, cq.sims, env, rng)
    _evaluate_values(q, cq.values, env)
    for rule, line in cq.require:
        if not _eval(q, rule, env, line):
            raise _Redraw(f"the rule {rule.text!r} is never met", line)
    parts = tuple(_part_key(q, part, dict(env), rng) for part in cq.parts)
    return Variant(q, seed, params, parts, cq)


def _sample(
    q: Question, spec: ParamSpec, formula: Any, rng: random.Random, env: dict[str, Any]
) -> Any:
    try:
        return sample_param(spec, rng, env, lambda e: _eval(q, formula, e, spec.line))
    except ValueError as exc:
        raise _bank_error(q, spec.line, f"parameter {spec.name!r}: {exc}") from None


def _run_sims(
    q: Question, sims: tuple[CompiledSim, ...], env: dict[str, Any], rng: random.Random
) -> None:
    for run in sims:
        if run.seeded:
            env["__seed__"] = uniform_index(rng, 2**31)
        args = dict(run.fixed)
        for name, arg, formula in run.formulas:
            value = _eval(q, formula, env, run.line)
            args[name] = None if value is None else _checked(q, run, name, arg, value)
        env.pop("__seed__", None)
        try:
            env[run.name] = run_model(run.model.name, args)
        except SimulationError as exc:
            raise _bank_error(q, run.line, str(exc)) from None


def _checked(q: Question, run: CompiledSim, name: str, arg: Any, value: Any) -> Any:
    try:
        return check_arg(run.model.name, name, arg, value)
    except SimulationError as exc:
        raise _bank_error(q, run.line, str(exc)) from None


def _evaluate_values(q: Question, values: Any, env: dict[str, Any]) -> None:
    for name, formula, line in values:
        env[name] = _eval(q, formula, env, line)


def _part_key(q: Question, cp: CompiledPart, env: dict[str, Any], rng: random.Random) -> PartKey:
    part = cp.part
    _run_sims(q, cp.sims, env, rng)
    _evaluate_values(q, cp.values, env)
    expected = _expected(q, cp, env)
    mistakes = {
        name: _number(q, line, f"mistake {name!r}", _eval(q, f, env, line))
        for name, f, line in cp.mistakes
        if f is not None
    }
    if part.type == "numeric" or (part.type == "choice" and not part.is_text_choice):
        _require_distinct(part, expected, mistakes)
    choices = (
        _choices(q, cp, env, rng, expected=expected, mistakes=mistakes)
        if part.type == "choice"
        else ()
    )
    if part.is_text_choice:
        expected = next(i for i, c in enumerate(choices) if c.correct)
    env.update(answer=expected, mistakes=mistakes, tolerance=cp.tolerance_text)
    return PartKey(expected, part.tolerance, mistakes, choices, env)


def _require_distinct(part: Part, expected: float, mistakes: Mapping[str, float]) -> None:
    """Redraw when a wrong answer would grade as right, or two mistakes as each other."""
    values = (expected, *mistakes.values())
    for i, a in enumerate(values):
        for j in range(i + 1, len(values)):
            if not distinct(a, values[j], part.tolerance):
                named = ("the answer", *(f"mistake {n!r}" for n in mistakes))
                reason = f"{named[j]} always grades the same as {named[i]}"
                later = list(mistakes)[j - 1]
                raise _Redraw(reason, next(m.line for m in part.mistakes if m.name == later))


def _expected(q: Question, cp: CompiledPart, env: Mapping[str, Any]) -> Any:
    part = cp.part
    line = part.line_of("answer")
    if part.type == "truefalse":
        value = part.answer if isinstance(part.answer, bool) else _eval(q, cp.answer, env, line)
        if not isinstance(value, bool):
            raise _bank_error(q, line, f"a true/false answer must be true or false, not {value!r}")
        return value
    if cp.answer is None:
        return None
    value = _number(q, line, "answer", _eval(q, cp.answer, env, line))
    if not math.isfinite(value) and not part.allow_nonfinite:
        reason = "the answer is never a finite number (set allow_nonfinite if intended)"
        raise _Redraw(reason, line)
    return value


def _choices(
    q: Question,
    cp: CompiledPart,
    env: Mapping[str, Any],
    rng: random.Random,
    *,
    expected: Any,
    mistakes: Mapping[str, float],
) -> tuple[Choice, ...]:
    part = cp.part
    if part.is_text_choice:
        flags = [
            c if isinstance(c, bool) else _eval(q, c, env, option.line)
            for c, option in zip(cp.correct, part.options, strict=True)
        ]
        right = sum(1 for f in flags if f is True)
        if right != 1:
            raise _bank_error(
                q,
                part.line_of("options"),
                f"exactly one option must be correct; in this variant {right} are",
            )
        choices = [
            Choice(f is True, o.text, None, o.mistake, o.feedback)
            for o, f in zip(part.options, flags, strict=True)
        ]
    else:
        choices = [Choice(True, value=expected)]
        choices += [Choice(False, value=v, mistake=n) for n, v in mistakes.items()]
    if part.shuffle:
        shuffle(choices, rng)
    return tuple(choices)


def _eval(q: Question, formula: Any, env: Mapping[str, Any], line: int) -> Any:
    try:
        return formula(env)
    except ExpressionError as exc:
        text = getattr(formula, "text", "")
        raise _bank_error(q, line, f"{exc.message} in {text!r}" if text else exc.message) from None


def _number(q: Question, line: int, what: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _bank_error(q, line, f"{what} must be a number, not {_described(value)}")
    return float(value)


def _described(value: Any) -> str:
    """A value as a bank author wrote it (true, not Python's True)."""
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, str):
        return f"the text {value!r}"
    if isinstance(value, tuple | list):
        return "a list"
    return repr(value)


def _bank_error(q: Question, line: int, message: str) -> BankError:
    return BankError(message, path=q.source.path, line=line, question=q.id)
