"""The backprop models against hand calculations, closed forms and finite differences."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from model_helpers import run

from tutor.errors import SimulationError


def sigmoid(z: float) -> float:
    return 1 / (1 + math.exp(-z))


def test_two_sigmoid_layers_by_hand() -> None:
    x, (w1, w2), (b1, b2) = 0.5, (2.0, -1.5), (0.25, 0.5)
    z1 = w1 * x + b1
    h1 = sigmoid(z1)
    z2 = w2 * h1 + b2
    h2 = sigmoid(z2)
    d1, d2 = h1 * (1 - h1), h2 * (1 - h2)
    out = run("backprop_chain", depth=2, activation="sigmoid", weight=[w1, w2], bias=[b1, b2], x=x)
    assert out["z"] == pytest.approx((z1, z2))
    assert out["h"] == pytest.approx((h1, h2))
    assert out["h_in"] == pytest.approx((x, h1))
    assert out["output"] == pytest.approx(h2)
    assert out["weight_grad"] == pytest.approx((x * d1 * w2 * d2, h1 * d2))
    assert out["bias_grad"] == pytest.approx((d1 * w2 * d2, d2))
    assert out["act_grad"] == pytest.approx((w1 * d1 * w2 * d2, w2 * d2))
    assert out["input_grad"] == pytest.approx(w1 * d1 * w2 * d2)
    assert out["grad"] == pytest.approx(out["input_grad"])


ACTS = ["sigmoid", "tanh", "gelu", "softplus", "linear"]  # smooth: finite differences apply


@pytest.mark.parametrize("activation", ACTS)
@settings(deadline=None, max_examples=25)
@given(seed=st.integers(0, 2**32 - 1), depth=st.integers(1, 6))
def test_weight_and_bias_gradients_match_finite_differences(
    activation: str, seed: int, depth: int
) -> None:
    rng = np.random.default_rng(seed)
    w = rng.uniform(-2, 2, depth).tolist()
    b = rng.uniform(-1, 1, depth).tolist()
    x = float(rng.uniform(-1, 1))
    out = run("backprop_chain", depth=depth, activation=activation, weight=w, bias=b, x=x)

    def h_n(ws: list[float], bs: list[float]) -> float:
        return float(run("backprop_chain", depth=depth, activation=activation, weight=ws,
                         bias=bs, x=x)["output"])  # fmt: skip

    step = 1e-6
    for layer in range(depth):
        up, down = list(w), list(w)
        up[layer] += step
        down[layer] -= step
        numeric = (h_n(up, b) - h_n(down, b)) / (2 * step)
        assert out["weight_grad"][layer] == pytest.approx(numeric, rel=1e-5, abs=1e-8)
        up, down = list(b), list(b)
        up[layer] += step
        down[layer] -= step
        numeric = (h_n(w, up) - h_n(w, down)) / (2 * step)
        assert out["bias_grad"][layer] == pytest.approx(numeric, rel=1e-5, abs=1e-8)


@settings(deadline=None, max_examples=40)
@given(seed=st.integers(0, 2**32 - 1), depth=st.integers(1, 8))
def test_weight_gradient_is_input_times_slope_times_the_factors_above(
    seed: int, depth: int
) -> None:
    rng = np.random.default_rng(seed)
    w, b, x = rng.uniform(-3, 3, depth), rng.uniform(-1, 1, depth), float(rng.uniform(-2, 2))
    out = run("backprop_chain", depth=depth, activation="tanh", weight=w.tolist(),
              bias=b.tolist(), x=x)  # fmt: skip
    for layer in range(depth):
        above = math.prod(out["factors"][layer + 1 :])
        want = out["h_in"][layer] * out["fprime"][layer] * above
        assert out["weight_grad"][layer] == pytest.approx(want, rel=1e-12, abs=1e-300)
        assert out["act_grad"][layer] == pytest.approx(out["to_input"][layer], rel=1e-12)


@pytest.mark.parametrize("slope", [0.0, 0.01, 0.1, 0.3])
@pytest.mark.parametrize("negatives", [0, 1, 3])
def test_leaky_relu_passes_slope_to_the_power_of_the_negative_units(
    slope: float, negatives: int
) -> None:
    z = [-1.0] * negatives + [2.0] * (5 - negatives)
    out = run("activation_chain", depth=5, activation="leaky_relu", weight=1.5, z=z, slope=slope)
    assert out["grad"] == pytest.approx(slope**negatives * 1.5**5, rel=1e-12)
    assert out["value"] == pytest.approx(tuple(v if v > 0 else slope * v for v in z))


@pytest.mark.parametrize("alpha", [0.5, 1.0, 2.0])
def test_elu_slope_below_zero_is_alpha_e_to_the_z(alpha: float) -> None:
    z = [-0.5, -1.2, -2.0]
    out = run("activation_chain", depth=3, activation="elu", z=z, alpha=alpha)
    assert out["fprime"] == pytest.approx(tuple(alpha * math.exp(v) for v in z))
    assert out["grad"] == pytest.approx(alpha**3 * math.exp(sum(z)))
    assert out["value"] == pytest.approx(tuple(alpha * math.expm1(v) for v in z))


def test_relu_at_exactly_zero_passes_nothing() -> None:
    out = run("activation_chain", depth=3, activation="relu", weight=2.0, z=[1.0, 0.0, 1.0])
    assert out["fprime"] == (1.0, 0.0, 1.0)
    assert out["grad"] == 0.0


def test_the_chain_models_agree_with_the_basic_chain() -> None:
    z = [0.3, -1.2, 2.0, 0.0]
    mine = run("activation_chain", depth=4, activation="sigmoid", weight=[1, 2, 3, 4], z=z)
    basic = run("chain", depth=4, activation="sigmoid", weight=[1, 2, 3, 4], z=z)
    for key in ("fprime", "factors", "to_input", "cumulative", "grad"):
        assert mine[key] == basic[key]


@pytest.mark.parametrize(
    ("model", "args", "message"),
    [
        ("backprop_chain", {"depth": 51, "activation": "tanh", "weight": 1.0, "x": 1.0}, "outside"),
        ("backprop_chain", {"depth": 2, "activation": "tanh", "weight": [1.0], "x": 1.0}, "values"),
        ("activation_chain", {"depth": 2, "activation": "elu", "alpha": 0.0}, "outside"),
        ("activation_chain", {"depth": 2, "activation": "leaky_relu", "slope": 2.0}, "outside"),
    ],
)
def test_bad_arguments_are_refused(model: str, args: dict[str, Any], message: str) -> None:
    with pytest.raises(SimulationError, match=message):
        run(model, **args)
