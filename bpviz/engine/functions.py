"""Activations σ and their derivatives σ', and the two costs C, as in the paper (IV.4).

Every function writes into ``out`` (a preallocated array of the right shape) and returns
it, so that the traced path (fresh arrays) and the fast path (reused buffers) run the very
same NumPy calls in the same order and therefore produce bit-identical numbers.

Shapes: ``z``, ``a``, ``y`` and ``out`` are ``(m, n)`` — one row per example of the batch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

LEAKY_SLOPE = 0.01


# --- σ(z), the forward formula a = σ(z), and σ'(z) beside it (the chain rule's factor) ---


def sigmoid(z: np.ndarray, out: np.ndarray) -> np.ndarray:
    """a = σ(z) = 1 / (1 + e^{−z})."""
    np.negative(z, out=out)
    np.exp(out, out=out)  # e^{-z} overflows to inf for z < -88 (f32): σ = 0, as it should
    np.add(out, 1.0, out=out)
    return np.reciprocal(out, out=out)


def sigmoid_prime(z: np.ndarray, a: np.ndarray, out: np.ndarray) -> np.ndarray:
    """σ'(z) = σ(z)(1 − σ(z)) = a ⊙ (1 − a), taken from the stored activations."""
    np.subtract(1.0, a, out=out)
    return np.multiply(a, out, out=out)


def tanh(z: np.ndarray, out: np.ndarray) -> np.ndarray:
    """a = tanh(z)."""
    return np.tanh(z, out=out)


def tanh_prime(z: np.ndarray, a: np.ndarray, out: np.ndarray) -> np.ndarray:
    """tanh'(z) = 1 − a²."""
    np.multiply(a, a, out=out)
    return np.subtract(1.0, out, out=out)


def relu(z: np.ndarray, out: np.ndarray) -> np.ndarray:
    """a = max(z, 0)."""
    return np.maximum(z, 0.0, out=out)


def relu_prime(z: np.ndarray, a: np.ndarray, out: np.ndarray) -> np.ndarray:
    """relu'(z) = 1 where z > 0, else 0."""
    return np.greater(z, 0.0, out=out)


def leaky_relu(z: np.ndarray, out: np.ndarray) -> np.ndarray:
    """a = max(z, 0.01 z)."""
    np.multiply(z, LEAKY_SLOPE, out=out)
    return np.maximum(z, out, out=out)


def leaky_relu_prime(z: np.ndarray, a: np.ndarray, out: np.ndarray) -> np.ndarray:
    """leaky_relu'(z) = 1 where z > 0, else 0.01."""
    np.greater(z, 0.0, out=out)
    return np.maximum(out, LEAKY_SLOPE, out=out)


def softmax(z: np.ndarray, out: np.ndarray) -> np.ndarray:
    """a_k = e^{z_k} / Σ_j e^{z_j} per example (row), shifted by the row maximum."""
    peak = np.maximum.reduce(z, axis=1, keepdims=True)
    np.subtract(z, peak, out=out)
    np.exp(out, out=out)
    total = np.add.reduce(out, axis=1, keepdims=True)
    return np.divide(out, total, out=out)


@dataclass(frozen=True)
class Activation:
    """An activation: ``forward(z, out)`` → a; ``prime(z, a, out)`` → σ'(z) (None: softmax)."""

    name: str
    forward: Callable[[np.ndarray, np.ndarray], np.ndarray]
    prime: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray] | None


HIDDEN_ACTIVATIONS: dict[str, Activation] = {
    "sigmoid": Activation("sigmoid", sigmoid, sigmoid_prime),
    "tanh": Activation("tanh", tanh, tanh_prime),
    "relu": Activation("relu", relu, relu_prime),
    "leaky_relu": Activation("leaky_relu", leaky_relu, leaky_relu_prime),
}
OUTPUT_ACTIVATIONS: dict[str, Activation] = {
    "sigmoid": HIDDEN_ACTIVATIONS["sigmoid"],
    "softmax": Activation("softmax", softmax, None),
}


# --- costs: C is the mean over the mini-batch of each example's cost ---


def quadratic_from_difference(difference: np.ndarray) -> float:
    """C = (1/m) Σ_x ½‖a^L − y‖², given ``difference`` = a^L − y ``(m, n_L)``."""
    return 0.5 * float(np.vdot(difference, difference)) / difference.shape[0]


def quadratic_value(a: np.ndarray, y: np.ndarray) -> float:
    """C = (1/m) Σ_x ½‖a^L − y‖²."""
    return quadratic_from_difference(np.subtract(a, y))


def quadratic_derivative(a: np.ndarray, y: np.ndarray, out: np.ndarray) -> np.ndarray:
    """∂C_x/∂a^L = a^L − y, per example."""
    return np.subtract(a, y, out=out)


def _clipped_log(a: np.ndarray) -> np.ndarray:
    """log a, with a floored at the dtype's smallest normal so that log 0 never appears."""
    floored = np.maximum(a, np.finfo(a.dtype).tiny)
    return np.log(floored, out=floored)


def cross_entropy_value(a: np.ndarray, y: np.ndarray) -> float:
    """C = −(1/m) Σ_x Σ_k y_k log a_k^L."""
    return -float(np.vdot(y, _clipped_log(a))) / a.shape[0]


def cross_entropy_derivative(a: np.ndarray, y: np.ndarray, out: np.ndarray) -> np.ndarray:
    """∂C_x/∂a^L = −y / a^L, per example (a floored as in the value)."""
    np.maximum(a, np.finfo(a.dtype).tiny, out=out)
    np.divide(y, out, out=out)
    return np.negative(out, out=out)


@dataclass(frozen=True)
class Cost:
    """A cost and the one output activation it pairs with."""

    name: str
    output: str
    value: Callable[[np.ndarray, np.ndarray], float]
    derivative: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]


COSTS: dict[str, Cost] = {
    "quadratic": Cost("quadratic", "sigmoid", quadratic_value, quadratic_derivative),
    "cross_entropy": Cost(
        "cross_entropy", "softmax", cross_entropy_value, cross_entropy_derivative
    ),
}
