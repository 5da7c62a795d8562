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
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from bpviz.engine import kernels
from bpviz.engine.functions import Op, run
from bpviz.engine.network import BackwardTrace, ForwardTrace, Network
from bpviz.engine.validation import QUIET, as_batch, check_eta, frozen, one_hot

Stop = Callable[[], bool]  # asked after each mini-batch: True ends the stretch there


@dataclass
class Buffers:
    """The arrays of one mini-batch of size m (per-layer tuples indexed l − 1, a by l).

    ``x`` ``(m, n_0)`` (also ``a[0]``), ``y`` ``(m, n_L)`` one-hot, ``z``/``dC_da``/
    ``sigma_prime``/``delta`` L arrays ``(m, n_l)`` (σ'^L None for
    softmax); ``grad`` (filled by ``FastTrainer.gradients``) is laid out as
    ``Network.parameters``, with per-layer views ``grad_w``/``grad_b``. ``plan``: the ops
    from the forward pass to δ^1; ``updates``: per layer the operands of
    ``kernels.update_layer`` ((a^{l-1})^T, (δ^l)^T, (W^l)^T, b^l, ones).
    """

    x: np.ndarray
    y: np.ndarray
    z: tuple[np.ndarray, ...]
    a: tuple[np.ndarray, ...]
    dC_da: tuple[np.ndarray, ...]
    sigma_prime: tuple[np.ndarray | None, ...]
    delta: tuple[np.ndarray, ...]
    grad: np.ndarray
    grad_w: tuple[np.ndarray, ...]
    grad_b: tuple[np.ndarray, ...]
    plan: tuple[Op, ...]
    updates: tuple[tuple[np.ndarray, ...], ...]
    indices: np.ndarray | None = None  # training-set rows of the last mini-batch
    loss: float = math.nan

    @classmethod
    def allocate(cls, net: Network, m: int) -> Buffers:
        def layers() -> tuple[np.ndarray, ...]:
            return tuple(kernels.empty((m, n), net.dtype) for n in net.sizes[1:])

        L = net.n_layers
        x, y = (
            kernels.empty((m, net.sizes[0]), net.dtype),
            kernels.empty((m, net.sizes[-1]), net.dtype),
        )
        z, a, dC_da, delta = layers(), (x, *layers()), layers(), layers()
        sp = layers()
        if net.activations[-1].prime is None:  # softmax: δ^L = a^L − y directly
            sp = (*sp[:-1], None)
        plan = [op for l in range(1, L + 1) for op in net.forward_ops(l, a[l - 1], z[l - 1], a[l])]
        plan += net.output_delta_ops(z[-1], a[-1], y, dC_da[-1], sp[-1], delta[-1])
        for l in range(L - 1, 0, -1):
            plan += net.hidden_delta_ops(
                l, delta[l], z[l - 1], a[l], dC_da[l - 1], sp[l - 1], delta[l - 1]
            )
        grad = kernels.empty(net.parameters.shape, net.dtype)  # zeroed
        grad_w, grad_b = kernels.parameter_views(grad, net.sizes)
        ones = np.ones(m, net.dtype)
        updates = tuple(
            (a[l].T, delta[l].T, net.weights[l].T, net.biases[l], ones) for l in range(L)
        )
        for *_, W_t, bias, _ in updates:  # BLAS writes into these only if laid out so
            if not (W_t.flags.f_contiguous and bias.flags.c_contiguous):
                raise RuntimeError("the network's parameters are not contiguous views")
        return cls(x, y, z, a, dC_da, sp, delta, grad, grad_w, grad_b, tuple(plan),
                   updates)  # fmt: skip


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
        self._quadratic = net.cost == "quadratic"
        self._blas = kernels.blas(net.dtype)
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

    def _run(
        self, batches: np.ndarray, eta: float, losses: np.ndarray, stop: Stop | None = None
    ) -> int:
        """Train on each row of ``batches`` ``(k, m)`` (training-set indices) in turn, writing
        each loss C into ``losses``; returns how many ran (stops after a non-finite loss,
        whose mini-batch leaves the parameters as they were, and after any mini-batch
        once ``stop()`` is true).

        Per mini-batch: gather x and y, replay the plan (forward pass, cost derivative, δ^L …
        δ^1 — the ops of ``Network.forward``/``backward``), the loss as ``cost_value``
        computes it, then ``kernels.update_layer``'s calls, inlined. Everything is bound to
        locals once: at these sizes Python's per-call overhead is a large part of a step.
        """
        m = batches.shape[1]
        b = self._buffers.get(m)
        if b is None:
            b = self._buffers[m] = Buffers.allocate(self.net, m)
        take_x, take_y, x, y, plan = self.x_all.take, self.y_all.take, b.x, b.y, b.plan
        difference, a_L, updates = b.dC_da[-1], b.a[-1], b.updates
        value = None if self._quadratic else self.net.cost_function.value
        vdot, isfinite, (gemm, gemv) = np.vdot, math.isfinite, self._blas
        scale, loss, k = eta / m, math.nan, 0
        for k, indices in enumerate(batches):
            take_x(indices, 0, x, "clip")
            take_y(indices, 0, y, "clip")
            for function, args in plan:
                function(*args)
            # quadratic: computed as quadratic_from_difference, dC_da^L being a^L − y
            loss = 0.5 * float(vdot(difference, difference)) / m if value is None else value(a_L, y)
            losses[k] = loss
            if not isfinite(loss):
                break
            for a_prev_t, delta_t, W_t, bias, ones in updates:
                gemm(-scale, a_prev_t, delta_t, 1.0, W_t, 0, 1, 1)  # W^l in place
                gemv(-scale, delta_t, ones, 1.0, bias, 0, 1, 0, 1, 0, 1)  # b^l in place
            if stop is not None and stop():
                break
        b.indices, b.loss, self.last = batches[k], loss, b
        return k + 1

    def gradients(self) -> tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...]]:
        """∂C/∂W^l and ∂C/∂b^l of the last mini-batch (buffers; bit-identical to the traced
        path's ``layer_gradients``)."""
        b = self.last
        if b is None:
            raise ValueError("no step has run yet")
        with np.errstate(**QUIET):
            for l in range(self.net.n_layers):
                run(kernels.layer_gradients(b.delta[l], b.a[l], b.grad_w[l], b.grad_b[l]))
            np.divide(b.grad, b.x.shape[0], out=b.grad)
        return b.grad_w, b.grad_b

    def step(self, indices: np.ndarray, eta: float) -> float:
        """Train on the training examples at ``indices`` (one mini-batch); returns its loss C.

        A non-finite loss (diverged) leaves the parameters unchanged.
        """
        indices, eta = self._checked(indices), check_eta(eta)
        loss = np.empty(1)
        with np.errstate(**QUIET):
            self._run(indices[np.newaxis], eta, loss)
        return float(loss[0])

    def train_epoch(self, order: np.ndarray, eta: float, stop: Stop | None = None) -> np.ndarray:
        """Mini-batches ``order[k : k + batch_size]`` in turn; returns their losses ``(steps,)``.

        ``order`` is usually a permutation of the training set, but any index sequence
        works (e.g. a slice of one, to train part of an epoch). Stops after the first
        mini-batch whose loss is not finite (its loss is the last returned), and after
        the mini-batch during which ``stop()`` became true (e.g. ``event.is_set``: a
        worker asked to pause answers within one mini-batch, not one stretch).
        """
        order, eta = self._checked(order), check_eta(eta)
        B, n = self.batch_size, order.shape[0]
        full = n // B
        losses = np.empty(-(-n // B))
        with np.errstate(**QUIET):
            done = self._run(order[: full * B].reshape(full, B), eta, losses, stop) if full else 0
            if done == full and n % B and (not full or math.isfinite(losses[full - 1])):
                done += self._run(order[full * B :][np.newaxis], eta, losses[full:])
        return losses[:done]

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
