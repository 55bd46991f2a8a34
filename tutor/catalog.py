"""Find and load the banks a command works with: the bundled ones and the user's own.

Bundled banks live inside the installed package (``tutor/_data/questions``) or, in a
checkout, in the top-level ``questions/`` folder.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

from tutor.bankcache import load_banks_cached
from tutor.bankspec import Bank, Question
from tutor.errors import BankError, TutorError, close_matches

BANK_SUFFIXES = (".yaml", ".yml")


def data_dir(name: str) -> Path:
    """A bundled data folder (``questions`` or ``templates``), installed or in a checkout."""
    here = Path(__file__).resolve().parent
    installed = here / "_data" / name
    return installed if installed.is_dir() else here.parent / name


class BankPathError(TutorError):
    """A --bank path that is missing or holds no bank files."""

    def __init__(self, path: Path, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}")


def bank_files(paths: Iterable[Path]) -> list[Path]:
    """The bank files named by ``paths``: files as given, folders expanded (sorted)."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix in BANK_SUFFIXES and p.is_file())
            if not found:
                raise BankPathError(path, "no .yaml bank files in this folder")
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            raise BankPathError(path, "no such bank file or folder")
    return files


class Catalog(NamedTuple):
    """All loaded banks and their questions, by id.

    ``where`` says which bank holds each question id, so that finding one question reads
    only its bank (banks from the cache are unpickled when first used).
    """

    banks: Sequence[Bank]
    where: Mapping[str, int] = {}

    @property
    def questions(self) -> tuple[Question, ...]:
        return tuple(q for bank in self.banks for q in bank.questions)

    @property
    def topics(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(q.topic for q in self.questions))

    def get(self, question_id: str) -> Question:
        """The question with this id, or a TutorError suggesting close ids."""
        found = self._find(question_id)
        if found is not None:
            return found
        ids = list(self.where) or [q.id for q in self.questions]
        hint = close_matches(question_id, ids, n=3)
        more = f" (did you mean {', '.join(hint)}?)" if hint else "; see 'tutor list'"
        raise TutorError(f"no question with id {question_id!r}{more}")

    def _find(self, question_id: str) -> Question | None:
        position = self.where.get(question_id)
        if position is not None:
            for question in self.banks[position].questions:
                if question.id == question_id:
                    return question
        # Every bank: the id is unknown, or there is no index (or it is wrong).
        return next((q for q in self.questions if q.id == question_id), None)

    def select(self, topics: Sequence[str] = (), difficulty: int | None = None) -> list[Question]:
        """Questions on any of ``topics`` (all if none) at ``difficulty`` (any if None)."""
        unknown = [t for t in topics if t not in self.topics]
        if unknown:
            raise TutorError(f"unknown topic {unknown[0]!r}; topics: {', '.join(self.topics)}")
        return [
            q
            for q in self.questions
            if (not topics or q.topic in topics)
            and (difficulty is None or q.difficulty == difficulty)
        ]


def load_catalog(extra: Sequence[Path] = (), *, replace: bool = False) -> Catalog:
    """Load the bundled banks plus ``extra`` (or only ``extra`` when ``replace``)."""
    paths = list(extra) if replace else [data_dir("questions"), *extra]
    if not paths:
        raise TutorError("no banks to load: give --bank PATH with --only-banks")
    banks = load_banks_cached(bank_files(paths), check=_check_unique_ids)
    return Catalog(banks, banks.where)


def _check_unique_ids(banks: Sequence[Bank]) -> None:
    first: dict[str, Question] = {}
    for question in (q for bank in banks for q in bank.questions):
        if question.id in first:
            other = first[question.id].source
            raise BankError(
                f"question id already used in {other.path}:{other.line}",
                path=question.source.path,
                line=question.source.line,
                question=question.id,
            )
        first[question.id] = question
