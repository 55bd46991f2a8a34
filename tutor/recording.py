"""Turning the answers a front end grades into stored attempts and review ratings.

Shared by ``tutor quiz`` and ``tutor practice``: :class:`StoreRecorder` is the recorder both
pass to :class:`tutor.quiz.Asker`. It stores each graded answer with :meth:`Store.record`,
which commits before returning, and the Asker shows feedback only after the recorder returns,
so every answer the learner has seen marked is already on disk.

A template's card is reviewed once per asked variant, with the final answer of its last part:

* auto-graded parts (numeric, choice, true/false) are rated by
  :func:`tutor.schedule.rate_numeric`, with the question's ``minutes`` as the expected time;
* explain cards use the learner's own rating (again/hard/good/easy) when the front end asked
  for one, else Good when they said their answer covered the model answer and Again if not;
* a chained question gets the lowest rating of its parts.

A variant answered before (``tutor quiz --question ID --seed S`` replays one, after its
answer was shown) is stored but reviews nothing: its answer can be remembered, not only worked
out, and a review is meant to test the second.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from fsrs import Rating

from tutor import schedule
from tutor.errors import StoreError
from tutor.quiz import Submission
from tutor.store import Attempt, Store, open_store, utc_now
from tutor.variant import Variant


def expected_text(variant: Variant, part: int) -> str:
    """The part's expected answer as stored text: ``repr`` of a number, ``true``/``false``,
    the letter of the right option, or "" for an explain card."""
    kind = variant.question.parts[part].type
    expected = variant.parts[part].expected
    if kind == "truefalse":
        return "true" if expected else "false"
    if kind == "choice":
        return chr(ord("A") + int(expected))
    if kind == "explain" or expected is None:
        return ""
    return repr(float(expected))


def to_attempt(variant: Variant, submission: Submission, mode: str, at: datetime) -> Attempt:
    """The :class:`Attempt` for one graded answer to ``variant``, made at ``at`` (UTC)."""
    question, verdict = variant.question, submission.verdict
    return Attempt(
        question_id=question.id,
        seed=variant.seed,
        topic=question.topic,
        concepts=question.concepts,
        mode=mode,
        part=submission.part,
        attempt_no=submission.attempt_no,
        final=submission.final,
        answer_text=submission.text,
        correct=verdict.correct,
        score=float(verdict.score),
        mistake=verdict.mistake,
        hints_used=submission.hints_used,
        elapsed_s=float(submission.elapsed_s),
        expected=expected_text(variant, submission.part),
        params=dict(variant.params),
        bank_hash=question.source.bank_hash,
        at=at,
    )


def part_rating(variant: Variant, submission: Submission) -> Rating:
    """The rating one part's final answer earns (see the module docstring)."""
    if variant.question.parts[submission.part].type == "explain":
        if submission.self_rating is not None:
            return schedule.rate_self(submission.self_rating)
        return Rating.Good if submission.verdict.correct else Rating.Again
    return schedule.rate_numeric(
        correct=submission.verdict.correct,
        attempt_no=submission.attempt_no,
        hints_used=submission.hints_used,
        elapsed_s=submission.elapsed_s,
        expected_s=variant.question.minutes * 60,
    )


class StoreRecorder:
    """A :data:`tutor.quiz.Recorder` that saves every graded answer in ``store``.

    ``ratings`` maps each variant id whose card was reviewed to the rating it got, so a
    front end can report what the scheduler was told.
    """

    def __init__(self, store: Store, mode: str, now: Callable[[], datetime] = utc_now) -> None:
        self.store = store
        self.mode = mode
        self.now = now
        self.recorded = 0
        self.ratings: dict[str, Rating] = {}
        self._parts: dict[str, list[Rating]] = {}  # ratings of finished parts, by variant id
        self._replays: dict[str, bool] = {}  # by variant id: was it answered before this run?

    def __call__(self, variant: Variant, submission: Submission) -> None:
        """Store one answer (and review the card after the last part); commits first."""
        rating = self._rating(variant, submission)
        self.store.record(to_attempt(variant, submission, self.mode, self.now()), rating)
        self.recorded += 1
        if rating is not None:
            self.ratings[variant.id] = rating

    def _rating(self, variant: Variant, submission: Submission) -> Rating | None:
        """The card's rating when this answer finishes the variant's last part, else None
        (and None for a replayed variant)."""
        if variant.id not in self._replays:  # asked before any of this run's answers is stored
            self._replays[variant.id] = self.store.answered(variant.question.id, variant.seed)
        if not submission.final or self._replays[variant.id]:
            return None
        finished = self._parts.setdefault(variant.id, [])
        finished.append(part_rating(variant, submission))
        if submission.part < len(variant.parts) - 1:
            return None
        del self._parts[variant.id]
        return min(finished)


@contextmanager
def quiz_recording(db: Path | None) -> Iterator[StoreRecorder]:
    """A recorder into the progress store ``db`` for ``tutor quiz``, closed on exit.

    A store that cannot be used is reported before any question is asked, with a reminder
    that ``--no-record`` quizzes without saving.
    """
    try:
        store = open_store(db)
    except StoreError as exc:
        raise StoreError(f"{exc} To quiz without saving progress, add --no-record.") from exc
    with store:
        yield StoreRecorder(store, "quiz")
