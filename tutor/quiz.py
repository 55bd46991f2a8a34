"""The terminal quiz: ask variants, grade answers, help progressively, summarize.

:class:`Asker` asks one variant (every part, with hints after wrong answers and the worked
explanation at the end) and is shared with the practice mode. Each graded answer is passed to
the recorder *before* its feedback is shown, so whatever the learner has seen acknowledged is
already stored. The end of input or Ctrl-C ends the quiz with the summary so far. A question
whose variant cannot be drawn or shown because of a problem in its bank is skipped with a
warning, and the summary counts it.
"""

from __future__ import annotations

import shlex
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from tutor.answers import Verdict, parse_bool
from tutor.bankspec import Question
from tutor.errors import AnswerFormatError, BankError, TutorError
from tutor.grading import grade_text, self_rated
from tutor.numfmt import counted
from tutor.params import named_stream, shuffle, uniform_index
from tutor.present import PartView
from tutor.render import strip_controls
from tutor.terminal import Console
from tutor.variant import Variant

MAX_ATTEMPTS = {"numeric": 3, "choice": 2, "truefalse": 1, "explain": 1}


class EndOfInput(Exception):
    """Standard input ended (or the learner pressed Ctrl-D) in the middle of a question."""


class Submission(NamedTuple):
    """One graded answer to one part."""

    part: int
    text: str
    verdict: Verdict
    attempt_no: int
    hints_used: int
    elapsed_s: float
    final: bool
    self_rating: str | None = None  # an explain card's own rating ("again" ... "easy"), if asked


Recorder = Callable[[Variant, Submission], None]
#: Makes the variant of a planned question to ask (``tutor.asking.variant_to_ask``); raises
#: BankError when a problem in the bank keeps it from being drawn or shown.
Draw = Callable[[Question, int], Variant]
#: How an explain card is self-rated after its model answer: returns (knew it, rating label
#: or None). Raises EndOfInput when input ends.
SelfRate = Callable[[Console], tuple[bool, str | None]]


def ask_covered(console: Console) -> tuple[bool, str | None]:
    """The quiz's self-rating: did the learner's answer cover the model answer's points?"""
    while True:
        text = console.ask("Did your answer cover these points? [y/n] ")
        if text is None:
            raise EndOfInput
        try:
            return parse_bool(text), None
        except AnswerFormatError:
            console.say("Type y or n (or yes or no).", "warn")


class PartResult(NamedTuple):
    """How one part went: its last verdict, tries and help used."""

    verdict: Verdict
    attempts: int
    hints_used: int

    @property
    def score(self) -> float:
        """Full credit on the first try, half on the second, a quarter on the third."""
        return 0.5 ** (self.attempts - 1) if self.verdict.correct else 0.0


class QuestionResult(NamedTuple):
    """How one variant went."""

    variant: Variant
    parts: tuple[PartResult, ...]
    elapsed_s: float

    @property
    def score(self) -> float:
        return sum(p.score for p in self.parts) / len(self.parts)

    @property
    def correct(self) -> bool:
        return all(p.verdict.correct for p in self.parts)

    @property
    def hints_used(self) -> int:
        return sum(p.hints_used for p in self.parts)


@dataclass
class QuizSummary:
    """Results so far, and whether the quiz ran to its end."""

    total: int
    results: list[QuestionResult] = field(default_factory=list)
    elapsed_s: float = 0.0
    interrupted: bool = False
    cancelled: bool = False  # ended by Ctrl-C (the command then exits with status 130)
    saved: int = 0  # answers recorded, those of an unfinished question included
    skipped: list[str] = field(default_factory=list)  # why each skipped question was skipped

    @property
    def score(self) -> float:
        return sum(r.score for r in self.results)


class DeferredRecorder:
    """A recorder that is made when the first question is on screen, before its answer is read.

    Opening the progress store loads SQLite and FSRS; deferring it keeps that out of the time
    to the first question, while a store that cannot be used is still reported before any
    answer is taken.
    """

    def __init__(self, make: Callable[[], Recorder]) -> None:
        self._make = make
        self._recorder: Recorder | None = None

    def open(self) -> None:
        if self._recorder is None:
            self._recorder = self._make()

    def __call__(self, variant: Variant, submission: Submission) -> None:
        self.open()
        assert self._recorder is not None  # open() just made it
        self._recorder(variant, submission)


class Asker:
    """Asks one variant at the terminal."""

    def __init__(
        self,
        console: Console,
        recorder: Recorder | None = None,
        clock: Callable[[], float] = time.monotonic,
        self_rate: SelfRate = ask_covered,
    ) -> None:
        self.console = console
        self.recorder = recorder
        self.clock = clock
        self.saved = 0
        self.self_rate = self_rate

    def ask(self, variant: Variant) -> QuestionResult:
        """Ask every part of ``variant``; raise EndOfInput if input ends first."""
        start = self.clock()
        views = [PartView(variant, i, "terminal") for i in range(len(variant.parts))]
        results = tuple(self._ask_part(view, start) for view in views)
        return QuestionResult(variant, results, self.clock() - start)

    def _ask_part(self, view: PartView, start: float) -> PartResult:
        say, prose = self.console.say, self.console.prose
        if view.stem:
            prose(view.stem)
        if len(view.variant.parts) > 1:
            say(f"Part {view.index + 1} of {len(view.variant.parts)}", "bold")
        prose(view.prompt)
        self.console.figures(view, "prompt")
        self.console.options(view.options())
        if view.part.type == "explain":
            return self._explain(view, start)
        result = self._attempts(view, start)
        if not result.verdict.correct:
            prose(f"The answer: {view.answer_text()}", "bold")
        self._explain_after(view)
        return result

    def _attempts(self, view: PartView, start: float) -> PartResult:
        limit = MAX_ATTEMPTS[view.part.type]
        if view.part.type == "choice":  # with two options a second try gives the answer away
            limit = min(limit, len(view.key.choices) - 1)
        attempt, hints = 0, 0
        while True:
            text = self._read(view)
            verdict = self._grade(view, text)
            if verdict is None:
                continue
            attempt += 1
            final = verdict.correct or attempt >= limit
            self._record(
                view,
                Submission(view.index, text, verdict, attempt, hints, self.clock() - start, final),
            )
            self._verdict(view, verdict)
            if final:
                return PartResult(verdict, attempt, hints)
            hints += self._help(view, hints)

    def _read(self, view: PartView) -> str:
        prompt = "Your answer (letter): " if view.part.type == "choice" else "Your answer: "
        if view.part.type == "truefalse":
            prompt = "True or false? "
        return self._ask(prompt)

    def _open_recorder(self) -> None:
        assert isinstance(self.recorder, DeferredRecorder)
        try:
            self.recorder.open()
        except TutorError:
            self.console.say()  # the error goes on a line of its own, after the answer prompt
            raise

    def _ask(self, prompt: str) -> str:
        """Read one line (the recorder is ready first); EndOfInput when input has ended."""
        ready = self._open_recorder if isinstance(self.recorder, DeferredRecorder) else None
        text = self.console.ask(prompt, ready)
        if text is None:
            raise EndOfInput
        return text

    def _grade(self, view: PartView, text: str) -> Verdict | None:
        try:
            return grade_text(view.variant, view.index, text)
        except AnswerFormatError as exc:
            self.console.prose(f"{exc} (This try did not count.)", "warn")
            return None

    def _verdict(self, view: PartView, verdict: Verdict) -> None:
        if verdict.correct:
            self.console.say("✓ Correct.", "ok")
            return
        self.console.say("✗ Not quite.", "bad")
        feedback = view.feedback(verdict)
        if feedback:
            self.console.prose(feedback)

    def _help(self, view: PartView, given: int) -> int:
        if not view.has_more_help(given):
            self.console.say("Try again.", "hint")
            return 0
        label = "Hint" if given < len(view.part.hints) else "Partial working"
        self.console.prose(f"{label}: {view.hint(given)}", "hint")
        return 1

    def _explain_after(self, view: PartView) -> None:
        self.console.say("Explanation", "title")
        self.console.prose(view.explanation)
        self.console.figures(view, "explanation")

    def _explain(self, view: PartView, start: float) -> PartResult:
        text = self._ask("Your answer (Enter to see the model answer): ")
        self.console.say("Model answer", "title")
        self.console.prose(view.model_answer)
        knew, rating = self.self_rate(self.console)
        verdict = self_rated(knew)
        elapsed = self.clock() - start
        self._record(view, Submission(view.index, text, verdict, 1, 0, elapsed, True, rating))
        self.console.figures(view, "explanation")
        return PartResult(verdict, 1, 0)

    def _record(self, view: PartView, submission: Submission) -> None:
        if self.recorder is not None:
            self.recorder(view.variant, submission)
            self.saved += 1


def run_quiz(
    console: Console,
    planned: Sequence[tuple[Question, int]],
    draw: Draw,
    recorder: Recorder | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> QuizSummary:
    """Draw and ask each planned (question, seed) in turn, skipping a question whose bank
    keeps it from being drawn; stop cleanly at the end of input or on Ctrl-C."""
    summary = QuizSummary(len(planned))
    asker = Asker(console, recorder, clock)
    start = clock()
    try:
        for number, item in enumerate(planned, 1):
            variant = _draw_or_skip(console, summary, draw, item, number)
            if variant is not None:
                _header(console, variant, number, summary.total)
                summary.results.append(asker.ask(variant))
    except (EndOfInput, KeyboardInterrupt) as stop:
        summary.interrupted = True
        summary.cancelled = isinstance(stop, KeyboardInterrupt)
        console.say()
        console.say("Quiz ended early.", "warn")
    summary.elapsed_s = clock() - start
    summary.saved = asker.saved
    return summary


def drawn(variant: Variant) -> Draw:
    """A draw that gives ``variant``, drawn beforehand (so that a broken one is an error)."""
    return lambda _question, _seed: variant


def _draw_or_skip(
    console: Console, summary: QuizSummary, draw: Draw, item: tuple[Question, int], number: int
) -> Variant | None:
    """The variant of ``item``, or None (with a warning, noted in ``summary``) when a problem
    in its bank keeps it from being drawn or shown."""
    try:
        return draw(*item)
    except BankError as exc:
        message = strip_controls(str(exc))
    summary.skipped.append(message)
    say_skipped(console, f"Question {number} of {summary.total}", message)
    return None


def say_skipped(console: Console, what: str, message: str) -> None:
    """Warn that ``what`` is skipped, with the bank's problem: one line that names the file,
    the line and the question."""
    console.say()
    console.say(f"{what} skipped: its bank has a problem.", "warn")
    console.say(f"Error: {message}", "warn")


def _header(console: Console, variant: Variant, number: int, total: int) -> None:
    q = variant.question
    console.say()
    console.say(
        f"Question {number} of {total}  ·  {q.topic}  ·  difficulty {q.difficulty}", "title"
    )
    console.say(q.title, "bold")


def print_summary(
    console: Console, summary: QuizSummary, banks: Sequence[str] = (), check: Sequence[str] = ()
) -> None:
    """Score, time taken, and each missed question with the command to try it again;
    ``banks`` are the options that loaded its bank (``--bank PATH``, ``--only-banks``) and
    ``check`` the arguments of the ``tutor check`` that finds every problem in those banks."""
    done = len(summary.results)
    console.say()
    console.say("Summary", "title")
    if done:
        percent = f"{100 * summary.score / done:.0f}%"
        console.say(
            f"Score: {summary.score:g} / {done} ({percent}), {done} of {summary.total} answered"
        )
    else:
        console.say(f"No question finished (of {summary.total}).")
    if summary.skipped:
        console.say(skipped_line(len(summary.skipped), check), "warn")
    if summary.interrupted and summary.saved:
        given = (
            "1 answer given so far is"
            if summary.saved == 1
            else f"{summary.saved} answers given so far are"
        )
        console.say(f"The {given} saved.")
    console.say(f"Time: {format_duration(summary.elapsed_s)}")
    missed = [r for r in summary.results if r.score < 1]
    if missed:
        console.say("To review:")
        console.lines(_missed_line(r, banks) for r in missed)


def skipped_line(count: int, check: Sequence[str]) -> str:
    """How many questions were skipped for problems in their banks, and how to find them all;
    ``check`` are the arguments of ``tutor check`` (the banks' paths)."""
    their = "a problem in its bank" if count == 1 else "problems in their banks"
    return (
        f"{counted(count, 'question')} skipped because of {their}. Find every problem with:\n"
        f"  {shlex.join(['tutor', 'check', *check])}"
    )


def _missed_line(result: QuestionResult, banks: Sequence[str]) -> str:
    q = result.variant.question
    again = ["tutor", "quiz", "--question", q.id, "--seed", str(result.variant.seed), *banks]
    return (
        f"  {result.variant.id}  {q.title}  (score {result.score:g})\n"
        f"      try again: {shlex.join(again)}"
    )


def format_duration(seconds: float) -> str:
    """12.3 -> "12s", 135 -> "2m 15s"."""
    whole = round(seconds)
    return f"{whole // 60}m {whole % 60:02d}s" if whole >= 60 else f"{whole}s"


def plan(questions: Sequence[Question], count: int, seed: int) -> list[tuple[Question, int]]:
    """Pick ``count`` distinct questions and a variant seed for each, all from ``seed``: a
    private stream drawn from with ``random()`` alone, so a seed names the same quiz on every
    Python version (``sample`` and ``randrange`` may change theirs)."""
    chooser = named_stream("quiz", seed)
    picked = list(questions)
    shuffle(picked, chooser)
    return [(q, uniform_index(chooser, 1_000_000)) for q in picked[:count]]
