"""A vanilla recurrent network unrolled through time, and the spectral radius.

Step t = 1..T (index t in every array of length T + 1; index 0 is the initial state):

    a_t = h_{t-1} @ W_hh + x_t @ W_xh + b,        h_t = f(a_t)     (f = tanh by default)

The loss is taken on the last step only (mean of h_T, or mean squared error to a target), and
backpropagation through time multiplies the same recurrent Jacobian ``diag(f'(a_t)) W_hh^T``
once per step: the gradient dL/dh_t shrinks toward t = 0 when the spectral radius of W_hh
times the typical f' is below 1 and grows when it is above.

Shapes: ``x`` (..., T, B, n_in), ``h0`` (..., B, H), ``W_hh`` (..., H, H), ``W_xh``
(..., n_in, H), ``b`` (..., H); leading axes are independent variants.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from tutor.errors import SimulationError
from tutor.sim._arrays import (
    FloatArray,
    as_float,
    check_positive_int,
    frob_norm,
    matmul,
    quiet,
    swap_last,
    unbroadcast,
)
from tutor.sim.activations import Activation, get_activation
from tutor.sim.layers import loss_forward


@dataclass(frozen=True)
class RNNCache:
    """The forward pass: ``h`` (..., T+1, B, H) with ``h[..., 0, :, :] = h0``, the
    pre-activations ``a`` (..., T, B, H) of steps 1..T, and the arrays used."""

    x: FloatArray
    h: FloatArray
    a: FloatArray
    w_hh: FloatArray
    w_xh: FloatArray
    b: FloatArray
    activation: Activation


@dataclass(frozen=True)
class RNNGrads:
    """``hidden[..., t, :, :] = dL/dh_t`` for t = 0..T, the weight, bias and input gradients."""

    hidden: FloatArray
    w_hh: FloatArray
    w_xh: FloatArray
    b: FloatArray
    x: FloatArray


@dataclass(frozen=True)
class SequenceReport:
    """How the last step's loss reaches every step: ``hidden_grad_norm[t]`` = norm of
    dL/dh_t for t = 0..T (and ``cell_grad_norm`` for an LSTM, else None), the loss, and the
    spectral radius of the recurrent matrix (of each gate's block for an LSTM)."""

    hidden_grad_norm: NDArray[np.float64]
    cell_grad_norm: NDArray[np.float64] | None
    loss: float
    spectral_radius: float


def spectral_radius(w: ArrayLike) -> float:
    """The largest ``abs(eigenvalue)`` of the square matrix ``w``."""
    arr = as_float(w)
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1]:
        raise SimulationError(f"the spectral radius needs a square matrix, got shape {arr.shape}")
    return float(spectral_radii(arr))


def spectral_radii(w: ArrayLike) -> NDArray[np.float64]:
    """The spectral radius of each matrix in a stack (..., H, H); shape (...)."""
    arr = as_float(w).astype(np.float64)
    if not np.isfinite(arr).all():
        raise SimulationError("the spectral radius needs finite matrix entries")
    return np.asarray(np.max(np.abs(np.linalg.eigvals(arr)), axis=-1))


def scale_to_radius(w: ArrayLike, radius: float) -> FloatArray:
    """``w`` rescaled so that its spectral radius is exactly ``radius``."""
    arr = as_float(w)
    rho = spectral_radii(arr)
    if np.any(rho == 0):
        raise SimulationError("a nilpotent matrix (spectral radius 0) cannot be rescaled")
    return arr * (radius / rho)[..., None, None]


def rnn_forward(
    x: ArrayLike,
    h0: ArrayLike,
    *,
    w_hh: ArrayLike,
    w_xh: ArrayLike,
    b: ArrayLike,
    activation: str = "tanh",
) -> tuple[FloatArray, RNNCache]:
    """All hidden states ``h`` (..., T+1, B, H) and the cache for :func:`rnn_backward`."""
    xs, h, whh, wxh, bias = (as_float(v) for v in (x, h0, w_hh, w_xh, b))
    act = get_activation(activation)
    if xs.ndim < 3 or xs.shape[-3] == 0:
        raise SimulationError(
            f"x must have shape (..., T, batch, inputs) with T >= 1, got {xs.shape}"
        )
    states, pre = [h], []
    with quiet():
        for t in range(xs.shape[-3]):
            a = matmul(states[-1], whh) + matmul(xs[..., t, :, :], wxh) + bias[..., None, :]
            pre.append(a)
            states.append(act.value(a))
        hs = np.stack(np.broadcast_arrays(*states), axis=-3)
    return hs, RNNCache(xs, hs, np.stack(pre, axis=-3), whh, wxh, bias, act)


def rnn_backward(dh_last: ArrayLike, cache: RNNCache) -> RNNGrads:
    """Backpropagation through time from ``dL/dh_T`` (the loss is on the last step only)."""
    steps = cache.a.shape[-3]
    dh = as_float(dh_last)
    hidden = [dh] * (steps + 1)
    dwhh, dwxh, db = 0.0 * cache.w_hh, 0.0 * cache.w_xh, 0.0 * cache.b
    dx = []
    with quiet():
        for t in reversed(range(steps)):
            hidden[t + 1] = dh
            da = dh * cache.activation.derivative(cache.a[..., t, :, :])
            dwhh = dwhh + unbroadcast(
                matmul(swap_last(cache.h[..., t, :, :]), da), cache.w_hh.shape
            )
            dwxh = dwxh + unbroadcast(
                matmul(swap_last(cache.x[..., t, :, :]), da), cache.w_xh.shape
            )
            db = db + unbroadcast(da.sum(axis=-2), cache.b.shape)
            dx.append(matmul(da, swap_last(cache.w_xh)))
            dh = matmul(da, swap_last(cache.w_hh))
        hidden[0] = dh
    return RNNGrads(np.stack(hidden, axis=-3), dwhh, dwxh, db, np.stack(dx[::-1], axis=-3))


def rnn_gradients(
    x: ArrayLike,
    h0: ArrayLike,
    *,
    w_hh: ArrayLike,
    w_xh: ArrayLike,
    b: ArrayLike,
    activation: str = "tanh",
    loss: str = "mean",
    target: ArrayLike | None = None,
) -> tuple[FloatArray, FloatArray, RNNGrads]:
    """``(loss, h, grads)``: the last step's loss (shape (...)), every hidden state, and
    every gradient of that loss (``grads.hidden`` holds dL/dh_t for t = 0..T)."""
    hs, cache = rnn_forward(x, h0, w_hh=w_hh, w_xh=w_xh, b=b, activation=activation)
    tgt = None if target is None else as_float(target)
    with quiet():
        value, dlast = loss_forward(hs[..., -1, :, :], loss, tgt)
    return value, hs, rnn_backward(dlast, cache)


def step_norms(grads: FloatArray) -> NDArray[np.float64]:
    """The norm of each step's gradient: (..., T+1, B, H) -> (..., T+1)."""
    return frob_norm(grads, (-2, -1))


def recurrent_draws(
    rng: np.random.Generator, hidden: int, inputs: int, radius: float, blocks: int = 1
) -> tuple[FloatArray, FloatArray]:
    """``W_h`` (hidden, blocks * hidden), each block with spectral radius ``radius``, and
    ``W_x ~ N(0, 1 / inputs)`` of shape (inputs, blocks * hidden)."""
    raw = rng.standard_normal((blocks, hidden, hidden))
    w_h = np.concatenate(list(scale_to_radius(raw, radius)), axis=-1)
    w_x = rng.standard_normal((inputs, blocks * hidden)) / np.sqrt(inputs)
    return w_h, w_x


def simulate_rnn(
    steps: int,
    hidden: int,
    *,
    seed: int,
    radius: float = 1.0,
    inputs: int | None = None,
    batch: int = 16,
    activation: str = "tanh",
    input_scale: float = 1.0,
) -> SequenceReport:
    """A seeded tanh RNN whose W_hh has spectral radius ``radius``; the gradient of the mean
    of h_T with respect to every h_t.

    Draws, in order: an N(0, 1) matrix rescaled to the radius (W_hh), W_xh ~ N(0, 1/inputs),
    then x ~ N(0, input_scale^2) of shape (T, batch, inputs); h0 and b are zero.
    """
    n_in = hidden if inputs is None else inputs
    for name, v in (("steps", steps), ("hidden", hidden), ("inputs", n_in), ("batch", batch)):
        check_positive_int(name, v)
    rng = np.random.default_rng(seed)
    w_hh, w_xh = recurrent_draws(rng, hidden, n_in, radius)
    x = input_scale * rng.standard_normal((steps, batch, n_in))
    value, _, grads = rnn_gradients(
        x,
        np.zeros((batch, hidden)),
        w_hh=w_hh,
        w_xh=w_xh,
        b=np.zeros(hidden),
        activation=activation,
    )
    return SequenceReport(step_norms(grads.hidden), None, float(value), spectral_radius(w_hh))
