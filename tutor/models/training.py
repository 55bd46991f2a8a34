"""Models for training mechanics: the update rule, clipping, regularization, learning rate.

* ``quadratic``: gradient descent on ``L(w) = a w^2 / 2`` (the engine's closed-form testbed).
* ``clip``: one gradient vector clipped by global norm and by value, side by side.
* ``sgd_step``: SGD steps on a weight vector with a fixed data gradient, with L2, decoupled
  weight decay and clipping in the engine's order (L2 is clipped, decay is not).
* ``loss_net``: a chain of one-unit layers on one example with the squared error: every
  forward value and every gradient, for chain-rule questions.
* ``training``: a short full-batch SGD run of a seeded network on the engine's synthetic task,
  with the loss curve, the gradient norm per step and where it diverged.
"""

from __future__ import annotations

import dataclasses
import math
import sys
from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from tutor import sim
from tutor.errors import SimulationError
from tutor.models import (
    REQUIRED,
    Arg,
    Model,
    check_work,
    plain,
    seeded_training,
    training_work,
)

MAX_VECTOR = 64
"""Entries of a gradient or weight vector a bank may give."""

MAX_QUADRATIC_STEPS = 10_000
MAX_SGD_STEPS = 10_000
MAX_CHAIN = 6
MAX_TRAIN_STEPS = 400


# --- quadratic ---------------------------------------------------------------------------------


def _run_quadratic(a: Mapping[str, Any]) -> dict[str, Any]:
    w = sim.quadratic_descent(a["a"], a["w0"], a["lr"], a["steps"])
    with np.errstate(all="ignore"):
        loss = a["a"] * w * w / 2.0
    bad = np.flatnonzero(~np.isfinite(w))
    return {
        "w": plain(w),
        "loss": plain(loss),
        "critical_lr": sim.critical_learning_rate(a["a"]),
        "overflow_at": int(bad[0]) if bad.size else -1,
        "steps": a["steps"],
    }


# --- clip --------------------------------------------------------------------------------------


def _vector(value: Any, what: str) -> NDArray[np.float64]:
    """A number or a list of numbers as a float64 vector of at most MAX_VECTOR entries."""
    array = np.atleast_1d(np.asarray(value, dtype=np.float64))
    if array.size > MAX_VECTOR:
        raise SimulationError(f"{what} has {array.size} entries; the limit is {MAX_VECTOR}")
    return array


def _like(value: Any, shape: tuple[int, ...], what: str) -> NDArray[np.float64]:
    """A number (broadcast) or a list matching ``shape``."""
    array = _vector(value, what)
    if array.size == 1:
        return np.full(shape, array[0])
    if array.shape != shape:
        raise SimulationError(f"{what} has {array.size} entries for {shape[0]} weights")
    return array


def _angle_degrees(u: NDArray[Any], v: NDArray[Any]) -> tuple[float, float]:
    """The cosine of the angle between two vectors and the angle in degrees (0 for a zero one)."""
    nu, nv = float(np.linalg.norm(u)), float(np.linalg.norm(v))
    if nu == 0 or nv == 0:
        return 1.0, 0.0
    cos = min(1.0, max(-1.0, float(u @ v) / (nu * nv)))
    # Not acos(cos): near 0 it turns a rounding error of 1e-16 in the cosine into 1e-6
    # degrees. Half the angle has the tangent |û - v̂| / |û + v̂|, which is accurate near 0,
    # and what is left of rounding the two unit vectors (a few 1e-16) is taken for 0: a bank
    # asks whether the direction is kept, and a learner should read 0, not 6.4e-15.
    a, b = u / nu, v / nv
    half = math.atan2(float(np.linalg.norm(a - b)), float(np.linalg.norm(a + b)))
    return cos, 0.0 if half <= _ROUNDING else math.degrees(2 * half)


_ROUNDING = 8 * sys.float_info.epsilon  # radians: two unit vectors as equal as floats allow


def _run_clip(a: Mapping[str, Any]) -> dict[str, Any]:
    g = _vector(a["grad"], "grad")
    c, split = a["c"], a["split"]
    if split >= g.size:
        raise SimulationError(f"split must be below the number of entries ({g.size})")
    (by_norm,), norm = sim.clip_by_global_norm([g], c)
    (by_value,), _ = sim.clip_by_value([g], c)
    parts = [g[:split], g[split:]] if split else [g]
    by_layer = [sim.clip_by_global_norm([p], c)[0][0] for p in parts]
    cos, angle = _angle_degrees(g, by_value)
    _, angle_by_norm = _angle_degrees(g, by_norm)
    return {
        "norm": norm,
        "clipped": norm > c,
        "by_norm": plain(by_norm),
        "by_value": plain(by_value),
        "norm_by_norm": sim.global_norm([by_norm]),
        "norm_by_value": sim.global_norm([by_value]),
        "scale": sim.global_norm([by_norm]) / norm if norm > 0 else 1.0,
        "cos_by_value": cos,
        "angle_by_value": angle,
        "angle_by_norm": angle_by_norm,
        "count_by_value": int(np.count_nonzero(np.abs(g) > c)),
        "l1_norm": float(np.abs(g).sum()),  # for the "used the L1 norm" misconception
        "max_abs": float(np.abs(g).max()),
        "layer_norms": tuple(sim.global_norm([p]) for p in parts),
        "by_layer": plain(np.concatenate(by_layer)),
    }


# --- sgd_step ----------------------------------------------------------------------------------


def _sgd_gradient(w: NDArray[np.float64], g: NDArray[np.float64], a: Mapping[str, Any]) -> Any:
    """The gradient one step uses: data gradient plus L2 term, then clipped (engine order)."""
    total = g + sim.l2_penalty([w], a["l2"])[1][0] if a["l2"] else g
    if a["clip_norm"] is not None:
        return total, sim.clip_by_global_norm([total], a["clip_norm"])[0][0]
    if a["clip_value"] is not None:
        return total, sim.clip_by_value([total], a["clip_value"])[0][0]
    return total, total


def _run_sgd_step(a: Mapping[str, Any]) -> dict[str, Any]:
    w = _vector(a["w"], "w")
    g = _like(a["grad"], w.shape, "grad")
    if a["clip_norm"] is not None and a["clip_value"] is not None:
        raise SimulationError("clip by norm or by value, not both")
    lr, wd = a["lr"], a["weight_decay"]
    total, clipped = _sgd_gradient(w, g, a)
    path = np.empty((a["steps"] + 1, w.size))
    path[0] = w
    with np.errstate(all="ignore"):
        for k in range(1, a["steps"] + 1):
            step = clipped if k == 1 else _sgd_gradient(w, g, a)[1]
            # The engine's update (tutor.sim.train): decoupled decay after clipping.
            w = w - lr * step - lr * wd * w
            path[k] = w
        path_norm = np.sqrt((path * path).sum(axis=1))
    return {
        "w": plain(w),
        "penalty": sim.l2_penalty([path[0]], a["l2"])[0],
        "total_grad": plain(total),
        "clipped_grad": plain(clipped),
        "grad_norm": sim.global_norm([total]),
        "step": plain(path[1] - path[0]),
        "path": plain(path[:, 0]),
        "path_norm": plain(path_norm),
    }


# --- loss_net --------------------------------------------------------------------------------


def _run_loss_net(a: Mapping[str, Any]) -> dict[str, Any]:
    ws = _vector(a["weights"], "weights")
    if ws.size > MAX_CHAIN:
        raise SimulationError(f"a scalar network has at most {MAX_CHAIN} layers")
    bs = _like(a["biases"], ws.shape, "biases")
    names = [a["activation"]] * (ws.size - 1) + [a["output"]]
    res = sim.network_gradients(
        np.array([[a["x"]]]),
        [np.array([[w]]) for w in ws],
        [np.array([b]) for b in bs],
        names,
        loss="mse",
        target=np.array([[a["target"]]]),
    )
    h = tuple(float(v.item()) for v in res.cache.hidden)
    return {
        "z": tuple(float(v.item()) for v in res.cache.preacts),
        "h": h,
        "y": h[-1],
        "loss": float(res.loss),
        "dloss": 2.0 * (h[-1] - a["target"]),  # dL/dy of L = (y - t)^2
        "grad_w": tuple(float(v.item()) for v in res.grads.weights),
        "grad_b": tuple(float(v.item()) for v in res.grads.biases),
        "grad_h": tuple(float(v.item()) for v in res.grads.hidden),
        "grad_x": float(res.grads.x.item()),
        "depth": int(ws.size),
    }


# --- training ----------------------------------------------------------------------------------


def _aligned(result: sim.TrainResult, steps: int) -> tuple[Any, Any, Any]:
    """Loss, gradient norm and weight norm at the same weights (after k updates), k <= steps.

    The run was one update longer than asked, so the gradient at the last reported weights is
    known; where the run stopped before computing a gradient, it is NaN.
    """
    loss = result.loss[: steps + 1]
    grad = np.full(loss.shape, np.nan)
    known = result.grad_norm[: loss.size]
    grad[: known.size] = known
    wnorm = np.array([sim.global_norm([row]) for row in result.weight_norm[: loss.size]])
    return loss, grad, wnorm


def _checkpoints(count: int, points: int) -> NDArray[np.int64]:
    """At most ``points`` evenly spaced steps from 0 to count - 1, both ends included."""
    return np.unique(np.round(np.linspace(0, count - 1, min(points, count))).astype(np.int64))


def _simulate(a: Mapping[str, Any]) -> sim.TrainResult:
    """The engine's run, one update longer than asked (see :func:`_aligned`)."""
    config = sim.SGDConfig(
        lr=a["lr"],
        steps=a["steps"] + 1,
        clip_norm=a["clip_norm"],
        clip_value=a["clip_value"],
        l2=a["l2"],
        weight_decay=a["weight_decay"],
    )
    return seeded_training(a, config, "std", "batch", "residual", "batchnorm", "dtype")


def _diagnosis(result: sim.TrainResult, loss: Any, diverged_at: int) -> Any:
    """The engine's training diagnosis of the run as reported (without the extra update)."""
    trimmed = dataclasses.replace(
        result, loss=loss, diverged_at=None if diverged_at < 0 else diverged_at
    )
    return plain(sim.diagnose_training(trimmed))


def _run_training(a: Mapping[str, Any]) -> dict[str, Any]:
    check_work(training_work(a), "steps, depth, width or batch")
    result = _simulate(a)
    loss, grad, wnorm = _aligned(result, a["steps"])
    bad = np.flatnonzero(~(np.isfinite(loss) & np.isfinite(grad)))
    diverged_at = int(bad[0]) if bad.size else -1
    marks = _checkpoints(loss.size, a["points"])
    return {
        "loss": plain(loss),
        "grad_norm": plain(grad),
        "weight_norm": plain(wnorm),
        "layer_weight_norm": plain(result.weight_norm[loss.size - 1]),
        "diverged": diverged_at >= 0,
        "diverged_at": diverged_at,
        "final_loss": float(loss[-1]),
        "checkpoints": plain(marks),
        "loss_at": plain(loss[marks]),
        "grad_norm_at": plain(grad[marks]),
        "weight_norm_at": plain(wnorm[marks]),
        "diagnosis": _diagnosis(result, loss, diverged_at),
        "steps": a["steps"],
    }


_OPTIONAL_POSITIVE = Arg("number", None, low=1e-12, high=1e12)
_VALUES = Arg("numbers", low=-1e9, high=1e9)
_RATE = Arg("number", REQUIRED, low=0, high=1e6)


def _training_args() -> dict[str, Arg]:
    return {
        "depth": Arg("int", low=1, high=16),
        "width": Arg("int", low=1, high=64),
        "activation": Arg("option", options=sim.ACTIVATION_NAMES),
        "init": Arg("option", options=sim.INIT_NAMES),
        "std": Arg("number", None, low=0, high=100),
        "value": Arg("number", None, low=-100, high=100),
        "seed": Arg("int", REQUIRED, low=0, high=2**31),
        "batch": Arg("int", 32, low=1, high=128),
        "lr": _RATE,
        "steps": Arg("int", low=0, high=MAX_TRAIN_STEPS),
        "clip_norm": _OPTIONAL_POSITIVE,
        "clip_value": _OPTIONAL_POSITIVE,
        "l2": Arg("number", 0.0, low=0, high=1e3),
        "weight_decay": Arg("number", 0.0, low=0, high=1e3),
        "residual": Arg("flag", False),
        "batchnorm": Arg("flag", False),
        "dtype": Arg("option", "float64", options=sim.DTYPE_NAMES),
        "points": Arg("int", 11, low=2, high=50),
    }


MODELS: tuple[Model, ...] = (
    Model(
        "quadratic",
        "Gradient descent on L = a w^2 / 2: the iterates, the loss and the critical rate 2 / a.",
        {
            "a": Arg("number", low=1e-6, high=1e6),
            "w0": Arg("number", low=-1e6, high=1e6),
            "lr": _RATE,
            "steps": Arg("int", low=0, high=MAX_QUADRATIC_STEPS),
        },
        ("w", "loss", "critical_lr", "overflow_at", "steps"),
        _run_quadratic,
    ),
    Model(
        "clip",
        "A gradient vector clipped by global norm and by value at c (and per part, if split).",
        {
            "grad": _VALUES,
            "c": Arg("number", low=1e-12, high=1e12),
            "split": Arg("int", 0, low=0, high=MAX_VECTOR),
        },
        (
            "norm",
            "clipped",
            "by_norm",
            "by_value",
            "norm_by_norm",
            "norm_by_value",
            "scale",
            "cos_by_value",
            "angle_by_value",
            "angle_by_norm",
            "count_by_value",
            "l1_norm",
            "max_abs",
            "layer_norms",
            "by_layer",
        ),
        _run_clip,
    ),
    Model(
        "sgd_step",
        "SGD steps on weights w with a fixed data gradient, L2, weight decay and clipping.",
        {
            "w": _VALUES,
            "grad": _VALUES,
            "lr": _RATE,
            "l2": Arg("number", 0.0, low=0, high=1e3),
            "weight_decay": Arg("number", 0.0, low=0, high=1e3),
            "clip_norm": _OPTIONAL_POSITIVE,
            "clip_value": _OPTIONAL_POSITIVE,
            "steps": Arg("int", 1, low=1, high=MAX_SGD_STEPS),
        },
        ("w", "penalty", "total_grad", "clipped_grad", "grad_norm", "step", "path", "path_norm"),
        _run_sgd_step,
    ),
    Model(
        "loss_net",
        "One-unit layers on one example with L = (y - t)^2: forward values and all gradients.",
        {
            "x": Arg("number", low=-1e6, high=1e6),
            "target": Arg("number", low=-1e6, high=1e6),
            "weights": _VALUES,
            "biases": Arg("numbers", 0.0, low=-1e9, high=1e9),
            "activation": Arg("option", "sigmoid", options=sim.ACTIVATION_NAMES),
            "output": Arg("option", "linear", options=sim.ACTIVATION_NAMES),
        },
        ("z", "h", "y", "loss", "dloss", "grad_w", "grad_b", "grad_h", "grad_x", "depth"),
        _run_loss_net,
    ),
    Model(
        "training",
        "A short full-batch SGD run of a seeded network: loss curve, gradient norms, divergence.",
        _training_args(),
        (
            "loss",
            "grad_norm",
            "weight_norm",
            "layer_weight_norm",
            "diverged",
            "diverged_at",
            "final_loss",
            "checkpoints",
            "loss_at",
            "grad_norm_at",
            "weight_norm_at",
            "diagnosis",
            "steps",
        ),
        _run_training,
    ),
)
