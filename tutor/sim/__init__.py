"""The simulation engine: the answer key of every question.

Pure NumPy, no I/O, no global random state. Each activation states its value and derivative
side by side (``activations``); the scalar chain (``chain``) and the fully connected network
(``network``, with residual blocks and batch norm) take explicit arrays and return every
gradient, so any autograd framework can check them; ``builders`` draw seeded networks from
(depth, width, activation, init, seed); ``stats`` and ``diagnose`` read the per-layer picture;
``rnn`` and ``lstm`` unroll through time; ``clip`` and ``train`` cover clipping,
regularization and SGD in float16, float32 and float64.

Shapes: leading axes ``...`` are independent variants simulated at once.
"""

from tutor.sim._arrays import DTYPE_NAMES
from tutor.sim.activations import (
    ACTIVATION_NAMES,
    RELU_FAMILY,
    SATURATION_FRACTION,
    Activation,
    get_activation,
)
from tutor.sim.builders import NetworkArrays, NetworkReport, build_network, simulate_network
from tutor.sim.chain import ChainForward, ChainGrad, chain_backward, chain_forward
from tutor.sim.clip import clip_by_global_norm, clip_by_value, global_norm, l2_penalty
from tutor.sim.diagnose import (
    KINDS,
    Diagnosis,
    backward_gain,
    diagnose,
    diagnose_training,
    expected_sq_derivative,
    gaussian_expectation,
)
from tutor.sim.gradcheck import numerical_gradient, relative_error
from tutor.sim.initializers import INIT_NAMES, init_std, init_weights, uniform_limit
from tutor.sim.layers import (
    LOSS_NAMES,
    BatchNormCache,
    batchnorm_backward,
    batchnorm_forward,
    dense_backward,
    loss_forward,
)
from tutor.sim.lstm import (
    LSTMCache,
    LSTMGrads,
    lstm_backward,
    lstm_forward,
    lstm_gradients,
    simulate_lstm,
)
from tutor.sim.network import (
    MLPCache,
    MLPGrads,
    NetworkResult,
    mlp_backward,
    mlp_forward,
    network_gradients,
)
from tutor.sim.rnn import (
    RNNCache,
    RNNGrads,
    SequenceReport,
    rnn_backward,
    rnn_forward,
    rnn_gradients,
    scale_to_radius,
    simulate_rnn,
    spectral_radii,
    spectral_radius,
)
from tutor.sim.stats import LayerStats, layer_stats
from tutor.sim.train import (
    SGDConfig,
    TrainResult,
    critical_learning_rate,
    quadratic_descent,
    regression_task,
    simulate_training,
    train_sgd,
)

__all__ = [
    "ACTIVATION_NAMES",
    "DTYPE_NAMES",
    "INIT_NAMES",
    "KINDS",
    "LOSS_NAMES",
    "RELU_FAMILY",
    "SATURATION_FRACTION",
    "Activation",
    "BatchNormCache",
    "ChainForward",
    "ChainGrad",
    "Diagnosis",
    "LSTMCache",
    "LSTMGrads",
    "LayerStats",
    "MLPCache",
    "MLPGrads",
    "NetworkArrays",
    "NetworkReport",
    "NetworkResult",
    "RNNCache",
    "RNNGrads",
    "SGDConfig",
    "SequenceReport",
    "TrainResult",
    "backward_gain",
    "batchnorm_backward",
    "batchnorm_forward",
    "build_network",
    "chain_backward",
    "chain_forward",
    "clip_by_global_norm",
    "clip_by_value",
    "critical_learning_rate",
    "dense_backward",
    "diagnose",
    "diagnose_training",
    "expected_sq_derivative",
    "gaussian_expectation",
    "get_activation",
    "global_norm",
    "init_std",
    "init_weights",
    "l2_penalty",
    "layer_stats",
    "loss_forward",
    "lstm_backward",
    "lstm_forward",
    "lstm_gradients",
    "mlp_backward",
    "mlp_forward",
    "network_gradients",
    "numerical_gradient",
    "quadratic_descent",
    "regression_task",
    "relative_error",
    "rnn_backward",
    "rnn_forward",
    "rnn_gradients",
    "scale_to_radius",
    "simulate_lstm",
    "simulate_network",
    "simulate_rnn",
    "simulate_training",
    "spectral_radii",
    "spectral_radius",
    "train_sgd",
    "uniform_limit",
]
