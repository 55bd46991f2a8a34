"""Convenience builders: a seeded network from (depth, width, activation, init, seed).

They draw arrays and hand them to the explicit-array functions of ``tutor.sim.network``; every
number they report can be reproduced from the same arrays with any autograd framework.

Draw order from ``np.random.default_rng(seed)``: the weight matrices W_1 ... W_D (input side
first), then the input batch x ~ N(0, 1) of shape (batch, width), then, for ``loss="mse"``,
the target ~ N(0, 1) of the same shape. Biases are zero; batch-norm scales are one and shifts
zero.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tutor.errors import SimulationError
from tutor.sim._arrays import FloatArray, check_positive_int, float_dtype
from tutor.sim.activations import get_activation
from tutor.sim.initializers import init_std, init_weights
from tutor.sim.network import network_gradients
from tutor.sim.stats import LayerStats, layer_stats

MAX_UNITS = 8_000_000
"""Largest depth * width * width (or batch * width * depth) a builder accepts: 64 MB per
array of that size, and a run holds about ten (the largest bundled network has 2.6 million)."""

SHARED_DRAW_FLOATS = 8_000_000
"""How many recent standard-normal draws (in floats, 64 MB) :func:`seeded_arrays` keeps."""

# These schemes scale one draw of standard normals, so their weights for one seed differ only
# by a factor (init_weights draws them that way).
_SCALED_NORMAL = frozenset({"normal", "xavier-normal", "he-normal", "lecun-normal"})


@dataclass(frozen=True)
class NetworkReport(LayerStats):
    """One network's per-layer statistics (each an array of shape (depth,)), its loss, and
    the settings that produced it (for the diagnosis and for display)."""

    loss: float = 0.0
    activation: str = ""
    init: str = ""
    residual: bool = False
    batchnorm: bool = False
    dtype: str = "float64"
    settings: dict[str, object] = field(default_factory=dict)

    @property
    def depth(self) -> int:
        """The number of layers."""
        return int(self.grad_norm.shape[-1])


@dataclass(frozen=True)
class NetworkArrays:
    """The arrays of a built network: ``weights`` W_1..W_D (float64), the input ``x``."""

    weights: tuple[FloatArray, ...]
    biases: tuple[FloatArray, ...]
    x: FloatArray


def build_network(
    depth: int,
    width: int,
    init: str,
    *,
    seed: int | np.random.Generator,
    std: float | None = None,
    gain: float = 1.0,
    value: float = 0.0,
    batch: int = 64,
    variants: tuple[int, ...] = (),
) -> NetworkArrays:
    """Square weights (depth matrices of (width, width)), zero biases and an N(0, 1) input.

    ``variants`` adds leading axes: that many independent networks and inputs at once.
    """
    _check_size(depth, width, batch, variants)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    # All layers in one draw: the numbers layer-by-layer draws would give, in one block that
    # the statistics then read without copying.
    layers = (depth, *variants)
    ws = tuple(init_weights(init, width, width, rng, std=std, gain=gain, value=value,
                            variants=layers))  # fmt: skip
    x = rng.standard_normal((*variants, batch, width))
    biases = tuple(np.zeros((*layers, width)))
    return NetworkArrays(ws, biases, x)


def seeded_arrays(
    depth: int,
    width: int,
    init: str,
    *,
    seed: int,
    std: float | None = None,
    gain: float = 1.0,
    value: float = 0.0,
    batch: int = 64,
) -> tuple[NetworkArrays, np.random.Generator]:
    """``build_network`` drawn from ``default_rng(seed)``, and that generator after its draws.

    The same numbers, drawn once: a question often runs several networks from one seed that
    differ only in the scale of a normal initializer, the activation or the architecture
    (plain against residual, with and without batch norm), and drawing the weights takes most
    of such a run. The recent draws are kept read-only (:data:`SHARED_DRAW_FLOATS`); each
    network gets its own weight arrays.
    """
    _check_size(depth, width, batch, ())
    if init not in _SCALED_NORMAL:
        rng = np.random.default_rng(seed)
        net = build_network(
            depth, width, init, seed=rng, std=std, gain=gain, value=value, batch=batch
        )
        return net, rng
    scale = init_std(init, width, width, gain=gain, std=std)
    draws = _RECENT_DRAWS.get(seed, depth, width, batch)
    net = NetworkArrays(tuple(draws.normals * scale), tuple(np.zeros((depth, width))), draws.x)
    generator = np.random.PCG64()
    generator.state = draws.state
    return net, np.random.Generator(generator)


@dataclass(frozen=True)
class _Draws:
    """The first draws of ``default_rng(seed)`` for a network: its standard-normal weights
    and its input (both read-only), and the generator's state after them."""

    normals: FloatArray
    x: FloatArray
    state: Any  # the bit generator's own state mapping


class _RecentDraws:
    """Draws by (seed, depth, width, batch), the oldest dropped beyond a number of floats."""

    def __init__(self, budget: int) -> None:
        self._budget = budget
        self._kept: OrderedDict[tuple[int, int, int, int], _Draws] = OrderedDict()

    def get(self, seed: int, depth: int, width: int, batch: int) -> _Draws:
        key = (int(seed), depth, width, batch)
        found = self._kept.get(key)
        if found is None:
            found = self._kept[key] = _draw(*key)
            while len(self._kept) > 1 and self._floats() > self._budget:
                self._kept.popitem(last=False)
        self._kept.move_to_end(key)
        return found

    def _floats(self) -> int:
        return sum(d.normals.size + d.x.size for d in self._kept.values())


def _draw(seed: int, depth: int, width: int, batch: int) -> _Draws:
    rng = np.random.default_rng(seed)
    normals = rng.standard_normal((depth, width, width))  # init_weights' draw, before scaling
    x = rng.standard_normal((batch, width))
    normals.flags.writeable = x.flags.writeable = False
    return _Draws(normals, x, rng.bit_generator.state)


_RECENT_DRAWS = _RecentDraws(SHARED_DRAW_FLOATS)


def simulate_network(
    depth: int,
    width: int,
    activation: str,
    init: str,
    *,
    seed: int | np.random.Generator,
    std: float | None = None,
    gain: float = 1.0,
    value: float = 0.0,
    batch: int = 64,
    residual: bool = False,
    batchnorm: bool = False,
    loss: str = "mean",
    dtype: str = "float64",
    slope: float = 0.01,
    alpha: float = 1.0,
) -> NetworkReport:
    """Build a seeded network, run forward and backward once, and report every layer.

    ``loss`` is ``"mean"`` (mean of the output) or ``"mse"`` (to an N(0, 1) target). The run
    is in ``dtype``; the statistics are float64. See :class:`NetworkReport`.
    """
    get_activation(activation, slope=slope, alpha=alpha)  # a bad name fails before drawing
    float_dtype(dtype)
    if isinstance(seed, np.random.Generator):
        rng = seed
        net = build_network(
            depth, width, init, seed=rng, std=std, gain=gain, value=value, batch=batch
        )
    else:
        net, rng = seeded_arrays(
            depth, width, init, seed=seed, std=std, gain=gain, value=value, batch=batch
        )
    target = rng.standard_normal(net.x.shape) if loss == "mse" else None
    result = network_gradients(
        net.x,
        net.weights,
        net.biases,
        activation,
        loss=loss,
        target=target,
        residual=residual,
        batchnorm=batchnorm,
        dtype=dtype,
        slope=slope,
        alpha=alpha,
    )
    stats = layer_stats(result)
    settings: dict[str, object] = {
        "depth": depth,
        "width": width,
        "activation": activation,
        "init": init,
        "std": std,
        "batch": batch,
        "residual": residual,
        "batchnorm": batchnorm,
        "loss": loss,
        "dtype": dtype,
    }
    return NetworkReport(
        **vars(stats),
        loss=float(result.loss),
        activation=activation,
        init=init,
        residual=residual,
        batchnorm=batchnorm,
        dtype=dtype,
        settings=settings,
    )


def _check_size(depth: int, width: int, batch: int, variants: tuple[int, ...]) -> None:
    check_positive_int("depth", depth)
    check_positive_int("width", width)
    check_positive_int("batch", batch)
    count = int(np.prod(variants)) if variants else 1
    size = count * depth * width * max(width, batch)
    if size > MAX_UNITS:
        raise SimulationError(
            f"a network of depth {depth}, width {width} and batch {batch} is too large to "
            f"simulate: depth x width x max(width, batch) is {size:,}, and at most "
            f"{MAX_UNITS:,} fit in memory; use a smaller width or depth"
        )
