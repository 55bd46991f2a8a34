"""The concepts the banks teach and the article claims they answer, by id.

Questions name these ids (``concepts: [C3, C4]``, ``claim: lr-shrinks-gradient``); the loader
rejects unknown ids and the coverage test counts templates per id.
"""

from __future__ import annotations

CONCEPTS: dict[str, str] = {
    "C1": "Gradient and the update rule",
    "C2": "Backpropagation as a product of local factors",
    "C3": "Sigmoid and tanh derivatives",
    "C4": "Vanishing gradients",
    "C5": "Exploding gradients",
    "C6": "ReLU and its variants",
    "C7": "Weight initialization",
    "C8": "Batch normalization",
    "C9": "Residual (skip) connections",
    "C10": "Gradient clipping",
    "C11": "Weight regularization",
    "C12": "Learning rate",
    "C13": "Recurrent networks",
    "C14": "Diagnosis from gradient norms and loss curves",
    "C15": "Remedies overview",
    "C16": "Signal propagation in wide networks",
}

CLAIMS: dict[str, str] = {
    "lr-shrinks-gradient": "A very small learning rate shrinks the gradient, causing vanishing",
    "exploding-weights-only": "Exploding gradients come from the weights, not the activation",
    "exploding-sigmoid-tanh": "Sigmoid and tanh make exploding gradients more likely",
    "exploding-relu": "ReLU makes exploding gradients more likely",
    "all-weights-below-one": "Vanishing needs every weight below 1 (exploding: above 1) everywhere",
    "derivative-ranges": "sigmoid' lies in (0, 0.25], tanh' in (0, 1]; ReLU'(0) is a convention",
    "saturation-means-vanishing": "Saturated units always mean vanishing gradients",
}
