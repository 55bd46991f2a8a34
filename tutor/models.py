"""The simulation models a bank can run: named arguments in, named results out.

Each model is a thin adapter over :mod:`tutor.sim`, the answer key. Arguments are checked
here (types and sizes, since banks are untrusted), results come back as plain Python floats,
tuples and dicts so that formulas and Jinja texts can use them directly.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from tutor import sim
from tutor.errors import SimulationError

ArgKind = Literal["int", "number", "numbers", "flag", "option"]
REQUIRED: Any = object()
MAX_DEPTH = 1000
MAX_WIDTH = 1024


@dataclass(frozen=True)
class Arg:
    """One argument of a model: its kind, default, allowed options and range."""

    kind: ArgKind
    default: Any = REQUIRED
    options: tuple[str, ...] = ()
    low: float = -math.inf
    high: float = math.inf


@dataclass(frozen=True)
class Model:
    """A simulation a question can run, with its documented arguments and results."""

    name: str
    summary: str
    args: Mapping[str, Arg]
    outputs: tuple[str, ...]
    run: Callable[[Mapping[str, Any]], dict[str, Any]]


def check_arg(model: str, name: str, arg: Arg, value: Any) -> Any:
    """Validate one evaluated argument; return it in the type the model expects."""
    where = f"model {model!r}, argument {name!r}"
    if arg.kind == "option":
        if value not in arg.options:
            raise SimulationError(f"{where}: {value!r} is not one of {', '.join(arg.options)}")
        return value
    if arg.kind == "flag":
        if not isinstance(value, bool):
            raise SimulationError(f"{where}: expected true or false, got {value!r}")
        return value
    if arg.kind == "numbers" and isinstance(value, tuple | list):
        return tuple(_number(where, arg, v) for v in value)
    number = _number(where, arg, value)
    if arg.kind == "int":
        if number != int(number):
            raise SimulationError(f"{where}: expected a whole number, got {value!r}")
        return int(number)
    return number


def _number(where: str, arg: Arg, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SimulationError(f"{where}: expected a number, got {value!r}")
    if not arg.low <= value <= arg.high:
        raise SimulationError(f"{where}: {value!r} is outside [{arg.low:g}, {arg.high:g}]")
    return float(value)


def plain(value: Any) -> Any:
    """NumPy arrays and scalars, dataclasses and mappings as plain Python values."""
    if isinstance(value, np.ndarray):
        return tuple(value.tolist()) if value.ndim == 1 else _tuples(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return tuple(plain(v) for v in value)
    return value


def _tuples(value: Any) -> Any:
    """Nested lists (from ndarray.tolist) as nested tuples."""
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


def per_layer(values: Any, depth: int, what: str) -> np.ndarray:
    """A number or a list of ``depth`` numbers as an array of shape (depth,)."""
    array = (
        np.broadcast_to(np.asarray(values, dtype=float), (depth,))
        if np.ndim(values) == 0
        else np.asarray(values, dtype=float)
    )
    if array.shape != (depth,):
        raise SimulationError(f"{what} has {array.size} values for {depth} layers")
    return array


def _run_activation(a: Mapping[str, Any]) -> dict[str, Any]:
    act = sim.get_activation(a["name"], slope=a["slope"])
    z = np.asarray(a["z"], dtype=float)
    return {"value": plain(act.value(z)), "derivative": plain(act.derivative(z))}


def _run_chain(a: Mapping[str, Any]) -> dict[str, Any]:
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
    result: dict[str, Any] = plain(grad)
    result.update(z=plain(preacts), weight=plain(weights), depth=depth)
    if outputs is not None:
        result["h"] = plain(outputs)
    return result


def _run_network(a: Mapping[str, Any]) -> dict[str, Any]:
    report = sim.simulate_network(
        a["depth"],
        a["width"],
        a["activation"],
        a["init"],
        seed=a["seed"],
        std=a["std"],
        batch=a["batch"],
        residual=a["residual"],
        batchnorm=a["batchnorm"],
        loss=a["loss"],
        dtype=a["dtype"],
    )
    result: dict[str, Any] = plain(report)
    result["diagnosis"] = plain(sim.diagnose(report))
    result["depth"] = a["depth"]
    return result


_DEPTH = Arg("int", low=1, high=MAX_DEPTH)
_ACTIVATION = Arg("option", options=sim.ACTIVATION_NAMES)

MODELS: dict[str, Model] = {
    m.name: m
    for m in (
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
}


def run_model(name: str, args: Mapping[str, Any]) -> dict[str, Any]:
    """Run a registered model on already-checked arguments."""
    try:
        return MODELS[name].run(args)
    except FloatingPointError as exc:  # pragma: no cover - NumPy is set to warn, not raise
        raise SimulationError(f"model {name!r}: {exc}") from None
