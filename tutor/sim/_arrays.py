"""Small array helpers shared by the engine: dtypes, robust norms, broadcasting, checks.

Nothing here is specific to one layer; each helper is a few lines so the layer code can stay
close to the maths.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from tutor.errors import SimulationError

FloatArray = NDArray[np.floating[Any]]
"""A floating-point NumPy array of any precision (float16, float32 or float64)."""

DTYPE_NAMES: tuple[str, ...] = ("float16", "float32", "float64")
"""Precisions the engine runs in; float64 is the default everywhere."""


def quiet() -> np.errstate:
    """Silence floating-point warnings for one block.

    An exploding network overflows to inf and a vanishing one underflows to 0 by design; the
    reports say so, so NumPy's warnings would only be noise (and errors under pytest).
    (A fresh object each time: an ``np.errstate`` cannot be entered twice.)
    """
    return np.errstate(over="ignore", under="ignore", invalid="ignore", divide="ignore")


def float_dtype(name: str) -> np.dtype[np.floating[Any]]:
    """The NumPy dtype for ``"float16"``, ``"float32"`` or ``"float64"``."""
    if name not in DTYPE_NAMES:
        raise SimulationError(f"unknown dtype {name!r}; choose one of {', '.join(DTYPE_NAMES)}")
    return np.dtype(name)


def as_float(x: ArrayLike, dtype: np.dtype[Any] | None = None) -> FloatArray:
    """``x`` as a floating array: kept in its own precision if it has one, else float64."""
    arr = np.asarray(x)
    if dtype is not None and arr.dtype != dtype:
        with quiet():  # a cast to float16 overflows to inf by design
            return arr.astype(dtype)
    if dtype is not None:
        return arr
    if arr.dtype.kind != "f":
        return arr.astype(np.float64)
    return arr


def frob_norm(x: FloatArray, axes: tuple[int, ...]) -> NDArray[np.float64]:
    """Frobenius norm over ``axes`` (trailing axes), in float64, without overflow or underflow.

    The fast path sums squares in float64. Where that overflows (values near 1e200 in an
    exploding network) or underflows to 0 (values near 1e-170), the sum is redone as
    ``max|x| * sqrt(sum((x / max|x|)**2))``. A slice holding inf or NaN has norm inf or NaN.
    """
    flat = x.reshape(*x.shape[: x.ndim - len(axes)], -1)
    with quiet():
        squares = np.einsum("...i,...i->...", flat, flat, dtype=np.float64, casting="safe")
        fast = np.sqrt(squares)
        if np.all(np.isfinite(fast) & (fast > 1e-150)):
            return np.asarray(fast, dtype=np.float64)
        return _scaled_norm(flat.astype(np.float64))


def whole_norm(x: FloatArray) -> float:
    """The Frobenius norm of a whole array as a float: ``frob_norm`` over every axis, the
    same number, without its per-call overhead (training loops take thousands of these)."""
    flat = x.reshape(-1)
    squares = float(np.einsum("...i,...i->...", flat, flat, dtype=np.float64, casting="safe"))
    root = math.sqrt(squares)  # inf and NaN stay what they are
    if math.isfinite(root) and root > 1e-150:
        return root
    with quiet():
        return float(_scaled_norm(flat.astype(np.float64)))


def _scaled_norm(flat: NDArray[np.float64]) -> NDArray[np.float64]:
    a = np.abs(flat)
    top = np.max(a, axis=-1, keepdims=True) if a.shape[-1] else np.zeros((*a.shape[:-1], 1))
    ok = np.isfinite(top) & (top > 0)
    safe = np.where(ok, top, 1.0)
    scaled = np.sqrt(np.sum((a / safe) ** 2, axis=-1, keepdims=True)) * safe
    return np.asarray(np.where(ok, scaled, top)[..., 0], dtype=np.float64)


def unbroadcast(grad: FloatArray, shape: tuple[int, ...]) -> FloatArray:
    """Sum ``grad`` over the axes along which a parameter of ``shape`` was broadcast."""
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    summed = grad.sum(axis=tuple(range(extra))) if extra > 0 else grad
    keep = tuple(i for i, n in enumerate(shape) if n == 1 and summed.shape[i] != 1)
    return summed.sum(axis=keep, keepdims=True) if keep else summed


def matmul(a: FloatArray, b: FloatArray, out: FloatArray | None = None) -> FloatArray:
    """``a @ b`` (into ``out`` if given); float16 products accumulate in float32 and are
    rounded back to float16.

    That is what float16 hardware does, and NumPy's own float16 matmul has no BLAS behind it
    and is about 40 times slower.
    """
    if a.dtype == np.float16:
        with quiet():
            product = (a.astype(np.float32) @ b.astype(np.float32)).astype(np.float16)
        if out is None:
            return product
        out[...] = product
        return out
    result: FloatArray = np.matmul(a, b, out=out)
    return result


def swap_last(a: FloatArray) -> FloatArray:
    """The transpose of the last two axes (a stack of matrices stays a stack)."""
    return np.swapaxes(a, -1, -2)


def check_positive_int(name: str, value: int, *, low: int = 1) -> None:
    """Raise :class:`SimulationError` unless ``value`` is an int of at least ``low``."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
        raise SimulationError(f"{name} must be an integer >= {low}, got {value!r}")


def check_finite_positive(name: str, value: float, *, allow_zero: bool = False) -> None:
    """Raise :class:`SimulationError` unless ``value`` is a finite number > 0 (or >= 0)."""
    ok = np.isfinite(value) and (value >= 0 if allow_zero else value > 0)
    if not ok:
        bound = ">= 0" if allow_zero else "> 0"
        raise SimulationError(f"{name} must be a finite number {bound}, got {value!r}")


def as_tuple(
    arrays: Sequence[ArrayLike] | None, dtype: np.dtype[Any] | None
) -> tuple[FloatArray, ...]:
    """A tuple of float arrays (empty for ``None``)."""
    if arrays is None:
        return ()
    return tuple(as_float(a, dtype) for a in arrays)
