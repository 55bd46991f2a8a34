"""Variants are named by (question id, seed), and their answer key grades itself as right."""

from __future__ import annotations

import collections
import hashlib
import json
import math
import random
import subprocess
import sys

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tutor.bankspec import ParamSpec
from tutor.catalog import load_catalog
from tutor.grading import grade_text
from tutor.models import run_model
from tutor.numfmt import format_number
from tutor.params import rng_for, sample_param, uniform_index
from tutor.present import LETTERS, describe
from tutor.variant import make_variant

CATALOG = load_catalog()
QUESTIONS = CATALOG.questions
IDS = [q.id for q in QUESTIONS]
seeds = st.integers(min_value=0, max_value=2**63 - 1)


def answer_as_typed(variant: object, index: int) -> str:
    """The right answer spelled the way a learner would type it."""
    key = variant.parts[index]  # type: ignore[attr-defined]
    part = variant.question.parts[index]  # type: ignore[attr-defined]
    if part.type == "choice":
        return LETTERS[next(i for i, c in enumerate(key.choices) if c.correct)]
    if part.type == "truefalse":
        return "true" if key.expected else "false"
    return format_number(key.expected, 10, "plain")


@pytest.mark.parametrize("question", QUESTIONS, ids=IDS)
@settings(max_examples=20)  # tutor check covers seeds 0-499 of every question; these go far wide
@given(seed=seeds)
def test_same_seed_same_variant(question: object, seed: int) -> None:
    first, second = make_variant(question, seed), make_variant(question, seed)  # type: ignore[arg-type]
    assert first.params == second.params
    assert [p.expected for p in first.parts] == [p.expected for p in second.parts]
    assert [p.choices for p in first.parts] == [p.choices for p in second.parts]


@pytest.mark.parametrize("question", QUESTIONS, ids=IDS)
@settings(max_examples=20)  # tutor check covers seeds 0-499 of every question; these go far wide
@given(seed=seeds)
def test_the_true_answer_grades_as_right(question: object, seed: int) -> None:
    variant = make_variant(question, seed)  # type: ignore[arg-type]
    for index, part in enumerate(variant.question.parts):
        if part.type == "explain":
            continue
        verdict = grade_text(variant, index, answer_as_typed(variant, index))
        assert verdict.correct, (variant.id, index)
        assert verdict.mistake is None


@pytest.mark.parametrize("question", QUESTIONS, ids=IDS)
@settings(max_examples=20)  # tutor check covers seeds 0-499 of every question; these go far wide
@given(seed=seeds)
def test_every_named_mistake_grades_as_that_mistake(question: object, seed: int) -> None:
    variant = make_variant(question, seed)  # type: ignore[arg-type]
    for index, key in enumerate(variant.parts):
        if variant.question.parts[index].type != "numeric":
            continue
        for name, value in key.mistakes.items():
            verdict = grade_text(variant, index, format_number(value, 10, "plain"))
            assert not verdict.correct
            assert verdict.mistake == name


def test_variants_are_the_same_in_another_process() -> None:
    """No hash() or global state: a fresh interpreter draws the same numbers."""
    question = CATALOG.get("sigmoid-chain-mixed")
    here = describe(make_variant(question, 1234))
    there = subprocess.run(
        [sys.executable, "-m", "tutor", "explain", "sigmoid-chain-mixed", "--seed", "1234", "--json"],
        capture_output=True, text=True, check=True, env={"PYTHONHASHSEED": "12345", "PATH": ""},
    )  # fmt: skip
    here = json.loads(json.dumps(here))
    assert json.loads(there.stdout)["params"] == here["params"]
    assert json.loads(there.stdout)["answer"] == here["answer"]


@given(question_id=st.text(min_size=1, max_size=40), seed=seeds)
@example(question_id="q", seed=0)
def test_the_stream_is_the_one_documented(question_id: str, seed: int) -> None:
    """Python's Mersenne Twister seeded with SHA-256(id, seed) read as a big-endian number."""
    digest = hashlib.sha256(f"{question_id}\x00{seed}".encode()).digest()
    named = random.Random(int.from_bytes(digest, "big"))
    stream = rng_for(question_id, seed)
    assert [stream.random() for _ in range(4)] == [named.random() for _ in range(4)]


def test_the_stream_keeps_its_numbers() -> None:
    """Pinned values: a change of Python or of this code must not change a variant's numbers."""
    stream = rng_for("q", 0)
    assert [stream.random() for _ in range(3)] == [
        0.08668044169669298,
        0.10226953875752809,
        0.9628826516072198,
    ]


@given(count=st.integers(min_value=1, max_value=2**60), seed=seeds)
def test_a_uniform_index_is_in_range(count: int, seed: int) -> None:
    assert 0 <= uniform_index(rng_for("q", seed), count) < count


def test_a_uniform_index_reaches_every_value_about_equally() -> None:
    stream = rng_for("q", 1)
    counts = collections.Counter(uniform_index(stream, 7) for _ in range(70_000))
    assert sorted(counts) == list(range(7))
    assert all(abs(n - 10_000) < 500 for n in counts.values())  # 5 standard deviations


@given(seed=seeds, count=st.integers(min_value=1, max_value=50), log=st.booleans())
def test_a_list_parameter_draws_what_one_at_a_time_would(seed: int, count: int, log: bool) -> None:
    spec = ParamSpec("z", "float", 1, low=0.5, high=4.0, log=log, digits=2, size=count)
    one = ParamSpec("z", "float", 1, low=0.5, high=4.0, log=log, digits=2)
    listed = sample_param(spec, rng_for("q", seed), {}, lambda _: 0.0)
    rng = rng_for("q", seed)
    assert listed == tuple(sample_param(one, rng, {}, lambda _: 0.0) for _ in range(count))


def test_different_seeds_give_different_numbers() -> None:
    question = CATALOG.get("sigmoid-chain-mixed")
    params = {json.dumps(make_variant(question, seed).params) for seed in range(20)}
    assert len(params) > 15


@given(
    depth=st.integers(min_value=1, max_value=40),
    data=st.data(),
)
@example(depth=1, data=None)
def test_a_sigmoid_chain_with_unit_weights_stays_in_range(
    depth: int, data: st.DataObject | None
) -> None:
    """Every factor is sigma'(z) <= 1/4, so the gradient lies in (0, 0.25^N]."""
    z_values = st.floats(min_value=-8, max_value=8, allow_nan=False)
    zs = (
        [0.0] * depth
        if data is None
        else data.draw(st.lists(z_values, min_size=depth, max_size=depth))
    )
    result = run_model(
        "chain",
        {
            "depth": depth,
            "activation": "sigmoid",
            "weight": 1.0,
            "z": tuple(zs),
            "x": None,
            "bias": 0.0,
        },
    )
    assert 0 < result["grad"] <= 0.25**depth * (1 + 1e-12)
    if all(z == 0 for z in zs):
        assert result["grad"] == pytest.approx(0.25**depth, rel=1e-12)


def test_the_chain_is_the_product_of_its_factors() -> None:
    result = run_model(
        "chain",
        {
            "depth": 3,
            "activation": "tanh",
            "weight": (0.5, 2.0, 1.5),
            "z": (0.1, -1.0, 2.0),
            "x": None,
            "bias": 0.0,
        },
    )
    expected = math.prod(
        w * (1 - math.tanh(z) ** 2) for w, z in zip((0.5, 2.0, 1.5), (0.1, -1.0, 2.0), strict=True)
    )
    assert result["grad"] == pytest.approx(expected, rel=1e-12)
