"""Shared pieces for the practice, recording and progress-CLI tests.

A small bank of our own (so the tests do not depend on the bundled questions), a scripted
learner that reads the transcript and answers like a person would, and a fake clock.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from store_helpers import T0

from tutor.catalog import Catalog, load_catalog

# Arithmetic questions whose answers a test can read off the prompt ("What is 7 times 3?").
ARITHMETIC = """\
topic: arithmetic
questions:
""" + "".join(
    f"""\
  - id: times-{name}
    title: Multiply by {k}
    concepts: [{concept}]
    minutes: 1
    params:
      x: {{int: [2, 99]}}
    prompt: "What is {{{{ x }}}} times {k}?"
    answer: x * {k}
    tolerance: exact
    hints: ["Add {{{{ x }}}} to itself {k - 1} more times."]
    explanation: "{{{{ x }}}} times {k} is {{{{ answer }}}}."
    mistakes:
      divided: {{answer: x / {k}, feedback: That divides by {k} instead.}}
"""
    for name, k, concept in (("two", 2, "C1"), ("three", 3, "C2"), ("four", 4, "C2"))
)

# Explain cards ("why?" follow-ups) and one question of every other kind.
CONCEPTS = """\
topic: ideas
questions:
  - id: why-c1
    title: Why multiplying by two doubles
    concepts: [C1]
    type: explain
    prompt: Why is x times 2 the same as x + x?
    model_answer: Multiplying by two adds the number to itself once.
  - id: why-c2
    title: Why multiplying by three triples
    concepts: [C2, C3]
    type: explain
    prompt: Why is x times 3 the same as x + x + x?
    model_answer: Multiplying by three adds the number to itself twice.
  - id: pick-even
    title: Pick the even number
    concepts: [C5]
    type: choice
    prompt: Which of these is even?
    options:
      - {text: "4", correct: true}
      - {text: "5", mistake: odd, feedback: 5 is odd.}
      - {text: "7"}
    hints: ["Even numbers end in 0, 2, 4, 6 or 8."]
    explanation: 4 is even.
  - id: true-or-false
    title: Zero is even
    concepts: [C5]
    type: truefalse
    prompt: Zero is an even number.
    answer: true
    hints: [Is zero divisible by two?]
    explanation: Zero is 2 times 0.
    mistakes:
      zero-odd: {feedback: Zero is divisible by two.}
  - id: chained
    title: Two steps
    concepts: [C6]
    minutes: 2
    params:
      x: {int: [2, 9]}
    prompt: Take x = {{ x }}.
    parts:
      - prompt: What is {{ x }} times 2?
        answer: x * 2
        tolerance: exact
        hints: [Double it.]
        explanation: It is {{ answer }}.
        mistakes:
          halved: {answer: x / 2, feedback: That halves it.}
      - prompt: What is {{ x }} times 3?
        answer: x * 3
        tolerance: exact
        hints: [Triple it.]
        explanation: It is {{ answer }}.
"""


def write_banks(folder: Path, *, concepts: bool = True) -> Path:
    """Write the test banks into ``folder`` (created) and return it, for ``--bank``."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "arithmetic.yaml").write_text(ARITHMETIC)
    if concepts:
        (folder / "ideas.yaml").write_text(CONCEPTS)
    return folder


def make_catalog(folder: Path, *, concepts: bool = True) -> Catalog:
    """The test banks alone (no bundled ones), written into ``folder``."""
    return load_catalog([write_banks(folder, concepts=concepts)], replace=True)


_QUESTION = re.compile(r"What is (\d+) times (\d+)\?")


def product_in(text: str) -> int:
    """The answer to the last "What is A times B?" in ``text``."""
    *_, last = _QUESTION.finditer(text)
    return int(last.group(1)) * int(last.group(2))


class FakeClock:
    """A monotonic clock the tests move by hand; ``utc`` is the matching wall clock."""

    def __init__(self, start: datetime = T0) -> None:
        self.seconds = 0.0
        self.start = start

    def __call__(self) -> float:
        return self.seconds

    def utc(self) -> datetime:
        return self.start + timedelta(seconds=self.seconds)

    def advance(self, seconds: float) -> None:
        self.seconds += seconds


#: Decides the answer to an arithmetic prompt: gets the question title, returns True to
#: answer right, False to answer wrong, or None to end the input there.
Policy = Callable[[str], bool | None]


class Learner(io.StringIO):
    """Standard input that answers by reading what the session printed so far.

    Arithmetic prompts are answered right or wrong as ``policy`` says; explain cards get a
    short answer and the self-rating ``rating``; each answer takes ``seconds`` on ``clock``.
    ``limit`` ends the input after that many lines.
    """

    def __init__(
        self,
        out: io.StringIO,
        policy: Policy = lambda _title: True,
        *,
        rating: str = "good",
        clock: FakeClock | None = None,
        seconds: float = 20.0,
        limit: int = 200,
    ) -> None:
        super().__init__()
        self.out, self.policy, self.rating = out, policy, rating
        self.clock, self.seconds, self.limit = clock, seconds, limit
        self.lines: list[str] = []

    def readline(self, _size: int | None = -1) -> str:
        if len(self.lines) >= self.limit:
            return ""
        line = self._answer(self.out.getvalue())
        if line is None:
            return ""
        if self.clock is not None:
            self.clock.advance(self.seconds)
        self.lines.append(line)
        return line + "\n"

    def _answer(self, transcript: str) -> str | None:
        prompt = transcript.rsplit("\n", 1)[-1]
        if prompt.startswith("Your answer (Enter"):
            return "it adds the number to itself"
        if prompt.startswith("How well did you know it?"):
            return self.rating
        right = self.policy(current_title(transcript))
        if right is None:
            return None
        product = product_in(transcript)
        return str(product if right else product + 1)


def current_title(transcript: str) -> str:
    """The title of the question being asked: the line after the last "Question" header."""
    lines = transcript.splitlines()
    header = max(i for i, line in enumerate(lines) if line.startswith("Question "))
    return lines[header + 1]
