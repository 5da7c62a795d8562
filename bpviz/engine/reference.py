"""Backpropagation as the paper writes it (IV.3–IV.4), in plain NumPy: read this first.

Everything else in ``bpviz/engine`` computes exactly these numbers, only faster: the
traced path (``network.py``) keeps every intermediate array for the views, the fast path
(``fast.py``) replays the same calls on preallocated buffers. Neither is easier to read
than this file, and ``tests/test_engine_reference.py`` holds them to it (allclose, for
every activation and cost).

As in the paper, examples are columns: a mini-batch x of m examples is ``(n_0, m)``,
so z^l = W^l a^{l-1} + b^l is ``W @ a + b`` with b a column ``(n_l, 1)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

LEAKY_SLOPE = 0.01  # leaky_relu's slope for z ≤ 0, as in functions.py


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


# σ and σ′ of each hidden activation: a = σ(z), and the chain rule's factor σ′(z).
ACTIVATIONS = {
    "sigmoid": (sigmoid, lambda z: sigmoid(z) * (1.0 - sigmoid(z))),
    "tanh": (np.tanh, lambda z: 1.0 - np.tanh(z) ** 2),
    "relu": (lambda z: np.maximum(z, 0.0), lambda z: (z > 0).astype(z.dtype)),
    "leaky_relu": (
        lambda z: np.where(z > 0, z, LEAKY_SLOPE * z),
        lambda z: np.where(z > 0, 1.0, LEAKY_SLOPE),
    ),
}


def softmax(z):
    e = np.exp(z - z.max(axis=0))  # shifting by the column maximum changes nothing but overflow
    return e / e.sum(axis=0)


@dataclass(frozen=True)
class Backprop:
    """What one pass computed; lists indexed l − 1 for layer l, columns are examples.

    ``z[l-1]``, ``delta[l-1]``: ``(n_l, m)``; ``a[l]``: ``(n_l, m)`` with ``a[0]`` = x;
    ``grad_w[l-1]`` = ∂C/∂W^l ``(n_l, n_{l-1})``; ``grad_b[l-1]`` = ∂C/∂b^l ``(n_l,)``;
    ``cost`` = C, the mean over the batch.
    """

    z: list[np.ndarray]
    a: list[np.ndarray]
    delta: list[np.ndarray]
    grad_w: list[np.ndarray]
    grad_b: list[np.ndarray]
    cost: float


def backprop(weights, biases, x, y, hidden="sigmoid", output="sigmoid") -> Backprop:
    """One forward and backward pass over a mini-batch, in the paper's equations.

    Args:
        weights: W^1 … W^L, ``W[l-1]`` of shape ``(n_l, n_{l-1})``.
        biases: b^1 … b^L, ``b[l-1]`` of shape ``(n_l,)``.
        x: inputs ``(m, n_0)``, one row per example (transposed to columns here).
        y: one-hot targets ``(m, n_L)``.
        hidden: σ of the hidden layers (sigmoid, tanh, relu, leaky_relu).
        output: "sigmoid" (with the quadratic cost) or "softmax" (with cross-entropy).
    """
    L = len(weights)
    sigma, sigma_prime = ACTIVATIONS[hidden]
    a, y = [np.asarray(x, float).T], np.asarray(y, float).T
    m = y.shape[1]

    # Forward: z^l = W^l a^{l-1} + b^l, a^l = σ(z^l).
    z = []
    for l in range(1, L + 1):
        z.append(weights[l - 1] @ a[l - 1] + biases[l - 1][:, None])
        if l < L:
            a.append(sigma(z[-1]))
        else:
            a.append(softmax(z[-1]) if output == "softmax" else sigmoid(z[-1]))

    # The cost C and the output error δ^L = ∂C_x/∂z^L.
    if output == "softmax":  # cross-entropy: the σ′ and 1/a factors cancel
        cost = -np.sum(y * np.log(a[L])) / m
        delta_L = a[L] - y
    else:  # quadratic: δ^L = (a^L − y) ⊙ σ′(z^L)
        cost = 0.5 * np.sum((a[L] - y) ** 2) / m
        delta_L = (a[L] - y) * ACTIVATIONS["sigmoid"][1](z[L - 1])

    # Backward: δ^l = (W^{l+1})^T δ^{l+1} ⊙ σ′(z^l), from l = L − 1 down to 1.
    delta = [None] * L
    delta[L - 1] = delta_L
    for l in range(L - 1, 0, -1):
        delta[l - 1] = (weights[l].T @ delta[l]) * sigma_prime(z[l - 1])

    # Gradients, averaged over the batch: ∂C/∂W^l = δ^l (a^{l-1})^T, ∂C/∂b^l = δ^l.
    grad_w = [delta[l - 1] @ a[l - 1].T / m for l in range(1, L + 1)]
    grad_b = [delta[l - 1].sum(axis=1) / m for l in range(1, L + 1)]
    return Backprop(z, a, delta, grad_w, grad_b, float(cost))


def update(weights, biases, result: Backprop, eta: float) -> None:
    """Gradient descent, in place: W^l ← W^l − η ∂C/∂W^l, b^l ← b^l − η ∂C/∂b^l."""
    for W, b, gw, gb in zip(weights, biases, result.grad_w, result.grad_b, strict=True):
        W -= eta * gw
        b -= eta * gb
