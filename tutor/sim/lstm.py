"""An LSTM cell unrolled through time: gates keep a path along which the gradient need not
shrink.

Step t = 1..T, with the gate pre-activations split in the order i, f, g, o (as PyTorch):

    [a_i, a_f, a_g, a_o] = x_t @ W_x + h_{t-1} @ W_h + b
    i = sigmoid(a_i), f = sigmoid(a_f), g = tanh(a_g), o = sigmoid(a_o)
    c_t = f * c_{t-1} + i * g,          h_t = o * tanh(c_t)

Along the cell path dc_{t-1} = dc_t * f: the gradient is multiplied by the forget gate, not by
a weight matrix and a squashing derivative, so with f near 1 it survives many steps.

Shapes: ``x`` (..., T, B, n_in), ``h0`` and ``c0`` (..., B, H), ``W_x`` (..., n_in, 4H),
``W_h`` (..., H, 4H), ``b`` (..., 4H).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from tutor.errors import SimulationError
from tutor.sim._arrays import (
    FloatArray,
    as_float,
    check_positive_int,
    matmul,
    quiet,
    swap_last,
    unbroadcast,
)
from tutor.sim.activations import sigmoid, sigmoid_prime, tanh, tanh_prime
from tutor.sim.layers import loss_forward
from tutor.sim.rnn import SequenceReport, recurrent_draws, spectral_radius, step_norms


@dataclass(frozen=True)
class LSTMCache:
    """The forward pass: ``h`` and ``c`` (..., T+1, B, H) with index 0 the initial state,
    the gate pre-activations ``a`` (..., T, B, 4H), and the arrays used."""

    x: FloatArray
    h: FloatArray
    c: FloatArray
    a: FloatArray
    w_x: FloatArray
    w_h: FloatArray
    b: FloatArray


@dataclass(frozen=True)
class LSTMGrads:
    """``hidden[..., t]`` = dL/dh_t and ``cell[..., t]`` = dL/dc_t for t = 0..T (each
    (..., T+1, B, H)), and the weight, bias and input gradients."""

    hidden: FloatArray
    cell: FloatArray
    w_x: FloatArray
    w_h: FloatArray
    b: FloatArray
    x: FloatArray


def _gates(a: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    ai, af, ag, ao = np.split(a, 4, axis=-1)
    return sigmoid(ai), sigmoid(af), tanh(ag), sigmoid(ao)


def lstm_forward(
    x: ArrayLike, h0: ArrayLike, c0: ArrayLike, *, w_x: ArrayLike, w_h: ArrayLike, b: ArrayLike
) -> tuple[FloatArray, LSTMCache]:
    """All hidden states ``h`` (..., T+1, B, H) and the cache for :func:`lstm_backward`."""
    xs, h, c, wx, wh, bias = (as_float(v) for v in (x, h0, c0, w_x, w_h, b))
    if xs.ndim < 3 or xs.shape[-3] == 0 or wh.shape[-1] != 4 * wh.shape[-2]:
        raise SimulationError("an LSTM needs x (..., T, batch, inputs) and W_h of shape (H, 4H)")
    hs, cs, pre = [h], [c], []
    with quiet():
        for t in range(xs.shape[-3]):
            a = matmul(xs[..., t, :, :], wx) + matmul(hs[-1], wh) + bias[..., None, :]
            i, f, g, o = _gates(a)
            cs.append(f * cs[-1] + i * g)
            hs.append(o * tanh(cs[-1]))
            pre.append(a)
    h_all = np.stack(np.broadcast_arrays(*hs), axis=-3)
    c_all = np.stack(np.broadcast_arrays(*cs), axis=-3)
    return h_all, LSTMCache(xs, h_all, c_all, np.stack(pre, axis=-3), wx, wh, bias)


def _step_back(
    dh: FloatArray, dc: FloatArray, a: FloatArray, c_prev: FloatArray, c: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """One step back: (dL/da for the four gates, dL/dc_t in total, including through h_t)."""
    ai, af, ag, ao = np.split(a, 4, axis=-1)
    i, _, g, o = _gates(a)
    dc_total = dc + dh * o * tanh_prime(c)  # h_t = o * tanh(c_t)
    da = np.concatenate(
        [
            dc_total * g * sigmoid_prime(ai),
            dc_total * c_prev * sigmoid_prime(af),
            dc_total * i * tanh_prime(ag),
            dh * tanh(c) * sigmoid_prime(ao),
        ],
        axis=-1,
    )
    return da, dc_total


def lstm_backward(dh_last: ArrayLike, cache: LSTMCache) -> LSTMGrads:
    """Backpropagation through time from ``dL/dh_T`` (the loss is on the last step only)."""
    steps = cache.a.shape[-3]
    dh = as_float(dh_last)
    dc = np.zeros_like(dh)
    hidden, cell = [dh] * (steps + 1), [dc] * (steps + 1)
    dwx, dwh, db, dx = 0.0 * cache.w_x, 0.0 * cache.w_h, 0.0 * cache.b, []
    with quiet():
        for t in reversed(range(steps)):
            a = cache.a[..., t, :, :]
            da, dc_total = _step_back(dh, dc, a, cache.c[..., t, :, :], cache.c[..., t + 1, :, :])
            hidden[t + 1], cell[t + 1] = dh, dc_total
            dwx = dwx + unbroadcast(matmul(swap_last(cache.x[..., t, :, :]), da), cache.w_x.shape)
            dwh = dwh + unbroadcast(matmul(swap_last(cache.h[..., t, :, :]), da), cache.w_h.shape)
            db = db + unbroadcast(da.sum(axis=-2), cache.b.shape)
            dx.append(matmul(da, swap_last(cache.w_x)))
            dh = matmul(da, swap_last(cache.w_h))
            dc = dc_total * _gates(a)[1]  # the cell path: dc_{t-1} = dc_t * f_t
        hidden[0], cell[0] = dh, dc
    return LSTMGrads(
        np.stack(hidden, axis=-3),
        np.stack(cell, axis=-3),
        dwx,
        dwh,
        db,
        np.stack(dx[::-1], axis=-3),
    )


def lstm_gradients(
    x: ArrayLike,
    h0: ArrayLike,
    c0: ArrayLike,
    *,
    w_x: ArrayLike,
    w_h: ArrayLike,
    b: ArrayLike,
    loss: str = "mean",
    target: ArrayLike | None = None,
) -> tuple[FloatArray, FloatArray, LSTMGrads]:
    """``(loss, h, grads)`` for the last step's loss (mean of h_T, or mse to ``target``)."""
    hs, cache = lstm_forward(x, h0, c0, w_x=w_x, w_h=w_h, b=b)
    tgt = None if target is None else as_float(target)
    with quiet():
        value, dlast = loss_forward(hs[..., -1, :, :], loss, tgt)
    return value, hs, lstm_backward(dlast, cache)


def simulate_lstm(
    steps: int,
    hidden: int,
    *,
    seed: int,
    radius: float = 1.0,
    forget_bias: float = 1.0,
    inputs: int | None = None,
    batch: int = 16,
    input_scale: float = 1.0,
) -> SequenceReport:
    """A seeded LSTM (each gate's recurrent block with spectral radius ``radius``, forget-gate
    bias ``forget_bias``, other biases 0); the gradient of the mean of h_T to every step.

    Draws, in order: four N(0, 1) blocks rescaled to the radius (W_h), W_x ~ N(0, 1/inputs),
    then x ~ N(0, input_scale^2) of shape (T, batch, inputs); h0 and c0 are zero.
    """
    n_in = hidden if inputs is None else inputs
    for name, v in (("steps", steps), ("hidden", hidden), ("inputs", n_in), ("batch", batch)):
        check_positive_int(name, v)
    rng = np.random.default_rng(seed)
    w_h, w_x = recurrent_draws(rng, hidden, n_in, radius, blocks=4)
    x = input_scale * rng.standard_normal((steps, batch, n_in))
    b = np.zeros(4 * hidden)
    b[hidden : 2 * hidden] = forget_bias
    zeros = np.zeros((batch, hidden))
    value, _, grads = lstm_gradients(x, zeros, zeros, w_x=w_x, w_h=w_h, b=b)
    return SequenceReport(
        step_norms(grads.hidden),
        step_norms(grads.cell),
        float(value),
        spectral_radius(w_h[:, :hidden]),
    )
