"""gradient-tutor: learn vanishing and exploding gradients by computing them."""

__version__ = "0.1.0"
