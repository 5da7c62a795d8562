"""The network of the paper (IV.3, IV.4): forward pass, backpropagation, gradient step.

Layer numbers follow the paper, l = 1 … L: ``weights[l - 1]`` is W^l with shape
``(n_l, n_{l-1})`` (row i, column j connects neuron j of layer l−1 to neuron i of layer
l), ``biases[l - 1]`` is b^l ``(n_l,)``. A batch holds one example per row: x is
``(m, n_0)``, so z^l = W^l a^{l-1} + b^l reads ``z = a_prev @ W.T + b``.

The cost C is the mean over the mini-batch, so the gradients are batch means:
``grad_w[l-1] = delta[l-1].T @ a[l-1] / m``.

``forward``/``backward`` are built from the per-layer methods (``forward_layer``,
``output_delta``, ``hidden_delta``, ``layer_gradients``) so that stepping one phase at a
time gives bit-identical numbers; the fast trainer (fast.py) runs the same calls into
preallocated buffers. The same mathematics without any of that machinery, in a page a
student can hold in their head, is ``reference.py``: start there.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from bpviz.engine import kernels
from bpviz.engine.functions import COSTS, HIDDEN_ACTIVATIONS, OUTPUT_ACTIVATIONS, Op, run
from bpviz.engine.validation import (
    QUIET,
    as_batch,
    as_targets,
    check_eta,
    check_layer,
    frozen,
)

INITS = ("scaled", "normal")
DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


@dataclass(frozen=True)
class ForwardTrace:
    """Everything the forward pass computed; read-only arrays.

    ``z``: L arrays, ``z[l-1]`` = z^l ``(m, n_l)``; ``a``: L + 1 arrays, ``a[0]`` = x
    ``(m, n_0)`` in the network's dtype, ``a[l]`` = a^l = σ(z^l) ``(m, n_l)``.
    """

    z: tuple[np.ndarray, ...]
    a: tuple[np.ndarray, ...]

    @property
    def m(self) -> int:
        """Batch size."""
        return int(self.a[0].shape[0])


@dataclass(frozen=True)
class BackwardTrace:
    """Everything backpropagation computed, per layer l = 1 … L (index l − 1); read-only.

    ``dC_da[l-1]`` = ∂C_x/∂a^l per example ``(m, n_l)`` (for l < L, (W^{l+1})^T δ^{l+1});
    ``sigma_prime[l-1]`` = σ'(z^l) ``(m, n_l)``, None for a softmax output;
    ``delta[l-1]`` = δ^l = ∂C_x/∂z^l ``(m, n_l)``;
    ``grad_w[l-1]`` = ∂C/∂W^l = mean_x δ^l (a^{l-1})^T ``(n_l, n_{l-1})``;
    ``grad_b[l-1]`` = ∂C/∂b^l = mean_x δ^l ``(n_l,)``; ``loss`` = C, the batch mean cost;
    ``forward``: the forward trace this pass started from (its a^{l-1} enter the update).
    A snapshot of a mini-batch under way holds traces whose entries not computed yet are
    None (``loss`` too, before the cost phase): ``bpviz.session.snapshot``.
    """

    dC_da: tuple[np.ndarray, ...]
    sigma_prime: tuple[np.ndarray | None, ...]
    delta: tuple[np.ndarray, ...]
    grad_w: tuple[np.ndarray, ...]
    grad_b: tuple[np.ndarray, ...]
    loss: float
    forward: ForwardTrace


class Network:
    """A fully connected network trained by mini-batch gradient descent (paper IV.4).

    Args:
        sizes: neurons per layer, n_0 … n_L, e.g. ``(784, 30, 10)``.
        hidden: σ of layers 1 … L−1: sigmoid | tanh | relu | leaky_relu.
        output: σ of layer L: sigmoid | softmax.
        cost: quadratic (with sigmoid) | cross_entropy (with softmax).
        init: scaled — W ~ N(0, 1/n_{l-1}); normal — W ~ N(0, 1). Biases ~ N(0, 1).
        seed: seed of the initialisation.
        dtype: float32 or float64.

    All parameters live in one contiguous buffer; ``weights`` and ``biases`` are tuples
    of views into it, updated in place (assign with ``w[...] = …``, or ``set_parameters``).
    """

    def __init__(
        self,
        sizes: Sequence[int],
        *,
        hidden: str = "sigmoid",
        output: str = "sigmoid",
        cost: str = "quadratic",
        init: str = "scaled",
        seed: int = 0,
        dtype: np.dtype | type = np.float32,
    ) -> None:
        sizes = tuple(int(n) for n in sizes)
        if len(sizes) < 2 or min(sizes) < 1:
            raise ValueError(f"sizes needs at least two layers of ≥ 1 neuron, got {sizes}")
        if hidden not in HIDDEN_ACTIVATIONS:
            raise ValueError(
                f"unknown hidden activation {hidden!r}; use {list(HIDDEN_ACTIVATIONS)}"
            )
        if output not in OUTPUT_ACTIVATIONS:
            raise ValueError(
                f"unknown output activation {output!r}; use {list(OUTPUT_ACTIVATIONS)}"
            )
        if cost not in COSTS:
            raise ValueError(f"unknown cost {cost!r}; use {list(COSTS)}")
        if COSTS[cost].output != output:
            raise ValueError(
                f"output {output!r} does not pair with cost {cost!r}: use sigmoid + quadratic "
                "or softmax + cross_entropy"
            )
        if init not in INITS:
            raise ValueError(f"unknown init {init!r}; use {list(INITS)}")
        if np.dtype(dtype) not in DTYPES:
            raise ValueError(f"dtype must be float32 or float64, got {np.dtype(dtype)}")
        self.sizes = sizes
        self.hidden, self.output, self.cost, self.init = hidden, output, cost, init
        self.seed = int(seed)
        self.dtype = np.dtype(dtype)
        self.n_layers = len(sizes) - 1
        self.activations = (HIDDEN_ACTIVATIONS[hidden],) * (self.n_layers - 1) + (
            OUTPUT_ACTIVATIONS[output],
        )
        self.cost_function = COSTS[cost]
        self.parameters = kernels.empty(kernels.n_parameters(sizes), self.dtype)
        self.weights, self.biases = kernels.parameter_views(self.parameters, sizes)
        rng = np.random.default_rng(self.seed)
        for W, b in zip(self.weights, self.biases, strict=True):
            scale = 1.0 / np.sqrt(W.shape[1]) if init == "scaled" else 1.0
            W[...] = rng.standard_normal(W.shape) * scale
            b[...] = rng.standard_normal(b.shape)

    def __repr__(self) -> str:
        return (
            f"Network({list(self.sizes)}, hidden={self.hidden!r}, output={self.output!r}, "
            f"cost={self.cost!r}, init={self.init!r}, seed={self.seed}, dtype={self.dtype})"
        )

    @classmethod
    def like(cls, spec: Any, dtype: np.dtype | type = np.float32) -> Network:
        """A fresh network as ``spec`` describes it: anything with ``sizes``, ``hidden``,
        ``output``, ``cost``, ``init`` and ``seed`` (a session's configuration, or
        another network), in ``dtype``."""
        return cls(
            spec.sizes,
            hidden=spec.hidden,
            output=spec.output,
            cost=spec.cost,
            init=spec.init,
            seed=spec.seed,
            dtype=dtype,
        )

    def copy(self, dtype: np.dtype | type | None = None) -> Network:
        """An independent network with the same parameters (cast to ``dtype`` if given)."""
        twin = Network.like(self, self.dtype if dtype is None else dtype)
        twin.parameters[...] = self.parameters
        return twin

    def set_parameters(self, weights: Sequence[np.ndarray], biases: Sequence[np.ndarray]) -> None:
        """Copy W^1 … W^L and b^1 … b^L into the network (shapes must match)."""
        if len(weights) != self.n_layers or len(biases) != self.n_layers:
            raise ValueError(f"expected {self.n_layers} weight and bias arrays")
        for mine, theirs in zip(self.weights + self.biases, (*weights, *biases), strict=True):
            theirs = np.asarray(theirs)
            if theirs.shape != mine.shape:
                raise ValueError(f"parameter shape {theirs.shape} does not match {mine.shape}")
            if not np.all(np.isfinite(theirs)):
                raise ValueError("parameters contain NaN or infinity")
            mine[...] = theirs

    # --- the computation as lists of NumPy calls into given arrays (kernels.py) ---

    def forward_ops(self, l: int, a_prev: np.ndarray, z: np.ndarray, a: np.ndarray) -> list[Op]:
        """Ops computing z^l and a^l from a^{l-1} into ``z``, ``a``."""
        W, b, sigma = self.weights[l - 1], self.biases[l - 1], self.activations[l - 1]
        return kernels.forward_layer(W, b, sigma, a_prev, z, a)

    def output_delta_ops(self, z, a, y, dC_da, sigma_prime, delta) -> list[Op]:
        """Ops computing ∂C_x/∂a^L, σ'(z^L) (unless None) and δ^L into the given arrays."""
        sigma = self.activations[-1]
        return kernels.output_delta(sigma, self.cost_function, z, a, y, dC_da, sigma_prime, delta)

    def hidden_delta_ops(self, l: int, delta_next, z, a, dC_da, sigma_prime, delta) -> list[Op]:
        """Ops computing ∂C_x/∂a^l, σ'(z^l) and δ^l (l < L) into the given arrays."""
        sigma = self.activations[l - 1]
        return kernels.hidden_delta(
            self.weights[l], sigma, delta_next, z, a, dC_da, sigma_prime, delta
        )

    # --- the per-layer building blocks (paper layer numbers l = 1 … L) ---

    def forward_layer(self, l: int, a_prev: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """z^l = W^l a^{l-1} + b^l and a^l = σ(z^l); a_prev ``(m, n_{l-1})`` → two ``(m, n_l)``."""
        check_layer(l, self.n_layers)
        # Only the input x must be finite: a diverging network's activations may not be.
        a_prev = as_batch(a_prev, self.sizes[l - 1], self.dtype, f"a^{l - 1}", finite=l == 1)
        m, n = a_prev.shape[0], self.sizes[l]
        z, a = kernels.empty((m, n), self.dtype), kernels.empty((m, n), self.dtype)
        with np.errstate(**QUIET):
            run(self.forward_ops(l, a_prev, z, a))
        return frozen(z), frozen(a)

    def cost_value(self, a_L: np.ndarray, y: np.ndarray) -> float:
        """C, the mean cost over the batch of outputs a^L ``(m, n_L)`` against targets y."""
        y = as_targets(y, a_L.shape[0], self.sizes[-1], self.dtype)
        with np.errstate(**QUIET):
            return self.cost_function.value(np.asarray(a_L, self.dtype), y)

    def output_delta(
        self, z_L: np.ndarray, a_L: np.ndarray, y: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
        """(∂C_x/∂a^L, σ'(z^L) or None for softmax, δ^L), each ``(m, n_L)``.

        Sigmoid + quadratic: δ^L = (a^L − y) ⊙ a^L ⊙ (1 − a^L).
        Softmax + cross-entropy: δ^L = a^L − y.
        """
        y = as_targets(y, np.shape(a_L)[0], self.sizes[-1], self.dtype)
        shape = y.shape
        dC_da, delta = kernels.empty(shape, self.dtype), kernels.empty(shape, self.dtype)
        sp = None if self.activations[-1].prime is None else kernels.empty(shape, self.dtype)
        with np.errstate(**QUIET):
            run(self.output_delta_ops(z_L, a_L, y, dC_da, sp, delta))
        return frozen(dC_da), frozen(sp), frozen(delta)

    def hidden_delta(
        self, l: int, delta_next: np.ndarray, z_l: np.ndarray, a_l: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(∂C_x/∂a^l = (W^{l+1})^T δ^{l+1}, σ'(z^l), δ^l = ∂C_x/∂a^l ⊙ σ'(z^l)), ``(m, n_l)``."""
        check_layer(l, self.n_layers - 1)
        shape = (np.shape(delta_next)[0], self.sizes[l])
        dC_da, sp, delta = (kernels.empty(shape, self.dtype) for _ in range(3))
        with np.errstate(**QUIET):
            run(self.hidden_delta_ops(l, delta_next, z_l, a_l, dC_da, sp, delta))
        return frozen(dC_da), frozen(sp), frozen(delta)

    def layer_gradients(
        self, l: int, delta_l: np.ndarray, a_prev: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """∂C/∂W^l = mean_x δ^l (a^{l-1})^T ``(n_l, n_{l-1})``, ∂C/∂b^l = mean_x δ^l ``(n_l,)``."""
        check_layer(l, self.n_layers)
        grad_w = kernels.empty(self.weights[l - 1].shape, self.dtype)
        grad_b = kernels.empty(self.biases[l - 1].shape, self.dtype)
        m = np.shape(delta_l)[0]
        with np.errstate(**QUIET):
            run(kernels.layer_gradients(delta_l, a_prev, grad_w, grad_b))
            np.divide(grad_w, m, out=grad_w)
            np.divide(grad_b, m, out=grad_b)
        return frozen(grad_w), frozen(grad_b)

    def apply_deltas(
        self, delta: Sequence[np.ndarray], a: Sequence[np.ndarray], eta: float
    ) -> None:
        """The update W^l ← W^l − η ∂C/∂W^l, b^l ← b^l − η ∂C/∂b^l, in place, for every l.

        Computed as the fast path does: W^l ← W^l − (η/m) Σ_x δ^l (a^{l-1})^T and
        b^l ← b^l − (η/m) Σ_x δ^l, one BLAS call each accumulating into W and b
        (kernels.update_layer). ``delta`` holds the L arrays δ^l ``(m, n_l)``, ``a`` the
        forward activations a^0 … a^{L-1} (or all L + 1). ``step``, ``apply`` and
        ``FastTrainer`` all update this way: bit-identical results.
        """
        eta = check_eta(eta)
        if len(delta) != self.n_layers or len(a) < self.n_layers:
            raise ValueError(f"expected {self.n_layers} δ arrays and a^0 … a^{self.n_layers - 1}")
        m = np.shape(delta[0])[0]
        ones = np.ones(m, self.dtype)
        layers = []
        for l in range(1, self.n_layers + 1):
            d, a_prev = (np.ascontiguousarray(v, self.dtype) for v in (delta[l - 1], a[l - 1]))
            if d.shape != (m, self.sizes[l]) or a_prev.shape != (m, self.sizes[l - 1]):
                raise ValueError(f"δ^{l} and a^{l - 1} must have {m} rows of this network's sizes")
            layers.append((d, a_prev))
        with np.errstate(**QUIET):
            for l, (d, a_prev) in enumerate(layers, start=1):
                W_t, b = self.weights[l - 1].T, self.biases[l - 1]
                kernels.update_layer(W_t, b, d, a_prev, eta / m, ones)

    def apply(self, backward: BackwardTrace, eta: float) -> None:
        """The update of ``apply_deltas`` from a backward trace (and its forward trace)."""
        self.apply_deltas(backward.delta, backward.forward.a, eta)

    def apply_gradients(
        self, grad_w: Sequence[np.ndarray], grad_b: Sequence[np.ndarray], eta: float
    ) -> None:
        """W^l ← W^l − η grad_w[l-1], b^l ← b^l − η grad_b[l-1], for any given gradients.

        Equal to ``apply`` up to rounding only: use ``apply``/``apply_deltas`` to match
        ``step`` and the fast path bit for bit.
        """
        eta = check_eta(eta)
        grads = (*grad_w, *grad_b)
        if len(grads) != 2 * self.n_layers:
            raise ValueError(f"expected {self.n_layers} weight and bias gradients")
        for p, g in zip(self.weights + self.biases, grads, strict=True):
            if np.shape(g) != p.shape:
                raise ValueError(f"gradient shape {np.shape(g)} does not match {p.shape}")
            np.subtract(p, np.multiply(g, eta, dtype=self.dtype), out=p)

    # --- whole passes ---

    def forward(self, x: np.ndarray) -> ForwardTrace:
        """The forward pass of a batch x ``(m, n_0)``: every z^l and a^l (read-only)."""
        a = [frozen(np.array(as_batch(x, self.sizes[0], self.dtype, "x"), copy=True))]
        z = []
        for l in range(1, self.n_layers + 1):
            z_l, a_l = self.forward_layer(l, a[-1])
            z.append(z_l)
            a.append(a_l)
        return ForwardTrace(z=tuple(z), a=tuple(a))

    def backward(self, trace: ForwardTrace, y: np.ndarray) -> BackwardTrace:
        """Backpropagation for targets y ``(m, n_L)`` (one-hot; or integer labels ``(m,)``)."""
        if len(trace.z) != self.n_layers or trace.a[0].shape[1] != self.sizes[0]:
            raise ValueError("the forward trace does not belong to a network of this shape")
        L = self.n_layers
        y = as_targets(y, trace.m, self.sizes[-1], self.dtype)
        loss = self.cost_value(trace.a[L], y)
        dC_da, sp, delta = [None] * L, [None] * L, [None] * L
        dC_da[L - 1], sp[L - 1], delta[L - 1] = self.output_delta(trace.z[L - 1], trace.a[L], y)
        for l in range(L - 1, 0, -1):
            dC_da[l - 1], sp[l - 1], delta[l - 1] = self.hidden_delta(
                l, delta[l], trace.z[l - 1], trace.a[l]
            )
        grads = [self.layer_gradients(l, delta[l - 1], trace.a[l - 1]) for l in range(1, L + 1)]
        return BackwardTrace(
            dC_da=tuple(dC_da),
            sigma_prime=tuple(sp),
            delta=tuple(delta),
            grad_w=tuple(g for g, _ in grads),
            grad_b=tuple(g for _, g in grads),
            loss=loss,
            forward=trace,
        )

    def step(self, x: np.ndarray, y: np.ndarray, eta: float) -> BackwardTrace:
        """Forward, backward and update on one mini-batch; returns the backward trace.

        If the loss is not finite (diverged), the parameters are left unchanged.
        """
        eta = check_eta(eta)
        backward = self.backward(self.forward(x), y)
        if math.isfinite(backward.loss):  # a diverged batch leaves the parameters alone
            self.apply(backward, eta)
        return backward

    def weight_contributions(
        self, forward: ForwardTrace, backward: BackwardTrace, l: int, i: int, j: int
    ) -> np.ndarray:
        """Each example's share δ_i^l a_j^{l-1} ``(m,)`` of ∂C/∂w_ij^l (their mean)."""
        check_layer(l, self.n_layers)
        n_out, n_in = self.weights[l - 1].shape
        if not (0 <= i < n_out and 0 <= j < n_in):
            raise ValueError(f"w_ij^{l}: (i, j) = ({i}, {j}) outside ({n_out}, {n_in})")
        return frozen(backward.delta[l - 1][:, i] * forward.a[l - 1][:, j])
