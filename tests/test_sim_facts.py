"""Known facts, simulated at fixed seeds with wide tolerances, and the diagnosis built on them."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import numpy as np
import pytest

from tutor.sim import (
    NetworkReport,
    backward_gain,
    diagnose,
    expected_sq_derivative,
    simulate_network,
)


def spread(values: np.ndarray) -> float:
    """max / min of a positive profile."""
    return float(values.max() / values.min())


@pytest.fixture(scope="module")
def relu_big() -> NetworkReport:
    return simulate_network(50, 256, "relu", "normal", std=1.0, seed=0)


@pytest.fixture(scope="module")
def relu_small() -> NetworkReport:
    return simulate_network(50, 256, "relu", "normal", std=0.01, seed=0)


def test_relu_with_unit_normal_weights_explodes(relu_big: NetworkReport) -> None:
    assert relu_big.act_grad_norm[0] / relu_big.act_grad_norm[-1] > 1e30
    assert relu_big.relative_grad.min() > 1e30


def test_relu_with_tiny_weights_vanishes(relu_small: NetworkReport) -> None:
    assert relu_small.act_grad_norm[0] / relu_small.act_grad_norm[-1] < 1e-30
    assert relu_small.relative_grad.max() < 1e-30


@pytest.mark.parametrize("name", ["relu_big", "relu_small"])
def test_the_trap_weight_gradient_norms_are_flat(name: str, request: pytest.FixtureRequest) -> None:
    # The norms of dL/dW_l are about equal in every layer even though the network explodes or
    # vanishes: forward activations and the backward signal scale in opposite directions.
    report: NetworkReport = request.getfixturevalue(name)
    assert spread(report.grad_norm) < 10


@pytest.mark.parametrize(
    ("activation", "init"),
    [("relu", "he-normal"), ("tanh", "xavier-normal"), ("relu", "he-uniform")],
)
def test_the_matching_init_keeps_50_layers_within_a_factor_of_10(
    activation: str, init: str
) -> None:
    report = simulate_network(50, 256, activation, init, seed=0)
    assert spread(report.grad_norm) < 10
    assert spread(report.act_grad_norm) < 10
    assert diagnose(report).kind == "healthy"


def test_deep_sigmoid_vanishes_and_residual_does_not() -> None:
    plain = simulate_network(30, 256, "sigmoid", "xavier-normal", seed=0)
    assert plain.grad_norm[0] / plain.grad_norm[-1] < 1e-6
    residual = simulate_network(30, 256, "sigmoid", "xavier-normal", seed=0, residual=True)
    # Within two decades (the growing skip path makes later inputs larger, hence their dW).
    assert residual.grad_norm[0] / residual.grad_norm[-1] > 1e-2
    assert residual.act_grad_norm[0] / residual.act_grad_norm[-1] > 0.5


def test_saturated_tanh_with_large_weights_still_explodes() -> None:
    # "Saturation means vanishing" is not always true (CONTENT, second trap).
    report = simulate_network(50, 128, "tanh", "normal", std=1.0, seed=0)
    assert report.saturation[5:].mean() > 0.5
    assert report.act_grad_norm[0] / report.act_grad_norm[-1] > 1e6
    assert diagnose(report).kind == "exploding"


def test_float16_shows_underflow_and_overflow() -> None:
    under = simulate_network(30, 64, "sigmoid", "xavier-normal", seed=0, dtype="float16")
    assert under.grad_norm[0] == 0.0
    assert simulate_network(30, 64, "sigmoid", "xavier-normal", seed=0).grad_norm[0] > 0
    over = simulate_network(50, 256, "relu", "normal", std=1.0, seed=0, dtype="float16")
    assert not np.isfinite(over.loss)
    assert diagnose(over).kind == "exploding"


@pytest.mark.parametrize(
    ("args", "kwargs", "kind", "fix_word"),
    [
        ((50, 256, "relu", "normal"), {"std": 1.0}, "exploding", "He"),
        ((50, 256, "relu", "normal"), {"std": 0.01}, "vanishing", "He"),
        ((50, 256, "relu", "he-normal"), {}, "healthy", "no fix"),
        ((50, 256, "tanh", "xavier-normal"), {}, "healthy", "no fix"),
        ((30, 256, "sigmoid", "xavier-normal"), {}, "vanishing", "ReLU"),
        ((30, 256, "sigmoid", "xavier-normal"), {"residual": True}, "healthy", "no fix"),
        ((50, 256, "relu", "he-normal"), {"residual": True}, "exploding", "residual"),
        ((50, 128, "tanh", "normal"), {"std": 0.01}, "vanishing", "Xavier"),
        ((10, 64, "relu", "zeros"), {}, "vanishing", "random init"),
        ((1, 64, "relu", "normal"), {"std": 10.0}, "healthy", "no fix"),
    ],
)
def test_diagnosis(args: tuple, kwargs: dict, kind: str, fix_word: str) -> None:  # type: ignore[type-arg]
    report = simulate_network(*args, seed=0, **kwargs)
    first = diagnose(report)
    assert first == diagnose(report)  # deterministic
    assert first.kind == kind
    assert fix_word in first.fix
    assert "\n" not in first.summary
    if kind == "healthy":
        assert first.from_layer is None
    else:
        assert first.from_layer is not None
        assert 1 <= first.from_layer <= report.depth


def test_diagnosis_names_the_onset_layer(relu_big: NetworkReport) -> None:
    # ~11x per layer: the backward signal is past 10x already one layer below the output.
    assert diagnose(relu_big).from_layer == 49


def test_backward_gain_estimates() -> None:
    he = simulate_network(20, 256, "relu", "he-normal", seed=0)
    assert 0.8 < float(np.mean(he.backward_gain)) < 1.25
    assert backward_gain(np.sqrt(2 / 256), 256, 0.5) == pytest.approx(1.0)
    assert expected_sq_derivative("relu", 7.0) == pytest.approx(0.5)
    assert expected_sq_derivative("linear", 0.3) == pytest.approx(1.0)
    tanh = [expected_sq_derivative("tanh", s) for s in (0.1, 1.0, 3.0)]
    assert tanh[0] > tanh[1] > tanh[2]


def test_report_shapes_and_settings() -> None:
    report = simulate_network(7, 16, "gelu", "lecun-normal", seed=3, batch=8, loss="mse")
    for name in ("grad_norm", "act_grad_norm", "weight_norm", "activation_std", "preact_mean",
                 "preact_std", "saturation", "relative_grad"):  # fmt: skip
        assert getattr(report, name).shape == (7,)
    assert report.depth == 7
    assert isinstance(report.loss, float)
    assert report.settings["init"] == "lecun-normal"


def test_same_seed_same_report_and_no_global_random_state() -> None:
    before = np.random.get_state()[1].copy()  # type: ignore[index]
    a = simulate_network(5, 8, "tanh", "orthogonal", seed=42)
    b = simulate_network(5, 8, "tanh", "orthogonal", seed=42)
    np.testing.assert_array_equal(a.grad_norm, b.grad_norm)
    assert np.array_equal(np.random.get_state()[1], before)  # type: ignore[index]


def test_engine_imports_only_numpy_and_the_standard_library() -> None:
    code = (
        "import sys, tutor.sim; "
        "print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('tutor', 'click', 'jinja2', 'yaml', 'hypothesis', 'scipy', 'torch'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = out.stdout.split()
    assert all(m in {"tutor", "tutor.errors"} or m.startswith("tutor.sim") for m in loaded)


def test_a_gradient_that_is_zero_everywhere_is_vanishing() -> None:
    report = simulate_network(3, 8, "relu", "he-normal", seed=0)
    silent = dataclasses.replace(report, act_grad_norm=np.zeros(3))
    assert (diagnose(silent).kind, diagnose(silent).from_layer) == ("vanishing", 3)


def test_expected_sq_derivative_is_accurate_for_wide_preactivations() -> None:
    """The saturated-tanh trap needs E[tanh'(z)^2] at std ~ 11, where it is about 0.047."""
    rng = np.random.default_rng(0)
    z = rng.standard_normal(2_000_000) * 11.3
    sample = float(np.mean((1 - np.tanh(z) ** 2) ** 2))
    assert expected_sq_derivative("tanh", 11.3) == pytest.approx(sample, rel=0.01)


def test_the_lazy_exports_match_the_typed_imports() -> None:
    """tutor.sim loads its modules on first use; its two lists of names must agree."""
    import ast
    from pathlib import Path

    import tutor.sim

    tree = ast.parse(Path(tutor.sim.__file__).read_text())
    typed = {
        (alias.name, node.module.rsplit(".", 1)[-1])
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("tutor.sim.")
        for alias in node.names
    }
    assert typed == set(tutor.sim._EXPORTS.items())
    for name in tutor.sim.__all__:
        assert getattr(tutor.sim, name) is not None
