"""Models for diagnosis and remedies: the per-layer picture a learner reads, and the fixes.

``diagnosis_net`` is the ``network`` model with what a diagnosis question needs on top: each
layer's backward signal and weight gradient relative to the output layer's, how far the draw is
from the diagnosis rule's thresholds (so a question can skip borderline draws), an init
``gain``, and optional clipping. ``diagnosis_training`` trains the same network and reports
its loss curve together with the per-layer picture at the start. ``remedy_chain`` compares a
scalar chain with and without skip connections; ``remedy_clip`` clips one gradient.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from tutor import sim
from tutor.models import (
    MAX_WIDTH,
    REQUIRED,
    Arg,
    Model,
    check_work,
    constant_value,
    per_layer,
    plain,
    seeded_network,
    seeded_training,
    training_work,
)

MAX_NET_DEPTH = 100
MAX_TRAIN_DEPTH = 30
MAX_TRAIN_WIDTH = 128
MAX_TRAIN_STEPS = 200


def _ratios(values: NDArray[np.float64]) -> NDArray[np.float64]:
    """Each layer's value relative to the output layer's (the last)."""
    with np.errstate(all="ignore"):
        return np.asarray(values / values[-1])


def _decades(ratio: float) -> float:
    return math.log10(ratio) if ratio > 0 and math.isfinite(ratio) else math.nan


def _margins(signal: NDArray[np.float64]) -> tuple[float, float]:
    """How far (in decades) the draw is from the diagnosis rule's thresholds: the closest
    layer's distance from the onset factor, and the extremes' distance from the problem
    factor. NaN when the signal is not finite (then the rule reads overflow, not a trend)."""
    with np.errstate(all="ignore"):
        logs = np.log10(signal)
    if not np.all(np.isfinite(logs)):
        return math.nan, math.nan
    from tutor.sim.diagnosis import ONSET_FACTOR, PROBLEM_FACTOR  # with the engine, on use

    onset = float(np.min(np.abs(np.abs(logs) - math.log10(ONSET_FACTOR))))
    floor = math.log10(PROBLEM_FACTOR)
    problem = min(abs(float(logs.max()) - floor), abs(-float(logs.min()) - floor))
    return onset, problem


def picture(report: sim.NetworkReport) -> dict[str, Any]:
    """The per-layer lists, derived ratios and the engine's diagnosis of one network."""
    diagnosis = sim.diagnose(report)
    depth = report.depth
    signal, grads = _ratios(report.act_grad_norm), _ratios(report.grad_norm)
    onset, problem = _margins(signal)
    first = float(signal[0])
    per_layer_factor = first ** (1.0 / (depth - 1)) if depth > 1 and first > 0 else math.nan
    return {
        "grad_norm": plain(report.grad_norm),
        "act_grad_norm": plain(report.act_grad_norm),
        "weight_norm": plain(report.weight_norm),
        "relative_grad": plain(report.relative_grad),
        "activation_std": plain(report.activation_std),
        "preact_std": plain(report.preact_std),
        "saturation": plain(report.saturation),
        "backward_gain": plain(report.backward_gain),
        "loss": report.loss,
        "depth": depth,
        "layers": tuple(range(1, depth + 1)),
        "signal_ratio": plain(signal),
        "grad_ratio": plain(grads),
        "signal_decades": _decades(first),
        "grad_decades": _decades(float(grads[0])),
        "per_layer_factor": per_layer_factor,
        "onset_margin": onset,
        "problem_margin": problem,
        "kind": diagnosis.kind,
        "from_layer": diagnosis.from_layer or 0,
        "fix": diagnosis.fix,
        "summary": diagnosis.summary,
    }


def _clipped(a: Mapping[str, Any]) -> dict[str, Any]:
    """Rebuild the seeded network's arrays (the draws of simulate_network: weights, input,
    then the mse target), take every parameter gradient and clip them by their global norm at
    ``a["clip"]`` with the engine's clip_by_global_norm."""
    net, rng = sim.seeded_arrays(
        a["depth"],
        a["width"],
        a["init"],
        seed=a["seed"],
        std=a["std"],
        gain=a["gain"],
        batch=a["batch"],
        **constant_value(a),
    )
    target = rng.standard_normal(net.x.shape) if a["loss"] == "mse" else None
    result = sim.network_gradients(
        net.x,
        net.weights,
        net.biases,
        a["activation"],
        loss=a["loss"],
        target=target,
        residual=a["residual"],
        batchnorm=a["batchnorm"],
    )
    grads = [*result.grads.weights, *result.grads.biases]
    norm = sim.global_norm(grads)
    c = a["clip"] if a["clip"] is not None else a["clip_fraction"] * norm
    clipped, _ = sim.clip_by_global_norm(grads, c)
    depth = len(result.grads.weights)
    layer_norms = np.array([sim.global_norm([g]) for g in clipped[:depth]])
    return {
        "global_norm": norm,
        "clip_at": c,
        "clip_scale": min(1.0, c / norm) if norm > 0 else 1.0,
        "clipped_grad_norm": plain(layer_norms),
        "clipped_grad_ratio": plain(_ratios(layer_norms)),
    }


def _run_net(a: Mapping[str, Any]) -> dict[str, Any]:
    report = seeded_network(a, "std", "gain", "batch", "residual", "batchnorm", "loss")
    result = picture(report)
    if a["clip"] is not None or a["clip_fraction"] is not None:
        result.update(_clipped(a))
    return result


def _start_report(a: Mapping[str, Any]) -> sim.NetworkReport:
    """The per-layer picture of the network ``simulate_training`` trains, before step 1:
    the same draws (weights, input, then the teacher) and the same mse loss."""
    net, rng = sim.seeded_arrays(
        a["depth"], a["width"], a["init"], seed=a["seed"], std=a["std"], batch=a["batch"],
        **constant_value(a),
    )  # fmt: skip
    x, y = sim.regression_task(a["width"], a["batch"], rng, net.x)
    result = sim.network_gradients(
        x, net.weights, net.biases, a["activation"], loss="mse", target=y
    )
    stats = sim.layer_stats(result)
    return sim.NetworkReport(
        **vars(stats), loss=float(result.loss), activation=a["activation"], init=a["init"]
    )


def _run_training(a: Mapping[str, Any]) -> dict[str, Any]:
    check_work(training_work(a), "steps, depth, width or batch")
    config = sim.SGDConfig(lr=a["lr"], steps=a["steps"], clip_norm=a["clip"])
    run = seeded_training(a, config, "std", "batch")
    finite = run.loss[np.isfinite(run.loss)]
    diagnosis = sim.diagnose_training(run)
    first, last = float(finite[0]), float(finite[-1])
    return {
        "loss": plain(finite),
        "step": tuple(range(len(finite))),
        "grad_norm": plain(run.grad_norm[np.isfinite(run.grad_norm)]),
        "diverged": run.diverged_at is not None,
        "diverged_at": -1 if run.diverged_at is None else run.diverged_at,
        "loss_first": first,
        "loss_last": last,
        "loss_drop": (first - last) / first if first > 0 else 0.0,
        "kind": diagnosis.kind,
        "fix": diagnosis.fix,
        "summary": diagnosis.summary,
        "start": picture(_start_report(a)),
    }


def _residual_biases(
    weights: NDArray[np.float64], z: NDArray[np.float64], activation: str
) -> NDArray[np.float64]:
    """Biases that put the residual chain h_l = h_{l-1} + f(w_l h_{l-1} + b_l), started at
    h_0 = 0, at exactly the pre-activations ``z``."""
    act = sim.get_activation(activation)
    h, biases = 0.0, []
    for w, target in zip(weights, z, strict=True):
        biases.append(target - w * h)
        h = h + float(act.value(np.asarray(target)))
    return np.asarray(biases)


def _run_chain(a: Mapping[str, Any]) -> dict[str, Any]:
    depth = a["depth"]
    weights, z = per_layer(a["weight"], depth, "weight"), per_layer(a["z"], depth, "z")
    plain_grad = sim.chain_backward(weights, z, a["activation"])
    biases = _residual_biases(weights, z, a["activation"])
    result = sim.network_gradients(
        np.zeros((1, 1)),
        [np.array([[w]]) for w in weights],
        [np.array([b]) for b in biases],
        a["activation"],
        residual=True,
    )
    to_input = [float(g[0, 0]) for g in result.grads.hidden]
    return {
        "z": plain(z),
        "weight": plain(weights),
        "fprime": plain(plain_grad.fprime),
        "factors": plain(plain_grad.factors),
        "grad": float(plain_grad.grad),
        "residual_factors": plain(1.0 + np.asarray(plain_grad.factors)),
        "residual_grad": float(result.grads.x[0, 0]),
        "residual_to_output": tuple(to_input),
        "depth": depth,
    }


def _run_clip(a: Mapping[str, Any]) -> dict[str, Any]:
    grads: Sequence[float] = a["grads"]
    vector = [np.asarray(grads, dtype=float)]
    (by_norm,), norm = sim.clip_by_global_norm(vector, a["clip"])
    (by_value,), _ = sim.clip_by_value(vector, a["clip"])
    clipped = sim.global_norm([by_norm])
    return {
        "norm": norm,
        "clipped": plain(by_norm),
        "clipped_norm": clipped,
        "scale": clipped / norm if norm > 0 else 1.0,
        "by_value": plain(by_value),
        "by_value_norm": sim.global_norm([by_value]),
        "step_norm": a["lr"] * clipped,
        "unclipped_step_norm": a["lr"] * norm,
    }


_ACTIVATION = Arg("option", options=sim.ACTIVATION_NAMES)
_INIT = Arg("option", options=sim.INIT_NAMES)
_STD = Arg("number", None, low=0, high=100)
_VALUE = Arg("number", None, low=-100, high=100)  # init constant only
_GAIN = Arg("number", 1.0, low=0, high=100)
_SEED = Arg("int", REQUIRED, low=0, high=2**31)
_PICTURE = (
    "grad_norm",
    "act_grad_norm",
    "weight_norm",
    "relative_grad",
    "activation_std",
    "preact_std",
    "saturation",
    "backward_gain",
    "loss",
    "depth",
    "layers",
    "signal_ratio",
    "grad_ratio",
    "signal_decades",
    "grad_decades",
    "per_layer_factor",
    "onset_margin",
    "problem_margin",
    "kind",
    "from_layer",
    "fix",
    "summary",
)

MODELS: tuple[Model, ...] = (
    Model(
        "diagnosis_net",
        "A seeded network's per-layer picture, ratios to the output layer, and its diagnosis.",
        {
            "depth": Arg("int", low=2, high=MAX_NET_DEPTH),
            "width": Arg("int", 64, low=1, high=MAX_WIDTH),
            "activation": _ACTIVATION,
            "init": _INIT,
            "std": _STD,
            "value": _VALUE,
            "gain": _GAIN,
            "seed": _SEED,
            "batch": Arg("int", 64, low=1, high=256),
            "residual": Arg("flag", False),
            "batchnorm": Arg("flag", False),
            "loss": Arg("option", "mean", options=("mean", "mse")),
            "clip": Arg("number", None, low=1e-12, high=1e12),
            "clip_fraction": Arg("number", None, low=1e-6, high=1),
        },
        (
            *_PICTURE,
            "global_norm",
            "clip_at",
            "clip_scale",
            "clipped_grad_norm",
            "clipped_grad_ratio",
        ),
        _run_net,
    ),
    Model(
        "diagnosis_training",
        "Train a seeded network with SGD: its loss curve, the engine's verdict, and the "
        "per-layer picture at the start.",
        {
            "depth": Arg("int", low=2, high=MAX_TRAIN_DEPTH),
            "width": Arg("int", 32, low=1, high=MAX_TRAIN_WIDTH),
            "activation": _ACTIVATION,
            "init": _INIT,
            "std": _STD,
            "value": _VALUE,
            "seed": _SEED,
            "batch": Arg("int", 64, low=1, high=256),
            "lr": Arg("number", low=0, high=1000),
            "steps": Arg("int", 40, low=1, high=MAX_TRAIN_STEPS),
            "clip": Arg("number", None, low=1e-12, high=1e12),
        },
        (
            "loss",
            "step",
            "grad_norm",
            "diverged",
            "diverged_at",
            "loss_first",
            "loss_last",
            "loss_drop",
            "kind",
            "fix",
            "summary",
            "start",
        ),
        _run_training,
    ),
    Model(
        "remedy_chain",
        "A scalar chain with given weights and pre-activations, plain and with skip connections.",
        {
            "depth": Arg("int", low=1, high=MAX_NET_DEPTH),
            "activation": _ACTIVATION,
            "weight": Arg("numbers", 1.0),
            "z": Arg("numbers", 0.0),
        },
        (
            "z",
            "weight",
            "fprime",
            "factors",
            "grad",
            "residual_factors",
            "residual_grad",
            "residual_to_output",
            "depth",
        ),
        _run_chain,
    ),
    Model(
        "remedy_clip",
        "One gradient vector clipped by its norm and by value at c, and the SGD step length.",
        {
            "grads": Arg("numbers"),
            "clip": Arg("number", low=1e-12, high=1e12),
            "lr": Arg("number", 1.0, low=0, high=1000),
        },
        (
            "norm",
            "clipped",
            "clipped_norm",
            "scale",
            "by_value",
            "by_value_norm",
            "step_norm",
            "unclipped_step_norm",
        ),
        _run_clip,
    ),
)
