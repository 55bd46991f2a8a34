"""Activation functions, each with its value and its derivative side by side.

Every derivative is written as a function of the pre-activation ``z`` (not of the output), in a
form that keeps full relative precision where the textbook form cancels: ``sigmoid'(30)`` is
``9.4e-14``, not ``0``. The arrays keep their dtype (float16 stays float16).

Conventions:

* ``relu'(0) = 0`` and ``leaky_relu'(0) = slope``, as in PyTorch and TensorFlow; the kink
  itself has no derivative, so this is a convention, not maths.
* ``elu'(0) = alpha`` (the left-hand value; equal to the right-hand value 1 when alpha = 1).
* GELU is the exact one, ``z * Phi(z)`` with the standard normal CDF ``Phi``.
* A unit is *saturated* when ``abs(f'(z))`` is below a tenth of the activation's largest
  derivative (:data:`SATURATION_FRACTION`): for sigmoid that is ``abs(z) > 3.6``, for tanh
  ``abs(z) > 1.8``, for ReLU every ``z <= 0`` (a dead unit), for leaky ReLU with the default
  slope every ``z <= 0``; a linear unit is never saturated.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from tutor.errors import SimulationError
from tutor.sim._arrays import FloatArray
from tutor.sim.names import ACTIVATION_NAMES
from tutor.sim.scalar import scalar_functions

SATURATION_FRACTION = 0.1
"""A unit is saturated when ``abs(f'(z)) < SATURATION_FRACTION * peak_derivative``."""

RELU_FAMILY: frozenset[str] = frozenset({"relu", "leaky_relu", "elu", "gelu", "softplus"})
"""Activations paired with He initialization; the others are paired with Xavier."""


class Activation(NamedTuple):
    """An activation ``f`` with its derivative ``f'``, both taking the pre-activation ``z``.

    ``value`` and ``derivative`` map an array of any shape to an array of the same shape and
    dtype; ``scalar`` and ``scalar_prime`` are ``value`` and ``derivative`` on one Python
    float (the engine's fast path for short scalar chains, where NumPy's per-call cost is most
    of the work). ``peak_derivative`` is the largest ``abs(f'(z))`` over all z.
    """

    name: str
    value: Callable[[FloatArray], FloatArray]
    derivative: Callable[[FloatArray], FloatArray]
    scalar: Callable[[float], float]
    scalar_prime: Callable[[float], float]
    peak_derivative: float

    @property
    def recommended_init(self) -> str:
        """The initializer that keeps this activation's backward gain near 1."""
        return "he-normal" if self.name in RELU_FAMILY else "xavier-normal"

    def saturated(self, z: FloatArray) -> NDArray[np.bool_]:
        """True where ``abs(f'(z))`` is below a tenth of ``peak_derivative``."""
        return self.flat(self.derivative(z))

    def flat(self, fprime: FloatArray) -> NDArray[np.bool_]:
        """``saturated`` from derivatives already computed: True where they are that small."""
        return np.asarray(np.abs(fprime) < SATURATION_FRACTION * self.peak_derivative)


def _like(z: FloatArray, x: Any) -> FloatArray:
    """``x`` as an array of ``z``'s shape and dtype (constants from np.where are float64)."""
    return np.asarray(x, dtype=z.dtype)


# sigmoid(z) = 1 / (1 + e^-z);  sigmoid'(z) = sigmoid(z) * (1 - sigmoid(z)).
# With e = exp(-|z|) both are exact for every z: no overflow, no 1 - (1 - tiny).
def sigmoid(z: FloatArray) -> FloatArray:
    e = np.exp(-np.abs(z))
    return _like(z, np.where(z >= 0, 1.0, e) / (1.0 + e))


def sigmoid_prime(z: FloatArray) -> FloatArray:
    e = np.exp(-np.abs(z))
    d = 1.0 + e
    return _like(z, e / (d * d))


# tanh'(z) = 1 - tanh(z)^2 = 4 e / (1 + e)^2 with e = exp(-2|z|), exact in the tails.
def tanh(z: FloatArray) -> FloatArray:
    return np.tanh(z)


def tanh_prime(z: FloatArray) -> FloatArray:
    e = np.exp(-2.0 * np.abs(z))
    d = 1.0 + e
    return _like(z, 4.0 * e / (d * d))


# relu(z) = max(z, 0);  relu'(z) = 1 if z > 0 else 0 (0 at z = 0 by convention).
def relu(z: FloatArray) -> FloatArray:
    return np.maximum(z, 0)


def relu_prime(z: FloatArray) -> FloatArray:
    return (z > 0).astype(z.dtype)


# leaky_relu(z) = z if z > 0 else slope * z;  leaky_relu'(z) = 1 if z > 0 else slope.
def _leaky(slope: float) -> tuple[Callable[[FloatArray], FloatArray], ...]:
    def value(z: FloatArray) -> FloatArray:
        return np.where(z > 0, z, z * slope)

    def derivative(z: FloatArray) -> FloatArray:
        return _like(z, np.where(z > 0, 1.0, slope))

    return value, derivative


# elu(z) = z if z > 0 else alpha * (e^z - 1);  elu'(z) = 1 if z > 0 else alpha * e^z.
def _elu(alpha: float) -> tuple[Callable[[FloatArray], FloatArray], ...]:
    def value(z: FloatArray) -> FloatArray:
        return np.where(z > 0, z, alpha * np.expm1(np.minimum(z, 0)))

    def derivative(z: FloatArray) -> FloatArray:
        return _like(z, np.where(z > 0, 1.0, alpha * np.exp(np.minimum(z, 0))))

    return value, derivative


# gelu(z) = z * Phi(z);  gelu'(z) = Phi(z) + z * phi(z), Phi/phi the standard normal CDF/PDF.
# NumPy has no erf, so Phi comes from math.erfc per element (exact to the last bit, and
# Phi(z) = erfc(-z / sqrt 2) / 2 keeps relative precision far into the left tail).
_erfc = np.frompyfunc(math.erfc, 1, 1)


def _phi_cdf(z: FloatArray) -> NDArray[np.float64]:
    return 0.5 * np.asarray(_erfc(-np.asarray(z, dtype=np.float64) / math.sqrt(2.0)), float)


def gelu(z: FloatArray) -> FloatArray:
    return _like(z, z.astype(np.float64) * _phi_cdf(z))


def gelu_prime(z: FloatArray) -> FloatArray:
    z64 = z.astype(np.float64)
    pdf = np.exp(-0.5 * z64 * z64) / math.sqrt(2.0 * math.pi)
    return _like(z, _phi_cdf(z) + z64 * pdf)


# gelu'' = phi(z) * (2 - z^2), so gelu' peaks at z = sqrt(2): Phi(sqrt 2) + sqrt(2) phi(sqrt 2).
_GELU_PEAK = 0.5 * math.erfc(-1.0) + math.sqrt(2.0) * math.exp(-1.0) / math.sqrt(2.0 * math.pi)


# softplus(z) = log(1 + e^z) = max(z, 0) + log1p(e^-|z|);  softplus'(z) = sigmoid(z).
def softplus(z: FloatArray) -> FloatArray:
    return np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))


# linear(z) = z;  linear'(z) = 1.
def linear(z: FloatArray) -> FloatArray:
    return z


def linear_prime(z: FloatArray) -> FloatArray:
    return np.ones_like(z)


_PEAKS = {"sigmoid": 0.25, "gelu": _GELU_PEAK}
_ARRAYS: dict[str, tuple[Callable[[FloatArray], FloatArray], ...]] = {
    "sigmoid": (sigmoid, sigmoid_prime),
    "tanh": (tanh, tanh_prime),
    "relu": (relu, relu_prime),
    "gelu": (gelu, gelu_prime),
    "softplus": (softplus, sigmoid),
    "linear": (linear, linear_prime),
}


def _build(name: str, slope: float, alpha: float) -> Activation:
    """The activation ``name`` with its parameters bound."""
    scalar, scalar_prime = scalar_functions(name, slope, alpha)
    if name == "leaky_relu":
        value, derivative = _leaky(slope)
        peak = max(1.0, abs(slope))
    elif name == "elu":
        value, derivative = _elu(alpha)
        peak = max(1.0, alpha)
    else:
        value, derivative = _ARRAYS[name]
        peak = _PEAKS.get(name, 1.0)
    return Activation(name, value, derivative, scalar, scalar_prime, peak)


_DEFAULTS: dict[str, Activation] = {n: _build(n, 0.01, 1.0) for n in ACTIVATION_NAMES}


def get_activation(name: str, *, slope: float = 0.01, alpha: float = 1.0) -> Activation:
    """The activation called ``name`` (one of :data:`ACTIVATION_NAMES`).

    ``slope`` is leaky ReLU's slope for ``z <= 0``; ``alpha`` is ELU's scale for ``z <= 0``.
    Raises :class:`SimulationError` for an unknown name or a parameter that is not finite.
    """
    if slope == 0.01 and alpha == 1.0:
        found = _DEFAULTS.get(name)
        if found is not None:
            return found
    if name not in _DEFAULTS:
        valid = ", ".join(ACTIVATION_NAMES)
        raise SimulationError(f"unknown activation {name!r}; choose one of {valid}")
    if not (math.isfinite(slope) and math.isfinite(alpha) and alpha > 0):
        raise SimulationError(
            f"activation parameters must be finite (and alpha > 0): {slope=}, {alpha=}"
        )
    return _build(name, float(slope), float(alpha))
