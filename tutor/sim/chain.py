"""The scalar chain: one unit per layer, the smallest network that shows the whole problem.

Layer ``l`` (1-based; array index ``l - 1``, index 0 is the input side) computes

    z_l = w_l * h_{l-1} + b_l,        h_l = f(z_l),

so by the chain rule ``dh_N / dh_0 = prod_l w_l * f'(z_l)``: the gradient is a product of one
*factor* per layer and shrinks or grows exponentially with depth.

Every function takes arrays whose last axis is the layer axis (length N) and any number of
leading axes for many variants at once: ``weights`` of shape (10000, 8) are 10,000 chains of
8 layers, computed without a Python loop over variants.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from tutor.errors import SimulationError
from tutor.sim._arrays import FloatArray, as_float, quiet
from tutor.sim.activations import Activation, get_activation
from tutor.sim.scalar import forward_pass


class ChainGrad(NamedTuple):
    """The backward pass of a scalar chain; every array has shape (..., N) except ``grad``.

    ``fprime[..., l] = f'(z_l)``; ``factors[..., l] = w_l * f'(z_l)``;
    ``to_input[..., l] = prod_{k >= l} factors[..., k] = dh_N / dh_{l-1}`` (so
    ``to_input[..., 0]`` is the whole gradient); ``cumulative[..., k] = prod_{j <= k}
    factors[..., j]`` (the input-side partial products); ``grad = dh_N / dh_0`` of shape (...).
    """

    fprime: FloatArray
    factors: FloatArray
    to_input: FloatArray
    cumulative: FloatArray
    grad: FloatArray


class ChainForward(NamedTuple):
    """The forward pass of a scalar chain: ``z[..., l] = z_l`` and ``h[..., l] = h_l``."""

    z: FloatArray
    h: FloatArray


def chain_backward(
    weights: ArrayLike,
    preacts: ArrayLike,
    activation: str,
    *,
    slope: float = 0.01,
    alpha: float = 1.0,
    dtype: str | None = None,
) -> ChainGrad:
    """Per-layer factors ``w_l * f'(z_l)`` and their products, for pre-activations ``z_l``.

    ``weights`` and ``preacts`` broadcast to shape (..., N). Arithmetic is in the inputs'
    precision (float64 for Python numbers) unless ``dtype`` names one, so a float16 chain
    underflows to 0 or overflows to inf exactly where float16 would.
    """
    act = get_activation(activation, slope=slope, alpha=alpha)
    target = None if dtype is None else np.dtype(dtype)
    w, z = as_float(weights, target), as_float(preacts, target)
    if w.ndim == 0 and z.ndim == 0:
        raise SimulationError("a chain needs at least one layer: pass arrays of shape (..., N)")
    try:
        with quiet():
            fprime = act.derivative(z)
            factors = w * fprime
            cumulative = np.multiply.accumulate(factors, axis=-1)
            to_input = np.multiply.accumulate(factors[..., ::-1], axis=-1)[..., ::-1]
    except ValueError as exc:
        raise SimulationError(f"weights {w.shape} and preacts {z.shape} do not broadcast") from exc
    if fprime.shape != factors.shape:
        fprime = np.broadcast_to(fprime, factors.shape)
    return ChainGrad(fprime, factors, to_input, cumulative, to_input[..., 0])


def chain_forward(
    x0: ArrayLike,
    weights: ArrayLike,
    biases: ArrayLike | None,
    activation: str,
    *,
    slope: float = 0.01,
    alpha: float = 1.0,
    dtype: str | None = None,
) -> ChainForward:
    """Run the chain from input ``x0`` (shape (...)) through weights and biases (..., N).

    ``biases=None`` means all zero. Returns ``z`` and ``h`` of the broadcast shape (..., N).
    """
    act = get_activation(activation, slope=slope, alpha=alpha)
    target = None if dtype is None else np.dtype(dtype)
    x, w = as_float(x0, target), as_float(weights, target)
    b = np.zeros_like(w) if biases is None else as_float(biases, target)
    if w.ndim == 0:
        raise SimulationError("a chain needs at least one layer: pass arrays of shape (..., N)")
    if x.ndim == 0 and w.ndim == 1 and b.shape == w.shape and w.dtype == np.float64:
        return _forward_scalar(float(x), w, b, act)
    try:
        shape = np.broadcast_shapes((*x.shape, 1), w.shape, b.shape)
    except ValueError as exc:
        raise SimulationError(
            f"x0 {x.shape}, weights {w.shape} and biases {b.shape} do not broadcast"
        ) from exc
    return _forward_arrays(x, w, b, act, shape)


def _forward_scalar(x: float, w: FloatArray, b: FloatArray, act: Activation) -> ChainForward:
    """One float64 chain in plain Python floats: microseconds instead of NumPy calls per layer."""
    zs, hs = forward_pass(x, w.tolist(), b.tolist(), act.scalar)
    return ChainForward(np.array(zs), np.array(hs))


def _forward_arrays(
    x: FloatArray, w: FloatArray, b: FloatArray, act: Activation, shape: tuple[int, ...]
) -> ChainForward:
    """Many chains at once: one NumPy step per layer over every variant."""
    dtype = np.result_type(x, w, b)
    z = np.empty(shape, dtype)
    h = np.empty(shape, dtype)
    prev = x
    with quiet():
        for layer in range(shape[-1]):
            z[..., layer] = w[..., layer] * prev + b[..., layer]
            h[..., layer] = act.value(z[..., layer])
            prev = h[..., layer]
    return ChainForward(z, h)
