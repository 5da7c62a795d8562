"""Look at the network without touching the training session: evaluate, probe one example.

Everything here works on a *copy* of the parameters in a snapshot (which are read-only
anyway), so the session's network is never changed:

- ``evaluate(snapshot, images, labels)`` — the held-out set through the forward pass
  (a ``ProbeResult``; the engine's own scoring is ``bpviz.engine.evaluate.Evaluation``):
  outputs a^L, predictions, the confusion matrix (rows = true class, columns =
  predicted), per-class accuracy, mean cost; and which examples fall in a cell of the
  matrix, and the most confident wrong answers.
- ``probe(snapshot, x, labels)`` — one forward and backward pass (IV.4) on given
  examples, returned as a Snapshot at the last gradient phase: z^l, a^l, ∂C/∂a^l,
  σ'(z^l), δ^l, ∂C/∂W^l, ∂C/∂b^l, C — the update it would make is −η ∂C/∂W^l with the
  snapshot's η. Nothing is applied.

No Qt.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from bpviz.engine.network import Network
from bpviz.engine.validation import frozen, frozen_copies, one_hot
from bpviz.session.config import make_network
from bpviz.session.snapshot import (
    BatchTrace,
    Counters,
    Phase,
    PhaseKind,
    Snapshot,
    make_snapshot,
    phases_for,
)

EVAL_CHUNK = 2000  # examples per forward pass in ``evaluate`` (bounds the memory of z, a)


def network_of(snapshot: Snapshot, reuse: Network | None = None) -> Network:
    """An engine Network with the snapshot's configuration and current parameters.

    The dtype is the snapshot's (the session's); the network shares no memory with it.
    ``reuse``, a network this function returned before, gets the parameters copied in
    when its shape and functions match (cheap: no new allocation or initialisation).
    Raises ValueError when the parameters are not finite (a diverged session).
    """
    config = snapshot.config
    dtype = snapshot.weights[0].dtype
    same = (config.sizes, config.hidden, config.output, config.cost, dtype)
    if reuse is None or (reuse.sizes, reuse.hidden, reuse.output, reuse.cost, reuse.dtype) != same:
        reuse = make_network(config, dtype)
    reuse.set_parameters(snapshot.weights, snapshot.biases)
    return reuse


def as_input(images: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """uint8 pixels ``(m, n_0)`` → floats in [0, 1]; float input is only cast to ``dtype``."""
    images = np.asarray(images)
    if images.ndim == 1:
        images = images[None, :]
    if images.dtype == np.uint8:
        return np.multiply(images, 1.0 / 255.0, dtype=dtype)
    return images.astype(dtype, copy=False)


@dataclass(frozen=True)
class ProbeResult:
    """The held-out set through the network.

    ``outputs`` a^L ``(n, k)``; ``labels`` and ``predictions`` ``(n,)`` int64;
    ``loss`` the mean cost C over the n examples.
    """

    outputs: np.ndarray
    labels: np.ndarray
    loss: float

    @property
    def n_classes(self) -> int:
        """k, the number of output neurons."""
        return int(self.outputs.shape[1])

    @cached_property
    def predictions(self) -> np.ndarray:
        """argmax_i a^L_i per example ``(n,)``."""
        return self.outputs.argmax(axis=1).astype(np.int64)

    @cached_property
    def confusion(self) -> np.ndarray:
        """``(k, k)`` int64 counts: entry (t, p) = examples of true class t predicted p."""
        k = self.n_classes
        flat = self.labels * k + self.predictions
        return np.bincount(flat, minlength=k * k).reshape(k, k).astype(np.int64)

    @property
    def accuracy(self) -> float:
        """Fraction of examples predicted correctly."""
        return float(np.mean(self.predictions == self.labels)) if self.labels.size else 0.0

    @property
    def per_class_accuracy(self) -> np.ndarray:
        """``(k,)``: for each true class, the fraction predicted correctly (NaN if absent)."""
        counts = self.confusion.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.diag(self.confusion) / counts

    @property
    def confidence(self) -> np.ndarray:
        """a^L at the predicted class ``(n,)``: how sure the network is of its answer."""
        return self.outputs[np.arange(self.outputs.shape[0]), self.predictions]

    def cell(self, true: int, predicted: int) -> np.ndarray:
        """Indices (into the evaluated set) of the examples in cell (true, predicted)."""
        return np.flatnonzero((self.labels == true) & (self.predictions == predicted))

    def worst_mistakes(self, count: int) -> np.ndarray:
        """Indices of up to ``count`` wrong answers, the most confident first."""
        wrong = np.flatnonzero(self.predictions != self.labels)
        order = np.argsort(-self.confidence[wrong], kind="stable")
        return wrong[order[:count]]


def evaluate(
    snapshot: Snapshot, images: np.ndarray, labels: np.ndarray, *, reuse: Network | None = None
) -> ProbeResult:
    """Forward pass of ``images`` ``(n, n_0)`` (uint8 or float) with the snapshot's
    parameters; ``labels`` ``(n,)``; ``reuse`` as in ``network_of``. Returns an
    ``ProbeResult``."""
    labels = np.asarray(labels).astype(np.int64)
    net = network_of(snapshot, reuse)
    n = labels.shape[0]
    outputs = np.empty((n, net.sizes[-1]), dtype=net.dtype)
    total = 0.0
    for start in range(0, n, EVAL_CHUNK):
        stop = min(start + EVAL_CHUNK, n)
        a_L = net.forward(as_input(images[start:stop], net.dtype)).a[-1]
        outputs[start:stop] = a_L
        y = one_hot(labels[start:stop], net.sizes[-1], dtype=net.dtype)
        total += net.cost_value(a_L, y) * (stop - start)
    return ProbeResult(outputs=frozen(outputs), labels=frozen(labels), loss=total / n if n else 0.0)


def outputs_of(net: Network, x: np.ndarray) -> np.ndarray:
    """a^L ``(m, n_L)`` of ``net`` for inputs x ``(m, n_0)`` or ``(n_0,)`` (uint8 or float)."""
    return net.forward(as_input(x, net.dtype)).a[-1]


def probe(
    snapshot: Snapshot, x: np.ndarray, labels: np.ndarray, *, message: str | None = None
) -> Snapshot:
    """One forward + backward pass on examples x ``(m, n_0)`` (or one ``(n_0,)``) with
    targets ``labels`` ``(m,)``, on a copy of the snapshot's parameters.

    Returns a Snapshot with the snapshot's counters at the phase ∂C/∂W^1 (the last before
    the update) with x, labels, y, z, a, ∂C/∂a, σ', δ, ∂C/∂W, ∂C/∂b and C filled in,
    ``weights``/``biases`` read-only copies of the parameters used, ``weights_before``/
    ``biases_before`` the same (nothing was applied) and ``running=False``. The update
    it would make is −η ∂C/∂W^l.
    """
    net = network_of(snapshot)
    x = as_input(x, net.dtype)
    labels = np.atleast_1d(np.asarray(labels)).astype(np.int64)
    if labels.shape[0] != x.shape[0]:
        raise ValueError(f"{x.shape[0]} examples but {labels.shape[0]} labels")
    y = frozen(one_hot(labels, net.sizes[-1], dtype=net.dtype))
    forward = net.forward(x)
    backward = net.backward(forward, y)
    # The parameters the pass used, copied: the snapshot's may be views that change later.
    parameters = (frozen_copies(net.weights), frozen_copies(net.biases))
    phase = Phase(PhaseKind.GRADIENT, 1)
    return make_snapshot(
        config=snapshot.config,
        phase=phase,
        phase_index=phases_for(snapshot.n_layers).index(phase),
        counters=Counters.of(snapshot, snapshot.history),
        batch=BatchTrace(frozen(labels), y, forward, backward, parameters),
        loss=float(backward.loss),
        message=message,
    )


def after_update(probed: Snapshot) -> tuple[np.ndarray, float]:
    """What the update a probe would make does to its own examples, on a copy:
    W^l ← W^l − η ∂C/∂W^l, b^l ← b^l − η ∂C/∂b^l, then the forward pass again.

    Returns (a^L ``(m, n_L)``, C) after that update; nothing is applied anywhere else.
    """
    net = network_of(probed)
    net.apply_gradients(probed.grad_w, probed.grad_b, probed.eta)
    a_L = net.forward(probed.x).a[-1]
    return a_L, float(net.cost_value(a_L, probed.y))
