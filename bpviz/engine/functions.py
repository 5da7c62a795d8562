"""Activations σ and their derivatives σ', and the two costs C, as in the paper (IV.4).

Each formula is written as a short list of NumPy calls into caller-provided arrays — an
"op" is ``(function, args)``, run as ``function(*args)``. The traced path (network.py)
runs a list once on fresh arrays; the fast path (fast.py) builds the lists once on its
buffers and replays them every mini-batch. Same calls, same order, same operand layout:
bit-identical numbers.

Shapes: ``z``, ``a``, ``y`` and ``out`` are ``(m, n)`` — one row per example of the batch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

import numpy as np

Op = tuple[Callable, tuple]
LEAKY_SLOPE = 0.01


def run(ops: Sequence[Op]) -> None:
    """Run a list of ops in order."""
    for function, args in ops:
        function(*args)


# --- σ(z), the forward formula a = σ(z), and σ'(z) beside it (the chain rule's factor) ---


def sigmoid(z: np.ndarray, out: np.ndarray) -> list[Op]:
    """a = σ(z) = 1 / (1 + e^{−z}), one call (SciPy's ``expit``; 0 for very negative z)."""
    from scipy.special import expit  # on first use: the window's process may never need it

    return [(expit, (z, out))]


def sigmoid_prime(z: np.ndarray, a: np.ndarray, out: np.ndarray) -> list[Op]:
    """σ'(z) = σ(z)(1 − σ(z)) = a ⊙ (1 − a), taken from the stored activations."""
    return [(np.subtract, (out.dtype.type(1), a, out)), (np.multiply, (a, out, out))]


def tanh(z: np.ndarray, out: np.ndarray) -> list[Op]:
    """a = tanh(z)."""
    return [(np.tanh, (z, out))]


def tanh_prime(z: np.ndarray, a: np.ndarray, out: np.ndarray) -> list[Op]:
    """tanh'(z) = 1 − a²."""
    return [(np.multiply, (a, a, out)), (np.subtract, (out.dtype.type(1), out, out))]


def relu(z: np.ndarray, out: np.ndarray) -> list[Op]:
    """a = max(z, 0)."""
    return [(partial(np.maximum, out=out), (z, 0.0))]


def relu_prime(z: np.ndarray, a: np.ndarray, out: np.ndarray) -> list[Op]:
    """relu'(z) = 1 where z > 0, else 0."""
    return [(np.greater, (z, 0.0, out))]


def leaky_relu(z: np.ndarray, out: np.ndarray) -> list[Op]:
    """a = max(z, 0.01 z)."""
    return [(np.multiply, (z, LEAKY_SLOPE, out)), (partial(np.maximum, out=out), (z, out))]


def leaky_relu_prime(z: np.ndarray, a: np.ndarray, out: np.ndarray) -> list[Op]:
    """leaky_relu'(z) = 1 where z > 0, else 0.01."""
    return [(np.greater, (z, 0.0, out)), (partial(np.maximum, out=out), (out, LEAKY_SLOPE))]


def softmax(z: np.ndarray, out: np.ndarray) -> list[Op]:
    """a_k = e^{z_k} / Σ_j e^{z_j} per example (row), shifted by the row maximum."""
    column = np.empty((z.shape[0], 1), z.dtype)
    return [
        (np.maximum.reduce, (z, 1, None, column, True)),
        (np.subtract, (z, column, out)),
        (np.exp, (out, out)),
        (np.add.reduce, (out, 1, None, column, True)),
        (np.divide, (out, column, out)),
    ]


@dataclass(frozen=True)
class Activation:
    """An activation: ops for a = σ(z) and, except softmax (None), for σ'(z)."""

    name: str
    forward: Callable[[np.ndarray, np.ndarray], list[Op]]
    prime: Callable[[np.ndarray, np.ndarray, np.ndarray], list[Op]] | None


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


def quadratic_derivative(a: np.ndarray, y: np.ndarray, out: np.ndarray) -> list[Op]:
    """∂C_x/∂a^L = a^L − y, per example."""
    return [(np.subtract, (a, y, out))]


def cross_entropy_value(a: np.ndarray, y: np.ndarray) -> float:
    """C = −(1/m) Σ_x Σ_k y_k log a_k^L (a floored at the dtype's tiny: never log 0)."""
    floored = np.maximum(a, np.finfo(a.dtype).tiny)
    return -float(np.vdot(y, np.log(floored, out=floored))) / a.shape[0]


def cross_entropy_derivative(a: np.ndarray, y: np.ndarray, out: np.ndarray) -> list[Op]:
    """∂C_x/∂a^L = −y / a^L, per example (a floored as in the value)."""
    tiny = np.finfo(a.dtype).tiny
    return [
        (partial(np.maximum, out=out), (a, tiny)),
        (np.divide, (y, out, out)),
        (np.negative, (out, out)),
    ]


@dataclass(frozen=True)
class Cost:
    """A cost: its value C, ops for ∂C_x/∂a^L, and the one output activation it pairs with."""

    name: str
    output: str
    value: Callable[[np.ndarray, np.ndarray], float]
    derivative: Callable[[np.ndarray, np.ndarray, np.ndarray], list[Op]]


COSTS: dict[str, Cost] = {
    "quadratic": Cost("quadratic", "sigmoid", quadratic_value, quadratic_derivative),
    "cross_entropy": Cost(
        "cross_entropy", "softmax", cross_entropy_value, cross_entropy_derivative
    ),
}
