"""The diagnosis and remedy models against closed forms and independent computations."""

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
from tutor.models.diagnosis import _residual_biases

NETS = [
    {"activation": "sigmoid", "init": "xavier-normal"},
    {"activation": "relu", "init": "he-normal", "gain": 0.5},
    {"activation": "relu", "init": "he-normal", "gain": 1.6},
    {"activation": "relu", "init": "he-normal"},
    {"activation": "tanh", "init": "normal", "std": 1.0},
    {"activation": "tanh", "init": "normal", "std": 0.05},
]


@pytest.mark.parametrize("net", NETS)
def test_picture_is_consistent_with_the_engine(net: dict[str, Any]) -> None:
    result = run("diagnosis_net", depth=12, seed=5, **net)
    report = sim.simulate_network(12, 64, seed=5, **net)
    diagnosis = sim.diagnose(report)
    assert result["act_grad_norm"] == pytest.approx(tuple(report.act_grad_norm), rel=1e-12)
    assert (result["kind"], result["fix"]) == (diagnosis.kind, diagnosis.fix)
    assert result["from_layer"] == (diagnosis.from_layer or 0)
    signal = np.asarray(result["act_grad_norm"])
    assert result["signal_ratio"] == pytest.approx(tuple(signal / signal[-1]), rel=1e-12)
    assert result["signal_ratio"][-1] == 1.0
    assert result["per_layer_factor"] ** 11 == pytest.approx(result["signal_ratio"][0], rel=1e-9)
    assert result["signal_decades"] == pytest.approx(math.log10(signal[0] / signal[-1]))
    assert result["layers"] == tuple(range(1, 13))


@pytest.mark.parametrize("net", NETS)
def test_margins_measure_the_distance_to_the_rule(net: dict[str, Any]) -> None:
    result = run("diagnosis_net", depth=15, seed=2, **net)
    logs = [math.log10(r) for r in result["signal_ratio"]]
    onset = min(abs(abs(v) - 1.0) for v in logs)
    problem = min(abs(max(logs) - 2.0), abs(-min(logs) - 2.0))
    assert result["onset_margin"] == pytest.approx(onset, abs=1e-12)
    assert result["problem_margin"] == pytest.approx(problem, abs=1e-12)


@given(gain=st.sampled_from([0.5, 0.7, 1.4, 2.0]), depth=st.integers(3, 15))
def test_relu_weight_gradients_scale_as_a_block(gain: float, depth: int) -> None:
    """ReLU is positively homogeneous: every dL/dW_l gains exactly gain**(depth - 1)."""
    good = run("diagnosis_net", depth=depth, activation="relu", init="he-normal", seed=9)
    bad = run("diagnosis_net", depth=depth, activation="relu", init="he-normal", gain=gain, seed=9)
    factors = np.asarray(bad["grad_norm"]) / np.asarray(good["grad_norm"])
    assert factors == pytest.approx(np.full(depth, gain ** (depth - 1)), rel=1e-9)
    signal = np.asarray(bad["act_grad_norm"]) / np.asarray(good["act_grad_norm"])
    expected = [gain ** (depth - layer) for layer in range(1, depth + 1)]
    assert signal == pytest.approx(np.asarray(expected), rel=1e-9)


@pytest.mark.parametrize("fraction", [1.0, 0.5, 0.01])
def test_clipping_by_fraction_keeps_the_layer_ratios(fraction: float) -> None:
    result = run(
        "diagnosis_net",
        depth=8,
        activation="sigmoid",
        init="xavier-normal",
        seed=3,
        clip_fraction=fraction,
    )
    net = sim.build_network(8, 64, "xavier-normal", seed=3)
    grads = sim.network_gradients(net.x, net.weights, net.biases, "sigmoid").grads
    norm = math.sqrt(sum(float(np.sum(g * g)) for g in (*grads.weights, *grads.biases)))
    assert result["global_norm"] == pytest.approx(norm, rel=1e-12)
    assert result["clip_at"] == pytest.approx(fraction * norm, rel=1e-12)
    assert result["clipped_grad_ratio"] == pytest.approx(result["grad_ratio"], rel=1e-9)
    assert result["clipped_grad_norm"] == pytest.approx(
        tuple(fraction * np.asarray(result["grad_norm"])), rel=1e-9
    )


def test_clip_at_an_absolute_threshold() -> None:
    result = run("diagnosis_net", depth=6, activation="relu", init="he-normal", seed=1, clip=1e6)
    assert result["clip_scale"] == 1.0
    assert result["clipped_grad_norm"] == pytest.approx(result["grad_norm"], rel=1e-12)


def test_training_reports_the_start_of_the_run() -> None:
    result = run(
        "diagnosis_training",
        depth=6,
        activation="tanh",
        init="xavier-normal",
        seed=4,
        lr=0.01,
        steps=5,
    )
    rng = np.random.default_rng(4)
    net = sim.build_network(6, 32, "xavier-normal", seed=rng)
    x, y = sim.regression_task(32, 64, rng, net.x)
    first = sim.network_gradients(x, net.weights, net.biases, "tanh", loss="mse", target=y)
    assert result["loss"][0] == pytest.approx(float(first.loss), rel=1e-12)
    assert result["start"]["loss"] == pytest.approx(float(first.loss), rel=1e-12)
    hidden = [float(np.linalg.norm(h)) for h in first.grads.hidden]
    assert result["start"]["act_grad_norm"] == pytest.approx(tuple(hidden), rel=1e-12)
    assert len(result["loss"]) == 6
    assert not result["diverged"]
    assert result["diverged_at"] == -1


def test_training_that_diverges_keeps_the_finite_losses() -> None:
    result = run(
        "diagnosis_training", depth=6, activation="linear", init="xavier-normal", seed=1, lr=5.0
    )
    assert result["diverged"]
    assert result["kind"] == "exploding"
    assert all(math.isfinite(v) for v in result["loss"])
    assert len(result["loss"]) == result["diverged_at"]


z_lists = st.lists(st.floats(-3, 3).map(lambda v: round(v, 2)), min_size=1, max_size=8)


@given(z=z_lists, w=st.floats(0.1, 3.0), act=st.sampled_from(["sigmoid", "tanh", "relu"]))
def test_remedy_chain_matches_the_closed_forms(z: list[float], w: float, act: str) -> None:
    result = run("remedy_chain", depth=len(z), activation=act, weight=w, z=tuple(z))
    slopes = sim.get_activation(act).derivative(np.asarray(z))
    assert result["grad"] == pytest.approx(float(np.prod(w * slopes)), rel=1e-9, abs=1e-300)
    assert result["residual_grad"] == pytest.approx(float(np.prod(1 + w * slopes)), rel=1e-9)
    assert result["residual_factors"] == pytest.approx(tuple(1 + w * slopes), rel=1e-12)


@given(z=z_lists, w=st.floats(0.1, 3.0))
def test_residual_biases_hit_the_preactivations(z: list[float], w: float) -> None:
    weights = np.full(len(z), w)
    biases = _residual_biases(weights, np.asarray(z), "sigmoid")
    _, cache = sim.mlp_forward(
        np.zeros((1, 1)),
        [np.array([[v]]) for v in weights],
        [np.array([b]) for b in biases],
        "sigmoid",
        residual=True,
    )
    assert [float(a[0, 0]) for a in cache.preacts] == pytest.approx(z, abs=1e-9)


@pytest.mark.parametrize(
    ("grads", "c", "by_norm", "by_value"),
    [
        ((3.0, 4.0), 1.0, (0.6, 0.8), (1.0, 1.0)),
        ((3.0, -4.0), 10.0, (3.0, -4.0), (3.0, -4.0)),
        ((0.0, 0.0, 2.0), 0.5, (0.0, 0.0, 0.5), (0.0, 0.0, 0.5)),
    ],
)
def test_remedy_clip_table(
    grads: tuple[float, ...], c: float, by_norm: tuple[float, ...], by_value: tuple[float, ...]
) -> None:
    result = run("remedy_clip", grads=grads, clip=c, lr=0.1)
    assert result["clipped"] == pytest.approx(by_norm, rel=1e-12)
    assert result["by_value"] == pytest.approx(by_value, rel=1e-12)
    norm = math.hypot(*grads)
    assert result["norm"] == pytest.approx(norm, rel=1e-12)
    assert result["step_norm"] == pytest.approx(0.1 * min(norm, c), rel=1e-12)
    assert result["unclipped_step_norm"] == pytest.approx(0.1 * norm, rel=1e-12)


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("diagnosis_net", {"depth": 101, "activation": "relu", "init": "he-normal", "seed": 1}),
        ("diagnosis_net", {"depth": 1, "activation": "relu", "init": "he-normal", "seed": 1}),
        (
            "diagnosis_training",
            {
                "depth": 5,
                "activation": "relu",
                "init": "he-normal",
                "seed": 1,
                "lr": 0.1,
                "steps": 201,
            },
        ),
        ("remedy_clip", {"grads": (1.0,), "clip": 0.0}),
        (
            "diagnosis_net",
            {
                "depth": 5,
                "activation": "relu",
                "init": "he-normal",
                "seed": 1,
                "clip_fraction": 2.0,
            },
        ),
    ],
)
def test_arguments_are_capped(name: str, args: dict[str, Any]) -> None:
    with pytest.raises(SimulationError):
        run(name, **args)


def test_a_training_run_too_large_for_a_question_is_refused_before_it_runs() -> None:
    # It took 32 s before the limit the training model already had.
    with pytest.raises(SimulationError, match="too large to simulate for a question"):
        run("diagnosis_training", depth=30, width=128, batch=256, steps=200, activation="tanh",
            init="xavier-normal", seed=1, lr=0.1)  # fmt: skip
