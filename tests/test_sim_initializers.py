"""Initializers: closed-form scales, empirical moments, orthogonality, seeding, errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tutor.errors import SimulationError
from tutor.sim import INIT_NAMES, init_std, init_weights, uniform_limit

FI, FO = 400, 300


def test_names_are_the_cli_spellings() -> None:
    assert INIT_NAMES == (
        "zeros", "constant", "normal", "uniform", "xavier-normal", "xavier-uniform",
        "he-normal", "he-uniform", "lecun-normal", "orthogonal",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("name", "std"),
    [
        ("xavier-normal", math.sqrt(2 / (FI + FO))),
        ("xavier-uniform", math.sqrt(2 / (FI + FO))),
        ("he-normal", math.sqrt(2 / FI)),
        ("he-uniform", math.sqrt(2 / FI)),
        ("lecun-normal", math.sqrt(1 / FI)),
        ("orthogonal", math.sqrt(1 / FI)),
        ("zeros", 0.0),
        ("constant", 0.0),
    ],
)
def test_init_std_closed_forms_and_draws(name: str, std: float) -> None:
    assert init_std(name, FI, FO) == pytest.approx(std, rel=1e-15)
    assert init_std(name, FI, FO, gain=3.0) == pytest.approx(3 * std, rel=1e-15)
    w = init_weights(name, FI, FO, np.random.default_rng(0))
    assert w.shape == (FI, FO)
    assert w.std() == pytest.approx(std, rel=0.02, abs=1e-12)


def test_uniform_limits() -> None:
    assert uniform_limit("xavier-uniform", FI, FO) == pytest.approx(math.sqrt(6 / (FI + FO)))
    assert uniform_limit("he-uniform", FI, FO) == pytest.approx(math.sqrt(6 / FI))
    assert uniform_limit("uniform", FI, FO, std=0.1) == pytest.approx(0.1 * math.sqrt(3))
    w = init_weights("xavier-uniform", FI, FO, np.random.default_rng(1))
    assert np.abs(w).max() <= uniform_limit("xavier-uniform", FI, FO)
    with pytest.raises(SimulationError, match="not a uniform"):
        uniform_limit("he-normal", FI, FO)


@pytest.mark.parametrize("name", ["normal", "uniform"])
def test_plain_schemes_take_std(name: str) -> None:
    w = init_weights(name, FI, FO, np.random.default_rng(2), std=0.05)
    assert w.std() == pytest.approx(0.05, rel=0.02)
    assert init_std(name, FI, FO, std=0.05) == 0.05
    with pytest.raises(SimulationError, match="--std"):
        init_weights(name, FI, FO, np.random.default_rng(2))


def test_uniform_with_limit_and_constant_value() -> None:
    w = init_weights("uniform", 50, 40, np.random.default_rng(3), limit=0.2)
    assert np.abs(w).max() <= 0.2
    assert (init_weights("constant", 3, 2, np.random.default_rng(3), value=1.5) == 1.5).all()
    assert not init_weights("zeros", 3, 2, np.random.default_rng(3)).any()


@settings(deadline=None, max_examples=30)
@given(
    fan_in=st.integers(1, 12),
    fan_out=st.integers(1, 12),
    gain=st.floats(0.1, 3.0),
    seed=st.integers(0, 2**32 - 1),
    variants=st.lists(st.integers(1, 3), max_size=2).map(tuple),
)
def test_orthogonal_has_orthonormal_rows_or_columns(
    fan_in: int, fan_out: int, gain: float, seed: int, variants: tuple[int, ...]
) -> None:
    w = init_weights(
        "orthogonal", fan_in, fan_out, np.random.default_rng(seed), gain=gain, variants=variants
    )
    assert w.shape == (*variants, fan_in, fan_out)
    wt = np.swapaxes(w, -1, -2)
    gram = wt @ w if fan_in >= fan_out else w @ wt
    eye = np.eye(min(fan_in, fan_out))
    assert np.allclose(gram, gain**2 * eye, atol=1e-12)


def test_same_seed_same_weights_and_variants_shape() -> None:
    a = init_weights("he-normal", 5, 4, np.random.default_rng(9), variants=(3,))
    b = init_weights("he-normal", 5, 4, np.random.default_rng(9), variants=(3,))
    assert a.shape == (3, 5, 4)
    assert np.array_equal(a, b)
    assert not np.array_equal(a[0], a[1])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "glorot"}, "xavier-normal"),
        ({"name": "normal", "std": -1.0}, "std"),
        ({"name": "he-normal", "fan_in": 0}, "fan_in"),
        ({"name": "uniform", "limit": math.inf}, "limit"),
    ],
)
def test_errors(kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {"name": "he-normal", "fan_in": 3, "fan_out": 3, **kwargs}
    with pytest.raises(SimulationError, match=message):
        init_weights(rng=np.random.default_rng(0), **args)  # type: ignore[arg-type]


@settings(max_examples=40, deadline=None)
@given(
    name=st.sampled_from(INIT_NAMES),
    depth=st.integers(1, 4),
    fans=st.tuples(st.integers(1, 6), st.integers(1, 6)),
    variants=st.sampled_from([(), (2,), (2, 3)]),
    seed=st.integers(0, 2**32 - 1),
)
def test_many_layers_in_one_draw_are_the_layers_drawn_one_by_one(
    name: str, depth: int, fans: tuple[int, int], variants: tuple[int, ...], seed: int
) -> None:
    # build_network draws every layer at once, as a leading axis of variants.
    options = {"std": 0.3} if name in ("normal", "uniform") else {}
    first, second = np.random.default_rng(seed), np.random.default_rng(seed)
    together = init_weights(name, *fans, first, variants=(depth, *variants), **options)
    one_by_one = [
        init_weights(name, *fans, second, variants=variants, **options) for _ in range(depth)
    ]
    np.testing.assert_array_equal(together, np.stack(one_by_one))
    assert first.random() == second.random()  # and the stream is left at the same place
