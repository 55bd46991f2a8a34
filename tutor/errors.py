"""Exceptions raised by the library; the CLI turns each into one ``Error: ...`` line.

Everything a user can cause (a broken bank, a bad option value, an unreadable progress file)
raises a subclass of :class:`TutorError` whose message is written for that user.
"""

from __future__ import annotations

from collections.abc import Iterable


class TutorError(Exception):
    """A problem the user can fix; its message is shown as is."""


class BankError(TutorError):
    """A question bank that cannot be loaded or used, located by file, line and question."""

    def __init__(
        self, message: str, *, path: str = "", line: int | None = None, question: str | None = None
    ) -> None:
        self.message = message
        self.path = path
        self.line = line
        self.question = question
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.path or "<bank>"
        if self.line is not None:
            where += f":{self.line}"
        who = f" question {self.question!r}:" if self.question else ""
        return f"{where}:{who} {self.message}"


class ExpressionError(TutorError):
    """An arithmetic expression that cannot be parsed or evaluated."""

    def __init__(self, message: str, *, position: int | None = None) -> None:
        self.message = message
        self.position = position
        super().__init__(message)


class AnswerFormatError(TutorError):
    """What the learner typed is not a readable answer; it is re-asked, not graded."""


class SimulationError(TutorError):
    """Arguments the simulation engine cannot run with (bad shape, unknown activation, ...)."""


class StoreError(TutorError):
    """The progress store cannot be opened, read or written."""


def close_matches(
    word: str, candidates: Iterable[str], n: int = 1, cutoff: float = 0.6
) -> list[str]:
    """The candidates closest to ``word``, for "did you mean" hints in error messages.

    difflib is imported here, on the error path, to keep it out of start-up.
    """
    import difflib

    return difflib.get_close_matches(word, list(candidates), n=n, cutoff=cutoff)
