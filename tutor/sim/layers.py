"""Layers and losses in the forward-returns-a-cache, backward-takes-the-cache style.

Shapes: a batch of activations is ``(..., B, n)`` (B examples of n units; leading axes are
independent variants); a weight matrix is ``(..., n_in, n_out)``; a bias, scale or shift is
``(..., n)``. Statistics over "the batch" are over axis -2.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from tutor.errors import SimulationError
from tutor.sim._arrays import FloatArray, matmul, swap_last

LOSS_NAMES: tuple[str, ...] = ("mean", "mse")
"""``mean``: the mean of the output; ``mse``: mean squared error to a target."""


@dataclass(frozen=True, slots=True)
class BatchNormCache:
    """What the batch-norm backward pass needs: the normalized input and 1/sqrt(var + eps)."""

    xhat: FloatArray
    inv_std: FloatArray
    gamma: FloatArray


def batchnorm_forward(
    z: FloatArray, gamma: FloatArray, beta: FloatArray, eps: float = 1e-5
) -> tuple[FloatArray, BatchNormCache]:
    """Training-mode batch normalization over the batch axis, then scale and shift.

    ``xhat = (z - mean) / sqrt(var + eps)`` with the biased batch variance (what PyTorch and
    TensorFlow use in training); ``out = gamma * xhat + beta``. ``z`` is (..., B, n),
    ``gamma`` and ``beta`` are (..., n).
    """
    mean = z.mean(axis=-2, keepdims=True)
    centred = z - mean
    var = (centred * centred).mean(axis=-2, keepdims=True)
    inv_std = 1.0 / np.sqrt(var + eps)
    xhat = centred * inv_std
    gamma2 = gamma[..., None, :]
    return gamma2 * xhat + beta[..., None, :], BatchNormCache(xhat, inv_std, gamma2)


def batchnorm_backward(
    dout: FloatArray, cache: BatchNormCache
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Gradients ``(dz, dgamma, dbeta)`` of batch normalization, given ``dout = dL/dout``.

    Because every ``xhat`` depends on the whole batch through the mean and variance,
    ``dz = inv_std * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat))`` with means over the
    batch, where ``dxhat = gamma * dout``.
    """
    xhat = cache.xhat
    dxhat = dout * cache.gamma
    mean_d = dxhat.mean(axis=-2, keepdims=True)
    mean_dx = (dxhat * xhat).mean(axis=-2, keepdims=True)
    dz = cache.inv_std * (dxhat - mean_d - xhat * mean_dx)
    return dz, (dout * xhat).sum(axis=-2), dout.sum(axis=-2)


def loss_forward(
    out: FloatArray, loss: str = "mean", target: FloatArray | None = None
) -> tuple[FloatArray, FloatArray]:
    """The loss of each variant and its gradient ``dL/dout`` (same shape as ``out``).

    ``out`` is (..., B, n); the loss has shape (...): the mean over the batch and units of
    ``out`` (``"mean"``) or of ``(out - target)**2`` (``"mse"``, ``target`` broadcastable to
    ``out``). Each variant's gradient is that of its own loss.
    """
    count = out.shape[-1] * out.shape[-2]
    if loss == "mean":
        if target is not None:
            raise SimulationError("the 'mean' loss takes no target; use loss='mse'")
        grad = np.full(out.shape, 1.0 / count, dtype=out.dtype)
        return out.mean(axis=(-2, -1)), grad
    if loss == "mse":
        if target is None:
            raise SimulationError("the 'mse' loss needs a target array")
        diff = out - target
        return (diff * diff).mean(axis=(-2, -1)), diff * (2.0 / count)
    raise SimulationError(f"unknown loss {loss!r}; choose one of {', '.join(LOSS_NAMES)}")


def dense_backward(
    dz: FloatArray, h_prev: FloatArray, weight: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """For ``z = h_prev @ W + b``: ``(dW, db, dh_prev)`` given ``dz = dL/dz``.

    ``dW = h_prev^T @ dz`` sums over the batch, ``db`` is ``dz`` summed over the batch and
    ``dh_prev = dz @ W^T``.
    """
    return matmul(swap_last(h_prev), dz), dz.sum(axis=-2), matmul(dz, swap_last(weight))


def saturation_fraction(mask: NDArray[np.bool_]) -> NDArray[np.float64]:
    """The fraction of True entries over the batch and unit axes (the last two)."""
    return np.asarray(mask.mean(axis=(-2, -1)), dtype=np.float64)
