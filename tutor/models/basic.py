"""Models for activations, scalar chains and fully connected networks."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from tutor import sim
from tutor.models import (
    MAX_DEPTH,
    MAX_WIDTH,
    REQUIRED,
    Arg,
    Model,
    Results,
    exact_key,
    per_layer,
    per_layer_floats,
    plain,
    seeded_network,
)


def _run_activation(a: Mapping[str, Any]) -> dict[str, Any]:
    value, derivative = sim.scalar_functions(a["name"], slope=a["slope"])
    z = a["z"]
    if isinstance(z, tuple):
        return {"value": tuple(map(value, z)), "derivative": tuple(map(derivative, z))}
    return {"value": value(z), "derivative": derivative(z)}


def _run_chain(a: Mapping[str, Any]) -> Results:
    # A question draws its chains from a few choices, so a chain given one number per argument
    # recurs from variant to variant (per-layer lists, drawn at random, seldom do): such a chain
    # is kept, being a function of its arguments alone with read-only Results.
    key = tuple(a[name] for name in _CHAIN_ARGS)
    if any(type(value) is tuple for value in key):
        return _chain(a)
    key = tuple(map(exact_key, key))
    found = _CHAINS.get(key)
    if found is None:
        found = _CHAINS.keep(key, _chain(a), a["depth"])
    return found


class _LayerBoundedCache(dict[tuple[Any, ...], Results]):
    """Recent chains, the oldest dropped once their layers add up to more than ``budget``."""

    def __init__(self, budget: int) -> None:
        super().__init__()
        self._budget = budget
        self._layers: dict[tuple[Any, ...], int] = {}
        self._total = 0

    def keep(self, key: tuple[Any, ...], results: Results, layers: int) -> Results:
        self[key], self._layers[key] = results, layers
        self._total += layers
        while self._total > self._budget and len(self) > 1:
            oldest = next(iter(self))
            del self[oldest]
            self._total -= self._layers.pop(oldest)
        return results


_CHAIN_ARGS = ("depth", "activation", "weight", "z", "x", "bias")
# Seven results of up to 40 bytes per layer once read: 20,000 layers is at most about 6 MB.
_CHAINS = _LayerBoundedCache(budget=20_000)


def _chain(a: Mapping[str, Any]) -> Results:
    # Python floats beat NumPy's per-call cost on short chains, the usual question's size.
    short = a["depth"] <= sim.SCALAR_DEPTH
    layered, forward, backward = _chain_steps(short)
    depth, activation = a["depth"], a["activation"]
    weights = layered(a["weight"], depth, "weight")
    result: dict[str, Any] = {"depth": depth}
    if a["x"] is None:
        preacts = layered(a["z"], depth, "z")
    else:
        biases = layered(a["bias"], depth, "bias")
        preacts, result["h"] = forward(a["x"], weights, biases, activation)  # (z, h)
    grad = backward(weights, preacts, activation)
    result.update(grad._asdict(), z=preacts, weight=weights)
    return Results(result, already_plain=short)  # a short chain is Python floats already


def _chain_steps(short: bool) -> tuple[Callable[..., Any], Callable[..., Any], Callable[..., Any]]:
    """How a chain's layers are held, run forward and run backward: Python floats, or NumPy
    (looked up only here, so that a module loads, and NumPy with it, when first needed)."""
    if short:
        return per_layer_floats, sim.chain_forward_scalar, sim.chain_backward_scalar
    return per_layer, sim.chain_forward, sim.chain_backward


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
        numpy=False,
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
        numpy=False,  # a long chain runs NumPy code that silences its own warnings
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
            "value": Arg("number", None, low=-100, high=100),
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
