"""The simulation engine: the answer key of every question.

NumPy, no I/O, no global random state. Each activation states its value and derivative
side by side (``activations``); one short chain also runs in Python floats, without NumPy
(``scalar``); the scalar chain (``chain``) and the fully connected network
(``network``, with residual blocks and batch norm) take explicit arrays and return every
gradient, so any autograd framework can check them; ``builders`` draw seeded networks from
(depth, width, activation, init, seed); ``stats`` and ``diagnosis`` read the per-layer picture;
``rnn`` and ``lstm`` unroll through time; ``clip`` and ``train`` cover clipping,
regularization and SGD in float16, float32 and float64.

Shapes: leading axes ``...`` are independent variants simulated at once.

Exports load on first use (PEP 562): importing ``tutor.sim`` is free, and ``sim.chain_backward``
loads only the chain module, so a question pays only for the parts of the engine it runs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# Each public name and the module that defines it.
_EXPORTS: dict[str, str] = {
    "DTYPE_NAMES": "_arrays",
    "ACTIVATION_NAMES": "names",
    "Activation": "activations",
    "RELU_FAMILY": "activations",
    "SATURATION_FRACTION": "activations",
    "get_activation": "activations",
    "NetworkArrays": "builders",
    "NetworkReport": "builders",
    "build_network": "builders",
    "seeded_arrays": "builders",
    "simulate_network": "builders",
    "ChainForward": "chain",
    "ChainGrad": "chain",
    "SCALAR_DEPTH": "scalar",
    "ScalarChainGrad": "scalar",
    "chain_backward": "chain",
    "chain_backward_scalar": "scalar",
    "chain_forward": "chain",
    "chain_forward_scalar": "scalar",
    "scalar_functions": "scalar",
    "clip_by_global_norm": "clip",
    "clip_by_value": "clip",
    "global_norm": "clip",
    "l2_penalty": "clip",
    "Diagnosis": "diagnosis",
    "KINDS": "diagnosis",
    "backward_gain": "diagnosis",
    "diagnose": "diagnosis",
    "diagnose_training": "diagnosis",
    "expected_sq_derivative": "diagnosis",
    "gaussian_expectation": "diagnosis",
    "numerical_gradient": "gradcheck",
    "relative_error": "gradcheck",
    "INIT_NAMES": "names",
    "init_std": "initializers",
    "init_weights": "initializers",
    "uniform_limit": "initializers",
    "BatchNormCache": "layers",
    "LOSS_NAMES": "layers",
    "batchnorm_backward": "layers",
    "batchnorm_forward": "layers",
    "dense_backward": "layers",
    "loss_forward": "layers",
    "LSTMCache": "lstm",
    "LSTMGrads": "lstm",
    "lstm_backward": "lstm",
    "lstm_forward": "lstm",
    "lstm_gradients": "lstm",
    "simulate_lstm": "lstm",
    "MLPCache": "network",
    "MLPGrads": "network",
    "NetworkResult": "network",
    "gradient_step": "network",
    "mlp_backward": "network",
    "mlp_forward": "network",
    "network_gradients": "network",
    "RNNCache": "rnn",
    "RNNGrads": "rnn",
    "SequenceReport": "rnn",
    "rnn_backward": "rnn",
    "rnn_forward": "rnn",
    "rnn_gradients": "rnn",
    "scale_to_radius": "rnn",
    "simulate_rnn": "rnn",
    "spectral_radii": "rnn",
    "spectral_radius": "rnn",
    "step_norms": "rnn",
    "LayerStats": "stats",
    "layer_stats": "stats",
    "SGDConfig": "train",
    "TrainResult": "train",
    "critical_learning_rate": "train",
    "quadratic_descent": "train",
    "regression_task": "train",
    "simulate_training": "train",
    "train_sgd": "train",
}
__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'tutor.sim' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"tutor.sim.{module}"), name)
    globals()[name] = value  # later lookups are ordinary attribute reads
    return value


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:  # the same names, for type checkers and readers
    from tutor.sim._arrays import (
        DTYPE_NAMES as DTYPE_NAMES,
    )
    from tutor.sim.activations import (
        RELU_FAMILY as RELU_FAMILY,
    )
    from tutor.sim.activations import (
        SATURATION_FRACTION as SATURATION_FRACTION,
    )
    from tutor.sim.activations import (
        Activation as Activation,
    )
    from tutor.sim.activations import (
        get_activation as get_activation,
    )
    from tutor.sim.builders import (
        NetworkArrays as NetworkArrays,
    )
    from tutor.sim.builders import (
        NetworkReport as NetworkReport,
    )
    from tutor.sim.builders import (
        build_network as build_network,
    )
    from tutor.sim.builders import (
        seeded_arrays as seeded_arrays,
    )
    from tutor.sim.builders import (
        simulate_network as simulate_network,
    )
    from tutor.sim.chain import (
        ChainForward as ChainForward,
    )
    from tutor.sim.chain import (
        ChainGrad as ChainGrad,
    )
    from tutor.sim.chain import (
        chain_backward as chain_backward,
    )
    from tutor.sim.chain import (
        chain_forward as chain_forward,
    )
    from tutor.sim.clip import (
        clip_by_global_norm as clip_by_global_norm,
    )
    from tutor.sim.clip import (
        clip_by_value as clip_by_value,
    )
    from tutor.sim.clip import (
        global_norm as global_norm,
    )
    from tutor.sim.clip import (
        l2_penalty as l2_penalty,
    )
    from tutor.sim.diagnosis import (
        KINDS as KINDS,
    )
    from tutor.sim.diagnosis import (
        Diagnosis as Diagnosis,
    )
    from tutor.sim.diagnosis import (
        backward_gain as backward_gain,
    )
    from tutor.sim.diagnosis import (
        diagnose as diagnose,
    )
    from tutor.sim.diagnosis import (
        diagnose_training as diagnose_training,
    )
    from tutor.sim.diagnosis import (
        expected_sq_derivative as expected_sq_derivative,
    )
    from tutor.sim.diagnosis import (
        gaussian_expectation as gaussian_expectation,
    )
    from tutor.sim.gradcheck import (
        numerical_gradient as numerical_gradient,
    )
    from tutor.sim.gradcheck import (
        relative_error as relative_error,
    )
    from tutor.sim.initializers import (
        init_std as init_std,
    )
    from tutor.sim.initializers import (
        init_weights as init_weights,
    )
    from tutor.sim.initializers import (
        uniform_limit as uniform_limit,
    )
    from tutor.sim.layers import (
        LOSS_NAMES as LOSS_NAMES,
    )
    from tutor.sim.layers import (
        BatchNormCache as BatchNormCache,
    )
    from tutor.sim.layers import (
        batchnorm_backward as batchnorm_backward,
    )
    from tutor.sim.layers import (
        batchnorm_forward as batchnorm_forward,
    )
    from tutor.sim.layers import (
        dense_backward as dense_backward,
    )
    from tutor.sim.layers import (
        loss_forward as loss_forward,
    )
    from tutor.sim.lstm import (
        LSTMCache as LSTMCache,
    )
    from tutor.sim.lstm import (
        LSTMGrads as LSTMGrads,
    )
    from tutor.sim.lstm import (
        lstm_backward as lstm_backward,
    )
    from tutor.sim.lstm import (
        lstm_forward as lstm_forward,
    )
    from tutor.sim.lstm import (
        lstm_gradients as lstm_gradients,
    )
    from tutor.sim.lstm import (
        simulate_lstm as simulate_lstm,
    )
    from tutor.sim.names import (
        ACTIVATION_NAMES as ACTIVATION_NAMES,
    )
    from tutor.sim.names import (
        INIT_NAMES as INIT_NAMES,
    )
    from tutor.sim.network import (
        MLPCache as MLPCache,
    )
    from tutor.sim.network import (
        MLPGrads as MLPGrads,
    )
    from tutor.sim.network import (
        NetworkResult as NetworkResult,
    )
    from tutor.sim.network import (
        gradient_step as gradient_step,
    )
    from tutor.sim.network import (
        mlp_backward as mlp_backward,
    )
    from tutor.sim.network import (
        mlp_forward as mlp_forward,
    )
    from tutor.sim.network import (
        network_gradients as network_gradients,
    )
    from tutor.sim.rnn import (
        RNNCache as RNNCache,
    )
    from tutor.sim.rnn import (
        RNNGrads as RNNGrads,
    )
    from tutor.sim.rnn import (
        SequenceReport as SequenceReport,
    )
    from tutor.sim.rnn import (
        rnn_backward as rnn_backward,
    )
    from tutor.sim.rnn import (
        rnn_forward as rnn_forward,
    )
    from tutor.sim.rnn import (
        rnn_gradients as rnn_gradients,
    )
    from tutor.sim.rnn import (
        scale_to_radius as scale_to_radius,
    )
    from tutor.sim.rnn import (
        simulate_rnn as simulate_rnn,
    )
    from tutor.sim.rnn import (
        spectral_radii as spectral_radii,
    )
    from tutor.sim.rnn import (
        spectral_radius as spectral_radius,
    )
    from tutor.sim.rnn import (
        step_norms as step_norms,
    )
    from tutor.sim.scalar import (
        SCALAR_DEPTH as SCALAR_DEPTH,
    )
    from tutor.sim.scalar import (
        ScalarChainGrad as ScalarChainGrad,
    )
    from tutor.sim.scalar import (
        chain_backward_scalar as chain_backward_scalar,
    )
    from tutor.sim.scalar import (
        chain_forward_scalar as chain_forward_scalar,
    )
    from tutor.sim.scalar import (
        scalar_functions as scalar_functions,
    )
    from tutor.sim.stats import (
        LayerStats as LayerStats,
    )
    from tutor.sim.stats import (
        layer_stats as layer_stats,
    )
    from tutor.sim.train import (
        SGDConfig as SGDConfig,
    )
    from tutor.sim.train import (
        TrainResult as TrainResult,
    )
    from tutor.sim.train import (
        critical_learning_rate as critical_learning_rate,
    )
    from tutor.sim.train import (
        quadratic_descent as quadratic_descent,
    )
    from tutor.sim.train import (
        regression_task as regression_task,
    )
    from tutor.sim.train import (
        simulate_training as simulate_training,
    )
    from tutor.sim.train import (
        train_sgd as train_sgd,
    )
