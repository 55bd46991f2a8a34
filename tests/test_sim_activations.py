"""Activations: each derivative against central differences, closed forms, tails, dtypes."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tutor.errors import SimulationError
from tutor.sim import ACTIVATION_NAMES, get_activation, numerical_gradient, relative_error

KINKED = {"relu", "leaky_relu", "elu"}  # central differences are not valid across a kink


def test_names_are_the_contract() -> None:
    assert ACTIVATION_NAMES == (
        "sigmoid", "tanh", "relu", "leaky_relu", "elu", "gelu", "softplus", "linear",
    )  # fmt: skip


def test_unknown_name_lists_the_valid_ones() -> None:
    with pytest.raises(SimulationError, match="sigmoid, tanh, relu"):
        get_activation("swish")


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
@settings(deadline=None, max_examples=40)
@given(
    seed=st.integers(0, 2**32 - 1),
    shape=st.lists(st.integers(1, 4), min_size=0, max_size=3).map(tuple),
    slope=st.floats(0.0, 0.5),
    alpha=st.floats(0.1, 3.0),
)
def test_derivative_matches_finite_differences(
    name: str, seed: int, shape: tuple[int, ...], slope: float, alpha: float
) -> None:
    act = get_activation(name, slope=slope, alpha=alpha)
    z = np.random.default_rng(seed).uniform(-5, 5, size=shape)
    if name in KINKED:
        z = np.where(np.abs(z) < 1e-3, 0.5, z)
    numeric = numerical_gradient(lambda v: float(np.sum(act.value(v))), z)
    assert relative_error(act.derivative(z), numeric) < 1e-6


# (name, z, f(z), f'(z)) exact values, including the conventions at the kinks
CLOSED_FORMS = [
    ("sigmoid", 0.0, 0.5, 0.25),
    ("tanh", 0.0, 0.0, 1.0),
    ("relu", 0.0, 0.0, 0.0),
    ("relu", 2.0, 2.0, 1.0),
    ("relu", -2.0, 0.0, 0.0),
    ("leaky_relu", 0.0, 0.0, 0.01),
    ("leaky_relu", -2.0, -0.02, 0.01),
    ("elu", 0.0, 0.0, 1.0),
    ("elu", -1.0, math.expm1(-1.0), math.exp(-1.0)),
    ("gelu", 0.0, 0.0, 0.5),
    ("softplus", 0.0, math.log(2.0), 0.5),
    ("linear", -3.0, -3.0, 1.0),
]


@pytest.mark.parametrize(("name", "z", "value", "slope"), CLOSED_FORMS)
def test_closed_forms(name: str, z: float, value: float, slope: float) -> None:
    act = get_activation(name)
    arr = np.array([z])
    assert act.value(arr)[0] == pytest.approx(value, rel=1e-15, abs=1e-300)
    assert act.derivative(arr)[0] == pytest.approx(slope, rel=1e-15)


@settings(deadline=None)
@given(z=st.floats(-8, 8))
def test_sigmoid_derivative_is_sigma_times_one_minus_sigma(z: float) -> None:
    act = get_activation("sigmoid")
    s = act.value(np.array(z))
    assert act.derivative(np.array(z)) == pytest.approx(s * (1 - s), rel=1e-9, abs=1e-30)


@pytest.mark.parametrize("z", [-1400.0, -700.0, -30.0, 30.0, 700.0, 1400.0])
def test_tails_keep_relative_precision(z: float) -> None:
    # 1 - tanh^2 and s * (1 - s) cancel to 0 here; the engine's forms do not.
    sech2 = 1.0 / math.cosh(z / 2) ** 2 if abs(z) < 1400 else 0.0
    assert get_activation("sigmoid").derivative(np.array(z)) == pytest.approx(sech2 / 4, rel=1e-12)
    t = 1.0 / math.cosh(z) ** 2 if abs(z) < 700 else 0.0
    assert get_activation("tanh").derivative(np.array(z)) == pytest.approx(t, rel=1e-12)


def test_sigmoid_prime_at_30_is_not_zero() -> None:
    assert get_activation("sigmoid").derivative(np.array(30.0)) == pytest.approx(9.357622968839e-14)


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_dtype_is_kept(name: str, dtype: type[np.floating]) -> None:
    act = get_activation(name)
    z = np.linspace(-3, 3, 7).astype(dtype)
    assert act.value(z).dtype == dtype
    assert act.derivative(z).dtype == dtype


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
@settings(deadline=None, max_examples=60)
@given(z=st.floats(-60, 60))
@example(z=0.0)
@example(z=-0.0)
def test_scalar_twin_matches_array_value(name: str, z: float) -> None:
    act = get_activation(name)
    assert act.scalar(z) == pytest.approx(float(act.value(np.array(z))), rel=1e-14, abs=1e-300)


@pytest.mark.parametrize(
    ("name", "saturated", "free"),
    [
        ("sigmoid", [-4.0, 3.7], [0.0, 3.5]),
        ("tanh", [-1.9, 2.0], [0.0, 1.7]),
        ("relu", [-1.0, 0.0], [0.001, 5.0]),
        ("leaky_relu", [-1.0], [1.0]),
        ("linear", [], [-100.0, 100.0]),
    ],
)
def test_saturation_is_a_tenth_of_the_peak_derivative(
    name: str, saturated: list[float], free: list[float]
) -> None:
    act = get_activation(name)
    assert act.saturated(np.array(saturated, dtype=float)).all()
    assert not act.saturated(np.array(free)).any()


def test_gelu_peak_derivative_is_at_sqrt_two() -> None:
    act = get_activation("gelu")
    z = np.linspace(-5, 5, 100_001)
    assert act.derivative(z).max() == pytest.approx(act.peak_derivative, rel=1e-9)


def test_parameters_are_bound_and_checked() -> None:
    assert get_activation("leaky_relu", slope=0.2).derivative(np.array([-1.0]))[0] == 0.2
    assert get_activation("elu", alpha=2.0).value(np.array([-50.0]))[0] == pytest.approx(-2.0)
    with pytest.raises(SimulationError, match="alpha"):
        get_activation("elu", alpha=0.0)
    with pytest.raises(SimulationError):
        get_activation("leaky_relu", slope=math.nan)


def test_activation_is_frozen() -> None:
    act = get_activation("tanh")
    with pytest.raises(AttributeError):
        act.name = "x"  # type: ignore[misc]


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
@settings(deadline=None, max_examples=60)
@given(z=st.floats(-60, 60), slope=st.floats(-0.5, 0.5), alpha=st.floats(0.1, 3.0))
@example(z=0.0, slope=0.01, alpha=1.0)
@example(z=-0.0, slope=0.01, alpha=1.0)
def test_scalar_derivative_twin_matches_array_derivative(
    name: str, z: float, slope: float, alpha: float
) -> None:
    act = get_activation(name, slope=slope, alpha=alpha)
    array = float(act.derivative(np.array(z)))
    assert act.scalar_prime(z) == pytest.approx(array, rel=1e-14, abs=1e-300)
