"""The simulation models a bank can run: named arguments in, named results out.

Each model is a thin adapter over :mod:`tutor.sim`, the answer key. Arguments are checked
here (types and sizes, since banks are untrusted), results come back as plain Python floats,
tuples and mappings so that formulas and Jinja texts can use them directly.

The models themselves live in the modules of this package, one module per topic, each with a
``MODELS`` tuple. A module is imported the first time one of its models is asked for, so a
question pays only for the models it runs.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import math
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from tutor.errors import SimulationError

if TYPE_CHECKING:
    import numpy as np

    from tutor.sim import NetworkReport, SGDConfig, TrainResult

ArgKind = Literal["int", "number", "numbers", "flag", "option"]
REQUIRED: Any = object()
MAX_DEPTH = 1000
MAX_WIDTH = 1024


class Arg(NamedTuple):
    """One argument of a model: its kind, default, allowed options and range."""

    kind: ArgKind
    default: Any = REQUIRED
    options: tuple[str, ...] = ()
    low: float = -math.inf
    high: float = math.inf


class Model(NamedTuple):
    """A simulation a question can run, with its documented arguments and results."""

    name: str
    summary: str
    args: Mapping[str, Arg]
    outputs: tuple[str, ...]
    run: Callable[[Mapping[str, Any]], Mapping[str, Any]]
    numpy: bool = True  # runs NumPy code; False: Python floats, or NumPy code silenced itself


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
        if set(map(type, value)) <= _PLAIN_NUMBERS and all(arg.low <= v <= arg.high for v in value):
            return tuple(map(float, value))  # the usual list, checked in one pass
        return tuple(_number(where, arg, v) for v in value)  # names the first bad value
    number = _number(where, arg, value)
    if arg.kind == "int":
        if number != int(number):
            raise SimulationError(f"{where}: expected a whole number, got {value!r}")
        return int(number)
    return number


_PLAIN_NUMBERS = frozenset({int, float})  # not bool, which is a subclass of int


def _number(where: str, arg: Arg, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SimulationError(f"{where}: expected a number, got {value!r}")
    if not arg.low <= value <= arg.high:
        raise SimulationError(f"{where}: {value!r} is outside [{arg.low:g}, {arg.high:g}]")
    return float(value)


def plain(value: Any) -> Any:
    """NumPy arrays and scalars, records (dataclasses, NamedTuples) and mappings as plain values."""
    if value is None or isinstance(value, float | int | str):
        return value
    if type(value).__module__ == "numpy":  # an array or a NumPy scalar, without importing NumPy
        listed = value.tolist()
        return tuple(listed) if value.ndim == 1 else _tuples(listed)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {name: plain(getattr(value, name)) for name in _field_names(type(value))}
    if isinstance(value, tuple) and hasattr(value, "_fields"):  # a NamedTuple record
        return {name: plain(v) for name, v in zip(value._fields, value, strict=True)}
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return tuple(plain(v) for v in value)
    return value


class Results(Mapping[str, Any]):
    """A model's results, each made plain (see :func:`plain`) the first time it is read.

    A question reads one or two of a model's results, and a chain of 400 layers has seven
    per-layer results of 400 numbers each: converting only what is read saves most of the
    time it takes to draw such a variant. ``already_plain`` says there is nothing to convert.
    """

    __slots__ = ("_plain", "_raw")

    def __init__(self, raw: Mapping[str, Any], *, already_plain: bool = False) -> None:
        self._raw = raw
        self._plain: dict[str, Any] = dict(raw) if already_plain else {}

    def __getitem__(self, key: str) -> Any:
        try:
            return self._plain[key]
        except KeyError:
            value = self._plain[key] = plain(self._raw[key])
            return value

    def __contains__(self, key: object) -> bool:
        return key in self._raw  # without converting the value

    def __iter__(self) -> Iterator[str]:
        return iter(self._raw)

    def __len__(self) -> int:
        return len(self._raw)

    def __repr__(self) -> str:
        return f"Results({dict(self)!r})"


@functools.cache
def _field_names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls))


def _tuples(value: Any) -> Any:
    """Nested lists (from ndarray.tolist) as nested tuples."""
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


def seeded_network(a: Mapping[str, Any], *settings: str) -> NetworkReport:
    """``sim.simulate_network`` for a model's arguments ``a``: the network's shape and seed,
    and the optional ``settings`` named (``"std"``, ``"batch"``, ...) as ``a`` gives them."""
    from tutor import sim

    chosen = {name: a[name] for name in settings} | constant_value(a)
    depth, width, activation, init = a["depth"], a["width"], a["activation"], a["init"]
    return sim.simulate_network(depth, width, activation, init, seed=a["seed"], **chosen)


def seeded_training(a: Mapping[str, Any], config: SGDConfig, *settings: str) -> TrainResult:
    """``sim.simulate_training`` for a model's arguments, as :func:`seeded_network`."""
    from tutor import sim

    chosen = {name: a[name] for name in settings} | constant_value(a)
    depth, width, activation, init = a["depth"], a["width"], a["activation"], a["init"]
    return sim.simulate_training(depth, width, activation, init, config, seed=a["seed"], **chosen)


MAX_WORK = 30_000_000
"""Largest size of one model run, in the units each model counts (about a multiply-add of
its arrays): a few tenths of a second on one core, so a bank cannot make a variant slow."""


def check_work(work: int, lower: str) -> None:
    """Refuse a run larger than :data:`MAX_WORK`; ``lower`` names the arguments to lower."""
    if work > MAX_WORK:
        raise SimulationError(f"this run is too large to simulate for a question: lower {lower}")


def training_work(a: Mapping[str, Any]) -> int:
    """The size of a training run: steps x depth x width x max(width, batch)."""
    return int(a["steps"] * a["depth"] * a["width"] * max(a["width"], a["batch"]))


def constant_value(a: Mapping[str, Any]) -> dict[str, float]:
    """``value`` for ``init: constant``, which needs one (without it every weight would
    silently be 0); no other initializer takes one."""
    value = a.get("value")
    if a["init"] == "constant" and value is None:
        raise SimulationError("init constant needs value (every weight equal to it)")
    if value is not None and a["init"] != "constant":
        raise SimulationError(f"value applies to init constant, not {a['init']}")
    return {} if value is None else {"value": float(value)}


def per_layer(values: Any, depth: int, what: str) -> np.ndarray:
    """A number or a list of ``depth`` numbers as an array of shape (depth,)."""
    import numpy as np

    if isinstance(values, float | int):
        return np.full(depth, float(values))
    array = np.asarray(values, dtype=float)
    if array.shape != (depth,):
        raise SimulationError(f"{what} has {array.size} values for {depth} layers")
    return array


def per_layer_floats(values: Any, depth: int, what: str) -> tuple[float, ...]:
    """:func:`per_layer` as a tuple of Python floats."""
    if isinstance(values, float | int):
        return (float(values),) * depth
    if len(values) != depth:
        raise SimulationError(f"{what} has {len(values)} values for {depth} layers")
    return tuple(map(float, values))


# The models each module of this package defines (a test checks this against the modules).
_MODULES: dict[str, tuple[str, ...]] = {
    "backprop": ("backprop_chain", "activation_chain"),
    "basic": ("activation", "chain", "network"),
    "diagnosis": ("diagnosis_net", "diagnosis_training", "remedy_chain", "remedy_clip"),
    "precision": ("float_chain", "float_format"),
    "recurrent": ("rnn_bptt", "lstm_bptt", "spectral", "linear_rnn", "lstm_cell_path"),
    "signal": ("init_stats", "batch_norm", "propagation", "gain", "residual_chain"),
    "training": ("quadratic", "clip", "sgd_step", "loss_net", "training"),
}
_HOMES = {name: module for module, names in _MODULES.items() for name in names}


class _Registry(Mapping[str, Model]):
    """Every model by name; a model's module is imported when the model is first asked for."""

    def __getitem__(self, name: str) -> Model:
        return _models_of(_HOMES[name])[name]

    def __contains__(self, name: object) -> bool:
        return name in _HOMES  # without importing the model's module

    def __iter__(self) -> Iterator[str]:
        return iter(_HOMES)

    def __len__(self) -> int:
        return len(_HOMES)


@functools.cache
def _models_of(module: str) -> dict[str, Model]:
    models = importlib.import_module(f"{__name__}.{module}").MODELS
    return {model.name: model for model in models}


MODELS: Mapping[str, Model] = _Registry()


def run_model(name: str, args: Mapping[str, Any]) -> Mapping[str, Any]:
    """Run a registered model on already-checked arguments.

    Overflow to inf is an outcome here, not a warning, so NumPy's are silenced. A model is a
    pure function of its arguments (a seeded draw included), so the results of recent NumPy
    runs are kept and given again, read-only, for the same arguments: a question whose
    network has no seed of its own, or few settings, runs the same network again and again.
    """
    model = MODELS[name]
    try:
        if not model.numpy:
            return model.run(args)
        key = (name, *((k, exact_key(v)) for k, v in args.items()))
        found = _RECENT_RUNS.get(key)
        if found is None:
            import numpy as np  # loaded already, with the model's module

            with np.errstate(all="ignore"):
                found = _RECENT_RUNS.keep(key, model.run(args))
        return found
    except FloatingPointError as exc:  # pragma: no cover - NumPy is set to warn, not raise
        raise SimulationError(f"model {name!r}: {exc}") from None


def exact_key(value: Any) -> Any:
    """``value`` as a key equal only to the same value of the same type: 1, 1.0 and True
    differ, and so do 0.0 and -0.0 (equal numbers, but not in every result)."""
    if type(value) is tuple:
        return tuple(map(exact_key, value))
    if type(value) is float and value == 0.0:
        return ("zero", math.copysign(1.0, value))
    return (type(value), value)


class _RecentResults(OrderedDict[tuple[Any, ...], Mapping[str, Any]]):
    """Recent results by model and arguments, the oldest dropped beyond ``size``. (A model's
    results are at most tens of kilobytes.)"""

    def __init__(self, size: int) -> None:
        super().__init__()
        self._size = size

    def keep(self, key: tuple[Any, ...], results: Mapping[str, Any]) -> Mapping[str, Any]:
        kept = results if isinstance(results, Results) else Results(results, already_plain=True)
        self[key] = kept
        if len(self) > self._size:
            self.popitem(last=False)
        return kept


_RECENT_RUNS = _RecentResults(size=128)
