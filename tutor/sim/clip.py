"""Gradient clipping and L2 regularization, on a list of gradient arrays.

* By value: every entry is clamped to ``[-c, c]``; the direction of the gradient changes.
* By global norm: if ``g = norm(all gradients together) > c`` every array is scaled by
  ``c / g``, so the direction is kept and the total norm becomes ``c``.
* L2: the penalty ``lam / 2 * sum ||W||^2`` adds ``lam * W`` to each weight's gradient.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

from tutor.sim._arrays import FloatArray, as_float, check_finite_positive, quiet, whole_norm


def global_norm(grads: Sequence[ArrayLike]) -> float:
    """``sqrt(sum of squares of every entry of every array)``, in float64 without overflow."""
    parts = [whole_norm(as_float(g)) for g in grads]
    return whole_norm(np.asarray(parts, dtype=np.float64)) if parts else 0.0


def clip_by_value(grads: Sequence[ArrayLike], c: float) -> tuple[tuple[FloatArray, ...], float]:
    """Each array clamped to ``[-c, c]`` (new arrays), and the global norm before clipping."""
    check_finite_positive("the clip value", c)
    arrays = [as_float(g) for g in grads]
    return tuple(np.clip(g, -c, c) for g in arrays), global_norm(arrays)


def clip_by_global_norm(
    grads: Sequence[ArrayLike], c: float
) -> tuple[tuple[FloatArray, ...], float]:
    """``g * c / norm`` for every array when ``norm > c``, else copies; plus the norm.

    A non-finite norm (an overflowed gradient) cannot be rescued: the arrays are scaled by
    ``c / norm`` all the same, which gives 0 for finite entries and NaN for infinite ones.
    """
    check_finite_positive("the clip norm", c)
    arrays = [as_float(g) for g in grads]
    norm = global_norm(arrays)
    if norm <= c:
        return tuple(g.copy() for g in arrays), norm
    scale = c / norm
    with quiet():
        return tuple((g * scale).astype(g.dtype, copy=False) for g in arrays), norm


def l2_penalty(weights: Sequence[ArrayLike], lam: float) -> tuple[float, tuple[FloatArray, ...]]:
    """The penalty ``lam / 2 * sum ||W||^2`` and its gradient ``lam * W`` for each matrix."""
    check_finite_positive("the L2 coefficient", lam, allow_zero=True)
    arrays = [as_float(w) for w in weights]
    value = 0.5 * lam * global_norm(arrays) ** 2 if arrays else 0.0
    return (value if math.isfinite(value) else math.inf), tuple(w * lam for w in arrays)
