"""Models for activations, scalar chains and fully connected networks."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from tutor import sim
from tutor.models import (
    MAX_DEPTH,
    MAX_WIDTH,
    REQUIRED,
    Arg,
    Model,
    Results,
    per_layer,
    plain,
    seeded_network,
)


def _run_activation(a: Mapping[str, Any]) -> dict[str, Any]:
    act = sim.get_activation(a["name"], slope=a["slope"])
    z = np.asarray(a["z"], dtype=float)
    return {"value": plain(act.value(z)), "derivative": plain(act.derivative(z))}


def _run_chain(a: Mapping[str, Any]) -> Results:
    depth = a["depth"]
    weights = per_layer(a["weight"], depth, "weight")
    if a["x"] is not None:
        forward = sim.chain_forward(
            a["x"], weights, per_layer(a["bias"], depth, "bias"), a["activation"]
        )
        preacts, outputs = forward.z, forward.h
    else:
        preacts, outputs = per_layer(a["z"], depth, "z"), None
    grad = sim.chain_backward(weights, preacts, a["activation"])
    result = {**grad._asdict(), "z": preacts, "weight": weights, "depth": depth}
    if outputs is not None:
        result["h"] = outputs
    return Results(result)


def _run_network(a: Mapping[str, Any]) -> dict[str, Any]:
    report = seeded_network(a, "std", "batch", "residual", "batchnorm", "loss", "dtype")
    result: dict[str, Any] = plain(report)
    result["diagnosis"] = plain(sim.diagnose(report))
    result["depth"] = a["depth"]
    return result


_DEPTH = Arg("int", low=1, high=MAX_DEPTH)
_ACTIVATION = Arg("option", options=sim.ACTIVATION_NAMES)

MODELS: tuple[Model, ...] = (
    Model(
        "activation",
        "An activation's value and derivative at z (a number or a list).",
        {"name": _ACTIVATION, "z": Arg("numbers"), "slope": Arg("number", 0.01, low=0, high=1)},
        ("value", "derivative"),
        _run_activation,
    ),
    Model(
        "chain",
        "A chain of scalar units h_l = f(w_l h_{l-1} + b_l): per-layer factors and gradient.",
        {
            "depth": _DEPTH,
            "activation": _ACTIVATION,
            "weight": Arg("numbers", 1.0),
            "z": Arg("numbers", 0.0),
            "x": Arg("number", None),
            "bias": Arg("numbers", 0.0),
        },
        ("z", "fprime", "factors", "to_input", "cumulative", "grad", "weight", "h", "depth"),
        _run_chain,
    ),
    Model(
        "network",
        "A fully connected network: per-layer gradient norms, statistics and a diagnosis.",
        {
            "depth": Arg("int", low=1, high=200),
            "width": Arg("int", low=1, high=MAX_WIDTH),
            "activation": _ACTIVATION,
            "init": Arg("option", options=sim.INIT_NAMES),
            "std": Arg("number", None, low=0, high=100),
            "seed": Arg("int", REQUIRED, low=0, high=2**31),
            "batch": Arg("int", 64, low=1, high=1024),
            "residual": Arg("flag", False),
            "batchnorm": Arg("flag", False),
            "loss": Arg("option", "mean", options=("mean", "mse")),
            "dtype": Arg("option", "float64", options=("float16", "float32", "float64")),
        },
        (
            "grad_norm",
            "act_grad_norm",
            "weight_norm",
            "activation_std",
            "preact_mean",
            "preact_std",
            "saturation",
            "relative_grad",
            "loss",
            "diagnosis",
            "depth",
        ),
        _run_network,
    ),
)
