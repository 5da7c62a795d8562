"""Full-speed training: mini-batch SGD on a fixed training set into preallocated buffers.

``FastTrainer`` runs the same kernel calls (kernels.py) as ``Network.forward``/``backward``/
``apply``, but into buffers allocated once, gathers each mini-batch with ``np.take`` and
updates the network's parameters in place — so its parameters are bit-identical to the
traced path's. After any step, ``last`` holds that mini-batch's x, y, z, a, ∂C/∂a, σ' and
δ (buffers overwritten by the next step: copy what you keep); ``gradients()`` computes its
∂C/∂W and ∂C/∂b from them on demand, and ``traces()`` copies everything into read-only traces.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from bpviz.engine import kernels
from bpviz.engine.functions import quadratic_from_difference
from bpviz.engine.network import BackwardTrace, ForwardTrace, Network, one_hot
from bpviz.engine.validation import QUIET, as_batch, check_eta, frozen


@dataclass
class Buffers:
    """The arrays of one mini-batch of size m (per-layer tuples indexed l − 1, a by l).

    ``x`` ``(m, n_0)`` (also ``a[0]``), ``y`` ``(m, n_L)`` one-hot, ``z``/``dC_da``/
    ``sigma_prime``/``delta``/``scaled`` (δ^l η/m) L arrays ``(m, n_l)`` (σ'^L None for
    softmax); ``update`` (η ∂C/∂θ of the last step) and ``grad`` (filled by
    ``FastTrainer.gradients``) are laid out as ``Network.parameters``, with per-layer views
    ``update_w``/``update_b`` and ``grad_w``/``grad_b``.
    """

    x: np.ndarray
    y: np.ndarray
    z: tuple[np.ndarray, ...]
    a: tuple[np.ndarray, ...]
    dC_da: tuple[np.ndarray, ...]
    sigma_prime: tuple[np.ndarray | None, ...]
    delta: tuple[np.ndarray, ...]
    scaled: tuple[np.ndarray, ...]
    update: np.ndarray
    update_w: tuple[np.ndarray, ...]
    update_b: tuple[np.ndarray, ...]
    grad: np.ndarray
    grad_w: tuple[np.ndarray, ...]
    grad_b: tuple[np.ndarray, ...]
    indices: np.ndarray | None = None  # training-set rows of the last mini-batch
    loss: float = math.nan

    @classmethod
    def allocate(cls, net: Network, m: int) -> Buffers:
        def new(n: int) -> np.ndarray:
            return np.empty((m, n), net.dtype)

        sizes, L = net.sizes, net.n_layers
        x = new(sizes[0])
        grad, update = np.zeros_like(net.parameters), np.zeros_like(net.parameters)
        softmax = net.activations[-1].prime is None
        return cls(
            x=x,
            y=new(sizes[-1]),
            z=tuple(new(n) for n in sizes[1:]),
            a=(x, *(new(n) for n in sizes[1:])),
            dC_da=tuple(new(n) for n in sizes[1:]),
            sigma_prime=tuple(
                None if softmax and l == L else new(sizes[l]) for l in range(1, L + 1)
            ),
            delta=tuple(new(n) for n in sizes[1:]),
            scaled=tuple(new(n) for n in sizes[1:]),
            update=update,
            update_w=kernels.parameter_views(update, sizes)[0],
            update_b=kernels.parameter_views(update, sizes)[1],
            grad=grad,
            grad_w=kernels.parameter_views(grad, sizes)[0],
            grad_b=kernels.parameter_views(grad, sizes)[1],
        )


class FastTrainer:
    """SGD on ``net`` over a training set, one mini-batch (``step``) or many (``train_epoch``).

    Args:
        net: the network; its parameters are updated in place (it stays the one source of
            truth: change them from outside whenever you like, between steps).
        images: ``(n, n_0)`` uint8 pixels (scaled by 1/255 exactly as ``Dataset.to_float``)
            or floats; converted once to the network's dtype.
        labels: ``(n,)`` integers in 0 … n_L − 1.
        batch_size: mini-batch size of ``train_epoch``.
    """

    def __init__(
        self, net: Network, images: np.ndarray, labels: np.ndarray, batch_size: int = 10
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch size must be ≥ 1, got {batch_size}")
        images = np.asarray(images)
        if images.dtype == np.uint8:
            if images.ndim != 2 or images.shape[1] != net.sizes[0]:
                raise ValueError(f"images must have shape (n, {net.sizes[0]}), got {images.shape}")
            self.x_all = np.multiply(images, 1.0 / 255.0, dtype=net.dtype)
        else:
            self.x_all = np.array(as_batch(images, net.sizes[0], net.dtype, "images"))
        labels = np.asarray(labels)
        if labels.shape != (self.x_all.shape[0],):
            raise ValueError(f"{labels.shape} labels for {self.x_all.shape[0]} images")
        self.y_all = one_hot(labels.astype(np.intp, copy=False), net.sizes[-1], net.dtype)
        self.net, self.batch_size = net, int(batch_size)
        self._buffers: dict[int, Buffers] = {}
        self.last: Buffers | None = None

    @property
    def n_examples(self) -> int:
        """Number of training examples."""
        return int(self.x_all.shape[0])

    def _checked(self, indices: np.ndarray) -> np.ndarray:
        indices = np.asarray(indices)
        if indices.ndim != 1 or not np.issubdtype(indices.dtype, np.integer) or not indices.size:
            raise ValueError("indices must be a non-empty 1-D integer array")
        if indices.min() < 0 or indices.max() >= self.n_examples:
            raise ValueError(f"indices outside 0…{self.n_examples - 1}")
        return indices.astype(np.intp, copy=False)

    def _step(self, indices: np.ndarray, eta: float) -> float:
        """One mini-batch: gather, forward, cost, δ, update (only if the loss is finite)."""
        net, L, m = self.net, self.net.n_layers, indices.shape[0]
        b = self._buffers.get(m)
        if b is None:
            b = self._buffers[m] = Buffers.allocate(net, m)
        np.take(self.x_all, indices, axis=0, mode="clip", out=b.x)
        np.take(self.y_all, indices, axis=0, mode="clip", out=b.y)
        a, z, dC_da, sp, delta = b.a, b.z, b.dC_da, b.sigma_prime, b.delta
        for l in range(1, L + 1):
            kernels.forward_layer(net, l, a[l - 1], z[l - 1], a[l])
        kernels.output_delta(net, z[-1], a[-1], b.y, dC_da[-1], sp[-1], delta[-1])
        if net.cost == "quadratic":  # the same numbers as cost_value: dC_da is a^L − y
            loss = quadratic_from_difference(dC_da[-1])
        else:
            loss = net.cost_function.value(a[-1], b.y)
        for l in range(L - 1, 0, -1):
            kernels.hidden_delta(
                net, l, delta[l], z[l - 1], a[l], dC_da[l - 1], sp[l - 1], delta[l - 1]
            )
        b.indices, b.loss, self.last = indices, loss, b
        if math.isfinite(loss):  # a diverged batch leaves the parameters as they were
            scale = eta / m
            for l in range(1, L + 1):
                kernels.scaled_update(
                    delta[l - 1],
                    a[l - 1],
                    scale,
                    b.scaled[l - 1],
                    b.update_w[l - 1],
                    b.update_b[l - 1],
                )
            np.subtract(net.parameters, b.update, out=net.parameters)
        return loss

    def gradients(self) -> tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...]]:
        """∂C/∂W^l and ∂C/∂b^l of the last mini-batch (buffers; bit-identical to the traced
        path's ``layer_gradients``)."""
        b = self.last
        if b is None:
            raise ValueError("no step has run yet")
        with np.errstate(**QUIET):
            for l in range(1, self.net.n_layers + 1):
                kernels.layer_gradients(
                    b.delta[l - 1], b.a[l - 1], b.grad_w[l - 1], b.grad_b[l - 1]
                )
            np.divide(b.grad, b.x.shape[0], out=b.grad)
        return b.grad_w, b.grad_b

    def step(self, indices: np.ndarray, eta: float) -> float:
        """Train on the training examples at ``indices`` (one mini-batch); returns its loss C.

        A non-finite loss (diverged) leaves the parameters unchanged.
        """
        indices, eta = self._checked(indices), check_eta(eta)
        with np.errstate(**QUIET):
            return self._step(indices, eta)

    def train_epoch(self, order: np.ndarray, eta: float) -> np.ndarray:
        """Mini-batches ``order[k : k + batch_size]`` in turn; returns their losses ``(steps,)``.

        ``order`` is usually a permutation of the training set, but any index sequence
        works (e.g. a slice of one, to train part of an epoch). Stops after the first
        mini-batch whose loss is not finite (its loss is the last returned).
        """
        order, eta = self._checked(order), check_eta(eta)
        B, n = self.batch_size, order.shape[0]
        losses = np.empty((n + B - 1) // B)
        step = self._step
        with np.errstate(**QUIET):
            for k, start in enumerate(range(0, n, B)):
                losses[k] = loss = step(order[start : start + B], eta)
                if not math.isfinite(loss):
                    return losses[: k + 1]
        return losses

    def traces(self) -> tuple[ForwardTrace, BackwardTrace]:
        """Read-only copies of the last mini-batch's forward and backward traces."""
        grad_w, grad_b = self.gradients()
        b = self.last

        def copies(arrays: tuple) -> tuple:
            return tuple(None if arr is None else frozen(arr.copy()) for arr in arrays)

        forward = ForwardTrace(z=copies(b.z), a=copies(b.a))
        backward = BackwardTrace(
            dC_da=copies(b.dC_da),
            sigma_prime=copies(b.sigma_prime),
            delta=copies(b.delta),
            grad_w=copies(grad_w),
            grad_b=copies(grad_b),
            loss=b.loss,
            forward=forward,
        )
        return forward, backward
