"""Diagnosis of a network's gradients: vanishing, exploding or healthy, from where, and a fix.

The diagnosis reads the backward signal ``act_grad_norm`` (the norm of dL/dh_l), not the
weight-gradient norms: in a ReLU network with a badly scaled init the norms of dL/dW_l are
about equal in every layer (all huge or all tiny), because the forward activations and the
backward signal scale in opposite directions, while dL/dh_l shows the exponential trend.

Rule (deterministic): let ``r_l = act_grad_norm[l] / act_grad_norm[D]`` (each layer's
backward signal relative to the output layer's). If any ``r_l`` is inf or NaN, or the loss is,
the gradients exploded (overflow). Otherwise, if the largest ``r_l`` is at least
:data:`PROBLEM_FACTOR` (100) and outweighs the smallest in decades, they explode; if the
smallest is at most 1/100, they vanish; else the network is healthy. ``from_layer`` is the
layer nearest the output whose ``r_l`` is beyond :data:`ONSET_FACTOR` (10): the problem starts
there and grows toward the input.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from tutor.errors import SimulationError
from tutor.numfmt import format_number
from tutor.sim._arrays import quiet
from tutor.sim.activations import RELU_FAMILY, get_activation
from tutor.sim.builders import NetworkReport
from tutor.sim.initializers import init_std
from tutor.sim.train import TrainResult

PROBLEM_FACTOR = 100.0
"""How far (as a ratio) the input-side backward signal must drift from the output's."""

ONSET_FACTOR = 10.0
"""The drift that marks the layer where the problem starts."""

KINDS: tuple[str, ...] = ("vanishing", "exploding", "healthy")


@dataclass(frozen=True)
class Diagnosis:
    """``kind`` in :data:`KINDS`; ``from_layer`` (1-based) where the problem starts, or None;
    ``fix`` a short phrase; ``summary`` one line with the evidence."""

    kind: str
    from_layer: int | None
    fix: str
    summary: str


def diagnose(report: NetworkReport) -> Diagnosis:
    """Diagnose ``report`` by the rule in the module docstring."""
    g = np.asarray(report.act_grad_norm, dtype=np.float64)
    if g.ndim != 1 or g.size == 0:
        raise SimulationError(
            "diagnose needs the report of one network (act_grad_norm of shape (depth,))"
        )
    bad = ~np.isfinite(g)
    if bad.any() or not math.isfinite(report.loss):
        layer = int(np.flatnonzero(bad)[-1]) + 1 if bad.any() else len(g)
        return _overflow(report, layer)
    if g[-1] == 0:  # nothing reaches even the last layer (e.g. an underflowed loss gradient)
        fix = _fix(report, "vanishing")
        where = f"Vanishing gradients from layer {len(g)}: dL/dh is exactly 0 at the output"
        return Diagnosis("vanishing", len(g), fix, f"{where}; fix: {fix}.")
    with quiet():
        ratio = g / g[-1]
        low, high = float(np.log10(ratio.min())), float(np.log10(ratio.max()))
    floor = math.log10(PROBLEM_FACTOR)
    if high >= floor and high >= -low:
        return _problem(report, "exploding", ratio, high)
    if low <= -floor:
        return _problem(report, "vanishing", ratio, low)
    spread = 10 ** max(high, -low)
    layers = f"{len(g)} layer" + ("s" if len(g) > 1 else "")
    return Diagnosis(
        "healthy",
        None,
        "no fix needed",
        f"Healthy: the backward signal dL/dh stays within a factor of {spread:.2g} of the "
        f"output layer's across {layers}.",
    )


def diagnose_training(result: TrainResult) -> Diagnosis:
    """Diagnose a training run: exploding if the loss or gradient became inf or NaN, or the
    loss ended more than :data:`PROBLEM_FACTOR` times above where it started; else healthy.

    (A flat loss is not diagnosed: vanishing gradients and a tiny learning rate both give one,
    and only the per-layer picture tells them apart.)
    """
    fix = "lower the learning rate, or clip the gradient norm"
    first, last = float(result.loss[0]), float(result.loss[-1])
    if result.diverged_at is not None:
        summary = (
            f"Training diverged: the loss or gradient became inf or NaN at step "
            f"{result.diverged_at}; fix: {fix}."
        )
        return Diagnosis("exploding", None, fix, summary)
    if last > PROBLEM_FACTOR * first:
        grew = f"the loss grew from {format_number(first)} to {format_number(last)}"
        summary = f"Training blew up: {grew}; fix: {fix}."
        return Diagnosis("exploding", None, fix, summary)
    steps = len(result.loss) - 1
    summary = (
        f"Training stayed finite: the loss went from {format_number(first)} to "
        f"{format_number(last)} in {steps} steps."
    )
    return Diagnosis("healthy", None, "no fix needed", summary)


def backward_gain(weight_std: float, fan_out: int, mean_sq_derivative: float) -> float:
    """The variance gain sigma_w^2 * fan_out * E[f'(z)^2] of the backward signal per layer."""
    return weight_std**2 * fan_out * mean_sq_derivative


def gaussian_expectation(
    f: Callable[[np.ndarray], np.ndarray], std: float, *, mean: float = 0.0
) -> float:
    """E[f(z)] for z ~ N(mean, std^2), by the midpoint rule on a grid fine enough for any std.

    Gauss-Hermite quadrature would miss the narrow peak of tanh'(z)^2 once std is large (at
    std 11 with 80 nodes it is 30 times too small), so this integrates over [-10 std, 10 std]
    on cells at most 0.02 wide in z and 0.01 in standard units. The cell count is even, so
    z = mean is a cell edge and a step there (ReLU's derivative at 0) is integrated exactly.
    """
    if std == 0:
        return float(f(np.full(1, mean))[0])
    du = min(0.01, 0.02 / std)
    cells = 2 * math.ceil(10.0 / du)
    u = -10.0 + (np.arange(cells) + 0.5) * (20.0 / cells)
    weights = np.exp(-0.5 * u * u)
    return float(np.sum(weights * f(mean + std * u)) / np.sum(weights))


def expected_sq_derivative(activation: str, std: float, *, mean: float = 0.0) -> float:
    """E[f'(z)^2] for z ~ N(mean, std^2).

    With ReLU it is 1/2 for any std (half the units pass the gradient), with linear 1, with
    tanh and sigmoid it falls as std grows and units saturate.
    """
    act = get_activation(activation)
    return gaussian_expectation(lambda z: act.derivative(z) ** 2, std, mean=mean)


def _problem(report: NetworkReport, kind: str, ratio: np.ndarray, decades: float) -> Diagnosis:
    beyond = ratio < 1 / ONSET_FACTOR if kind == "vanishing" else ratio > ONSET_FACTOR
    onset = int(np.flatnonzero(beyond)[-1]) + 1
    fix = _fix(report, kind)
    depth = len(ratio)
    if kind == "vanishing" and ratio.min() == 0:
        zero = int(np.flatnonzero(ratio == 0)[-1]) + 1
        evidence = f"the backward signal dL/dh is exactly 0 from layer {zero} down"
    else:
        extreme = int(np.argmin(ratio) if kind == "vanishing" else np.argmax(ratio)) + 1
        verb = "falls" if kind == "vanishing" else "grows"
        per_layer = 10 ** (decades / max(depth - extreme, 1))
        evidence = (
            f"the backward signal dL/dh {verb} by a factor of "
            f"{format_number(10 ** abs(decades), 2)} from layer {depth} to layer {extreme} "
            f"(about ×{format_number(per_layer, 2)} per layer)"
        )
    summary = f"{kind.capitalize()} gradients from layer {onset}: {evidence}; fix: {fix}."
    return Diagnosis(kind, onset, fix, summary)


def _overflow(report: NetworkReport, layer: int) -> Diagnosis:
    fix = _fix(report, "exploding")
    what = "the loss" if not math.isfinite(report.loss) else f"dL/dh at layer {layer}"
    summary = (
        f"Exploding gradients from layer {layer}: {what} overflowed to inf or NaN; fix: {fix}."
    )
    return Diagnosis("exploding", layer, fix, summary)


def _fix(report: NetworkReport, kind: str) -> str:
    """The remedy that fits the cause: the weight scale first, then the architecture."""
    if report.init in ("zeros", "constant"):
        return "use a random init such as He or Xavier instead of a constant"
    scale = _scale_vs_recommended(report)
    recommended = "He" if report.activation in RELU_FAMILY else "Xavier"
    if kind == "vanishing":
        if scale < 0.5:
            return f"use {recommended} initialization (the weights are too small)"
        if report.activation == "sigmoid":
            return "switch to ReLU with He initialization, or add residual connections"
        return "add residual connections or batch normalization"
    if scale > 2.0 and not report.batchnorm:
        return f"use {recommended} initialization (the weights are too large)"
    if report.residual:
        return "scale down the residual branches (or use fewer blocks)"
    return "clip the gradient norm, or use fewer layers"


def _scale_vs_recommended(report: NetworkReport) -> float:
    """Mean over layers of sigma_w^2 / (the recommended init's variance), or 1 if unknown."""
    if not report.activation:
        return 1.0
    name = "he-normal" if report.activation in RELU_FAMILY else "xavier-normal"
    sizes = report.fan_in * report.fan_out
    with quiet():
        var = report.weight_norm**2 / sizes
        target = np.array(
            [
                init_std(name, int(a), int(b)) ** 2
                for a, b in zip(report.fan_in, report.fan_out, strict=True)
            ]
        )
        return float(np.mean(var / target))
