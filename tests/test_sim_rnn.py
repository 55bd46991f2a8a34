"""Recurrent networks: BPTT against finite differences, spectral radius, decay through time."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tutor.errors import SimulationError
from tutor.sim import (
    lstm_gradients,
    numerical_gradient,
    relative_error,
    rnn_gradients,
    scale_to_radius,
    simulate_lstm,
    simulate_rnn,
    spectral_radius,
)

TOL = 1e-6


def _arrays(
    seed: int, steps: int, batch: int, hidden: int, inputs: int, gates: int
) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    return {
        "x": rng.normal(size=(steps, batch, inputs)),
        "h0": rng.normal(size=(batch, hidden)),
        "c0": rng.normal(size=(batch, hidden)),
        "w_h": rng.normal(size=(hidden, gates * hidden)) / np.sqrt(hidden),
        "w_x": rng.normal(size=(inputs, gates * hidden)),
        "b": rng.normal(size=gates * hidden),
        "target": rng.normal(size=(batch, hidden)),
    }


def _run(a: dict[str, Any], lstm: bool, loss: str) -> tuple[Any, Any]:
    target = a["target"] if loss == "mse" else None
    if lstm:
        value, _, g = lstm_gradients(
            a["x"], a["h0"], a["c0"], w_x=a["w_x"], w_h=a["w_h"], b=a["b"], loss=loss, target=target
        )
        return value, {
            "x": g.x,
            "h0": g.hidden[0],
            "c0": g.cell[0],
            "w_x": g.w_x,
            "w_h": g.w_h,
            "b": g.b,
        }
    value, _, r = rnn_gradients(
        a["x"], a["h0"], w_hh=a["w_h"], w_xh=a["w_x"], b=a["b"], loss=loss, target=target
    )
    return value, {"x": r.x, "h0": r.hidden[0], "w_h": r.w_hh, "w_x": r.w_xh, "b": r.b}


@settings(deadline=None, max_examples=25)
@given(
    seed=st.integers(0, 2**32 - 1),
    steps=st.integers(1, 5),
    batch=st.integers(1, 3),
    hidden=st.integers(1, 3),
    inputs=st.integers(1, 3),
    lstm=st.booleans(),
    loss=st.sampled_from(["mean", "mse"]),
)
def test_bptt_matches_finite_differences(
    seed: int, steps: int, batch: int, hidden: int, inputs: int, lstm: bool, loss: str
) -> None:
    a = _arrays(seed, steps, batch, hidden, inputs, 4 if lstm else 1)
    value, grads = _run(a, lstm, loss)
    exact, numeric = [], []
    for key, grad in grads.items():

        def f(v: np.ndarray, key: str = key) -> float:
            return float(_run({**a, key: v}, lstm, loss)[0])

        exact.append(grad.ravel())
        numeric.append(numerical_gradient(f, a[key]).ravel())
    assert relative_error(np.concatenate(exact), np.concatenate(numeric)) < TOL
    noise = 1e-9 * max(1.0, abs(float(value)))
    for e, n in zip(exact, numeric, strict=True):
        assert float(np.linalg.norm(e - n)) < TOL * float(np.linalg.norm(e)) + noise * np.sqrt(
            e.size
        )


def test_every_hidden_gradient_is_that_of_the_remaining_sequence() -> None:
    a = _arrays(3, 6, 2, 3, 2, 1)
    _, hs, g = rnn_gradients(a["x"], a["h0"], w_hh=a["w_h"], w_xh=a["w_x"], b=a["b"])
    for t in range(1, 6):
        _, _, rest = rnn_gradients(a["x"][t:], hs[t], w_hh=a["w_h"], w_xh=a["w_x"], b=a["b"])
        np.testing.assert_allclose(g.hidden[t], rest.hidden[0], rtol=1e-12)


def test_variants_at_once_equal_one_by_one() -> None:
    rng = np.random.default_rng(4)
    x, h0 = rng.normal(size=(5, 4, 2, 3)), np.zeros((5, 2, 3))
    w_hh, w_xh, b = rng.normal(size=(5, 3, 3)), rng.normal(size=(5, 3, 3)), np.zeros((5, 3))
    value, _, g = rnn_gradients(x, h0, w_hh=w_hh, w_xh=w_xh, b=b)
    for v in range(5):
        one, _, g1 = rnn_gradients(x[v], h0[v], w_hh=w_hh[v], w_xh=w_xh[v], b=b[v])
        assert float(one) == pytest.approx(float(value[v]), rel=1e-14)
        np.testing.assert_allclose(g.hidden[v], g1.hidden, rtol=1e-12)


def test_spectral_radius() -> None:
    assert spectral_radius(np.diag([0.5, -2.0, 1.0])) == pytest.approx(2.0)
    assert spectral_radius([[0.0, 1.0], [-1.0, 0.0]]) == pytest.approx(1.0)  # rotation
    w = scale_to_radius(np.random.default_rng(0).normal(size=(20, 20)), 0.9)
    assert spectral_radius(w) == pytest.approx(0.9, rel=1e-12)
    with pytest.raises(SimulationError, match="square"):
        spectral_radius(np.ones((2, 3)))


def test_radius_decides_between_vanishing_and_exploding() -> None:
    small = simulate_rnn(40, 32, seed=0, radius=0.5)
    big = simulate_rnn(40, 32, seed=0, radius=3.0)
    assert small.spectral_radius == pytest.approx(0.5)
    assert small.hidden_grad_norm[1] / small.hidden_grad_norm[-1] < 1e-10
    assert big.hidden_grad_norm[1] / big.hidden_grad_norm[-1] > 1e2
    assert small.hidden_grad_norm.shape == (41,)


def test_lstm_gradient_to_step_one_decays_far_less_than_rnn() -> None:
    rnn = simulate_rnn(50, 32, seed=0, radius=0.9)
    lstm = simulate_lstm(50, 32, seed=0, radius=0.9, forget_bias=3.0)
    assert lstm.cell_grad_norm is not None
    rnn_decay = rnn.hidden_grad_norm[1] / rnn.hidden_grad_norm[-1]
    lstm_decay = lstm.hidden_grad_norm[1] / lstm.hidden_grad_norm[-1]
    assert lstm_decay > 1e6 * rnn_decay
    assert lstm_decay > 1e-2


def test_lstm_forget_bias_lengthens_memory() -> None:
    reports = [simulate_lstm(50, 16, seed=1, forget_bias=fb) for fb in (0.0, 2.0, 5.0)]
    decays = [r.hidden_grad_norm[1] / r.hidden_grad_norm[-1] for r in reports]
    assert decays[0] < decays[1] < decays[2]


def test_errors() -> None:
    with pytest.raises(SimulationError, match="T >= 1"):
        rnn_gradients(
            np.ones((2, 3)), np.ones((2, 3)), w_hh=np.eye(3), w_xh=np.eye(3), b=np.zeros(3)
        )
    with pytest.raises(SimulationError, match="4H"):
        lstm_gradients(
            np.ones((1, 2, 3)),
            np.ones((2, 3)),
            np.ones((2, 3)),
            w_x=np.ones((3, 12)),
            w_h=np.ones((3, 3)),
            b=np.zeros(12),
        )
    with pytest.raises(SimulationError, match="steps"):
        simulate_rnn(0, 4, seed=0)
