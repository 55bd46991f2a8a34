"""One scalar chain in Python floats: the engine's fast path, free of NumPy.

A chain of a few dozen scalar units is the usual question's size. In Python floats it takes
microseconds, where NumPy would spend most of its time in per-call overhead, and a quiz whose
first question needs nothing more does not wait for NumPy to load. Python floats follow IEEE
754 as NumPy's do: overflow gives inf and underflow 0, never an error.

Every function here has an array twin in :mod:`tutor.sim.activations` or
:mod:`tutor.sim.chain`, with the same formulas; the tests hold the two to the same numbers.
"""

from __future__ import annotations

import itertools
import math
import operator
from collections.abc import Callable, Sequence
from typing import NamedTuple

from tutor.errors import SimulationError
from tutor.sim.names import ACTIVATION_NAMES

SCALAR_DEPTH = 64
"""Up to this depth one float64 chain is faster in Python floats than in NumPy calls."""

Scalar = Callable[[float], float]


# The formulas are those of tutor.sim.activations, which explains them.
def sigmoid(z: float) -> float:
    e = math.exp(-abs(z))
    return (1.0 if z >= 0 else e) / (1.0 + e)


def sigmoid_prime(z: float) -> float:
    e = math.exp(-abs(z))
    d = 1.0 + e
    return e / (d * d)


def tanh_prime(z: float) -> float:
    e = math.exp(-2.0 * abs(z))
    d = 1.0 + e
    return 4.0 * e / (d * d)


def gelu(z: float) -> float:
    return 0.5 * z * math.erfc(-z / math.sqrt(2.0))


def gelu_prime(z: float) -> float:
    pdf = math.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)
    return 0.5 * math.erfc(-z / math.sqrt(2.0)) + z * pdf


def softplus(z: float) -> float:
    return max(z, 0.0) + math.log1p(math.exp(-abs(z)))


_FIXED: dict[str, tuple[Scalar, Scalar]] = {
    "sigmoid": (sigmoid, sigmoid_prime),
    "tanh": (math.tanh, tanh_prime),
    "relu": (lambda z: 0.0 if z <= 0 else z, lambda z: 1.0 if z > 0 else 0.0),
    "gelu": (gelu, gelu_prime),
    "softplus": (softplus, sigmoid),
    "linear": (lambda z: z, lambda _: 1.0),
}


def scalar_functions(name: str, slope: float = 0.01, alpha: float = 1.0) -> tuple[Scalar, Scalar]:
    """The activation ``name`` and its derivative on one Python float.

    ``slope`` is leaky ReLU's slope for ``z <= 0``; ``alpha`` is ELU's scale for ``z <= 0``.
    """
    if not (math.isfinite(slope) and math.isfinite(alpha) and alpha > 0):
        raise SimulationError(
            f"activation parameters must be finite (and alpha > 0): {slope=}, {alpha=}"
        )
    if name == "leaky_relu":
        return (lambda z: z if z > 0 else slope * z), (lambda z: 1.0 if z > 0 else slope)
    if name == "elu":
        return (
            lambda z: z if z > 0 else alpha * math.expm1(z),
            lambda z: 1.0 if z > 0 else alpha * math.exp(z),
        )
    try:
        return _FIXED[name]
    except KeyError:
        valid = ", ".join(ACTIVATION_NAMES)
        raise SimulationError(f"unknown activation {name!r}; choose one of {valid}") from None


class ScalarChainGrad(NamedTuple):
    """The backward pass of one float64 chain, as ``tutor.sim.ChainGrad`` in Python floats."""

    fprime: tuple[float, ...]
    factors: tuple[float, ...]
    to_input: tuple[float, ...]
    cumulative: tuple[float, ...]
    grad: float


def chain_backward_scalar(
    weights: Sequence[float],
    preacts: Sequence[float],
    activation: str,
    *,
    slope: float = 0.01,
    alpha: float = 1.0,
) -> ScalarChainGrad:
    """Per-layer factors ``w_l * f'(z_l)`` and their products, in the order NumPy takes them."""
    if len(weights) != len(preacts) or not weights:
        counts = f"{len(weights)} and {len(preacts)}"
        raise SimulationError(f"a chain needs one weight per pre-activation: {counts}")
    derivative = scalar_functions(activation, slope, alpha)[1]
    if preacts.count(preacts[0]) == len(preacts):  # one z for every layer, as questions often set
        fprime = (derivative(preacts[0]),) * len(preacts)
    else:
        fprime = tuple(map(derivative, preacts))
    factors = tuple(map(operator.mul, weights, fprime))
    cumulative = tuple(itertools.accumulate(factors, operator.mul))
    to_input = tuple(itertools.accumulate(reversed(factors), operator.mul))[::-1]
    return ScalarChainGrad(fprime, factors, to_input, cumulative, to_input[0])


def chain_forward_scalar(
    x0: float,
    weights: Sequence[float],
    biases: Sequence[float],
    activation: str,
    *,
    slope: float = 0.01,
    alpha: float = 1.0,
) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Run one chain from input ``x0``: its pre-activations ``z`` and outputs ``h``."""
    if len(weights) != len(biases) or not weights:
        counts = f"{len(weights)} and {len(biases)}"
        raise SimulationError(f"a chain needs one bias per weight: {counts}")
    return forward_pass(float(x0), weights, biases, scalar_functions(activation, slope, alpha)[0])


def forward_pass(
    h: float, weights: Sequence[float], biases: Sequence[float], f: Scalar
) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """``z_l = w_l h_{l-1} + b_l`` and ``h_l = f(z_l)`` layer by layer, from ``h_0 = h``."""
    zs: list[float] = []
    hs: list[float] = []
    for w, b in zip(weights, biases, strict=True):
        z = w * h + b
        h = f(z)
        zs.append(z)
        hs.append(h)
    return tuple(zs), tuple(hs)
