"""Models for floating-point precision: where a chain's gradient overflows or underflows.

``float_chain`` backpropagates through a scalar chain in float16, float32 or float64 with the
engine's :func:`tutor.sim.chain_backward`, so every product is rounded the way that format
rounds it: a vanishing gradient becomes exactly 0 (or sticks at the smallest subnormal), an
exploding one becomes inf. An optional loss scale multiplies the gradient arriving at the
output before the backward pass, as mixed-precision training does. ``float_format`` gives a
format's limits.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from tutor import sim
from tutor.models import MAX_DEPTH, Arg, Model, per_layer, plain

MAX_SCALE = 2.0**64
"""The largest loss scale a bank may ask for (real loss scales stay far below)."""

_DTYPE = Arg("option", "float16", options=sim.DTYPE_NAMES)


def _format(dtype: str) -> dict[str, Any]:
    """The limits of a floating-point format, as Python floats."""
    info = np.finfo(np.dtype(dtype))
    return {
        "max": float(info.max),
        "tiny": float(info.smallest_normal),
        "subnormal": float(info.smallest_subnormal),
        "eps": float(info.eps),
        "bits": int(info.bits),
    }


def _first(flags: np.ndarray) -> int:
    """1-based position of the first True in ``flags``, or 0 if there is none."""
    return int(np.argmax(flags)) + 1 if flags.any() else 0


def _run_float_chain(a: Mapping[str, Any]) -> dict[str, Any]:
    depth, name, dtype = a["depth"], a["activation"], a["dtype"]
    weights = per_layer(a["weight"], depth, "weight")
    preacts = per_layer(a["z"], depth, "z")
    local = sim.chain_backward(weights, preacts, name, slope=a["slope"], dtype=dtype)
    # The scale enters as one more factor on the output side of a linear chain, so the engine
    # rounds every partial product (scale, scale * f_N, scale * f_N * f_(N-1), ...) in dtype.
    # A scale beyond the format's range is inf there, as it would be on the device.
    with np.errstate(over="ignore"):
        scale = np.asarray(a["scale"], local.factors.dtype)
    scaled = sim.chain_backward(
        np.append(local.factors, scale), np.zeros(depth + 1), "linear", dtype=dtype
    )
    to_input = scaled.to_input[:depth]
    running = to_input[::-1]
    exact = sim.chain_backward(weights, preacts, name, slope=a["slope"]).to_input[::-1]
    result: dict[str, Any] = {
        "factors": plain(local.factors.astype(np.float64)),
        "running": plain(running.astype(np.float64)),
        "to_input": plain(to_input.astype(np.float64)),
        "grad": float(to_input[0]),
        "unscaled": float(np.float64(to_input[0]) / a["scale"]),
        "exact": plain(exact),
        "overflow_at": _first(np.isinf(running)),
        "underflow_at": _first(running == 0),
        "depth": depth,
        "dtype": dtype,
    }
    result.update(_format(dtype))
    return result


def _run_float_format(a: Mapping[str, Any]) -> dict[str, Any]:
    return _format(a["dtype"])


_FORMAT_OUTPUTS = ("max", "tiny", "subnormal", "eps", "bits")

MODELS: tuple[Model, ...] = (
    Model(
        "float_chain",
        "A scalar chain backpropagated in float16/32/64: where the gradient overflows or "
        "underflows.",
        {
            "depth": Arg("int", low=1, high=MAX_DEPTH),
            "activation": Arg("option", "linear", options=sim.ACTIVATION_NAMES),
            "weight": Arg("numbers", 1.0),
            "z": Arg("numbers", 0.0),
            "dtype": _DTYPE,
            "scale": Arg("number", 1.0, low=2.0**-64, high=MAX_SCALE),
            "slope": Arg("number", 0.01, low=0, high=1),
        },
        (
            "factors",
            "running",
            "to_input",
            "grad",
            "unscaled",
            "exact",
            "overflow_at",
            "underflow_at",
            "depth",
            "dtype",
            *_FORMAT_OUTPUTS,
        ),
        _run_float_chain,
    ),
    Model(
        "float_format",
        "The limits of float16, float32 or float64: largest, smallest normal and subnormal.",
        {"dtype": _DTYPE},
        _FORMAT_OUTPUTS,
        _run_float_format,
    ),
)
