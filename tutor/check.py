"""``tutor check``: validate banks and try every question over many seeds.

For each question and seed: the variant draws, every text renders for the terminal and as
HTML, the answer is a finite number (unless the question is about overflow and says so) that
its tolerance can grade, the true answer (also as displayed) grades as right, and every named
misconception grades as wrong and is recognised as itself. Problems are collected, not raised,
so one run lists all of them.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from tutor.answers import distinct, grade, parse_answer, tolerance_problem
from tutor.asking import render_every_text
from tutor.bank import load_bank
from tutor.bankspec import Bank, Question
from tutor.catalog import BankPathError, bank_files, data_dir
from tutor.compiled import check_texts, compile_question
from tutor.errors import AnswerFormatError, BankError
from tutor.grading import grade_text
from tutor.numfmt import counted
from tutor.present import LETTERS, PartView
from tutor.variant import Variant, make_variant

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class Problem:
    """One problem found, located like a BankError."""

    path: str
    line: int | None
    question: str | None
    message: str

    def __str__(self) -> str:
        return str(BankError(self.message, path=self.path, line=self.line, question=self.question))


@dataclass
class CheckStats:
    """What was checked, for the closing line."""

    banks: int = 0
    questions: int = 0
    variants: int = 0
    seconds: float = 0.0


def check_paths(
    paths: Sequence[Path], seeds: int, jobs: int | None = None, *, beside_bundled: bool = True
) -> tuple[list[Problem], CheckStats]:
    """Check the banks at ``paths`` (the bundled banks if empty) over ``seeds`` seeds each.

    With ``beside_bundled``, banks at ``paths`` are meant to be used beside the bundled ones
    (``--bank``), so a question id the bundled banks already use is a problem too.
    Questions are independent, so with ``jobs`` > 1 (default: one per CPU) they are checked
    in worker processes; the report is in bank order either way.
    """
    start = time.perf_counter()
    stats = CheckStats()
    problems: list[Problem] = []
    banks = _load_all(paths, problems)
    stats.banks = len(banks)
    problems += _duplicate_ids(banks)
    if paths and beside_bundled:
        problems += _bundled_ids(banks)
    questions = [q for bank in banks for q in bank.questions]
    stats.questions = len(questions)
    for found, variants in _map(_check_one, [(q, seeds) for q in questions], jobs):
        problems += found
        stats.variants += variants
    stats.seconds = time.perf_counter() - start
    return problems, stats


def _check_one(job: tuple[Question, int]) -> tuple[list[Problem], int]:
    question, seeds = job
    stats = CheckStats()
    return _unique(check_question(question, seeds, stats)), stats.variants


def _map(work: Callable[[T], R], items: list[T], jobs: int | None) -> Iterator[R]:
    """``map`` over processes when it pays off, in order."""
    workers = min(jobs or os.cpu_count() or 1, len(items))
    if workers <= 1:
        yield from map(work, items)
        return
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
        yield from pool.map(work, items)


def _load_all(paths: Sequence[Path], problems: list[Problem]) -> list[Bank]:
    files = []
    for path in paths or [data_dir("questions")]:
        try:
            files += bank_files([path])
        except BankPathError as exc:
            problems.append(Problem(str(exc.path), None, None, exc.reason))
    banks = []
    for path in files:
        try:
            banks.append(load_bank(path))
        except BankError as exc:
            problems.append(Problem(exc.path, exc.line, exc.question, exc.message))
    return banks


def _duplicate_ids(banks: Sequence[Bank]) -> list[Problem]:
    first: dict[str, Question] = {}
    problems = []
    for q in (q for bank in banks for q in bank.questions):
        if q.id in first:
            other = first[q.id].source
            message = f"question id already used in {other.path}:{other.line}"
            problems.append(Problem(q.source.path, q.source.line, q.id, message))
        first.setdefault(q.id, q)
    return problems


def _bundled_ids(banks: Sequence[Bank]) -> list[Problem]:
    """Questions whose id a bundled question already has (a bundled file itself is fine)."""
    bundled = _load_all([], [])
    taken = {q.id: q.source for bank in bundled for q in bank.questions}
    ours = {Path(bank.path).resolve() for bank in bundled}
    return [
        Problem(q.source.path, q.source.line, q.id,
                f"question id already used by the bundled {taken[q.id].path}:{taken[q.id].line}"
                "; rename it, or give this bank only with --only-banks")
        for bank in banks if Path(bank.path).resolve() not in ours
        for q in bank.questions if q.id in taken
    ]  # fmt: skip


def _unique(problems: Iterator[Problem]) -> list[Problem]:
    """One report per distinct message (the first seed that shows it)."""
    seen: dict[str, Problem] = {}
    for problem in problems:
        key = problem.message.split(" (variant ")[0].split(" (seed ")[0]
        seen.setdefault(key, problem)
    return list(seen.values())


def check_question(question: Question, seeds: int, stats: CheckStats) -> Iterator[Problem]:
    """Every problem of one question over seeds 0..seeds-1."""
    src = question.source
    try:
        compile_question(question)
        check_texts(question)
    except BankError as exc:
        yield Problem(exc.path, exc.line, exc.question, exc.message)
        return
    for seed in range(seeds):
        try:
            variant = make_variant(question, seed)
            stats.variants += 1
            for index in range(len(variant.parts)):
                for message in _check_part(variant, index):
                    yield Problem(
                        src.path,
                        question.parts[index].line,
                        question.id,
                        f"{message} (seed {seed})",
                    )
        except BankError as exc:
            yield Problem(exc.path, exc.line, exc.question, f"{exc.message} (seed {seed})")
        except Exception as exc:  # a checker lists everything it finds and goes on
            message = f"unexpected {type(exc).__name__}: {exc} (seed {seed}; please report this)"
            yield Problem(src.path, src.line, question.id, message)
            return


def _check_part(variant: Variant, index: int) -> Iterator[str]:
    for target in ("terminal", "html"):
        render_every_text(PartView(variant, index, target))
    part = variant.question.parts[index]
    if part.type == "numeric":
        yield from _check_numeric(variant, index)
    elif part.type in ("choice", "truefalse"):
        yield from _check_choices(variant, index)


def _check_numeric(variant: Variant, index: int) -> Iterator[str]:
    key = variant.parts[index]
    expected = key.expected
    if not math.isfinite(expected):
        return
    problem = tolerance_problem(expected, key.tolerance)
    if problem:
        yield problem
        return
    if not grade(expected, expected, key.tolerance, key.mistakes).correct:
        yield "the true answer does not grade as correct"
    shown = PartView(variant, index, "terminal").number(expected, _shown_sig(key.tolerance))
    yield from _check_shown(variant, index, shown)
    for name, value in key.mistakes.items():
        verdict = grade(value, expected, key.tolerance, key.mistakes)
        if verdict.correct or not distinct(value, expected, key.tolerance):
            yield f"mistake {name!r} ({value:.6g}) grades as correct (answer {expected:.6g})"
        elif verdict.mistake != name:
            yield f"mistake {name!r} ({value:.6g}) is recognised as {verdict.mistake!r}"


def _shown_sig(tolerance: object) -> int:
    kind = getattr(tolerance, "kind", "")
    return int(getattr(tolerance, "value", 3)) + 1 if kind == "sigfigs" else 4


def _check_shown(variant: Variant, index: int, shown: str) -> Iterator[str]:
    """The answer as the learner would copy it from the explanation must grade as right."""
    plain = shown.replace("\u2212", "-").replace(" × 10", "e").translate(_SUPER)
    try:
        value = parse_answer(plain, allow_nonfinite=True)
    except AnswerFormatError:
        yield f"the answer as shown ({shown}) does not parse"
        return
    key = variant.parts[index]
    if not grade(value, key.expected, key.tolerance).correct:
        yield f"the answer as shown ({shown}) does not grade as correct"


_SUPER = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-")


def _check_choices(variant: Variant, index: int) -> Iterator[str]:
    key = variant.parts[index]
    part = variant.question.parts[index]
    answers = (
        [LETTERS[i] for i in range(len(key.choices))]
        if part.type == "choice"
        else ["true", "false"]
    )
    for text in answers:
        verdict = grade_text(variant, index, text)
        right = _is_right(variant, index, text)
        if verdict.correct != right:
            yield f"answer {text!r} grades as {'right' if verdict.correct else 'wrong'}"
    values = [c.value for c in key.choices if c.value is not None]
    for i, a in enumerate(values):
        for b in values[i + 1 :]:
            if not distinct(a, b, key.tolerance):
                yield f"two options are equal within the tolerance ({a:.6g} and {b:.6g})"
    view = PartView(variant, index, "terminal")
    yield from _shown_options_problems([view.choice_text(i) for i in range(len(key.choices))])


def _shown_options_problems(shown: Sequence[str]) -> Iterator[str]:
    """Options a learner cannot tell apart: blank, or showing the same text."""
    texts = [" ".join(text.split()) for text in shown]
    if any(not text for text in texts):
        yield "an option shows no text"
    repeated = sorted({t for t in texts if t and texts.count(t) > 1})
    if repeated:
        yield f"two options show the same text ({repeated[0]!r})"


def _is_right(variant: Variant, index: int, text: str) -> bool:
    key = variant.parts[index]
    if variant.question.parts[index].type == "truefalse":
        return bool((text == "true") == key.expected)
    return bool(key.choices[LETTERS.index(text)].correct)


def report_lines(problems: Sequence[Problem], stats: CheckStats) -> list[str]:
    """The problems, one per line, then a closing summary line."""
    lines = [str(p) for p in problems]
    summary = (
        f"Checked {counted(stats.questions, 'question')} in {counted(stats.banks, 'bank')} "
        f"over {counted(stats.variants, 'variant')} in {stats.seconds:.1f}s"
    )
    lines.append(
        f"{summary}: {len(problems)} problem(s)." if problems else f"{summary}: no problems."
    )
    return lines
