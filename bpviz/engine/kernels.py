"""The computation of one mini-batch, written once into caller-provided arrays.

Both the traced path (network.py: fresh arrays, frozen afterwards) and the fast path
(fast.py: reused buffers) call these functions, so both run the very same NumPy calls on
operands of the same shapes and memory layout — and so produce bit-identical numbers.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from bpviz.engine.network import Network


def n_parameters(sizes: tuple[int, ...]) -> int:
    """Number of weights and biases of a network with layer sizes n_0 … n_L."""
    return sum(n_out * (n_in + 1) for n_in, n_out in itertools.pairwise(sizes))


def parameter_views(
    flat: np.ndarray, sizes: tuple[int, ...]
) -> tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...]]:
    """Views W^l ``(n_l, n_{l-1})`` and b^l ``(n_l,)`` into ``flat``, laid out W^1 b^1 W^2 …"""
    weights, biases, start = [], [], 0
    for n_in, n_out in itertools.pairwise(sizes):
        weights.append(flat[start : start + n_out * n_in].reshape(n_out, n_in))
        start += n_out * n_in
        biases.append(flat[start : start + n_out])
        start += n_out
    return tuple(weights), tuple(biases)


def forward_layer(net: Network, l: int, a_prev: np.ndarray, z: np.ndarray, a: np.ndarray) -> None:
    """z^l = W^l a^{l-1} + b^l (as ``a_prev @ W.T + b``), a^l = σ(z^l)."""
    np.matmul(a_prev, net.weights[l - 1].T, out=z)
    np.add(z, net.biases[l - 1], out=z)
    net.activations[l - 1].forward(z, a)


def output_delta(
    net: Network,
    z: np.ndarray,
    a: np.ndarray,
    y: np.ndarray,
    dC_da: np.ndarray,
    sigma_prime: np.ndarray | None,
    delta: np.ndarray,
) -> None:
    """∂C_x/∂a^L, σ'(z^L) and δ^L = ∂C_x/∂a^L ⊙ σ'(z^L) (softmax + cross-entropy: a^L − y)."""
    net.cost_function.derivative(a, y, dC_da)
    if sigma_prime is None:
        np.subtract(a, y, out=delta)
    else:
        net.activations[-1].prime(z, a, sigma_prime)
        np.multiply(dC_da, sigma_prime, out=delta)


def hidden_delta(
    net: Network,
    l: int,
    delta_next: np.ndarray,
    z: np.ndarray,
    a: np.ndarray,
    dC_da: np.ndarray,
    sigma_prime: np.ndarray,
    delta: np.ndarray,
) -> None:
    """∂C_x/∂a^l = (W^{l+1})^T δ^{l+1} (as ``delta_next @ W``), δ^l = that ⊙ σ'(z^l)."""
    np.matmul(delta_next, net.weights[l], out=dC_da)
    net.activations[l - 1].prime(z, a, sigma_prime)
    np.multiply(dC_da, sigma_prime, out=delta)


def layer_gradients(
    delta: np.ndarray, a_prev: np.ndarray, grad_w: np.ndarray, grad_b: np.ndarray
) -> None:
    """Batch sums Σ_x δ^l (a^{l-1})^T and Σ_x δ^l; the caller divides by m."""
    np.matmul(delta.T, a_prev, out=grad_w)
    np.add.reduce(delta, axis=0, out=grad_b)


def scaled_update(
    delta: np.ndarray,
    a_prev: np.ndarray,
    scale: float,
    scaled: np.ndarray,
    update_w: np.ndarray,
    update_b: np.ndarray,
) -> None:
    """η ∂C/∂W^l and η ∂C/∂b^l with η/m folded into δ once: δ̃ = δ^l · scale (scale = η/m),
    ``update_w`` = Σ_x δ̃ (a^{l-1})^T, ``update_b`` = Σ_x δ̃."""
    np.multiply(delta, scale, out=scaled)
    np.matmul(scaled.T, a_prev, out=update_w)
    np.add.reduce(scaled, axis=0, out=update_b)
