"""Central finite differences: the independent check of every backward pass.

``numerical_gradient(f, x)`` estimates ``df/dx`` entry by entry with
``(f(x + h e_i) - f(x - h e_i)) / (2 h)``, whose error is O(h^2) for a smooth f; in float64
with h = 1e-6 it agrees with an exact gradient to about 1e-9 relative.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike, NDArray

from tutor.sim._arrays import FloatArray, as_float


def numerical_gradient(
    f: Callable[[FloatArray], float], x: ArrayLike, *, h: float = 1e-6
) -> NDArray[np.float64]:
    """``df/dx`` of the scalar function ``f`` at ``x`` (float64, same shape as ``x``).

    ``f`` receives a float64 copy of ``x`` with one entry nudged; ``x`` itself is not changed.
    """
    point = as_float(x).astype(np.float64, copy=True)
    grad = np.zeros_like(point)
    for index in np.ndindex(point.shape):
        old = point[index]
        point[index] = old + h
        up = f(point.copy())
        point[index] = old - h
        down = f(point.copy())
        point[index] = old
        grad[index] = (up - down) / (2.0 * h)
    return grad


def relative_error(exact: ArrayLike, approx: ArrayLike) -> float:
    """``norm(exact - approx) / max(norm(exact), norm(approx))`` (0 when both are 0)."""
    a = as_float(exact).astype(np.float64)
    b = as_float(approx).astype(np.float64)
    scale = max(float(np.linalg.norm(a)), float(np.linalg.norm(b)))
    return float(np.linalg.norm(a - b)) / scale if scale > 0 else 0.0
