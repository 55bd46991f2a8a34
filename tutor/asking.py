"""A variant about to be shown to a learner, checked first when its bank is one's own.

``tutor check`` finds every broken text of a bank, but a teacher may use a bank without
running it. For a question outside the bundled banks (which pass ``tutor check`` in the
project's tests), every text is checked once and every text of the variant is rendered before
it is shown, so a broken one is reported at its own line before the learner answers, never in
the middle of the feedback. The bundled banks skip this: a learner should not wait for it.
"""

from __future__ import annotations

from pathlib import Path

from tutor.bankspec import Question
from tutor.catalog import data_dir
from tutor.compiled import check_texts
from tutor.present import PartView
from tutor.variant import Variant, make_variant

_TEXTS_CHECKED: dict[int, Question] = {}


def variant_to_ask(question: Question, seed: int) -> Variant:
    """:func:`tutor.variant.make_variant`, checked first as the module says."""
    if _bundled(question):
        return make_variant(question, seed)
    if _TEXTS_CHECKED.get(id(question)) is not question:
        check_texts(question)
        _TEXTS_CHECKED[id(question)] = question
    variant = make_variant(question, seed)
    for index in range(len(variant.parts)):
        render_every_text(PartView(variant, index, "terminal"))
    return variant


def render_every_text(view: PartView) -> None:
    """Render every text a learner could see of one part; a problem raises BankError."""
    texts = [view.stem, view.prompt, view.explanation, view.model_answer, *view.options()]
    texts += [view.hint(i) for i in range(len(view.part.hints) + 1)]
    texts += [view.text(m.feedback) for m in view.part.mistakes]
    texts += [view.text(o.feedback) for o in view.part.options]
    for show in ("prompt", "explanation"):
        view.tables(show)
        view.charts(show)
    view.answer_text()


def _bundled(question: Question) -> bool:
    return Path(question.source.path).resolve().parent == data_dir("questions")
