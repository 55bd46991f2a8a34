"""Training dynamics: plain SGD on a small synthetic task, with clipping and regularization.

One step with learning rate ``lr`` (no momentum), for every weight W, bias, and batch-norm
scale and shift p:

    g = dL/dp (+ l2 * W for weights)         L2 enters the gradient, so it is clipped with it
    g = clip(g)                               by value, or by the global norm of all g
    p = p - lr * g (- lr * weight_decay * W)  decoupled weight decay, applied after clipping

Without clipping, ``l2 = lam`` and ``weight_decay = lam`` give the same steps. The run is in
the dtype of the arrays given, so a float16 run overflows (inf) or underflows (0) where float16
does. The synthetic task is regression to ``y = tanh(x @ A)`` with ``A ~ N(0, 1 / width)``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from tutor.errors import SimulationError
from tutor.sim._arrays import (
    FloatArray,
    as_float,
    check_positive_int,
    float_dtype,
    quiet,
    whole_norm,
)
from tutor.sim.builders import seeded_arrays
from tutor.sim.clip import clip_by_global_norm, clip_by_value, global_norm
from tutor.sim.network import gradient_step

MAX_STEPS = 100_000


@dataclass(frozen=True)
class TrainResult:
    """A training run.

    ``loss[k]`` is the task loss after k updates (k = 0 is the initial loss); the run stops at
    the first loss or gradient that is inf or NaN, so ``loss`` may be shorter than
    ``steps + 1``. ``diverged_at`` is that step k, or None. ``grad_norm[k]`` is the global
    gradient norm at step k before clipping; ``weight_norm[k, l]`` the norm of W_{l+1} after
    k updates. ``weights``, ``biases`` are the final arrays.
    """

    loss: NDArray[np.float64]
    grad_norm: NDArray[np.float64]
    weight_norm: NDArray[np.float64]
    diverged_at: int | None
    weights: tuple[FloatArray, ...]
    biases: tuple[FloatArray, ...]


@dataclass(frozen=True)
class SGDConfig:
    """The knobs of :func:`train_sgd`: learning rate, steps, clipping and regularization."""

    lr: float
    steps: int
    clip_norm: float | None = None
    clip_value: float | None = None
    l2: float = 0.0
    weight_decay: float = 0.0

    def __post_init__(self) -> None:
        check_positive_int("steps", self.steps, low=0)
        if self.steps > MAX_STEPS:
            raise SimulationError(f"steps must be at most {MAX_STEPS}, got {self.steps}")
        for name in ("lr", "l2", "weight_decay"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise SimulationError(f"{name} must be a finite number >= 0, got {value!r}")
        if self.clip_norm is not None and self.clip_value is not None:
            raise SimulationError("clip by norm or by value, not both")


def train_sgd(
    x: ArrayLike,
    target: ArrayLike,
    weights: Sequence[ArrayLike],
    biases: Sequence[ArrayLike],
    activation: str,
    *,
    config: SGDConfig,
    residual: bool = False,
    batchnorm: bool = False,
    dtype: str | None = None,
) -> TrainResult:
    """Train one network with full-batch SGD on the mean squared error to ``target``.

    The arrays are those of ``network_gradients`` (one network, no variant axes); they are
    not modified. ``dtype`` casts every array first (default: their own precision).
    """
    ws = [as_float(w, _dt(dtype)).copy() for w in weights]
    dt = ws[0].dtype if ws else np.dtype(np.float64)
    bs = [as_float(b, dt).copy() for b in biases]
    bn = _bn_params(ws, batchnorm)
    xa, ya = as_float(x, dt), as_float(target, dt)
    losses: list[float] = []
    norms: list[float] = []
    wnorms = [_weight_norms(ws)]
    gradients = gradient_step(
        xa, ws, bs, activation, loss="mse", target=ya, residual=residual, batchnorm=batchnorm,
        **bn,
    )  # fmt: skip
    for step in range(config.steps + 1):
        res = gradients()  # at the parameters as _update left them
        losses.append(float(res.loss))
        if step == config.steps or not math.isfinite(losses[-1]):
            break
        grads = _gradients(res.grads, ws, bs, bn, config)
        clipped, norm = _clip(grads, config)
        norms.append(norm)
        if not math.isfinite(norm):
            break
        _update(ws, bs, bn, clipped, config)
        wnorms.append(_weight_norms(ws))
    return _result(losses, norms, wnorms, ws, bs)


def _dt(dtype: str | None) -> np.dtype[Any] | None:
    return None if dtype is None else float_dtype(dtype)


def _bn_params(ws: list[FloatArray], batchnorm: bool) -> dict[str, list[FloatArray]]:
    if not batchnorm:
        return {}
    return {
        "gammas": [np.ones(w.shape[-1], w.dtype) for w in ws],
        "betas": [np.zeros(w.shape[-1], w.dtype) for w in ws],
    }


def _gradients(
    grads: Any,
    ws: list[FloatArray],
    bs: list[FloatArray],
    bn: dict[str, list[FloatArray]],
    config: SGDConfig,
) -> list[FloatArray]:
    """Every parameter's gradient, in the order weights, biases, gammas, betas."""
    with quiet():
        gw = (
            [g + config.l2 * w for g, w in zip(grads.weights, ws, strict=True)]
            if config.l2
            else list(grads.weights)
        )
    extra = list(grads.gammas) + list(grads.betas) if bn else []
    return gw + list(grads.biases)[: len(bs)] + extra


def _clip(grads: list[FloatArray], config: SGDConfig) -> tuple[tuple[FloatArray, ...], float]:
    if config.clip_norm is not None:
        return clip_by_global_norm(grads, config.clip_norm)
    if config.clip_value is not None:
        return clip_by_value(grads, config.clip_value)
    return tuple(grads), global_norm(grads)


def _update(
    ws: list[FloatArray],
    bs: list[FloatArray],
    bn: dict[str, list[FloatArray]],
    grads: tuple[FloatArray, ...],
    config: SGDConfig,
) -> None:
    """Apply one SGD step in place to the run's own copies of the parameters."""
    params = ws + bs + (bn["gammas"] + bn["betas"] if bn else [])
    lr, wd = config.lr, config.weight_decay
    with quiet():
        for i, (p, g) in enumerate(zip(params, grads, strict=True)):
            step = lr * g + lr * wd * p if (wd and i < len(ws)) else lr * g
            np.subtract(p, step.astype(p.dtype, copy=False), out=p)


def _weight_norms(ws: list[FloatArray]) -> NDArray[np.float64]:
    return np.array([whole_norm(w) for w in ws])


def _result(
    losses: list[float],
    norms: list[float],
    wnorms: list[NDArray[np.float64]],
    ws: list[FloatArray],
    bs: list[FloatArray],
) -> TrainResult:
    bad = [k for k, v in enumerate(losses) if not math.isfinite(v)]
    bad += [k for k, v in enumerate(norms) if not math.isfinite(v)]
    return TrainResult(
        loss=np.array(losses),
        grad_norm=np.array(norms),
        weight_norm=np.array(wnorms),
        diverged_at=min(bad) if bad else None,
        weights=tuple(ws),
        biases=tuple(bs),
    )


def regression_task(
    width: int, batch: int, rng: np.random.Generator, x: FloatArray | None = None
) -> tuple[FloatArray, FloatArray]:
    """The synthetic task: ``x ~ N(0, 1)`` (batch, width) unless given, ``y = tanh(x @ A)``."""
    xs = rng.standard_normal((batch, width)) if x is None else x
    teacher = rng.standard_normal((width, width)) / math.sqrt(width)
    return xs, np.tanh(xs @ teacher)


def simulate_training(
    depth: int,
    width: int,
    activation: str,
    init: str,
    config: SGDConfig,
    *,
    seed: int,
    std: float | None = None,
    value: float = 0.0,
    batch: int = 64,
    residual: bool = False,
    batchnorm: bool = False,
    dtype: str = "float64",
) -> TrainResult:
    """Build the seeded network of ``simulate_network`` and train it on the synthetic task.

    Draws, in order: the weights, the input x (the same arrays ``simulate_network`` draws for
    this seed), then the teacher matrix A.
    """
    net, rng = seeded_arrays(depth, width, init, seed=seed, std=std, value=value, batch=batch)
    x, y = regression_task(width, batch, rng, net.x)
    return train_sgd(
        x,
        y,
        net.weights,
        net.biases,
        activation,
        config=config,
        residual=residual,
        batchnorm=batchnorm,
        dtype=dtype,
    )


def quadratic_descent(a: ArrayLike, w0: ArrayLike, lr: ArrayLike, steps: int) -> FloatArray:
    """Gradient descent on ``L(w) = a * w**2 / 2``: ``w_{k+1} = w_k - lr * a * w_k``.

    ``a``, ``w0`` and ``lr`` broadcast to the variants' shape (...); the result has shape
    (steps + 1, ...) with row k the weight after k steps. The iterates grow without bound
    exactly when ``abs(1 - lr * a) > 1``, that is (for a > 0) when ``lr > 2 / a``.
    """
    check_positive_int("steps", steps, low=0)
    av, lrv = as_float(a), as_float(lr)
    w = np.broadcast_to(
        as_float(w0), np.broadcast_shapes(np.shape(av), np.shape(lrv), np.shape(w0))
    ).copy()
    rows = [w.copy()]
    with quiet():
        for _ in range(steps):
            w = w - lrv * (av * w)  # the gradient of a * w**2 / 2 is a * w
            rows.append(w)
    return np.stack(rows)


def critical_learning_rate(a: float) -> float:
    """The largest stable learning rate ``2 / a`` for ``L(w) = a * w**2 / 2`` (a > 0)."""
    if not (math.isfinite(a) and a > 0):
        raise SimulationError(f"the curvature a must be a finite number > 0, got {a!r}")
    return 2.0 / a
