"""The names of the engine's activations and initializers, free of NumPy.

Models and menus check options against these, so they load before (and often without) the
NumPy code that runs them.
"""

from __future__ import annotations

ACTIVATION_NAMES: tuple[str, ...] = (
    "sigmoid",
    "tanh",
    "relu",
    "leaky_relu",
    "elu",
    "gelu",
    "softplus",
    "linear",
)
"""Every activation the engine knows, in the order menus show them."""

INIT_NAMES: tuple[str, ...] = (
    "zeros",
    "constant",
    "normal",
    "uniform",
    "xavier-normal",
    "xavier-uniform",
    "he-normal",
    "he-uniform",
    "lecun-normal",
    "orthogonal",
)
"""Every initializer, spelled as on the command line."""
