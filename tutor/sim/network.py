"""A fully connected network on explicit arrays: forward returns a cache, backward takes it.

Layer ``l`` (1-based; index ``l - 1`` in every tuple, index 0 is the input side) computes

    z_l = h_{l-1} @ W_l + b_l                      (W_l has shape (n_{l-1}, n_l))
    a_l = batchnorm(z_l) if batchnorm else z_l     (the input of the activation)
    h_l = f(a_l) + h_{l-1} if residual else f(a_l)

with ``h_0 = x`` of shape (..., B, n_0). Leading axes ``...`` are independent variants: a stack
of 1,000 small networks is one call. :func:`network_gradients` runs forward, the loss and
backward at once and returns ``dL/dW_l``, ``dL/db_l``, ``dL/dh_l`` for every layer (and
``dL/dgamma_l``, ``dL/dbeta_l`` with batch norm), so any autograd framework can check it;
:func:`gradient_step` is the same for a training loop, checking and allocating only once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from tutor.errors import SimulationError
from tutor.sim._arrays import FloatArray, as_tuple, matmul, quiet, swap_last, unbroadcast
from tutor.sim.activations import Activation, get_activation
from tutor.sim.layers import (
    BatchNormCache,
    batchnorm_backward,
    batchnorm_forward,
    loss_forward,
)


@dataclass(frozen=True)
class MLPCache:
    """Everything the backward pass needs, returned by :func:`mlp_forward`.

    ``preacts[l]`` is ``a_{l+1}`` (the activation's input, after batch norm when on) and
    ``hidden[l]`` is ``h_{l+1}``; both (..., B, n_{l+1}). ``bn`` holds one
    :class:`BatchNormCache` per layer, or is empty without batch norm.
    """

    x: FloatArray
    weights: tuple[FloatArray, ...]
    biases: tuple[FloatArray, ...]
    gammas: tuple[FloatArray, ...]
    activations: tuple[Activation, ...]
    residual: bool
    preacts: tuple[FloatArray, ...]
    hidden: tuple[FloatArray, ...]
    bn: tuple[BatchNormCache, ...]


@dataclass(frozen=True)
class MLPGrads:
    """Gradients of the loss; every tuple has one entry per layer, input side first.

    ``weights[l] = dL/dW_{l+1}`` and ``biases[l] = dL/db_{l+1}`` (empty if the network had no
    biases), ``hidden[l] = dL/dh_{l+1}``, ``preacts[l] = dL/da_{l+1}``, ``gammas``/``betas``
    the batch-norm scale and shift gradients (empty without batch norm), ``x = dL/dh_0``.
    Each has the shape of the array it differentiates. ``derivatives[l] = f'(a_{l+1})``, the
    activation's derivative the backward pass multiplied by.
    """

    x: FloatArray
    weights: tuple[FloatArray, ...]
    biases: tuple[FloatArray, ...]
    hidden: tuple[FloatArray, ...]
    preacts: tuple[FloatArray, ...]
    gammas: tuple[FloatArray, ...]
    betas: tuple[FloatArray, ...]
    derivatives: tuple[FloatArray, ...]


@dataclass(frozen=True)
class NetworkResult:
    """The loss (shape (...), one per variant), the output h_D, all gradients and the cache."""

    loss: FloatArray
    output: FloatArray
    grads: MLPGrads
    cache: MLPCache


def mlp_forward(
    x: ArrayLike,
    weights: Sequence[ArrayLike],
    biases: Sequence[ArrayLike] | None = None,
    activation: str | Sequence[str] = "relu",
    *,
    residual: bool = False,
    batchnorm: bool = False,
    gammas: Sequence[ArrayLike] | None = None,
    betas: Sequence[ArrayLike] | None = None,
    eps: float = 1e-5,
    slope: float = 0.01,
    alpha: float = 1.0,
    dtype: str | None = None,
) -> tuple[FloatArray, MLPCache]:
    """The output ``h_D`` (..., B, n_D) and the cache for :func:`mlp_backward`.

    ``activation`` is one name for every layer or one per layer. ``biases=None`` means no
    biases. With ``batchnorm``, ``gammas`` and ``betas`` default to ones and zeros. All arrays
    are cast to ``dtype`` (default: NumPy's promotion of ``x`` and the weights).
    """
    layout = _Layout.of(
        x, weights, biases, activation, residual=residual, batchnorm=batchnorm, gammas=gammas,
        betas=betas, eps=eps, slope=slope, alpha=alpha, dtype=dtype,
    )  # fmt: skip
    return _forward(layout)


@dataclass(frozen=True)
class _Layout:
    """A network's checked arrays and settings, and the buffers of its forward pass."""

    x: FloatArray
    weights: tuple[FloatArray, ...]
    biases: tuple[FloatArray, ...]
    gammas: tuple[FloatArray, ...]
    betas: tuple[FloatArray, ...]
    activations: tuple[Activation, ...]
    residual: bool
    batchnorm: bool
    eps: float
    preacts: list[FloatArray]  # buffers for z_l
    hidden: list[FloatArray]  # buffers for h_l

    @classmethod
    def of(
        cls,
        x: ArrayLike,
        weights: Sequence[ArrayLike],
        biases: Sequence[ArrayLike] | None,
        activation: str | Sequence[str],
        *,
        residual: bool,
        batchnorm: bool,
        gammas: Sequence[ArrayLike] | None,
        betas: Sequence[ArrayLike] | None,
        eps: float,
        slope: float,
        alpha: float,
        dtype: str | None,
    ) -> _Layout:
        """The arrays cast to one dtype and checked; raise SimulationError if they do not fit."""
        ws, x_arr, bs = _arrays(x, weights, biases, dtype)
        acts = _activations(activation, len(ws), slope, alpha)
        gs, betas_t = _bn_params(ws, gammas, betas, batchnorm, x_arr.dtype)
        _check_shapes(x_arr, ws, bs, residual)
        shapes = _layer_shapes(x_arr, ws, bs)
        zs, hidden = buffers(shapes, x_arr.dtype), buffers(shapes, x_arr.dtype)
        return cls(x_arr, ws, bs, gs, betas_t, acts, residual, batchnorm, eps, zs, hidden)


def _forward(layout: _Layout) -> tuple[FloatArray, MLPCache]:
    """The forward pass over the layout's arrays as they are now, into its buffers."""
    h, preacts, bn = layout.x, [], []
    zs, hidden, bs = layout.preacts, layout.hidden, layout.biases
    with quiet():
        for i, w in enumerate(layout.weights):
            z = matmul(h, w, out=zs[i])
            if bs:
                z += bs[i][..., None, :]
            if layout.batchnorm:
                z, c = batchnorm_forward(z, layout.gammas[i], layout.betas[i], layout.eps)
                bn.append(c)
            out = layout.activations[i].value(z)
            if layout.residual:
                np.add(h, out, out=hidden[i])
            else:
                hidden[i][...] = out
            h = hidden[i]
            preacts.append(z)
    cache = MLPCache(
        layout.x, layout.weights, bs, layout.gammas, layout.activations, layout.residual,
        tuple(preacts), tuple(hidden), tuple(bn),
    )  # fmt: skip
    return h, cache


def mlp_backward(dout: ArrayLike, cache: MLPCache) -> MLPGrads:
    """All gradients, given ``dout = dL/dh_D`` of the output's shape.

    Going from layer D down: ``dL/da_l = dL/dh_l * f'(a_l)`` (then back through batch norm),
    ``dL/dW_l = h_{l-1}^T @ dL/dz_l``, ``dL/db_l`` = the batch sum of ``dL/dz_l``, and
    ``dL/dh_{l-1} = dL/dz_l @ W_l^T`` (plus ``dL/dh_l`` through a skip connection).
    """
    return _backward(dout, cache, _BackwardBuffers.of(cache))


@dataclass(frozen=True)
class _BackwardBuffers:
    """Where the backward pass writes dL/dh_l, dL/da_l, dL/dW_l and dL/db_l."""

    hidden: list[FloatArray]
    preacts: list[FloatArray]
    weights: list[FloatArray]
    biases: list[FloatArray]

    @classmethod
    def of(cls, cache: MLPCache) -> _BackwardBuffers:
        dtype, shapes = cache.x.dtype, [h.shape for h in cache.hidden]
        lead = cache.hidden[0].shape[:-2]
        dw = buffers([(*lead, *w.shape[-2:]) for w in cache.weights], dtype)
        db = buffers([(*lead, w.shape[-1]) for w in cache.weights], dtype) if cache.biases else []
        return cls(buffers(shapes, dtype), buffers(shapes, dtype), dw, db)


def _backward(dout: ArrayLike, cache: MLPCache, out: _BackwardBuffers) -> MLPGrads:
    n = len(cache.weights)
    dhid, dpre, dw, db = out.hidden, out.preacts, out.weights, out.biases
    dg: list[FloatArray] = []
    dbeta: list[FloatArray] = []
    with quiet():
        fprime = [cache.activations[i].derivative(cache.preacts[i]) for i in range(n)]
        dhid[-1][...] = dout
        for i in reversed(range(n)):
            dz = np.multiply(dhid[i], fprime[i], out=dpre[i])
            if cache.bn:
                dz, g, beta = batchnorm_backward(dz, cache.bn[i])
                dg.insert(0, g)
                dbeta.insert(0, beta)
            h_prev = cache.hidden[i - 1] if i > 0 else cache.x
            matmul(swap_last(h_prev), dz, out=dw[i])
            if db:
                np.sum(dz, axis=-2, out=db[i])
            dh = matmul(dz, swap_last(cache.weights[i]), out=dhid[i - 1] if i > 0 else None)
            if cache.residual:
                dh += dhid[i]
    return MLPGrads(
        x=unbroadcast(dh, cache.x.shape),
        weights=tuple(unbroadcast(g, w.shape) for g, w in zip(dw, cache.weights, strict=True)),
        biases=tuple(unbroadcast(g, b.shape) for g, b in zip(db, cache.biases, strict=False)),
        hidden=tuple(dhid),
        preacts=tuple(dpre),
        gammas=tuple(unbroadcast(g, p.shape) for g, p in zip(dg, cache.gammas, strict=False)),
        betas=tuple(unbroadcast(g, p.shape) for g, p in zip(dbeta, cache.gammas, strict=False)),
        derivatives=tuple(fprime),
    )


def network_gradients(
    x: ArrayLike,
    weights: Sequence[ArrayLike],
    biases: Sequence[ArrayLike] | None = None,
    activation: str | Sequence[str] = "relu",
    *,
    loss: str = "mean",
    target: ArrayLike | None = None,
    **options: Any,
) -> NetworkResult:
    """Forward, loss and backward in one call; ``options`` are those of :func:`mlp_forward`.

    ``loss="mean"`` is the mean of the output over batch and units; ``loss="mse"`` is the mean
    of ``(output - target)**2``. The returned loss has shape (...) (a 0-d array for one
    network) and every gradient is that of each variant's own loss.
    """
    layout = _Layout.of(x, weights, biases, activation, **_forward_options(options))
    return _stepper(layout, loss, target)()


def gradient_step(
    x: ArrayLike,
    weights: Sequence[ArrayLike],
    biases: Sequence[ArrayLike] | None = None,
    activation: str | Sequence[str] = "relu",
    *,
    loss: str = "mean",
    target: ArrayLike | None = None,
    **options: Any,
) -> Callable[[], NetworkResult]:
    """:func:`network_gradients` for a training loop, which changes the parameters in place
    between calls: the arrays are checked and the buffers allocated once (per step, that
    took longer than the arithmetic of a small network), and each call returns the gradients
    at the parameters' current values.

    The parameters must be arrays of one floating dtype, as they are used, not copied; a
    call's result lives in buffers that the next call overwrites.
    """
    layout = _Layout.of(x, weights, biases, activation, **_forward_options(options))
    pairs = [
        (weights, layout.weights),
        (biases, layout.biases),
        (options.get("gammas"), layout.gammas),
        (options.get("betas"), layout.betas),
    ]
    if any(given is not None and _copied(given, used) for given, used in pairs):
        raise SimulationError("gradient_step needs parameter arrays of one floating dtype")
    return _stepper(layout, loss, target)


def _copied(given: Sequence[ArrayLike], used: Sequence[FloatArray]) -> bool:
    return any(a is not b for a, b in zip(given, used, strict=True))


def _stepper(layout: _Layout, loss: str, target: ArrayLike | None) -> Callable[[], NetworkResult]:
    """Forward, loss and backward over the layout's arrays as they are at each call."""
    tgt = None if target is None else np.asarray(target, dtype=layout.x.dtype)
    backward_buffers: list[_BackwardBuffers] = []  # allocated at the first call

    def step() -> NetworkResult:
        out, cache = _forward(layout)
        with quiet():
            value, dout = loss_forward(out, loss, tgt)
        if not backward_buffers:
            backward_buffers.append(_BackwardBuffers.of(cache))
        return NetworkResult(value, out, _backward(dout, cache, backward_buffers[0]), cache)

    return step


_FORWARD_DEFAULTS: dict[str, Any] = {
    "residual": False, "batchnorm": False, "gammas": None, "betas": None, "eps": 1e-5,
    "slope": 0.01, "alpha": 1.0, "dtype": None,
}  # fmt: skip


def _forward_options(options: dict[str, Any]) -> dict[str, Any]:
    """The options of :func:`mlp_forward`, defaults filled in; a TypeError for unknown ones
    (as calling mlp_forward with them would raise)."""
    unknown = set(options) - set(_FORWARD_DEFAULTS)
    if unknown:
        raise TypeError(f"unexpected keyword argument {sorted(unknown)[0]!r}")
    return _FORWARD_DEFAULTS | options


def buffers(shapes: Sequence[tuple[int, ...]], dtype: np.dtype[Any]) -> list[FloatArray]:
    """Empty arrays of these shapes, carved from one block when the shapes are all equal.

    Speed, not maths: one large block is backed by huge pages, while a fresh array per layer
    costs a page fault per 4 KiB, which for a 50-layer network took longer than the matrix
    products themselves.
    """
    if len(set(shapes)) == 1:
        return list(np.empty((len(shapes), *shapes[0]), dtype))
    return [np.empty(s, dtype) for s in shapes]


def _layer_shapes(
    x: FloatArray, ws: tuple[FloatArray, ...], bs: tuple[FloatArray, ...]
) -> list[tuple[int, ...]]:
    """The shape (..., B, n_l) of every layer's output, with the variants' axes broadcast."""
    try:
        lead = np.broadcast_shapes(
            x.shape[:-2], *(w.shape[:-2] for w in ws), *(b.shape[:-1] for b in bs)
        )
    except ValueError as exc:
        raise SimulationError(f"the variant axes of the arrays do not broadcast: {exc}") from None
    return [(*lead, x.shape[-2], w.shape[-1]) for w in ws]


def _arrays(
    x: ArrayLike,
    weights: Sequence[ArrayLike],
    biases: Sequence[ArrayLike] | None,
    dtype: str | None,
) -> tuple[tuple[FloatArray, ...], FloatArray, tuple[FloatArray, ...]]:
    """The weights, input and biases as arrays of one floating dtype."""
    raw_w = as_tuple(weights, None)
    raw_x = np.asarray(x)
    if not raw_w:
        raise SimulationError("a network needs at least one weight matrix")
    common = np.dtype(dtype) if dtype else np.result_type(raw_x, *raw_w, np.float16)
    return as_tuple(raw_w, common), raw_x.astype(common, copy=False), as_tuple(biases, common)


def _activations(
    activation: str | Sequence[str], depth: int, slope: float, alpha: float
) -> tuple[Activation, ...]:
    names = [activation] * depth if isinstance(activation, str) else list(activation)
    if len(names) != depth:
        raise SimulationError(f"{len(names)} activations given for {depth} layers")
    return tuple(get_activation(n, slope=slope, alpha=alpha) for n in names)


def _bn_params(
    ws: tuple[FloatArray, ...],
    gammas: Sequence[ArrayLike] | None,
    betas: Sequence[ArrayLike] | None,
    batchnorm: bool,
    dtype: np.dtype[Any],
) -> tuple[tuple[FloatArray, ...], tuple[FloatArray, ...]]:
    """Batch-norm scales and shifts: given, or ones and zeros of each layer's width."""
    if not batchnorm:
        if gammas is not None or betas is not None:
            raise SimulationError("gammas and betas are batch-norm parameters: set batchnorm=True")
        return (), ()
    ones = tuple(np.ones(w.shape[-1], dtype) for w in ws)
    gs = ones if gammas is None else as_tuple(gammas, dtype)
    bs = tuple(np.zeros_like(g) for g in ones) if betas is None else as_tuple(betas, dtype)
    for label, params in (("gammas", gs), ("betas", bs)):
        if len(params) != len(ws) or any(
            p.shape[-1:] != w.shape[-1:] for p, w in zip(params, ws, strict=False)
        ):
            raise SimulationError(f"{label} must hold one array of each layer's width")
    return gs, bs


def _check_shapes(
    x: FloatArray, ws: tuple[FloatArray, ...], bs: tuple[FloatArray, ...], residual: bool
) -> None:
    """Raise :class:`SimulationError` naming the first layer whose shapes do not fit."""
    if x.ndim < 2:
        raise SimulationError(f"the input must have shape (..., batch, units), got {x.shape}")
    if bs and len(bs) != len(ws):
        raise SimulationError(f"{len(bs)} biases given for {len(ws)} weight matrices")
    width = x.shape[-1]
    for i, w in enumerate(ws, start=1):
        if w.ndim < 2 or w.shape[-2] != width:
            raise SimulationError(f"layer {i}: weight shape {w.shape} does not take {width} inputs")
        if bs and bs[i - 1].shape[-1:] != w.shape[-1:]:
            raise SimulationError(
                f"layer {i}: bias shape {bs[i - 1].shape} does not match {w.shape}"
            )
        if residual and w.shape[-1] != w.shape[-2]:
            raise SimulationError(
                f"layer {i}: a residual block needs a square weight, got {w.shape}"
            )
        width = w.shape[-1]
