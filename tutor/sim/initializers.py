"""Weight initializers and the closed forms behind them.

Convention: a weight matrix has shape ``(fan_in, fan_out)`` and a layer computes
``h_next = f(h @ W + b)`` with ``h`` of shape ``(batch, fan_in)``. (PyTorch stores the
transpose, ``(fan_out, fan_in)``; the fans mean the same thing.)

==================  ===================================  =================================
name                distribution                          standard deviation
==================  ===================================  =================================
``zeros``           every weight 0                        0
``constant``        every weight ``value``                0
``normal``          N(0, std^2)                           ``std``
``uniform``         U(-limit, limit)                      ``limit / sqrt(3)``
``xavier-normal``   N(0, 2 / (fan_in + fan_out))          ``gain * sqrt(2 / (fan_in + fan_out))``
``xavier-uniform``  U(+-sqrt(6 / (fan_in + fan_out)))     same as xavier-normal
``he-normal``       N(0, 2 / fan_in)                      ``gain * sqrt(2 / fan_in)``
``he-uniform``      U(+-sqrt(6 / fan_in))                 same as he-normal
``lecun-normal``    N(0, 1 / fan_in)                      ``gain * sqrt(1 / fan_in)``
``orthogonal``      orthonormal rows or columns           ``gain / sqrt(max(fan_in, fan_out))``
==================  ===================================  =================================

``gain`` multiplies every scheme's scale (``normal`` and ``uniform`` included). ``uniform``
takes ``limit``, or ``std`` (then ``limit = std * sqrt(3)``).
"""

from __future__ import annotations

import math

import numpy as np

from tutor.errors import SimulationError
from tutor.sim._arrays import FloatArray, check_positive_int
from tutor.sim.names import INIT_NAMES

_NEED_STD = ("normal", "uniform")


def init_std(
    name: str, fan_in: int, fan_out: int, *, gain: float = 1.0, std: float | None = None
) -> float:
    """The standard deviation of one weight under scheme ``name`` (the table above).

    ``normal`` and ``uniform`` have no scale of their own: pass ``std``.
    """
    _check_fans(name, fan_in, fan_out)
    if name in ("zeros", "constant"):
        return 0.0
    if name in _NEED_STD:
        return gain * _required_std(name, std)
    variance = {
        "xavier-normal": 2.0 / (fan_in + fan_out),
        "xavier-uniform": 2.0 / (fan_in + fan_out),
        "he-normal": 2.0 / fan_in,
        "he-uniform": 2.0 / fan_in,
        "lecun-normal": 1.0 / fan_in,
        "orthogonal": 1.0 / max(fan_in, fan_out),
    }[name]
    return gain * math.sqrt(variance)


def uniform_limit(
    name: str, fan_in: int, fan_out: int, *, gain: float = 1.0, std: float | None = None
) -> float:
    """The bound ``a`` of ``U(-a, a)`` for a uniform scheme: ``sqrt(3)`` times its std.

    ``xavier-uniform`` gives ``sqrt(6 / (fan_in + fan_out))``, ``he-uniform`` gives
    ``sqrt(6 / fan_in)``; ``uniform`` needs ``std``. Other schemes are not uniform and raise
    :class:`SimulationError`.
    """
    if name not in ("uniform", "xavier-uniform", "he-uniform"):
        raise SimulationError(f"{name!r} is not a uniform initializer")
    return math.sqrt(3.0) * init_std(name, fan_in, fan_out, gain=gain, std=std)


def init_weights(
    name: str,
    fan_in: int,
    fan_out: int,
    rng: np.random.Generator,
    *,
    std: float | None = None,
    limit: float | None = None,
    gain: float = 1.0,
    value: float = 0.0,
    variants: tuple[int, ...] = (),
) -> FloatArray:
    """A float64 weight matrix of shape ``variants + (fan_in, fan_out)`` drawn from ``rng``.

    ``variants`` adds leading axes for many independent draws at once. ``std`` is required by
    ``normal`` (and accepted by ``uniform``), ``limit`` by ``uniform``, ``value`` by
    ``constant``. Raises :class:`SimulationError` for an unknown name or a bad scale.
    """
    _check_fans(name, fan_in, fan_out)
    shape = (*variants, fan_in, fan_out)
    if name in ("zeros", "constant"):
        return np.full(shape, float(value) if name == "constant" else 0.0)
    if name == "orthogonal":
        return gain * _orthogonal(shape, rng)
    if name == "uniform" and limit is not None:
        _check_scale("limit", limit)
        return gain * rng.uniform(-limit, limit, size=shape)
    if name.endswith("uniform"):
        bound = uniform_limit(name, fan_in, fan_out, gain=gain, std=std)
        return rng.uniform(-bound, bound, size=shape)
    scale = init_std(name, fan_in, fan_out, gain=gain, std=std)
    weights = rng.standard_normal(shape)  # the numbers normal(0, 1) gives, drawn faster
    weights *= scale
    return weights


def _orthogonal(shape: tuple[int, ...], rng: np.random.Generator) -> FloatArray:
    """Matrices with orthonormal columns (tall) or rows (wide), uniform over that set."""
    rows, cols = shape[-2:]
    tall = rows >= cols
    a = rng.standard_normal(shape if tall else (*shape[:-2], cols, rows))
    q, r = np.linalg.qr(a)
    # The sign fix makes Q uniformly (Haar) distributed instead of biased by QR's convention.
    signs = np.sign(np.diagonal(r, axis1=-2, axis2=-1))
    q = q * np.where(signs == 0, 1.0, signs)[..., None, :]
    return q if tall else np.swapaxes(q, -1, -2)


def _required_std(name: str, std: float | None) -> float:
    if std is None:
        raise SimulationError(f"the {name} initializer needs a scale: pass std (--std)")
    _check_scale("std", std)
    return float(std)


def _check_scale(label: str, x: float) -> None:
    if not (math.isfinite(x) and x >= 0):
        raise SimulationError(f"{label} must be a finite number >= 0, got {x!r}")


def _check_fans(name: str, fan_in: int, fan_out: int) -> None:
    if name not in INIT_NAMES:
        valid = ", ".join(INIT_NAMES)
        raise SimulationError(f"unknown initializer {name!r}; choose one of {valid}")
    check_positive_int("fan_in", fan_in)
    check_positive_int("fan_out", fan_out)
