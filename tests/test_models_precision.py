"""The precision models against IEEE 754 arithmetic done independently, one product at a time."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from model_helpers import run

from tutor.errors import SimulationError


def rounded_products(factor: float, depth: int, dtype: str, scale: float = 1.0) -> list[float]:
    """scale * factor^n for n = 1..depth, rounded to ``dtype`` after every multiplication."""
    kind = np.dtype(dtype).type
    value, f, out = kind(scale), kind(factor), []
    with np.errstate(over="ignore", under="ignore"):
        for _ in range(depth):
            value = kind(value * f)
            out.append(float(value))
    return out


@pytest.mark.parametrize(
    ("dtype", "maximum", "subnormal", "tiny"),
    [
        ("float16", 65504.0, 2.0**-24, 2.0**-14),
        ("float32", (2 - 2.0**-23) * 2.0**127, 2.0**-149, 2.0**-126),
        ("float64", (2 - 2.0**-52) * 2.0**1023, 2.0**-1074, 2.0**-1022),
    ],
)
def test_float_format_limits(dtype: str, maximum: float, subnormal: float, tiny: float) -> None:
    limits = run("float_format", dtype=dtype)
    assert (limits["max"], limits["subnormal"], limits["tiny"]) == (maximum, subnormal, tiny)
    assert limits == {k: run("float_chain", depth=1, dtype=dtype)[k] for k in limits}


# Overflow: the first n at which factor^n, rounded, exceeds the largest finite value. In
# float16 anything from 65520 up (halfway to the next power of two's spacing) rounds to inf.
@pytest.mark.parametrize(
    ("dtype", "factor", "overflow_at"),
    [
        ("float16", 2.0, 16),  # 2^15 = 32768 fits, 2^16 = 65536 >= 65520
        ("float16", 1.5, 28),  # 1.5^27 = 56815, 1.5^28 = 85223
        ("float16", 3.0, 11),  # 3^10 = 59049, 3^11 = 177147
        ("float32", 2.0, 128),  # 2^127 fits, 2^128 does not
        ("float32", 3.0, 81),  # 3^80 = 1.48e38, 3^81 = 4.43e38
    ],
)
def test_overflow_depth(dtype: str, factor: float, overflow_at: int) -> None:
    out = run("float_chain", depth=1000, weight=factor, dtype=dtype)
    assert out["overflow_at"] == overflow_at
    assert math.isinf(out["running"][overflow_at - 1])
    assert math.isfinite(out["running"][overflow_at - 2])
    assert out["underflow_at"] == 0


@pytest.mark.parametrize(
    ("dtype", "factor", "underflow_at"),
    [
        ("float16", 0.25, 13),  # 2^-24 is the smallest subnormal; 2^-26 rounds to 0
        ("float16", 0.5, 25),  # 2^-25 is exactly half of it: a tie, rounded to even (0)
        ("float16", 0.125, 9),  # 2^-27
        ("float32", 0.25, 75),  # 2^-150: half of 2^-149, a tie again
        ("float32", 0.125, 50),  # 2^-150
    ],
)
def test_underflow_depth_of_powers_of_two(dtype: str, factor: float, underflow_at: int) -> None:
    out = run("float_chain", depth=underflow_at + 3, weight=factor, dtype=dtype)
    assert out["underflow_at"] == underflow_at
    assert out["running"][underflow_at - 2] > 0


def test_float64_underflow_is_beyond_the_depth_cap() -> None:
    assert run("float_chain", depth=1000, weight=0.5, dtype="float64")["underflow_at"] == 0


def test_a_factor_above_one_half_sticks_at_the_smallest_subnormal() -> None:
    # 0.7 * 2^-24 is nearer to 2^-24 than to 0, so round-to-nearest gives 2^-24 back.
    out = run("float_chain", depth=200, weight=0.7, dtype="float16")
    assert out["underflow_at"] == 0
    assert out["running"][-1] == 2.0**-24
    assert out["exact"][-1] == pytest.approx(0.7**200)


@settings(deadline=None, max_examples=40)
@given(
    factor=st.floats(0.05, 4.0),
    depth=st.integers(1, 200),
    dtype=st.sampled_from(["float16", "float32"]),
    scale_exp=st.integers(0, 15),
)
def test_every_partial_product_is_rounded_like_the_format(
    factor: float, depth: int, dtype: str, scale_exp: int
) -> None:
    scale = 2.0**scale_exp
    out = run("float_chain", depth=depth, weight=factor, dtype=dtype, scale=scale)
    expected = rounded_products(factor, depth, dtype, scale)
    assert list(out["running"]) == expected
    assert list(out["to_input"]) == expected[::-1]
    assert out["grad"] == expected[-1]
    assert out["unscaled"] == expected[-1] / scale


@settings(deadline=None, max_examples=30)
@given(weights=st.lists(st.floats(-3, 3), min_size=1, max_size=12), seed=st.integers(0, 99))
def test_float64_without_a_scale_is_the_exact_chain(weights: list[float], seed: int) -> None:
    z = np.random.default_rng(seed).uniform(-3, 3, len(weights)).tolist()
    out = run(
        "float_chain", depth=len(weights), activation="tanh", weight=weights, z=z, dtype="float64"
    )
    fprime = [1 - math.tanh(v) ** 2 for v in z]
    for n in range(1, len(weights) + 1):
        want = math.prod(w * d for w, d in zip(weights[-n:], fprime[-n:], strict=True))
        assert out["running"][n - 1] == pytest.approx(want, rel=1e-9, abs=1e-300)
    assert out["running"] == out["exact"]


def test_loss_scaling_keeps_a_float16_gradient_that_would_underflow() -> None:
    plain = run("float_chain", depth=14, activation="sigmoid", dtype="float16")
    scaled = run("float_chain", depth=14, activation="sigmoid", dtype="float16", scale=2.0**12)
    assert plain["grad"] == 0.0 and plain["underflow_at"] == 13
    assert scaled["underflow_at"] == 0
    assert scaled["unscaled"] == 0.25**14  # powers of two: no rounding at all


def test_a_scale_beyond_float16_overflows_at_once() -> None:
    out = run("float_chain", depth=3, weight=0.5, dtype="float16", scale=2.0**17)
    assert math.isinf(out["grad"]) and out["overflow_at"] == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"depth": 1001}, "outside"),
        ({"depth": 3, "dtype": "bfloat16"}, "not one of"),
        ({"depth": 3, "scale": 0.0}, "outside"),
        ({"depth": 3, "weight": [1.0, 2.0]}, "2 values for 3 layers"),
    ],
)
def test_bad_arguments_are_refused(args: dict[str, Any], message: str) -> None:
    with pytest.raises(SimulationError, match=message):
        run("float_chain", **args)
