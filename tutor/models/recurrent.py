"""Models for recurrent networks: how the last step's gradient reaches every earlier step.

Every model reports the norm of dL/dh_t for t = 0..T (``grad_norm``, index t) and the same
read backwards as ratios to the last step (``back[k]`` = norm of dL/dh_{T-k} / norm of
dL/dh_T, so ``back[0] = 1``), which is what a question asks about: "k steps back, how much of
the gradient is left?". The numbers come from :mod:`tutor.sim.rnn` and :mod:`tutor.sim.lstm`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from tutor import sim
from tutor.errors import SimulationError
from tutor.models import REQUIRED, Arg, Model, check_work, per_layer, plain

MAX_STEPS = 500
MAX_HIDDEN = 128
MAX_MATRIX = 8


def _through_time(norms: NDArray[np.float64]) -> dict[str, Any]:
    """The per-step results shared by every model, from norms of dL/dh_t for t = 0..T."""
    steps = len(norms) - 1
    with np.errstate(all="ignore"):
        back = norms[::-1] / norms[-1]
    decay = float(back[-1])
    per_step = decay ** (1.0 / steps) if decay > 0 and math.isfinite(decay) else decay
    return {
        "grad_norm": plain(norms),
        "back": plain(back),
        "decay": decay,
        "per_step": per_step,
        "steps": steps,
        "step": tuple(range(steps + 1)),
    }


def _check_recurrent_work(a: Mapping[str, Any], gates: int) -> None:
    """Each step multiplies the batch's hidden state and input by ``gates`` weight matrices."""
    inputs = a["hidden"] if a["inputs"] is None else a["inputs"]
    work = gates * a["steps"] * a["batch"] * a["hidden"] * (a["hidden"] + inputs)
    check_work(work, "steps, hidden, inputs or batch")


def _run_rnn(a: Mapping[str, Any]) -> dict[str, Any]:
    _check_recurrent_work(a, gates=1)
    report = sim.simulate_rnn(
        a["steps"],
        a["hidden"],
        seed=a["seed"],
        radius=a["radius"],
        inputs=a["inputs"],
        batch=a["batch"],
        activation=a["activation"],
        input_scale=a["input_scale"],
    )
    result = _through_time(report.hidden_grad_norm)
    rho = report.spectral_radius
    result.update(radius=rho, radius_power=rho ** result["steps"], loss=report.loss)
    return result


def _run_lstm(a: Mapping[str, Any]) -> dict[str, Any]:
    _check_recurrent_work(a, gates=4)
    report = sim.simulate_lstm(
        a["steps"],
        a["hidden"],
        seed=a["seed"],
        radius=a["radius"],
        forget_bias=a["forget_bias"],
        inputs=a["inputs"],
        batch=a["batch"],
        input_scale=a["input_scale"],
    )
    result = _through_time(report.hidden_grad_norm)
    if report.cell_grad_norm is None:  # pragma: no cover - an LSTM report has the cell path
        raise SimulationError("the LSTM report has no cell-path gradients")
    cell = _through_time(report.cell_grad_norm)
    result.update(
        cell_grad_norm=cell["grad_norm"],
        cell_back=cell["back"],
        cell_decay=cell["decay"],
        cell_per_step=cell["per_step"],
        radius=report.spectral_radius,
        forget_gate=1.0 / (1.0 + math.exp(-a["forget_bias"])),
        loss=report.loss,
    )
    return result


def _square(values: tuple[float, ...], what: str) -> NDArray[np.float64]:
    """A flat list of n*n numbers (row by row) as an (n, n) matrix."""
    n = math.isqrt(len(values))
    if n * n != len(values) or not 1 <= n <= MAX_MATRIX:
        raise SimulationError(
            f"{what} needs n*n numbers, row by row, for a square matrix of size 1 to "
            f"{MAX_MATRIX}; got {len(values)}"
        )
    return np.asarray(values, dtype=float).reshape(n, n)


def _run_spectral(a: Mapping[str, Any]) -> dict[str, Any]:
    w = _square(a["matrix"], "matrix")
    return {
        "radius": sim.spectral_radius(w),
        # The largest singular value: the worst one-step gain, an upper bound on the radius.
        "spectral_norm": float(np.linalg.norm(w, 2)),
        "size": int(w.shape[0]),
    }


def _run_linear_rnn(a: Mapping[str, Any]) -> dict[str, Any]:
    """h_t = h_{t-1} @ W (no input, no bias, linear): BPTT multiplies by W^T once per step."""
    w = _square(a["matrix"], "matrix")
    n, steps = w.shape[0], a["steps"]
    _, _, grads = sim.rnn_gradients(
        np.zeros((steps, 1, 1)),
        np.zeros((1, n)),
        w_hh=w,
        w_xh=np.zeros((1, n)),
        b=np.zeros(n),
        activation="linear",
    )
    result = _through_time(sim.step_norms(grads.hidden))
    result["radius"] = sim.spectral_radius(w)
    return result


def _logit(p: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.asarray(np.log(p) - np.log1p(-p))


def _run_lstm_cell(a: Mapping[str, Any]) -> dict[str, Any]:
    """A one-unit LSTM whose forget gate at step t is ``forget[t]`` and whose recurrent
    weights are 0, so the only way back in time is the cell path dc_{t-1} = f_t dc_t.

    The input x_t = logit(f_t) feeds the forget gate alone (W_x = [0, 1, 0, 0]); W_h = 0.
    """
    steps = a["steps"]
    forget = per_layer(a["forget"], steps, "forget")
    x = _logit(forget).reshape(steps, 1, 1)
    zeros = np.zeros((1, 1))
    _, _, grads = sim.lstm_gradients(
        x,
        zeros,
        zeros,
        w_x=np.array([[0.0, 1.0, 0.0, 0.0]]),
        w_h=np.zeros((1, 4)),
        b=np.zeros(4),
    )
    cell = _through_time(sim.step_norms(grads.cell))
    return {
        "forget": plain(forget),
        "cell_grad_norm": cell["grad_norm"],
        "cell_back": cell["back"],
        "cell_decay": cell["decay"],
        "cell_per_step": cell["per_step"],
        "steps": steps,
    }


_STEPS = Arg("int", low=1, high=MAX_STEPS)
_HIDDEN = Arg("int", 32, low=1, high=MAX_HIDDEN)
_SEED = Arg("int", REQUIRED, low=0, high=2**31)
_RADIUS = Arg("number", 1.0, low=0.01, high=10)
_INPUTS = Arg("int", None, low=1, high=MAX_HIDDEN)
_BATCH = Arg("int", 16, low=1, high=256)
_INPUT_SCALE = Arg("number", 1.0, low=0, high=10)
_THROUGH_TIME = ("grad_norm", "back", "decay", "per_step", "steps", "step")

MODELS: tuple[Model, ...] = (
    Model(
        "rnn_bptt",
        "A seeded vanilla RNN whose W_hh has a given spectral radius: norm of dL/dh_t per step.",
        {
            "steps": _STEPS,
            "hidden": _HIDDEN,
            "seed": _SEED,
            "radius": _RADIUS,
            "inputs": _INPUTS,
            "batch": _BATCH,
            "activation": Arg("option", "tanh", options=sim.ACTIVATION_NAMES),
            "input_scale": _INPUT_SCALE,
        },
        (*_THROUGH_TIME, "radius", "radius_power", "loss"),
        _run_rnn,
    ),
    Model(
        "lstm_bptt",
        "A seeded LSTM: norm of dL/dh_t and of dL/dc_t (the cell path) per step.",
        {
            "steps": _STEPS,
            "hidden": _HIDDEN,
            "seed": _SEED,
            "radius": _RADIUS,
            "forget_bias": Arg("number", 1.0, low=-10, high=10),
            "inputs": _INPUTS,
            "batch": _BATCH,
            "input_scale": _INPUT_SCALE,
        },
        (
            *_THROUGH_TIME,
            "cell_grad_norm",
            "cell_back",
            "cell_decay",
            "cell_per_step",
            "radius",
            "forget_gate",
            "loss",
        ),
        _run_lstm,
    ),
    Model(
        "spectral",
        "The spectral radius and largest singular value of a small square matrix (row by row).",
        {"matrix": Arg("numbers")},
        ("radius", "spectral_norm", "size"),
        _run_spectral,
    ),
    Model(
        "linear_rnn",
        "A linear recurrence h_t = h_{t-1} W (matrix row by row): norm of dL/dh_t per step.",
        {"matrix": Arg("numbers"), "steps": _STEPS},
        (*_THROUGH_TIME, "radius"),
        _run_linear_rnn,
    ),
    Model(
        "lstm_cell_path",
        "A one-unit LSTM with given forget gates and no recurrent weights: the cell path.",
        {"forget": Arg("numbers", low=0.0001, high=0.9999), "steps": _STEPS},
        ("forget", "cell_grad_norm", "cell_back", "cell_decay", "cell_per_step", "steps"),
        _run_lstm_cell,
    ),
)
