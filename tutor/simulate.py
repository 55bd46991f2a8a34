"""``tutor simulate``: turn options into a simulated network, a report, or a comparison.

The command's parsing lives in ``tutor/cli.py``; this module checks the combination of
options, runs the engine (``tutor.sim``), and renders the result as text (per-layer table,
log-scale bar charts of gradient norms, one-line diagnosis) or as a JSON-ready dict.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from tutor.charts import text_bar_chart, text_table
from tutor.errors import SimulationError
from tutor.numfmt import format_number
from tutor.sim import (
    ACTIVATION_NAMES,
    DTYPE_NAMES,
    INIT_NAMES,
    LOSS_NAMES,
    Diagnosis,
    NetworkReport,
    SGDConfig,
    TrainResult,
    diagnose,
    diagnose_training,
    simulate_network,
    simulate_training,
)

MAX_DEPTH = 1000
MAX_WIDTH = 4096
MAX_BATCH = 4096
MAX_STEPS = 10_000
MAX_COMPARE = 6
DEFAULT_LR = 0.01
CHART_STEPS = 20  # loss chart: at most this many sampled steps


@dataclass(frozen=True)
class SimulateOptions:
    """One setting of ``tutor simulate``; field names match the long options."""

    depth: int
    width: int
    activation: str
    init: str
    std: float | None = None
    value: float | None = None
    residual: bool = False
    batchnorm: bool = False
    batch: int = 64
    loss: str = "mean"
    dtype: str = "float64"
    seed: int = 0
    steps: int | None = None
    lr: float | None = None
    clip_norm: float | None = None
    clip_value: float | None = None
    l2: float = 0.0
    weight_decay: float = 0.0


@dataclass(frozen=True)
class SimulateRun:
    """A finished run: the options, the per-layer report and diagnosis, and the training."""

    options: SimulateOptions
    report: NetworkReport
    diagnosis: Diagnosis
    training: TrainResult | None


def check_options(opts: SimulateOptions) -> None:
    """Raise :class:`SimulationError` for combinations of options that do not fit."""
    if opts.init in ("normal", "uniform") and opts.std is None:
        raise SimulationError(f"--init {opts.init} needs --std (the weights' standard deviation)")
    if opts.std is not None and opts.init not in ("normal", "uniform"):
        raise SimulationError(f"--std applies to --init normal or uniform, not {opts.init}")
    if opts.init == "constant" and opts.value is None:
        raise SimulationError("--init constant needs --value (every weight equal to it)")
    if opts.value is not None and opts.init != "constant":
        raise SimulationError(f"--value applies to --init constant, not {opts.init}")
    if opts.clip_norm is not None and opts.clip_value is not None:
        raise SimulationError("use --clip-norm or --clip-value, not both")
    if opts.steps is None:
        training = {"--lr": opts.lr, "--clip-norm": opts.clip_norm, "--clip-value": opts.clip_value}
        training |= {"--l2": opts.l2 or None, "--weight-decay": opts.weight_decay or None}
        given = [name for name, v in training.items() if v is not None]
        if given:
            raise SimulationError(f"{given[0]} sets up training: add --steps K")


# A rough cost model of one training step per layer, measured on a 2-CPU machine: a fixed
# overhead for the NumPy calls, plus three matrix products of batch x width x width.
_STEP_OVERHEAD_S = 60e-6
_FLOP_S = 1 / 30e9
SLOW_RUN_S = 5.0


def slow_run_note(runs: Sequence[SimulateOptions]) -> str | None:
    """A line to show before training runs that will take a while, or None: without it the
    command prints nothing until they end, which can be minutes."""
    seconds = sum(_training_seconds(opts) for opts in runs)
    if seconds < SLOW_RUN_S:
        return None
    about = f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"
    return f"Training will take roughly {about}..."


def _training_seconds(opts: SimulateOptions) -> float:
    flops = 6 * opts.batch * opts.width * opts.width
    return (opts.steps or 0) * opts.depth * (_STEP_OVERHEAD_S + flops * _FLOP_S)


def run_simulation(opts: SimulateOptions) -> SimulateRun:
    """Simulate the network at initialization and, with ``steps``, train it."""
    check_options(opts)
    report = simulate_network(
        opts.depth, opts.width, opts.activation, opts.init, seed=opts.seed, std=opts.std,
        value=opts.value or 0.0, batch=opts.batch, residual=opts.residual, batchnorm=opts.batchnorm,
        loss=opts.loss, dtype=opts.dtype,
    )  # fmt: skip
    training = None
    if opts.steps is not None:
        config = SGDConfig(
            lr=DEFAULT_LR if opts.lr is None else opts.lr, steps=opts.steps,
            clip_norm=opts.clip_norm, clip_value=opts.clip_value, l2=opts.l2,
            weight_decay=opts.weight_decay,
        )  # fmt: skip
        training = simulate_training(
            opts.depth, opts.width, opts.activation, opts.init, config, seed=opts.seed,
            std=opts.std, value=opts.value or 0.0, batch=opts.batch, residual=opts.residual,
            batchnorm=opts.batchnorm, dtype=opts.dtype,
        )  # fmt: skip
    return SimulateRun(opts, report, diagnose(report), training)


# --------------------------------------------------------------------------- comparison


def _parse_bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("on", "true", "yes", "1"):
        return True
    if lowered in ("off", "false", "no", "0"):
        return False
    raise ValueError("expected on or off")


def _choice(names: Sequence[str]) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if text not in names:
            raise ValueError(f"choose one of {', '.join(names)}")
        return text

    return parse


def _bounded_int(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            number = int(text)
        except ValueError:
            number = low - 1
        if not low <= number <= high:
            raise ValueError(f"expected an integer from {low} to {high}")
        return number

    return parse


def _positive_float(text: str) -> float:
    try:
        number = float(text)
    except ValueError:
        number = math.nan
    if not (math.isfinite(number) and number >= 0):
        raise ValueError("expected a finite number >= 0")
    return number


COMPARE_KEYS: dict[str, Callable[[str], Any]] = {
    "activation": _choice(ACTIVATION_NAMES),
    "init": _choice(INIT_NAMES),
    "std": _positive_float,
    "depth": _bounded_int(1, MAX_DEPTH),
    "width": _bounded_int(1, MAX_WIDTH),
    "batch": _bounded_int(1, MAX_BATCH),
    "residual": _parse_bool,
    "batchnorm": _parse_bool,
    "dtype": _choice(DTYPE_NAMES),
    "loss": _choice(LOSS_NAMES),
    "seed": _bounded_int(0, 2**63 - 1),
    "steps": _bounded_int(0, MAX_STEPS),
    "lr": _positive_float,
    "clip-norm": _positive_float,
    "clip-value": _positive_float,
    "l2": _positive_float,
    "weight-decay": _positive_float,
}
"""What ``--compare KEY=V1,V2`` may vary, and how each value is read."""


def compare_settings(base: SimulateOptions, spec: str) -> tuple[str, list[SimulateOptions]]:
    """The settings named by ``KEY=V1,V2[,...]``: ``base`` with KEY set to each value."""
    key, sep, values = spec.partition("=")
    key = key.strip()
    if not sep or key not in COMPARE_KEYS:
        keys = ", ".join(COMPARE_KEYS)
        raise SimulationError(f"--compare takes KEY=V1,V2 with KEY one of {keys}; got {spec!r}")
    texts = [v.strip() for v in values.split(",") if v.strip()]
    if not 2 <= len(texts) <= MAX_COMPARE:
        raise SimulationError(f"--compare needs 2 to {MAX_COMPARE} values, got {len(texts)}")
    field = key.replace("-", "_")
    settings = []
    for text in texts:
        try:
            parsed = COMPARE_KEYS[key](text)
        except ValueError as exc:
            raise SimulationError(f"--compare {key}={text}: {exc}") from None
        changes: dict[str, Any] = {field: parsed}
        if key == "init" and parsed not in ("normal", "uniform"):
            changes["std"] = None  # --std belongs to the normal/uniform runs of the comparison
        if key == "init" and parsed != "constant":
            changes["value"] = None  # and --value to the constant run
        settings.append(dataclasses.replace(base, **changes))
    return key, settings


def run_comparison(base: SimulateOptions, spec: str) -> tuple[str, list[SimulateRun]]:
    """Run every setting of ``--compare`` (each checked before any runs)."""
    key, settings = compare_settings(base, spec)
    field = key.replace("-", "_")
    for opts in settings:
        try:
            check_options(opts)
        except SimulationError as exc:  # name the run, or it blames options never given
            raise SimulationError(f"--compare {key}={getattr(opts, field)}: {exc}") from None
    return key, [run_simulation(opts) for opts in settings]


# --------------------------------------------------------------------------- JSON


def _num(x: float) -> float | None:
    """A JSON-safe number: inf and NaN become null."""
    value = float(x)
    return value if math.isfinite(value) else None


def run_json(run: SimulateRun) -> dict[str, Any]:
    """The ``--json`` object of one run (layers listed input side first)."""
    r = run.report
    layers = [
        {
            "layer": i + 1,
            "grad_norm": _num(r.grad_norm[i]),
            "act_grad_norm": _num(r.act_grad_norm[i]),
            "weight_norm": _num(r.weight_norm[i]),
            "activation_std": _num(r.activation_std[i]),
            "relative_grad": _num(r.relative_grad[i]),
            "preact_mean": _num(r.preact_mean[i]),
            "preact_std": _num(r.preact_std[i]),
            "saturation": _num(r.saturation[i]),
            "backward_gain": _num(r.backward_gain[i]),
        }
        for i in range(r.depth)
    ]
    out: dict[str, Any] = {
        "settings": dataclasses.asdict(run.options),
        "initial_loss": _num(r.loss),
        "layers": layers,
        "diagnosis": dataclasses.asdict(run.diagnosis),
    }
    if run.training is not None:
        out["loss"] = [_num(v) for v in run.training.loss]
        out["train_grad_norm"] = [_num(v) for v in run.training.grad_norm]
        out["diverged_at"] = run.training.diverged_at
        out["training_diagnosis"] = dataclasses.asdict(diagnose_training(run.training))
    return out


def comparison_json(key: str, runs: Sequence[SimulateRun]) -> dict[str, Any]:
    """The ``--json`` object of a comparison: the key, its values, and one run object each."""
    field = key.replace("-", "_")
    values = [getattr(run.options, field) for run in runs]
    return {"compare": {"key": key, "values": values}, "runs": [run_json(run) for run in runs]}


# --------------------------------------------------------------------------- text


def describe(opts: SimulateOptions) -> str:
    """One line naming the setting, e.g. ``50 layers x 256 units, relu, he-normal, ...``."""
    init = opts.init + (f" (std {opts.std:g})" if opts.std is not None else "")
    init += f" (value {opts.value:g})" if opts.value is not None else ""
    flags = (("residual", opts.residual), ("batch norm", opts.batchnorm))
    extras = [name for name, on in flags if on]
    parts = [f"{opts.depth} layers x {opts.width} units", opts.activation, init, *extras]
    parts += [f"batch {opts.batch}", f"loss {opts.loss}", opts.dtype, f"seed {opts.seed}"]
    return ", ".join(parts)


_LAYER_FIELDS = (
    "grad_norm", "act_grad_norm", "relative_grad", "weight_norm", "activation_std",
    "preact_mean", "preact_std", "saturation",
)  # fmt: skip


_RATIO_COLUMN = 1 + _LAYER_FIELDS.index("relative_grad")  # after the "layer" column
ZERO_WEIGHT_NOTE = (
    "‖dL/dW‖/‖W‖ is — where ‖W‖ = 0: every weight is 0, so there is no size to compare the "
    "gradient with."
)


def _layer_rows(r: NetworkReport) -> list[list[object]]:
    columns = [getattr(r, name) for name in _LAYER_FIELDS]
    # Saturation reads best as a percentage: "50.4", not "0.504" or "9.77 × 10⁻⁴".
    rows: list[list[object]] = [
        [i + 1, *(float(c[i]) for c in columns[:-1]), round(100 * float(columns[-1][i]), 1)]
        for i in range(r.depth)
    ]
    for row, norm in zip(rows, r.weight_norm, strict=True):
        if norm == 0:  # the ratio is 0/0 or x/0: NaN or ∞ would read as a broken run
            row[_RATIO_COLUMN] = None
    return rows


def _layer_table(r: NetworkReport) -> str:
    table = text_table(LAYER_HEADERS, _layer_rows(r), title=TABLE_TITLE)
    return f"{table}\n{ZERO_WEIGHT_NOTE}" if (r.weight_norm == 0).any() else table


TABLE_TITLE = "Per layer (layer 1 is the input side; z is the activation's input)"
SIGNAL_TITLE = "Backward signal ‖dL/dh‖ per layer (this one reveals vanishing or exploding)"
WEIGHT_TITLE = "Weight gradient ‖dL/dW‖ per layer"
LAYER_HEADERS = (
    "layer", "‖dL/dW‖", "‖dL/dh‖", "‖dL/dW‖/‖W‖", "‖W‖", "std(h)", "mean(z)", "std(z)",
    "% saturated",
)  # fmt: skip


def run_text(run: SimulateRun) -> str:
    """The full text report of one run: setting, table, charts, training, diagnosis."""
    r = run.report
    labels = [f"layer {i + 1}" for i in range(r.depth)]
    blocks = [
        f"Network: {describe(run.options)}",
        _layer_table(r),
        text_bar_chart(labels, [float(v) for v in r.act_grad_norm], title=SIGNAL_TITLE),
        text_bar_chart(labels, [float(v) for v in r.grad_norm], title=WEIGHT_TITLE),
    ]
    if run.training is not None:
        blocks.append(_training_text(run.options, run.training))
    before = " of the network before training" if run.training is not None else ""
    blocks.append(f"Diagnosis{before}: {run.diagnosis.summary}")
    return "\n\n".join(blocks)


def _training_text(opts: SimulateOptions, t: TrainResult) -> str:
    lr = DEFAULT_LR if opts.lr is None else opts.lr
    head = f"Training: {opts.steps} steps of SGD, lr {lr:g}" + _clip_text(opts)
    verdict = diagnose_training(t)
    outcome = f"loss {format_number(t.loss[0])} -> {format_number(t.loss[-1])}"
    if verdict.kind != "healthy":
        outcome = verdict.summary[0].lower() + verdict.summary[1:].rstrip(".")
    picks = sorted({round(k * (len(t.loss) - 1) / (CHART_STEPS - 1)) for k in range(CHART_STEPS)})
    labels = [f"step {k}" for k in picks]
    chart = text_bar_chart(labels, [float(t.loss[k]) for k in picks], title="Loss during training")
    return f"{head}: {outcome}.\n{chart}"


def _clip_text(opts: SimulateOptions) -> str:
    parts = []
    if opts.clip_norm is not None:
        parts.append(f"clip norm {opts.clip_norm:g}")
    if opts.clip_value is not None:
        parts.append(f"clip value {opts.clip_value:g}")
    if opts.l2:
        parts.append(f"L2 {opts.l2:g}")
    if opts.weight_decay:
        parts.append(f"weight decay {opts.weight_decay:g}")
    return (", " + ", ".join(parts)) if parts else ""


def comparison_text(key: str, runs: Sequence[SimulateRun]) -> str:
    """Side-by-side report: one table with each setting's columns, charts, diagnoses."""
    field = key.replace("-", "_")
    names = [f"{key}={_show(getattr(run.options, field))}" for run in runs]
    depth = max(run.report.depth for run in runs)
    headers = ["layer", *(f"‖dL/dh‖ {n}" for n in names), *(f"‖dL/dW‖ {n}" for n in names)]
    rows = [
        [i + 1, *_cells(runs, "act_grad_norm", i), *_cells(runs, "grad_norm", i)]
        for i in range(depth)
    ]
    shown = ", ".join(_show(getattr(run.options, field)) for run in runs)
    blocks = [f"Comparing {key} = {shown}; base setting: {describe(runs[0].options)}"]
    blocks.append(text_table(headers, rows, title="Per layer (layer 1 is the input side)"))
    every = [float(v) for run in runs for v in run.report.act_grad_norm]  # one scale for all
    for name, run in zip(names, runs, strict=True):
        labels = [f"layer {i + 1}" for i in range(run.report.depth)]
        values = [float(v) for v in run.report.act_grad_norm]
        title = f"‖dL/dh‖ per layer, {name}"
        blocks.append(text_bar_chart(labels, values, title=title, span=every))
    lines = [f"{name}: {run.diagnosis.summary}" for name, run in zip(names, runs, strict=True)]
    lines += [
        f"{n}: {_training_text(r.options, r.training).splitlines()[0]}"
        for n, r in zip(names, runs, strict=True)
        if r.training is not None
    ]
    blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def _cells(runs: Sequence[SimulateRun], name: str, i: int) -> list[object]:
    return [float(getattr(r.report, name)[i]) if i < r.report.depth else None for r in runs]


def _show(value: object) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    return f"{value:g}" if isinstance(value, float) else str(value)
