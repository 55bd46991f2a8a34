"""The signal models against closed forms, hand calculations and independent engine runs."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from model_helpers import run

from tutor import sim
from tutor.errors import SimulationError
from tutor.models import MODELS


def init(scheme: str, fan_in: int, fan_out: int, **extra: Any) -> dict[str, Any]:
    return run("init_stats", scheme=scheme, fan_in=fan_in, fan_out=fan_out, seed=7, **extra)


# --- init_stats ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scheme", "fan_in", "fan_out", "std"),
    [
        ("he-normal", 256, 128, math.sqrt(2 / 256)),
        ("he-uniform", 300, 100, math.sqrt(2 / 300)),
        ("xavier-normal", 256, 128, math.sqrt(2 / 384)),
        ("xavier-uniform", 64, 192, math.sqrt(2 / 256)),
        ("lecun-normal", 500, 20, math.sqrt(1 / 500)),
        ("orthogonal", 128, 128, math.sqrt(1 / 128)),
    ],
)
def test_init_std_is_the_closed_form_and_the_draw_matches(
    scheme: str, fan_in: int, fan_out: int, std: float
) -> None:
    stats = init(scheme, fan_in, fan_out)
    assert stats["std"] == pytest.approx(std, rel=1e-12)
    assert stats["variance"] == pytest.approx(std**2, rel=1e-12)
    assert stats["sample_std"] == pytest.approx(std, rel=0.03)
    assert abs(stats["sample_mean"]) < 0.05 * std
    assert stats["count"] == fan_in * fan_out


@pytest.mark.parametrize(
    ("scheme", "fan_in", "fan_out", "limit"),
    [
        ("xavier-uniform", 256, 128, math.sqrt(6 / 384)),
        ("he-uniform", 300, 100, math.sqrt(6 / 300)),
    ],
)
def test_uniform_limit_bounds_the_draw(
    scheme: str, fan_in: int, fan_out: int, limit: float
) -> None:
    stats = init(scheme, fan_in, fan_out)
    assert stats["limit"] == pytest.approx(limit, rel=1e-12)
    assert limit * 0.99 < stats["sample_max"] <= limit


def test_normal_and_uniform_take_their_scale_from_std() -> None:
    assert init("normal", 10, 20, std=0.3)["std"] == pytest.approx(0.3)
    uniform = init("uniform", 200, 200, std=0.3)
    assert uniform["limit"] == pytest.approx(0.3 * math.sqrt(3))
    assert uniform["sample_std"] == pytest.approx(0.3, rel=0.03)
    assert init("he-normal", 128, 64)["limit"] == pytest.approx(math.sqrt(6 / 128))


def test_init_draw_is_seeded() -> None:
    assert init("he-normal", 50, 50) == init("he-normal", 50, 50)


def test_init_refuses_a_huge_draw() -> None:
    with pytest.raises(SimulationError, match="fan_in \\* fan_out"):
        init("he-normal", 4096, 4096)


# --- batch_norm ---------------------------------------------------------------------------


def test_batch_norm_by_hand() -> None:
    out = run("batch_norm", z=(1.0, 2.0, 4.0, -1.0), gamma=2.0, beta=0.5)
    # mean 1.5, deviations -0.5 0.5 2.5 -2.5, variance (0.25 + 0.25 + 6.25 + 6.25) / 4 = 3.25
    assert out["mean"] == pytest.approx(1.5)
    assert out["var"] == pytest.approx(3.25)
    assert out["std"] == pytest.approx(math.sqrt(3.25 + 1e-5))
    assert out["centred"] == pytest.approx((-0.5, 0.5, 2.5, -2.5))
    xhat = np.array([-0.5, 0.5, 2.5, -2.5]) / math.sqrt(3.25 + 1e-5)
    assert out["xhat"] == pytest.approx(tuple(xhat))
    assert out["out"] == pytest.approx(tuple(2.0 * xhat + 0.5))
    assert "dz" not in out


@given(
    st.lists(st.floats(-10, 10), min_size=2, max_size=16).filter(lambda z: np.ptp(z) > 0.1),
    st.floats(0.1, 3),
    st.floats(-2, 2),
)
def test_batch_norm_output_has_the_scale_and_shift(
    z: list[float], gamma: float, beta: float
) -> None:
    out = run("batch_norm", z=tuple(z), gamma=gamma, beta=beta, eps=0.0)
    assert np.mean(out["out"]) == pytest.approx(beta, abs=1e-9)
    assert np.std(out["out"]) == pytest.approx(gamma, rel=1e-9)
    assert out["var"] == pytest.approx(np.var(z), rel=1e-9)


def test_batch_norm_backward_matches_finite_differences() -> None:
    z = np.array([0.3, -1.2, 2.0, 0.7, -0.4])
    dout = np.array([0.5, -1.0, 0.25, 2.0, -0.75])
    out = run("batch_norm", z=tuple(z), gamma=1.5, beta=0.2, dout=tuple(dout))

    def loss(values: np.ndarray) -> float:
        return float(np.dot(run("batch_norm", z=tuple(values), gamma=1.5, beta=0.2)["out"], dout))

    numeric = sim.numerical_gradient(loss, z)
    assert sim.relative_error(out["dz"], numeric) < 1e-7
    assert sum(out["dz"]) == pytest.approx(0.0, abs=1e-12)
    assert out["dbeta"] == pytest.approx(dout.sum())


@pytest.mark.parametrize(
    ("args", "message"),
    [({"z": (1.0,)}, "2 to"), ({"z": (1.0, 2.0), "dout": (1.0, 2.0, 3.0)}, "one value")],
)
def test_batch_norm_refuses_bad_batches(args: dict[str, Any], message: str) -> None:
    with pytest.raises(SimulationError, match=message):
        run("batch_norm", **args)


# --- gain ---------------------------------------------------------------------------------


@pytest.mark.parametrize("q", [0.1, 1.0, 7.0, 40.0])
@pytest.mark.parametrize(("activation", "msd"), [("relu", 0.5), ("linear", 1.0)])
def test_gain_of_relu_and_linear_does_not_depend_on_the_scale(
    activation: str, msd: float, q: float
) -> None:
    out = run("gain", activation=activation, std=0.125, width=128, preact_std=q)
    assert out["mean_sq_derivative"] == pytest.approx(msd, rel=1e-9)
    assert out["gain"] == pytest.approx(0.125**2 * 128 * msd, rel=1e-9)
    assert out["critical_std"] == pytest.approx(1 / math.sqrt(128 * msd), rel=1e-9)


def test_he_init_puts_the_relu_gain_at_one() -> None:
    out = run("gain", activation="relu", std=math.sqrt(2 / 300), width=300, preact_std=2.0)
    assert out["gain"] == pytest.approx(1.0, rel=1e-9)
    assert out["next_preact_var"] == pytest.approx(4.0, rel=1e-6)  # E[relu(z)^2] = q^2 / 2


def test_leaky_relu_gain_counts_the_slope_squared() -> None:
    out = run("gain", activation="leaky_relu", std=0.1, width=100, preact_std=1.0, slope=0.2)
    assert out["mean_sq_derivative"] == pytest.approx((1 + 0.2**2) / 2, rel=1e-9)
    assert out["mean_derivative"] == pytest.approx((1 + 0.2) / 2, rel=1e-9)


@pytest.mark.parametrize("q", [0.2, 0.7, 1.5])
@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "gelu"])
def test_gain_agrees_with_the_engine_quadrature_where_that_is_accurate(
    activation: str, q: float
) -> None:
    out = run("gain", activation=activation, std=1.0, width=1, preact_std=q)
    assert out["mean_sq_derivative"] == pytest.approx(
        sim.expected_sq_derivative(activation, q), rel=1e-4
    )


@pytest.mark.parametrize("q", [3.0, 11.3, 30.0])
def test_tanh_gain_at_large_scale_matches_monte_carlo(q: float) -> None:
    z = np.random.default_rng(1).normal(0.0, q, 4_000_000)
    sample = float(np.mean((1 - np.tanh(z) ** 2) ** 2))
    assert sim.gaussian_expectation(lambda x: (1 - np.tanh(x) ** 2) ** 2, q) == pytest.approx(
        sample, rel=0.01
    )
    # far out, E[tanh'(z)^2] -> (4/3) / (sqrt(2 pi) q): only the units near 0 pass gradient
    if q >= 11:
        assert sample == pytest.approx(4 / 3 / (math.sqrt(2 * math.pi) * q), rel=0.02)


def test_gaussian_mean_of_a_constant_and_at_zero_scale() -> None:
    assert sim.gaussian_expectation(np.ones_like, 5.0) == pytest.approx(1.0)
    assert sim.gaussian_expectation(lambda x: x * x, 3.0) == pytest.approx(9.0, rel=1e-9)
    assert sim.gaussian_expectation(np.cos, 0.0) == 1.0


# --- residual_chain -----------------------------------------------------------------------


def test_residual_chain_by_hand() -> None:
    out = run(
        "residual_chain", depth=3, activation="sigmoid", weight=(1.0, 2.0, 3.0), z=(0.0, 1.0, -1.0)
    )
    s1 = 1 / (1 + math.exp(-1))
    slope = s1 * (1 - s1)
    blocks = [1 + 0.25, 1 + 2 * slope, 1 + 3 * slope]
    assert out["block"] == pytest.approx(tuple(blocks))
    assert out["grad"] == pytest.approx(math.prod(blocks))
    assert out["plain_grad"] == pytest.approx(0.25 * 2 * slope * 3 * slope)
    assert out["to_input"] == pytest.approx((math.prod(blocks), blocks[1] * blocks[2], blocks[2]))
    assert out["cumulative"][-1] == pytest.approx(out["grad"])


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid"])
def test_residual_chain_matches_a_one_unit_residual_network(activation: str) -> None:
    rng = np.random.default_rng(3)
    weights = rng.uniform(-2, 2, 6)
    biases = rng.uniform(-1, 1, 6)
    result = sim.network_gradients(
        np.array([[0.4]]),
        [np.array([[w]]) for w in weights],
        [np.array([b]) for b in biases],
        activation,
        residual=True,
    )
    z = tuple(float(p[0, 0]) for p in result.cache.preacts)
    out = run("residual_chain", depth=6, activation=activation, weight=tuple(weights), z=z)
    assert out["grad"] == pytest.approx(float(result.grads.x[0, 0]), rel=1e-12)


# --- propagation --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tanh_trap() -> dict[str, Any]:
    return run(
        "propagation", depth=10, width=128, activation="tanh", init="normal", std=1.0, seed=3
    )


def test_tanh_with_unit_weights_saturates_yet_explodes(tanh_trap: dict[str, Any]) -> None:
    assert min(tanh_trap["saturation"]) > 0.8
    assert tanh_trap["measured_ratio"] > 1000
    assert min(tanh_trap["backward_gain"]) > 4
    assert tanh_trap["diagnosis"]["kind"] == "exploding"
    assert tanh_trap["measured_ratio"] == pytest.approx(tanh_trap["predicted_ratio"], rel=0.5)


def test_propagation_lists_are_per_layer(tanh_trap: dict[str, Any]) -> None:
    for key in ("relative_signal", "norm_factor", "relative_std", "weight_std", "unsaturated"):
        assert len(tanh_trap[key]) == 10, key
    assert tanh_trap["relative_signal"][-1] == 1.0
    assert tanh_trap["relative_std"][0] == 1.0
    assert tanh_trap["weight_std"] == pytest.approx((1.0,) * 10, rel=0.02)
    assert "settings" not in tanh_trap


def test_linear_network_grows_as_its_gain_predicts() -> None:
    out = run(
        "propagation",
        depth=12,
        width=256,
        activation="linear",
        init="normal",
        std=math.sqrt(1.5 / 256),
        seed=1,
    )
    assert math.log10(out["measured_ratio"]) == pytest.approx(11 / 2 * math.log10(1.5), abs=0.2)
    assert out["predicted_ratio"] == pytest.approx(out["measured_ratio"], rel=0.3)


def test_every_model_is_registered() -> None:
    for name in ("init_stats", "batch_norm", "propagation", "gain", "residual_chain"):
        assert name in MODELS
