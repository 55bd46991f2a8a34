"""The scalar chain: closed-form products against the simulation and finite differences."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from tutor.errors import SimulationError
from tutor.sim import ACTIVATION_NAMES, chain_backward, chain_forward, get_activation

KINKED = {"relu", "leaky_relu", "elu"}

shapes = st.tuples(st.lists(st.integers(1, 3), max_size=2).map(tuple), st.integers(1, 12))


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
@settings(deadline=None, max_examples=30)
@given(seed=st.integers(0, 2**32 - 1), shape=shapes)
@example(seed=0, shape=((), 1))
def test_products_are_the_definitions(
    name: str, seed: int, shape: tuple[tuple[int, ...], int]
) -> None:
    lead, n = shape
    rng = np.random.default_rng(seed)
    w = rng.uniform(-2, 2, (*lead, n))
    z = rng.uniform(-3, 3, (*lead, n))
    out = chain_backward(w, z, name)
    fprime = get_activation(name).derivative(z)
    assert np.array_equal(out.fprime, fprime)
    assert np.array_equal(out.factors, w * fprime)
    for idx in np.ndindex(*lead):
        f = out.factors[idx]
        for layer in range(n):
            assert out.to_input[idx][layer] == pytest.approx(
                math.prod(f[layer:]), rel=1e-12, abs=1e-300
            )
            assert out.cumulative[idx][layer] == pytest.approx(
                math.prod(f[: layer + 1]), rel=1e-12, abs=1e-300
            )
        assert out.grad[idx] == pytest.approx(math.prod(f), rel=1e-12, abs=1e-300)
    assert np.array_equal(out.to_input[..., 0], out.grad)
    np.testing.assert_allclose(out.cumulative[..., -1], out.grad, rtol=1e-12)


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
@settings(deadline=None, max_examples=30)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 8))
def test_chain_gradient_equals_finite_differences(name: str, seed: int, n: int) -> None:
    rng = np.random.default_rng(seed)
    w = rng.uniform(1, 3, n) * rng.choice([-1.0, 1.0], n)
    b, x0 = rng.uniform(-1, 1, n), float(rng.uniform(-2, 2))
    fwd = chain_forward(x0, w, b, name)
    exact = float(chain_backward(w, fwd.z, name).grad)
    # Finite differences do not apply across a kink, nor resolve a gradient far below the
    # rounding of h_N itself (about 1e-16 * |h_N| / h); the factors are checked one by one
    # in test_sim_activations, and their product in test_products_are_the_definitions.
    assume(name not in KINKED or np.abs(fwd.z).min() > 1e-4)
    assume(exact == 0 or abs(exact) > 1e-4 * (1 + abs(fwd.h[-1])))
    h = 1e-6
    up = chain_forward(x0 + h, w, b, name).h[-1]
    down = chain_forward(x0 - h, w, b, name).h[-1]
    numeric = (up - down) / (2 * h)
    assert abs(exact - numeric) <= 1e-6 * max(abs(exact), abs(numeric))


def test_sigmoid_chain_closed_form() -> None:
    # w = 1 and z = 0 in every layer: the gradient is 0.25 ** N exactly.
    out = chain_backward(np.ones(10), np.zeros(10), "sigmoid")
    assert out.grad == 0.25**10
    assert out.to_input[5] == 0.25**5


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
@settings(deadline=None, max_examples=30)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 20))
def test_scalar_fast_path_matches_batched_path(name: str, seed: int, n: int) -> None:
    rng = np.random.default_rng(seed)
    w, b, x0 = rng.normal(size=n), rng.normal(size=n), float(rng.normal())
    one = chain_forward(x0, w, b, name)
    many = chain_forward(np.array([x0, x0]), np.stack([w, w]), np.stack([b, b]), name)
    # math and NumPy may round tanh, exp, ... one ulp apart, and z = w * h + b can cancel
    # that into a larger relative difference near 0: hence the small absolute tolerance.
    for got in (many.z[0], many.z[1]):
        np.testing.assert_allclose(got, one.z, rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(many.h[1], one.h, rtol=1e-13, atol=1e-14)


def test_many_variants_at_once_equal_one_by_one() -> None:
    rng = np.random.default_rng(4)
    w, z = rng.normal(size=(50, 8)), rng.normal(size=(50, 8))
    batch = chain_backward(w, z, "tanh")
    for i in range(50):
        assert batch.grad[i] == chain_backward(w[i], z[i], "tanh").grad


def test_broadcasting_a_shared_weight() -> None:
    out = chain_backward(0.5, np.zeros((3, 4)), "sigmoid")
    assert out.fprime.shape == out.factors.shape == (3, 4)
    assert np.allclose(out.grad, 0.125**4)


def test_float16_underflows_to_zero_and_float64_does_not() -> None:
    w, z = np.ones(30), np.zeros(30)
    assert chain_backward(w, z, "sigmoid", dtype="float16").grad == 0.0
    assert chain_backward(w, z, "sigmoid").grad == pytest.approx(0.25**30)


def test_overflow_gives_inf_without_a_warning() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = chain_backward(np.full(400, 10.0), np.ones(400), "relu")
        fwd = chain_forward(1.0, np.full(400, 10.0), None, "relu")
    assert out.grad == math.inf
    assert fwd.h[-1] == math.inf


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: chain_backward(1.0, 1.0, "relu"), "at least one layer"),
        (lambda: chain_backward(np.ones(3), np.ones(4), "relu"), "do not broadcast"),
        (lambda: chain_backward(np.ones(3), np.ones(3), "swish"), "choose one of"),
        (lambda: chain_forward(np.ones(2), np.ones((3, 4)), None, "relu"), "do not broadcast"),
    ],
)
def test_errors(call: object, message: str) -> None:
    with pytest.raises(SimulationError, match=message):
        call()  # type: ignore[operator]
