"""The recurrent models against closed forms and an independent BPTT written with plain NumPy."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from model_helpers import run

from tutor.errors import SimulationError
from tutor.sim import simulate_lstm
from tutor.sim.rnn import recurrent_draws


def eigen_2x2(a: float, b: float, c: float, d: float) -> float:
    """The spectral radius of [[a, b], [c, d]] from the characteristic polynomial."""
    tr, det = a + d, a * d - b * c
    disc = tr * tr - 4 * det
    if disc < 0:
        return math.sqrt(det)
    return max(abs(tr + math.sqrt(disc)), abs(tr - math.sqrt(disc))) / 2


def sigma_max_2x2(a: float, b: float, c: float, d: float) -> float:
    """The largest singular value of a 2x2 matrix in closed form."""
    s = a * a + b * b + c * c + d * d
    det = a * d - b * c
    return math.sqrt((s + math.sqrt(max(s * s - 4 * det * det, 0.0))) / 2)


@pytest.mark.parametrize(
    ("matrix", "radius", "norm"),
    [
        ((0.5, 0.0, 0.0, 0.5), 0.5, 0.5),
        ((0.6, -0.8, 0.8, 0.6), 1.0, 1.0),  # a rotation
        ((0.5, 1.0, 0.0, 0.5), 0.5, sigma_max_2x2(0.5, 1.0, 0.0, 0.5)),  # non-normal
        ((2.0, 1.0, 1.0, 2.0), 3.0, 3.0),  # symmetric
        ((0.0, 1.0, 0.0, 0.0), 0.0, 1.0),  # nilpotent
        ((0.7,), 0.7, 0.7),
    ],
)
def test_spectral_table(matrix: tuple[float, ...], radius: float, norm: float) -> None:
    result = run("spectral", matrix=matrix)
    assert result["radius"] == pytest.approx(radius, abs=1e-12)
    assert result["spectral_norm"] == pytest.approx(norm, rel=1e-12)


entries = st.floats(-2, 2, allow_nan=False).map(lambda v: round(v, 2))


@given(a=entries, b=entries, c=entries, d=entries)
def test_spectral_matches_closed_form(a: float, b: float, c: float, d: float) -> None:
    result = run("spectral", matrix=(a, b, c, d))
    assert result["radius"] == pytest.approx(eigen_2x2(a, b, c, d), rel=1e-6, abs=1e-6)
    assert result["spectral_norm"] == pytest.approx(sigma_max_2x2(a, b, c, d), rel=1e-9, abs=1e-12)
    assert result["spectral_norm"] >= result["radius"] - 1e-9


@pytest.mark.parametrize("bad", [(1.0, 2.0), (1.0, 2.0, 3.0), tuple([0.5] * 81)])
def test_spectral_needs_a_small_square(bad: tuple[float, ...]) -> None:
    with pytest.raises(SimulationError, match="square matrix"):
        run("spectral", matrix=bad)


@given(rho=st.floats(0.3, 1.2), theta=st.floats(0.1, 3.0), steps=st.integers(1, 60))
def test_linear_rnn_scaled_rotation_is_exact(rho: float, theta: float, steps: int) -> None:
    a, b = rho * math.cos(theta), rho * math.sin(theta)
    result = run("linear_rnn", matrix=(a, -b, b, a), steps=steps)
    expected = [rho**k for k in range(steps + 1)]
    assert result["back"] == pytest.approx(expected, rel=1e-9)
    assert result["radius"] == pytest.approx(rho, rel=1e-9)
    assert result["per_step"] == pytest.approx(rho, rel=1e-9)


def test_linear_rnn_diagonal() -> None:
    """dL/dh_T = (1/2, 1/2); k steps back it is (l1^k, l2^k) / 2."""
    l1, l2, steps = 0.9, -0.5, 12
    result = run("linear_rnn", matrix=(l1, 0.0, 0.0, l2), steps=steps)
    for k, value in enumerate(result["back"]):
        assert value == pytest.approx(math.sqrt((l1 ** (2 * k) + l2 ** (2 * k)) / 2), rel=1e-12)
    assert result["step"] == tuple(range(steps + 1))


@given(forget=st.lists(st.floats(0.01, 0.99), min_size=1, max_size=30))
def test_lstm_cell_path_is_the_product_of_forget_gates(forget: list[float]) -> None:
    result = run("lstm_cell_path", forget=tuple(forget), steps=len(forget))
    expected = np.cumprod([1.0, *forget[::-1]])
    assert result["cell_back"] == pytest.approx(tuple(expected), rel=1e-9)
    assert result["cell_decay"] == pytest.approx(math.prod(forget), rel=1e-9)


def test_lstm_cell_path_broadcasts_one_gate() -> None:
    result = run("lstm_cell_path", forget=0.9, steps=10)
    assert result["cell_decay"] == pytest.approx(0.9**10, rel=1e-12)
    assert result["forget"] == (0.9,) * 10


def manual_rnn_norms(seed: int, steps: int, hidden: int, radius: float, batch: int) -> np.ndarray:
    """BPTT of the mean of h_T for the draws simulate_rnn makes, written out step by step."""
    rng = np.random.default_rng(seed)
    w_hh, w_xh = recurrent_draws(rng, hidden, hidden, radius)
    x = rng.standard_normal((steps, batch, hidden))
    hs, pre = [np.zeros((batch, hidden))], []
    for t in range(steps):
        pre.append(hs[-1] @ w_hh + x[t] @ w_xh)
        hs.append(np.tanh(pre[-1]))
    grad = np.full((batch, hidden), 1.0 / (batch * hidden))
    norms = [np.linalg.norm(grad)]
    for t in reversed(range(steps)):
        grad = (grad * (1.0 - np.tanh(pre[t]) ** 2)) @ w_hh.T
        norms.append(np.linalg.norm(grad))
    return np.array(norms[::-1])


@pytest.mark.parametrize(
    ("seed", "steps", "hidden", "radius"),
    [(0, 5, 4, 0.8), (1, 12, 8, 1.5), (7, 30, 16, 3.0), (3, 1, 2, 0.5)],
)
def test_rnn_bptt_matches_manual_bptt(seed: int, steps: int, hidden: int, radius: float) -> None:
    result = run("rnn_bptt", steps=steps, hidden=hidden, seed=seed, radius=radius, batch=3)
    expected = manual_rnn_norms(seed, steps, hidden, radius, batch=3)
    assert result["grad_norm"] == pytest.approx(tuple(expected), rel=1e-9)
    assert result["back"][0] == 1.0
    assert result["decay"] == pytest.approx(expected[0] / expected[-1], rel=1e-9)
    assert result["per_step"] ** steps == pytest.approx(result["decay"], rel=1e-9)
    assert result["radius"] == pytest.approx(radius, rel=1e-9)
    assert result["radius_power"] == pytest.approx(radius**steps, rel=1e-9)


def test_lstm_bptt_reports_both_paths() -> None:
    result = run("lstm_bptt", steps=15, hidden=8, seed=4, radius=1.0, forget_bias=2.0)
    report = simulate_lstm(15, 8, seed=4, radius=1.0, forget_bias=2.0)
    assert result["grad_norm"] == pytest.approx(tuple(report.hidden_grad_norm), rel=1e-12)
    assert report.cell_grad_norm is not None
    assert result["cell_grad_norm"] == pytest.approx(tuple(report.cell_grad_norm), rel=1e-12)
    assert result["cell_decay"] == pytest.approx(
        report.cell_grad_norm[0] / report.cell_grad_norm[-1], rel=1e-12
    )
    assert result["forget_gate"] == pytest.approx(1 / (1 + math.exp(-2.0)), rel=1e-12)


def test_forget_bias_keeps_more_gradient() -> None:
    low = run("lstm_bptt", steps=30, hidden=16, seed=2, radius=1.0, forget_bias=0.0)
    high = run("lstm_bptt", steps=30, hidden=16, seed=2, radius=1.0, forget_bias=3.0)
    assert high["decay"] > 100 * low["decay"]


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("rnn_bptt", {"steps": 0, "seed": 1}),
        ("rnn_bptt", {"steps": 501, "seed": 1}),
        ("rnn_bptt", {"steps": 5, "seed": 1, "hidden": 129}),
        ("lstm_cell_path", {"forget": 1.0, "steps": 3}),
        ("lstm_cell_path", {"forget": (0.5, 0.5), "steps": 3}),
    ],
)
def test_arguments_are_capped(name: str, args: dict[str, Any]) -> None:
    with pytest.raises(SimulationError):
        run(name, **args)


@pytest.mark.parametrize("model", ["rnn_bptt", "lstm_bptt"])
def test_a_run_too_large_for_a_question_is_refused_before_it_runs(model: str) -> None:
    # The largest arguments each allow: an LSTM took 50 s and 1.8 GB before this limit.
    with pytest.raises(SimulationError, match="too large to simulate for a question: lower steps"):
        run(model, steps=500, hidden=128, batch=256, seed=1)
    run(model, steps=40, hidden=32, batch=16, seed=1)  # the bundled banks' largest
