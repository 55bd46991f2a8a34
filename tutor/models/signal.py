"""Models for keeping signals in range: initialization, batch norm, skip paths and the gain.

``init_stats`` gives a scheme's closed-form scale with an empirical check from a seeded draw;
``batch_norm`` normalizes one unit's small batch by hand-checkable steps; ``propagation`` runs
a seeded wide network and adds the ratios a learner compares (measured against predicted
backward growth); ``gain`` is the mean-field gain sigma_w^2 * n * E[f'(z)^2] for pre-activations
z ~ N(0, q^2); ``residual_chain`` is the scalar chain with an identity path around every layer.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from tutor import sim
from tutor.errors import SimulationError
from tutor.models import MAX_WIDTH, Arg, Model, per_layer, plain, seeded_network
from tutor.sim._arrays import FloatArray, quiet

MAX_FAN = 4096
MAX_WEIGHTS = 1 << 20
"""A seeded draw holds at most this many weights (fan_in * fan_out)."""

MAX_BATCH = 64
"""A batch normalized by hand has at most this many values."""

MAX_PRE_STD = 50.0
"""Largest pre-activation std the ``gain`` quadrature accepts."""

MAX_CHAIN = 50
"""A residual chain is for working by hand: at most this many blocks."""

_SCHEMES = tuple(n for n in sim.INIT_NAMES if n != "constant")
_UNIFORM = ("uniform", "xavier-uniform", "he-uniform")


def _run_init_stats(a: Mapping[str, Any]) -> dict[str, Any]:
    name, fan_in, fan_out = a["scheme"], a["fan_in"], a["fan_out"]
    if fan_in * fan_out > MAX_WEIGHTS:
        raise SimulationError(f"model 'init_stats': fan_in * fan_out is above {MAX_WEIGHTS}")
    scale = {"gain": a["gain"], "std": a["std"]}
    std = sim.init_std(name, fan_in, fan_out, **scale)
    limit = (
        sim.uniform_limit(name, fan_in, fan_out, **scale)
        if name in _UNIFORM
        else sim.uniform_limit("uniform", fan_in, fan_out, std=std)
    )
    rng = np.random.default_rng(a["seed"])
    w = sim.init_weights(name, fan_in, fan_out, rng, **scale)
    return {
        "std": std,
        "variance": std * std,
        "limit": limit,
        "sample_std": float(np.std(w)),
        "sample_mean": float(np.mean(w)),
        "sample_max": float(np.max(np.abs(w))),
        "count": fan_in * fan_out,
        "fan_in": fan_in,
        "fan_out": fan_out,
    }


def _run_batch_norm(a: Mapping[str, Any]) -> dict[str, Any]:
    z = _batch(a["z"], "z")
    if a["eps"] == 0 and np.ptp(z) == 0:
        raise SimulationError("a batch of equal values has variance 0: it needs eps > 0")
    out, cache = sim.batchnorm_forward(
        z[:, None], np.array([a["gamma"]]), np.array([a["beta"]]), a["eps"]
    )
    xhat = cache.xhat[:, 0]
    scale = 1.0 / float(cache.inv_std[0, 0])  # sqrt(var + eps), as the engine divided by it
    centred = xhat * scale
    result: dict[str, Any] = {
        "size": int(z.size),
        "mean": float(np.mean(z - centred)),
        "var": scale * scale - a["eps"],
        "std": scale,
        "inv_std": 1.0 / scale,
        "centred": plain(centred),
        "xhat": plain(xhat),
        "out": plain(out[:, 0]),
    }
    if a["dout"] is not None:
        dout = _batch(a["dout"], "dout")
        if dout.size != z.size:
            raise SimulationError("model 'batch_norm': dout needs one value per element of z")
        dz, dgamma, dbeta = sim.batchnorm_backward(dout[:, None], cache)
        result.update(dz=plain(dz[:, 0]), dgamma=float(dgamma[0]), dbeta=float(dbeta[0]))
    return result


def _batch(values: Any, what: str) -> FloatArray:
    """A list of 2 to MAX_BATCH numbers as a float array."""
    array = np.atleast_1d(np.asarray(values, dtype=float))
    if not 2 <= array.size <= MAX_BATCH:
        raise SimulationError(f"model 'batch_norm': {what} needs 2 to {MAX_BATCH} values")
    return array


def _run_propagation(a: Mapping[str, Any]) -> dict[str, Any]:
    report = seeded_network(a, "std", "batch", "residual", "batchnorm", "loss")
    result: dict[str, Any] = plain(report)
    result.pop("settings")
    result.update(_signal_extras(report))
    result["diagnosis"] = plain(sim.diagnose(report))
    result["depth"] = a["depth"]
    return result


def _signal_extras(report: sim.NetworkReport) -> dict[str, Any]:
    """Ratios over the layers: measured backward growth beside the gain's prediction.

    Going from dL/dh_D down to dL/dh_1 crosses layers D, ..., 2, so the prediction is the
    square root of the product of their variance gains (layer 1's gain acts on dL/dh_0).
    """
    g, gain = report.act_grad_norm, report.backward_gain
    with quiet():
        return {
            "relative_signal": plain(g / g[-1]),
            "measured_ratio": float(g[0] / g[-1]),
            "predicted_ratio": float(np.sqrt(np.prod(gain[1:]))),
            "norm_factor": plain(np.sqrt(gain)),
            "relative_std": plain(report.activation_std / report.activation_std[0]),
            "weight_std": plain(report.weight_norm / np.sqrt(report.fan_in * report.fan_out)),
            "unsaturated": plain(1.0 - report.saturation),
        }


def _run_gain(a: Mapping[str, Any]) -> dict[str, Any]:
    act = sim.get_activation(a["activation"], slope=a["slope"])
    q, width, std = a["preact_std"], a["width"], a["std"]
    msd = sim.gaussian_expectation(lambda z: _square(act.derivative(z)), q)
    gain = sim.backward_gain(std, width, msd)
    mean_sq_value = sim.gaussian_expectation(lambda z: _square(act.value(z)), q)
    return {
        "mean_sq_derivative": msd,
        "mean_derivative": sim.gaussian_expectation(act.derivative, q),
        "gain": gain,
        "norm_factor": math.sqrt(gain),
        "critical_std": 1.0 / math.sqrt(width * msd) if msd > 0 else math.inf,
        "mean_sq_value": mean_sq_value,
        "next_preact_var": std * std * width * mean_sq_value,
    }


def _square(x: FloatArray) -> FloatArray:
    return x * x


def _run_residual_chain(a: Mapping[str, Any]) -> dict[str, Any]:
    depth, name, slope = a["depth"], a["activation"], a["slope"]
    weights = per_layer(a["weight"], depth, "weight")
    preacts = per_layer(a["z"], depth, "z")
    plain_chain = sim.chain_backward(weights, preacts, name, slope=slope)
    grads = sim.mlp_backward(np.ones((1, 1)), _scalar_cache(weights, preacts, name, slope))
    to_input = [grads.x[0, 0], *(h[0, 0] for h in grads.hidden[:-1])]
    block = 1.0 + plain_chain.factors
    return {
        "z": plain(preacts),
        "weight": plain(weights),
        "depth": depth,
        "fprime": plain(plain_chain.fprime),
        "branch": plain(plain_chain.factors),
        "block": plain(block),
        "to_input": plain(np.array(to_input)),
        "cumulative": plain(np.cumprod(block)),
        "grad": float(grads.x[0, 0]),
        "plain_cumulative": plain(plain_chain.cumulative),
        "plain_grad": float(plain_chain.grad),
    }


def _scalar_cache(
    weights: FloatArray, preacts: FloatArray, name: str, slope: float
) -> sim.MLPCache:
    """A one-unit residual network's cache with the given pre-activations, for the backward
    pass (the hidden values only feed dL/dW, which this model does not report)."""
    one = np.zeros((1, 1))
    act = sim.get_activation(name, slope=slope)
    return sim.MLPCache(
        x=one,
        weights=tuple(np.array([[w]]) for w in weights),
        biases=(),
        gammas=(),
        activations=(act,) * len(weights),
        residual=True,
        preacts=tuple(np.array([[z]]) for z in preacts),
        hidden=tuple(np.zeros((1, 1)) for _ in weights),
        bn=(),
    )


_ACTIVATION = Arg("option", options=sim.ACTIVATION_NAMES)
_SLOPE = Arg("number", 0.01, low=0, high=1)

MODELS: tuple[Model, ...] = (
    Model(
        "init_stats",
        "An init scheme's std, variance and uniform bound, with a seeded draw's sample std.",
        {
            "scheme": Arg("option", options=_SCHEMES),
            "fan_in": Arg("int", low=1, high=MAX_FAN),
            "fan_out": Arg("int", low=1, high=MAX_FAN),
            "std": Arg("number", None, low=0, high=100),
            "gain": Arg("number", 1.0, low=0, high=10),
            "seed": Arg("int", low=0, high=2**31),
        },
        (
            "std",
            "variance",
            "limit",
            "sample_std",
            "sample_mean",
            "sample_max",
            "count",
            "fan_in",
            "fan_out",
        ),
        _run_init_stats,
    ),
    Model(
        "batch_norm",
        "Training-mode batch norm of one unit's batch z: mean, 1/m variance, x-hat, output.",
        {
            "z": Arg("numbers"),
            "gamma": Arg("number", 1.0, low=-100, high=100),
            "beta": Arg("number", 0.0, low=-100, high=100),
            "eps": Arg("number", 1e-5, low=0, high=1),
            "dout": Arg("numbers", None),
        },
        (
            "size",
            "mean",
            "var",
            "std",
            "inv_std",
            "centred",
            "xhat",
            "out",
            "dz",
            "dgamma",
            "dbeta",
        ),
        _run_batch_norm,
    ),
    Model(
        "propagation",
        "A seeded network's per-layer signal: the network model plus measured vs predicted growth.",
        {
            "depth": Arg("int", low=1, high=100),
            "width": Arg("int", low=1, high=min(MAX_WIDTH, 512)),
            "activation": _ACTIVATION,
            "init": Arg("option", options=sim.INIT_NAMES),
            "std": Arg("number", None, low=0, high=100),
            "value": Arg("number", None, low=-100, high=100),
            "seed": Arg("int", low=0, high=2**31),
            "batch": Arg("int", 64, low=2, high=256),
            "residual": Arg("flag", False),
            "batchnorm": Arg("flag", False),
            "loss": Arg("option", "mean", options=sim.LOSS_NAMES),
        },
        (
            "grad_norm",
            "act_grad_norm",
            "weight_norm",
            "relative_grad",
            "activation_std",
            "preact_mean",
            "preact_std",
            "saturation",
            "unsaturated",
            "mean_sq_derivative",
            "backward_gain",
            "norm_factor",
            "relative_signal",
            "measured_ratio",
            "predicted_ratio",
            "relative_std",
            "weight_std",
            "fan_in",
            "fan_out",
            "loss",
            "diagnosis",
            "depth",
        ),
        _run_propagation,
    ),
    Model(
        "gain",
        "The backward gain sigma_w^2 n E[f'(z)^2] for z ~ N(0, preact_std^2), and its parts.",
        {
            "activation": _ACTIVATION,
            "std": Arg("number", low=0, high=100),
            "width": Arg("int", low=1, high=1 << 16),
            "preact_std": Arg("number", 1.0, low=0, high=MAX_PRE_STD),
            "slope": _SLOPE,
        },
        (
            "mean_sq_derivative",
            "mean_derivative",
            "gain",
            "norm_factor",
            "critical_std",
            "mean_sq_value",
            "next_preact_var",
        ),
        _run_gain,
    ),
    Model(
        "residual_chain",
        "A scalar chain with a skip path per layer, h_l = h_(l-1) + f(z_l): factors 1 + w f'(z).",
        {
            "depth": Arg("int", low=1, high=MAX_CHAIN),
            "activation": _ACTIVATION,
            "weight": Arg("numbers", 1.0),
            "z": Arg("numbers", 0.0),
            "slope": _SLOPE,
        },
        (
            "z",
            "weight",
            "depth",
            "fprime",
            "branch",
            "block",
            "to_input",
            "cumulative",
            "grad",
            "plain_cumulative",
            "plain_grad",
        ),
        _run_residual_chain,
    ),
)
