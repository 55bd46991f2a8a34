"""Self-check worksheets: what the page's script needs to grade a part, and the script itself.

The script (``templates/selfcheck.js``) is a port of :func:`tutor.answers.parse_answer`,
:func:`~tutor.answers.is_close` and :func:`~tutor.answers.grade`, so a learner is graded in the
browser exactly as in the terminal. For each part Python gives it numbers and names only (the
expected value, the tolerance, each named mistake's value, which option is right, how many tries
and how much help the terminal allows). Every text it may reveal (hints, feedback, the answer,
the explanation) is rendered by :mod:`tutor.sheetdata` through the escaping HTML path and
hidden in the page, so the script never builds markup from data.
"""

from __future__ import annotations

import base64
import functools
import hashlib
from typing import Any

from tutor.catalog import data_dir
from tutor.errors import TutorError
from tutor.present import PartView, json_number
from tutor.quiz import MAX_ATTEMPTS

SCRIPT_FILE = "selfcheck.js"


def grading_data(view: PartView) -> dict[str, Any]:
    """The answer key of one part for the script; numbers only, no text to show.

    numeric: ``expected`` and each of ``mistakes`` ([name, value], in the bank's order, which
    breaks ties as :func:`tutor.answers.grade` does) are numbers or "inf"/"-inf"/"nan".
    """
    part, key = view.part, view.key
    base: dict[str, Any] = {"type": part.type, "tries": _tries(view), "help": help_count(view)}
    if part.type == "numeric":
        tol = key.tolerance
        return base | {
            "expected": json_number(key.expected),
            "tolerance": {"kind": tol.kind, "value": tol.value},
            "nonfinite": part.allow_nonfinite,
            "mistakes": [[name, json_number(v)] for name, v in key.mistakes.items()],
        }
    if part.type == "choice":
        options = [{"correct": c.correct, "mistake": c.mistake} for c in key.choices]
        return base | {"options": options}
    if part.type == "truefalse":
        return base | {"expected": bool(key.expected), "mistake": _truefalse_mistake(view)}
    return base


def _tries(view: PartView) -> int:
    """The terminal's limit: with two options a second try would give the answer away."""
    limit = MAX_ATTEMPTS[view.part.type]
    if view.part.type == "choice":
        limit = min(limit, len(view.key.choices) - 1)
    return limit


def help_count(view: PartView) -> int:
    """How many hints (then the partial working) the quiz gives, one after each wrong try."""
    if view.part.type == "explain":
        return 0
    return len(view.part.hints) + bool(view.part.working)


def _truefalse_mistake(view: PartView) -> str | None:
    mistakes = view.part.mistakes
    return mistakes[0].name if mistakes else None


@functools.cache
def script() -> str:
    """The self-check script, as it is put inline in the page (its hash is in the CSP)."""
    text = (data_dir("templates") / SCRIPT_FILE).read_text(encoding="utf-8")
    if "</script" in text.lower():  # would end the inline element early
        raise TutorError(f"{SCRIPT_FILE} must not contain '</script'")
    return text


def csp_hash(text: str) -> str:
    """A CSP source expression allowing an inline element whose content is exactly ``text``."""
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"
