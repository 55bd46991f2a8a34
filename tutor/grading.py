"""Grade what a learner typed against one part of a variant.

Parsing problems raise AnswerFormatError (the front end re-asks without using an attempt);
everything readable becomes a Verdict, with the named misconception it matches, if any.
"""

from __future__ import annotations

from typing import Any

from tutor.answers import Verdict, grade, parse_answer, parse_bool, parse_choice
from tutor.errors import AnswerFormatError
from tutor.present import PartView, answer_value, json_number
from tutor.variant import Variant


def grade_text(variant: Variant, index: int, text: str) -> Verdict:
    """Grade ``text`` as the answer to part ``index`` of ``variant``."""
    part = variant.question.parts[index]
    key = variant.parts[index]
    if part.type == "numeric":
        value = parse_answer(text, allow_nonfinite=part.allow_nonfinite)
        return grade(value, key.expected, key.tolerance, key.mistakes)
    if part.type == "choice":
        picked = parse_choice(text, len(key.choices))
        chosen = key.choices[picked]
        mistake = None if chosen.correct else chosen.mistake  # a formula may make it the right one
        return Verdict(float(picked), chosen.correct, float(chosen.correct), mistake)
    if part.type == "truefalse":
        said = parse_bool(text)
        right = said == key.expected
        mistake = part.mistakes[0].name if part.mistakes and not right else None
        return Verdict(float(said), right, float(right), mistake)
    raise AnswerFormatError("This is an explain card: it is self-rated, not graded.")


def self_rated(knew_it: bool) -> Verdict:
    """The verdict of an explain card the learner rated themselves."""
    return Verdict(float(knew_it), knew_it, float(knew_it), None)


def grade_report(variant: Variant, index: int, text: str) -> dict[str, Any]:
    """Grade one answer for ``tutor grade``; a format error is reported, not raised."""
    view = PartView(variant, index, "terminal")
    base = {"id": variant.question.id, "seed": variant.seed, "part": index + 1, "answer": text}
    try:
        verdict = grade_text(variant, index, text)
    except AnswerFormatError as exc:
        return {
            **base,
            "correct": False,
            "score": 0.0,
            "mistake": None,
            "feedback": "",
            "format_error": str(exc),
            "value": None,
            "expected": view.answer_text(),
            "expected_value": answer_value(view),
        }
    return {
        **base,
        "correct": verdict.correct,
        "score": verdict.score,
        "mistake": verdict.mistake,
        "feedback": view.feedback(verdict),
        "format_error": None,
        "value": json_number(verdict.value),
        "expected": view.answer_text(),
        "expected_value": answer_value(view),
    }
