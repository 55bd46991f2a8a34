"""One chain in Python floats: the same numbers as the NumPy chain, and the chain rule's."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tutor.errors import SimulationError
from tutor.sim import (
    ACTIVATION_NAMES,
    chain_backward,
    chain_backward_scalar,
    chain_forward,
    chain_forward_scalar,
)

layers = st.integers(1, 30)
numbers = st.floats(-3, 3)


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
@settings(deadline=None, max_examples=40)
@given(data=st.data(), n=layers)
def test_backward_matches_the_numpy_chain(name: str, data: st.DataObject, n: int) -> None:
    w = data.draw(st.lists(numbers, min_size=n, max_size=n))
    z = data.draw(st.lists(numbers, min_size=n, max_size=n))
    fast, arrays = chain_backward_scalar(w, z, name), chain_backward(w, z, name)
    for field in ("fprime", "factors", "to_input", "cumulative"):
        # math and NumPy may round exp one ulp apart; the products then carry that ulp along
        np.testing.assert_allclose(getattr(fast, field), getattr(arrays, field), rtol=1e-13)
    assert fast.grad == pytest.approx(float(arrays.grad), rel=1e-13, abs=0)


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
@settings(deadline=None, max_examples=40)
@given(data=st.data(), n=layers, x0=numbers)
def test_forward_matches_the_numpy_chain(name: str, data: st.DataObject, n: int, x0: float) -> None:
    w = data.draw(st.lists(numbers, min_size=n, max_size=n))
    b = data.draw(st.lists(numbers, min_size=n, max_size=n))
    z, h = chain_forward_scalar(x0, w, b, name)
    arrays = chain_forward(x0, np.array(w), np.array(b), name)
    np.testing.assert_array_equal(z, arrays.z)  # the same function does both
    np.testing.assert_array_equal(h, arrays.h)


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "gelu", "softplus", "linear"])
@settings(deadline=None, max_examples=30)
@given(data=st.data(), n=st.integers(1, 8), x0=st.floats(-1, 1))
def test_the_gradient_is_the_finite_difference(
    name: str, data: st.DataObject, n: int, x0: float
) -> None:
    """dh_N/dh_0 from the backward pass against a central difference of the forward pass."""
    w = data.draw(st.lists(st.floats(0.5, 1.5), min_size=n, max_size=n))
    b = data.draw(st.lists(st.floats(-0.5, 0.5), min_size=n, max_size=n))
    z, _ = chain_forward_scalar(x0, w, b, name)
    step = 1e-6

    def output(x: float) -> float:
        return chain_forward_scalar(x, w, b, name)[1][-1]

    numerical = (output(x0 + step) - output(x0 - step)) / (2 * step)
    assert chain_backward_scalar(w, z, name).grad == pytest.approx(numerical, rel=1e-6, abs=1e-9)


def test_overflow_gives_inf_and_underflow_zero() -> None:
    assert chain_backward_scalar([1e200] * 3, [0.0] * 3, "linear").grad == math.inf
    assert chain_backward_scalar([1.0] * 600, [0.0] * 600, "sigmoid").grad == 0.0


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: chain_backward_scalar([1.0], [0.0], "swish"), "unknown activation 'swish'"),
        (lambda: chain_backward_scalar([1.0, 2.0], [0.0], "tanh"), "one weight per pre-activation"),
        (lambda: chain_backward_scalar([], [], "tanh"), "one weight per pre-activation: 0 and 0"),
        (lambda: chain_forward_scalar(0.0, [1.0], [], "tanh"), "one bias per weight: 1 and 0"),
        (
            lambda: chain_backward_scalar([1.0], [0.0], "elu", alpha=math.nan),
            "activation parameters must be finite",
        ),
    ],
)
def test_bad_chains_are_errors(call: object, message: str) -> None:
    with pytest.raises(SimulationError, match=message):
        call()  # type: ignore[operator]
