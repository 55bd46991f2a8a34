"""Clipping, regularization and SGD: closed forms against the simulation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tutor.errors import SimulationError
from tutor.sim import (
    SGDConfig,
    build_network,
    clip_by_global_norm,
    clip_by_value,
    critical_learning_rate,
    global_norm,
    l2_penalty,
    network_gradients,
    numerical_gradient,
    quadratic_descent,
    regression_task,
    relative_error,
    simulate_training,
    train_sgd,
)
from tutor.sim._arrays import frob_norm, whole_norm

grads_strategy = st.tuples(
    st.integers(0, 2**32 - 1), st.lists(st.integers(1, 4), min_size=1, max_size=3)
)


@settings(deadline=None)
@given(drawn=grads_strategy, c=st.floats(1e-3, 10.0), scale=st.floats(1e-3, 1e3))
def test_clip_by_norm_is_g_times_c_over_norm(
    drawn: tuple[int, list[int]], c: float, scale: float
) -> None:
    seed, sizes = drawn
    rng = np.random.default_rng(seed)
    grads = [rng.normal(size=(n, 2)) * scale for n in sizes]
    norm = math.sqrt(sum(float((g**2).sum()) for g in grads))
    clipped, reported = clip_by_global_norm(grads, c)
    assert reported == pytest.approx(norm, rel=1e-12)
    for g, k in zip(grads, clipped, strict=True):
        expected = g * c / norm if norm > c else g
        np.testing.assert_allclose(k, expected, rtol=1e-12)
    assert global_norm(clipped) == pytest.approx(min(norm, c), rel=1e-12)


def test_clip_by_value_changes_the_direction_and_clip_by_norm_does_not() -> None:
    g = [np.array([3.0, 0.5])]
    by_value, norm = clip_by_value(g, 1.0)
    np.testing.assert_array_equal(by_value[0], [1.0, 0.5])
    assert norm == pytest.approx(math.hypot(3.0, 0.5))
    by_norm, _ = clip_by_global_norm(g, 1.0)
    np.testing.assert_allclose(by_norm[0] / np.linalg.norm(by_norm[0]), g[0] / np.linalg.norm(g[0]))
    assert g[0][0] == 3.0  # inputs untouched


@pytest.mark.parametrize("c", [0.0, -1.0, math.inf, math.nan])
def test_clip_threshold_must_be_positive(c: float) -> None:
    with pytest.raises(SimulationError):
        clip_by_global_norm([np.ones(2)], c)
    with pytest.raises(SimulationError):
        clip_by_value([np.ones(2)], c)


def test_global_norm_does_not_overflow() -> None:
    assert global_norm([np.array([1e200, 1e200])]) == pytest.approx(math.sqrt(2) * 1e200)
    assert global_norm([np.array([np.inf])]) == math.inf


@settings(deadline=None, max_examples=200)
@given(
    scale=st.sampled_from([1e-200, 1e-160, 1e-75, 1e-3, 1.0, 1e3, 1e75, 1e160, 1e200]),
    shape=st.sampled_from([(0,), (1,), (5,), (3, 4), (2, 3, 4)]),
    dtype=st.sampled_from(["float16", "float32", "float64"]),
    special=st.sampled_from([None, math.inf, -math.inf, math.nan]),
    seed=st.integers(0, 2**32 - 1),
)
def test_whole_norm_is_frob_norm_over_every_axis(
    scale: float, shape: tuple[int, ...], dtype: str, special: float | None, seed: int
) -> None:
    with np.errstate(over="ignore"):  # float16 holds at most 65504: the rest become inf
        x = (np.random.default_rng(seed).standard_normal(shape) * scale).astype(dtype)
    if special is not None and x.size:
        x.flat[0] = special
    expected = float(frob_norm(x, tuple(range(-x.ndim, 0))))
    assert whole_norm(x) == expected or (math.isnan(expected) and math.isnan(whole_norm(x)))


@settings(deadline=None, max_examples=30)
@given(seed=st.integers(0, 2**32 - 1), lam=st.floats(0.0, 2.0))
def test_l2_gradient_adds_lambda_w(seed: int, lam: float) -> None:
    rng = np.random.default_rng(seed)
    x, ws = rng.normal(size=(4, 3)), [rng.normal(size=(3, 3)), rng.normal(size=(3, 2))]
    t = rng.normal(size=(4, 2))

    def total(w0: np.ndarray) -> float:
        data = float(network_gradients(x, [w0, ws[1]], None, "tanh", loss="mse", target=t).loss)
        return data + l2_penalty([w0, ws[1]], lam)[0]

    data_grad = network_gradients(x, ws, None, "tanh", loss="mse", target=t).grads.weights[0]
    penalty_grad = l2_penalty(ws, lam)[1][0]
    np.testing.assert_array_equal(penalty_grad, lam * ws[0])
    assert relative_error(data_grad + penalty_grad, numerical_gradient(total, ws[0])) < 1e-6


def _task(
    seed: int = 0, depth: int = 3, width: int = 8
) -> tuple[np.ndarray, np.ndarray, tuple, tuple]:  # type: ignore[type-arg]
    rng = np.random.default_rng(seed)
    net = build_network(depth, width, "xavier-normal", seed=rng, batch=16)
    x, y = regression_task(width, 16, rng, net.x)
    return x, y, net.weights, net.biases


def test_first_sgd_step_is_w_minus_lr_times_gradient_plus_l2() -> None:
    x, y, ws, bs = _task()
    lr, lam = 0.1, 0.05
    result = train_sgd(x, y, ws, bs, "tanh", config=SGDConfig(lr=lr, steps=1, l2=lam))
    grads = network_gradients(x, ws, bs, "tanh", loss="mse", target=y).grads
    np.testing.assert_allclose(
        result.weights[0], ws[0] - lr * (grads.weights[0] + lam * ws[0]), rtol=1e-13
    )
    np.testing.assert_allclose(
        result.biases[0], bs[0] - lr * grads.biases[0], rtol=1e-13, atol=1e-15
    )


def test_l2_and_weight_decay_coincide_without_clipping() -> None:
    x, y, ws, bs = _task(1)
    a = train_sgd(x, y, ws, bs, "tanh", config=SGDConfig(lr=0.1, steps=20, l2=0.01))
    b = train_sgd(x, y, ws, bs, "tanh", config=SGDConfig(lr=0.1, steps=20, weight_decay=0.01))
    for wa, wb in zip(a.weights, b.weights, strict=True):
        np.testing.assert_allclose(wa, wb, rtol=1e-10)
    plain = train_sgd(x, y, ws, bs, "tanh", config=SGDConfig(lr=0.1, steps=20))
    assert a.weight_norm[-1].sum() < plain.weight_norm[-1].sum()  # decay shrinks the weights


@settings(deadline=None)
@given(a=st.floats(0.01, 100.0), factor=st.floats(0.0, 3.0).filter(lambda f: abs(f - 1) > 0.01))
def test_quadratic_descent_diverges_exactly_when_lr_exceeds_2_over_a(
    a: float, factor: float
) -> None:
    lr = factor * critical_learning_rate(a)
    w = quadratic_descent(a, 1.0, lr, 400)  # |1 - lr a| <= 5: 5**400 is still finite
    assert w.shape == (401,)
    diverged = bool(abs(w[-1]) > abs(w[0]))
    assert diverged == (lr > 2 / a)


def test_quadratic_descent_at_the_boundary_oscillates_and_runs_many_variants() -> None:
    w = quadratic_descent(4.0, 1.0, 0.5, 5)
    np.testing.assert_array_equal(w, [1, -1, 1, -1, 1, -1])
    lrs = np.linspace(0.1, 1.0, 10)
    many = quadratic_descent(4.0, 1.0, lrs, 50)
    assert many.shape == (51, 10)
    assert list(np.abs(many[-1]) > 1) == list(lrs > 0.5)


def test_training_converges_with_a_small_rate_and_diverges_with_a_large_one() -> None:
    calm = simulate_training(5, 32, "linear", "xavier-normal", SGDConfig(lr=0.1, steps=100), seed=0)
    assert calm.diverged_at is None
    assert calm.loss[-1] < 0.5 * calm.loss[0]
    assert len(calm.loss) == 101 and len(calm.grad_norm) == 100
    wild = simulate_training(5, 32, "linear", "xavier-normal", SGDConfig(lr=3.0, steps=100), seed=0)
    assert wild.diverged_at is not None
    assert not np.isfinite(wild.loss[-1])
    assert len(wild.loss) == wild.diverged_at + 1


def test_clipping_tames_the_same_learning_rate() -> None:
    config = SGDConfig(lr=3.0, steps=100, clip_norm=0.5)
    clipped = simulate_training(5, 32, "linear", "xavier-normal", config, seed=0)
    assert clipped.diverged_at is None


def test_float16_overflows_before_float64() -> None:
    config = SGDConfig(lr=3.0, steps=100)
    f16 = simulate_training(5, 32, "linear", "xavier-normal", config, seed=0, dtype="float16")
    f64 = simulate_training(5, 32, "linear", "xavier-normal", config, seed=0)
    assert f16.diverged_at is not None and f64.diverged_at is not None
    assert f16.diverged_at < f64.diverged_at


def test_batchnorm_and_residual_train() -> None:
    config = SGDConfig(lr=0.05, steps=30)
    result = simulate_training(
        4, 16, "relu", "he-normal", config, seed=0, batchnorm=True, residual=True
    )
    assert result.diverged_at is None
    assert result.loss[-1] < result.loss[0]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"lr": -0.1, "steps": 3}, "lr"),
        ({"lr": 0.1, "steps": -1}, "steps"),
        ({"lr": 0.1, "steps": 3, "clip_norm": 1.0, "clip_value": 1.0}, "not both"),
        ({"lr": 0.1, "steps": 3, "l2": math.nan}, "l2"),
    ],
)
def test_config_errors(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(SimulationError, match=message):
        SGDConfig(**kwargs)  # type: ignore[arg-type]
