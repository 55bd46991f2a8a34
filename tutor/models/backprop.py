"""Models for backpropagation through scalar chains: every partial derivative, any activation.

``backprop_chain`` runs a chain of one-unit layers forward from an input ``x`` and backward with
the engine's fully connected network (1 x 1 weight matrices), so a question can ask for the
gradient of any weight or bias, not only for dh_N/dh_0. ``activation_chain`` is the ``chain``
model with the activation's own parameters (leaky ReLU's slope, ELU's alpha) for chains whose
pre-activations are given.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from tutor import sim
from tutor.models import MAX_DEPTH, Arg, Model, per_layer, plain

MAX_NET_DEPTH = 50
"""A scalar network is for working by hand: a few layers, at most this many."""


def _run_backprop_chain(a: Mapping[str, Any]) -> dict[str, Any]:
    depth, name = a["depth"], a["activation"]
    weights = per_layer(a["weight"], depth, "weight")
    biases = per_layer(a["bias"], depth, "bias")
    params = {"slope": a["slope"], "alpha": a["alpha"]}
    out, cache = sim.mlp_forward(
        np.array([[a["x"]]]),
        [np.array([[w]]) for w in weights],
        [np.array([b]) for b in biases],
        name,
        **params,
    )
    grads = sim.mlp_backward(np.ones_like(out), cache)  # L = h_N, so dL/dh_N = 1
    z = np.array([p[0, 0] for p in cache.preacts])
    h = np.array([p[0, 0] for p in cache.hidden])
    chain = sim.chain_backward(weights, z, name, **params)
    result: dict[str, Any] = plain(chain)
    result.update(
        z=plain(z),
        h=plain(h),
        h_in=plain(np.concatenate(([a["x"]], h[:-1]))),
        weight=plain(weights),
        bias=plain(biases),
        depth=depth,
        output=float(h[-1]),
        weight_grad=plain(np.array([g[0, 0] for g in grads.weights])),
        bias_grad=plain(np.array([g[0] for g in grads.biases])),
        preact_grad=plain(np.array([g[0, 0] for g in grads.preacts])),
        act_grad=plain(np.array([grads.x[0, 0], *(g[0, 0] for g in grads.hidden[:-1])])),
        input_grad=float(grads.x[0, 0]),
    )
    return result


def _run_activation_chain(a: Mapping[str, Any]) -> dict[str, Any]:
    depth, name = a["depth"], a["activation"]
    weights = per_layer(a["weight"], depth, "weight")
    preacts = per_layer(a["z"], depth, "z")
    act = sim.get_activation(name, slope=a["slope"], alpha=a["alpha"])
    result: dict[str, Any] = plain(
        sim.chain_backward(weights, preacts, name, slope=a["slope"], alpha=a["alpha"])
    )
    result.update(
        z=plain(preacts), weight=plain(weights), depth=depth, value=plain(act.value(preacts))
    )
    return result


_ACTIVATION = Arg("option", options=sim.ACTIVATION_NAMES)
_SLOPE = Arg("number", 0.01, low=0, high=1)
_ALPHA = Arg("number", 1.0, low=0.01, high=10)

MODELS: tuple[Model, ...] = (
    Model(
        "backprop_chain",
        "A chain of one-unit layers run forward from x, then backward: dh_N/d(every w, b, h).",
        {
            "depth": Arg("int", low=1, high=MAX_NET_DEPTH),
            "activation": _ACTIVATION,
            "weight": Arg("numbers"),
            "bias": Arg("numbers", 0.0),
            "x": Arg("number"),
            "slope": _SLOPE,
            "alpha": _ALPHA,
        },
        (
            "z",
            "h",
            "h_in",
            "fprime",
            "factors",
            "to_input",
            "cumulative",
            "grad",
            "weight",
            "bias",
            "depth",
            "output",
            "weight_grad",
            "bias_grad",
            "preact_grad",
            "act_grad",
            "input_grad",
        ),
        _run_backprop_chain,
    ),
    Model(
        "activation_chain",
        "The chain model with leaky ReLU's slope and ELU's alpha: given z, the factors.",
        {
            "depth": Arg("int", low=1, high=MAX_DEPTH),
            "activation": _ACTIVATION,
            "weight": Arg("numbers", 1.0),
            "z": Arg("numbers", 0.0),
            "slope": _SLOPE,
            "alpha": _ALPHA,
        },
        ("z", "value", "fprime", "factors", "to_input", "cumulative", "grad", "weight", "depth"),
        _run_activation_chain,
    ),
)
