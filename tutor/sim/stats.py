"""Per-layer statistics of one forward and backward pass: what a learner reads to diagnose.

Every statistic is computed in float64 from the arrays the run produced (so a float16 run is
described exactly, without the description itself overflowing). Arrays have shape (..., D):
one entry per layer, input side first, for each variant.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from tutor.sim._arrays import FloatArray, frob_norm, quiet
from tutor.sim.network import NetworkResult

F64 = NDArray[np.float64]


@dataclass(frozen=True)
class LayerStats:
    """Per-layer statistics, each an array of shape (..., D), input side first.

    ``grad_norm``: Frobenius norm of dL/dW_l. ``act_grad_norm``: norm of dL/dh_l (the backward
    signal leaving layer l's output). ``weight_norm``: norm of W_l. ``relative_grad``:
    grad_norm / weight_norm (inf or NaN when W_l = 0). ``activation_std``: std of h_l over
    batch and units. ``preact_mean``/``preact_std``: mean and std of a_l, the activation's
    input (after batch norm when on). ``saturation``: the fraction of units in the batch
    whose ``abs(f'(a_l))`` is under a tenth of its peak (see ``tutor.sim.activations``).
    ``mean_sq_derivative``: E[f'(a_l)^2] over the batch. ``backward_gain``: the estimate
    sigma_w^2 * fan_out * E[f'(a_l)^2] of the factor by which a plain layer multiplies the
    variance of the backward signal (below 1 vanishing, above 1 exploding; it ignores skip
    connections and batch norm). ``fan_in``/``fan_out``: each layer's shape, shape (D,).
    """

    grad_norm: F64
    act_grad_norm: F64
    weight_norm: F64
    relative_grad: F64
    activation_std: F64
    preact_mean: F64
    preact_std: F64
    saturation: F64
    mean_sq_derivative: F64
    backward_gain: F64
    fan_in: NDArray[np.int64]
    fan_out: NDArray[np.int64]


def layer_stats(result: NetworkResult) -> LayerStats:
    """The statistics of every layer of the run ``result`` (from ``network_gradients``)."""
    cache, grads = result.cache, result.grads
    weight_norm = _per_layer(_norm, cache.weights)
    fan_in = np.array([w.shape[-2] for w in cache.weights], dtype=np.int64)
    fprime = grads.derivatives
    msd = _per_layer(_mean, [_sq(d) for d in fprime])
    grad_norm = _per_layer(_norm, grads.weights)
    with quiet():
        relative = grad_norm / weight_norm
        gain = weight_norm**2 / fan_in * msd
    flat = [act.flat(d) for act, d in zip(cache.activations, fprime, strict=True)]
    return LayerStats(
        grad_norm=grad_norm,
        act_grad_norm=_per_layer(_norm, grads.hidden),
        weight_norm=weight_norm,
        relative_grad=relative,
        activation_std=_per_layer(_std, cache.hidden),
        preact_mean=_per_layer(_mean, [_f64(a) for a in cache.preacts]),
        preact_std=_per_layer(_std, cache.preacts),
        saturation=_per_layer(_mean, flat),
        mean_sq_derivative=msd,
        backward_gain=gain,
        fan_in=fan_in,
        fan_out=np.array([w.shape[-1] for w in cache.weights], dtype=np.int64),
    )


def _per_layer(reduce: Callable[[Any], F64], arrays: Sequence[NDArray[Any]]) -> F64:
    """``reduce`` (over the last two axes) of each layer's array, stacked as shape (..., D).

    Layers of one shape and dtype go through ``reduce`` in one call, as a (..., D, rows, cols)
    stack: a deep network has many layers, and a NumPy call per layer per statistic adds up.
    Large layers that are already consecutive slices of one block (the engine allocates them
    so) are used where they are, not copied; for small ones, finding that out costs more than
    the copy.
    """
    block = _block_of(arrays) if arrays[0].size >= _BLOCK_FROM else None
    if block is not None:
        return reduce(np.moveaxis(block, 0, -3))
    if len({(a.shape, a.dtype) for a in arrays}) == 1:
        return reduce(np.stack(arrays, axis=-3))
    return np.stack([reduce(a) for a in arrays], axis=-1)


_BLOCK_FROM = 8192  # entries per layer (measured: a 64 x 64 layer copies faster than it is checked)


def _block_of(arrays: Sequence[NDArray[Any]]) -> NDArray[Any] | None:
    """The (D, ...) array whose slices ``block[0]`` ... ``block[D-1]`` are ``arrays``, if any."""
    block = arrays[0].base
    if not isinstance(block, np.ndarray) or block.shape != (len(arrays), *arrays[0].shape):
        return None
    start, step = block.ctypes.data, block.strides[0]
    for i, array in enumerate(arrays):
        same = array.base is block and array.ctypes.data == start + i * step
        if not same or array.strides != block.strides[1:] or array.dtype != block.dtype:
            return None
    return block


def _norm(x: FloatArray) -> F64:
    return frob_norm(x, (-2, -1))


def _f64(x: FloatArray) -> F64:
    """``x`` in float64, copied only when it is in another precision."""
    return x.astype(np.float64, copy=False)


def _sq(x: FloatArray) -> F64:
    x64 = _f64(x)
    with quiet():
        return x64 * x64


def _mean(x: NDArray[np.floating[Any]] | NDArray[np.bool_]) -> F64:
    with quiet():
        return np.asarray(np.mean(x, axis=(-2, -1), dtype=np.float64))


def _std(x: FloatArray) -> F64:
    with quiet():
        return np.asarray(np.std(_f64(x), axis=(-2, -1)))
