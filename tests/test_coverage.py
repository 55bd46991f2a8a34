"""The bundled banks teach the whole subject: every concept and every article claim."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from click.testing import CliRunner

from tutor.bankspec import Part, Question
from tutor.catalog import load_catalog
from tutor.cli import main
from tutor.concepts import CLAIMS, CONCEPTS

QUESTIONS = load_catalog().questions
MIN_NUMERIC, MIN_CONCEPTUAL, MIN_TEMPLATES = 3, 2, 60


def is_numeric(part: Part) -> bool:
    return part.type == "numeric" or (part.type == "choice" and not part.is_text_choice)


def category(question: Question) -> str:
    """A template counts by its first part: numeric (incl. numeric choice) or conceptual."""
    return "numeric" if is_numeric(question.parts[0]) else "conceptual"


def runs_a_simulation(question: Question) -> bool:
    return bool(question.simulate) or any(part.simulate for part in question.parts)


COUNTS = Counter((concept, category(q)) for q in QUESTIONS for concept in q.concepts)


def test_there_are_enough_templates() -> None:
    assert len(QUESTIONS) >= MIN_TEMPLATES


@pytest.mark.parametrize("concept", sorted(CONCEPTS, key=lambda c: int(c[1:])))
def test_every_concept_has_numeric_and_conceptual_templates(concept: str) -> None:
    assert COUNTS[concept, "numeric"] >= MIN_NUMERIC, (
        f"{concept}: {COUNTS[concept, 'numeric']} numeric"
    )
    assert COUNTS[concept, "conceptual"] >= MIN_CONCEPTUAL, (
        f"{concept}: {COUNTS[concept, 'conceptual']} conceptual"
    )


@pytest.mark.parametrize("claim", sorted(CLAIMS))
def test_every_article_claim_is_checked_against_the_simulation(claim: str) -> None:
    checks = [q for q in QUESTIONS if q.claim == claim]
    assert checks, f"no question answers the claim {claim!r}"
    assert any(q.parts[0].type in ("truefalse", "choice") and runs_a_simulation(q) for q in checks)


@pytest.mark.parametrize(
    ("kind", "present"),
    [
        ("numeric", lambda q: q.parts[0].type == "numeric"),
        ("numeric multiple choice", lambda q: any(p.type == "choice" and not p.is_text_choice for p in q.parts)),
        ("written multiple choice", lambda q: any(p.is_text_choice for p in q.parts)),
        ("true/false", lambda q: any(p.type == "truefalse" for p in q.parts)),
        ("explain card", lambda q: any(p.type == "explain" for p in q.parts)),
        ("chained", lambda q: len(q.parts) > 1),
        ("diagnosis from a chart or table", lambda q: "C14" in q.concepts and any(
            f.show == "prompt" for p in q.parts for f in (*p.tables, *p.charts))),
    ],
)  # fmt: skip
def test_every_question_kind_is_used(kind: str, present: object) -> None:
    assert sum(1 for q in QUESTIONS if present(q)) >= 2, f"fewer than two {kind} questions"  # type: ignore[operator]


def test_every_template_has_help_and_a_named_mistake_where_it_is_graded() -> None:
    for question in QUESTIONS:
        for part in question.parts:
            if part.type == "explain":
                assert part.model_answer, question.id
                continue
            assert part.hints and part.explanation.strip(), question.id
        graded = [p for p in question.parts if p.type != "explain"]
        assert not graded or question.mistake_names, f"{question.id} names no misconception"


def test_list_json_reports_each_templates_concepts() -> None:
    result = CliRunner().invoke(main, ["list", "--json"])
    listed = {q["id"]: q["concepts"] for q in json.loads(result.output)["questions"]}
    assert listed == {q.id: list(q.concepts) for q in QUESTIONS}
