"""What the session publishes and the views draw: phases and immutable snapshots.

Layer numbers follow the paper: l = 1 … L, so ``weights[l - 1]`` is W^l with shape
``(n_l, n_{l-1})`` and ``a[0]`` is the input x = a^0. Every array in a snapshot is a
read-only copy: nothing the worker does later changes it.

One trace type end to end: a ``Snapshot`` holds the engine's own ``ForwardTrace`` and
``BackwardTrace`` of its mini-batch (a ``BatchTrace`` with the labels, targets and the
parameters before and after), with the run's ``Counters``; ``make_snapshot`` is the one
place one is made — by the session (``Session.snapshot``, which the worker and the CLI
publish) and by the probe.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np

from bpviz.engine.network import BackwardTrace, ForwardTrace
from bpviz.session.series import (
    NO_EPOCHS,
    EpochMetrics,
    EpochsView,
    HistoryView,
    SeriesView,
    WatchView,
)

__all__ = [  # the history's views live in series.py; a snapshot carries them
    "NO_EPOCHS",
    "Arrays",
    "BatchTrace",
    "Counters",
    "EpochMetrics",
    "EpochsView",
    "HistoryView",
    "Parameters",
    "Phase",
    "PhaseKind",
    "SeriesView",
    "SessionConfig",
    "Snapshot",
    "WatchView",
    "make_snapshot",
    "phases_for",
]

Arrays = tuple[np.ndarray | None, ...]


class PhaseKind(StrEnum):
    """The kinds of step of one mini-batch, in the paper's order (IV.4)."""

    FORWARD = "forward"  # z^l = W^l a^{l-1} + b^l, a^l = σ(z^l)
    COST = "cost"  # C = mean over the batch of the cost of (a^L, y)
    DELTA = "delta"  # δ^L = ∂C/∂a^L ⊙ σ'(z^L);  δ^l = (W^{l+1})^T δ^{l+1} ⊙ σ'(z^l)
    GRADIENT = "gradient"  # ∂C/∂W^l = δ^l (a^{l-1})^T,  ∂C/∂b^l = δ^l
    UPDATE = "update"  # W ← W − η ∂C/∂W,  b ← b − η ∂C/∂b


@dataclass(frozen=True)
class Phase:
    """One phase: its kind and the paper's layer l (None for COST and UPDATE)."""

    kind: PhaseKind
    layer: int | None = None

    @property
    def label(self) -> str:
        """Short human label, e.g. ``"forward l=1"``, ``"δ^2"``, ``"update"``."""
        if self.kind is PhaseKind.FORWARD:
            return f"forward l={self.layer}"
        if self.kind is PhaseKind.DELTA:
            return f"δ^{self.layer}"
        if self.kind is PhaseKind.GRADIENT:
            return f"∂C/∂W^{self.layer}"
        return self.kind.value


def phases_for(n_layers: int) -> tuple[Phase, ...]:
    """The phases of one mini-batch for a network with L = ``n_layers`` weight layers.

    forward 1 … L → cost → δ^L … δ^1 → gradients L … 1 → update; 3L + 2 phases.
    """
    if n_layers < 1:
        raise ValueError(f"a network needs at least one weight layer, got {n_layers}")
    down = range(n_layers, 0, -1)
    return (
        *(Phase(PhaseKind.FORWARD, l) for l in range(1, n_layers + 1)),
        Phase(PhaseKind.COST),
        *(Phase(PhaseKind.DELTA, l) for l in down),
        *(Phase(PhaseKind.GRADIENT, l) for l in down),
        Phase(PhaseKind.UPDATE),
    )


@dataclass(frozen=True)
class SessionConfig:
    """Everything that defines a training run; network fields take effect on reset."""

    sizes: tuple[int, ...] = (784, 30, 10)
    hidden: str = "sigmoid"  # sigmoid | tanh | relu | leaky_relu
    output: str = "sigmoid"  # sigmoid | softmax
    cost: str = "quadratic"  # quadratic | cross_entropy
    init: str = "scaled"  # scaled: N(0, 1/n_in) | normal: N(0, 1)
    seed: int = 0
    batch_size: int = 10
    eta: float = 3.0

    @property
    def n_layers(self) -> int:
        """L, the number of weight layers."""
        return len(self.sizes) - 1


def _entries(trace: str, name: str, doc: str) -> property:
    """A Snapshot property reading tuple ``name`` of its ``trace`` (``()`` without one)."""

    def read(snapshot: Snapshot) -> Arrays:
        held = getattr(snapshot, trace)
        return getattr(held, name) if held is not None else ()

    return property(read, doc=doc)


Parameters = tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...]]  # (W^1 … W^L), (b^1 … b^L)


@dataclass(frozen=True)
class Snapshot:
    """The state of the session after one phase (or after reset, with ``phase=None``).

    Built by ``make_snapshot`` only (the session, the probe and the CLI all publish
    through it). ``forward`` and ``backward`` are the engine's traces of the mini-batch
    (``bpviz.engine.network.ForwardTrace``/``BackwardTrace``); in a mini-batch under way
    (phase stepping) the entries not computed yet are None, and so is ``backward.loss``
    before the cost phase. ``z``, ``a``, ``dC_da``, ``sigma_prime``, ``delta``, ``grad_w``
    and ``grad_b`` read the traces (``()`` when there is no trace).

    Per-layer tuples have L entries, index l − 1 for layer l, except ``a`` which has
    L + 1 (``a[0]`` is x). Shapes (m = batch size): ``x`` ``(m, n_0)``; ``labels``
    ``(m,)`` int; ``y`` ``(m, n_L)`` one-hot; ``z[l-1]``, ``a[l]``, ``dC_da[l-1]``,
    ``sigma_prime[l-1]``, ``delta[l-1]`` ``(m, n_l)``; ``grad_w[l-1]``, ``weights[l-1]``
    ``(n_l, n_{l-1})``; ``grad_b[l-1]``, ``biases[l-1]`` ``(n_l,)``. ``sigma_prime[L-1]``
    is None for a softmax output, where δ^L = a^L − y directly. ``weights_before``/
    ``biases_before`` are the parameters the mini-batch started from; ``weights``/
    ``biases`` are the current ones (after the update once the UPDATE phase has run).
    Every array is read-only.
    """

    config: SessionConfig
    phase: Phase | None
    phase_index: int  # index of ``phase`` in phases_for(L); -1 when phase is None
    step: int  # completed updates (mini-batches) since reset
    epoch: int  # 0-based epoch the current mini-batch belongs to
    batch_in_epoch: int  # mini-batches completed in the current epoch
    batches_per_epoch: int
    eta: float  # η the (next) update uses
    weights: tuple[np.ndarray, ...]
    biases: tuple[np.ndarray, ...]
    weights_before: tuple[np.ndarray, ...]
    biases_before: tuple[np.ndarray, ...]
    x: np.ndarray | None = None
    labels: np.ndarray | None = None
    y: np.ndarray | None = None
    forward: ForwardTrace | None = None
    backward: BackwardTrace | None = None
    loss: float | None = None
    history: HistoryView | None = None
    last_eval: EpochMetrics | None = None
    running: bool = False
    message: str | None = None  # e.g. what diverged and the η in use

    @property
    def n_layers(self) -> int:
        """L."""
        return len(self.weights)

    z = _entries("forward", "z", "z^l = W^l a^{l-1} + b^l, ``z[l-1]`` ``(m, n_l)``.")
    a = _entries("forward", "a", "a^l = σ(z^l), ``a[l]`` ``(m, n_l)``; ``a[0]`` is x.")
    dC_da = _entries("backward", "dC_da", "∂C_x/∂a^l, ``dC_da[l-1]`` ``(m, n_l)``.")
    sigma_prime = _entries(
        "backward",
        "sigma_prime",
        "σ'(z^l), ``sigma_prime[l-1]`` ``(m, n_l)`` (None at L for softmax).",
    )
    delta = _entries("backward", "delta", "δ^l = ∂C_x/∂z^l, ``delta[l-1]`` ``(m, n_l)``.")
    grad_w = _entries("backward", "grad_w", "∂C/∂W^l, ``grad_w[l-1]`` ``(n_l, n_{l-1})``.")
    grad_b = _entries("backward", "grad_b", "∂C/∂b^l, ``grad_b[l-1]`` ``(n_l,)``.")


@dataclass(frozen=True)
class BatchTrace:
    """One mini-batch as a snapshot shows it: its ``labels`` ``(m,)`` and one-hot targets
    ``y`` ``(m, n_L)``, the engine's ``forward`` and ``backward`` traces (entries not
    computed yet None), the parameters ``before`` it and ``after`` its update (None until
    the update has run). Read-only arrays."""

    labels: np.ndarray
    y: np.ndarray
    forward: ForwardTrace
    backward: BackwardTrace
    before: Parameters
    after: Parameters | None = None

    @classmethod
    def start(
        cls, x: np.ndarray, labels: np.ndarray, y: np.ndarray, before: Parameters
    ) -> BatchTrace:
        """The mini-batch x ``(m, n_0)`` before any phase has run: every trace entry None
        but a^0 = x, and no loss yet."""
        nothing = (None,) * len(before[0])
        forward = ForwardTrace(z=nothing, a=(x, *nothing))
        backward = BackwardTrace(nothing, nothing, nothing, nothing, nothing, None, forward)
        return cls(labels, y, forward, backward, before)


def make_snapshot(
    *,
    config: SessionConfig,
    phase: Phase | None,
    phase_index: int,
    counters: Counters,
    batch: BatchTrace,
    loss: float | None = None,
    running: bool = False,
    message: str | None = None,
) -> Snapshot:
    """The one way a Snapshot is made (session, probe, CLI).

    ``counters`` (step, epoch, …, η, history view, last evaluation) say where the run
    is; ``batch`` the mini-batch and its traces, whose x is ``forward.a[0]``; the current
    parameters are ``batch.after`` once its update has run, else ``batch.before``. The
    arrays must already be read-only (ValueError otherwise): a snapshot never shares
    memory the training may write again.
    """
    before = batch.before
    after = before if batch.after is None else batch.after
    parts = (after, before, (batch.labels, batch.y), batch.forward, batch.backward)
    if any(array.flags.writeable for array in _arrays(*parts)):
        raise ValueError("a snapshot's arrays must be read-only copies")
    return Snapshot(
        config=config,
        phase=phase,
        phase_index=phase_index,
        step=counters.step,
        epoch=counters.epoch,
        batch_in_epoch=counters.batch_in_epoch,
        batches_per_epoch=counters.batches_per_epoch,
        eta=counters.eta,
        weights=after[0],
        biases=after[1],
        weights_before=before[0],
        biases_before=before[1],
        x=batch.forward.a[0],
        labels=batch.labels,
        y=batch.y,
        forward=batch.forward,
        backward=batch.backward,
        loss=loss,
        history=counters.history,
        last_eval=counters.last_eval,
        running=running,
        message=message,
    )


@dataclass(frozen=True)
class Counters:
    """Where a run is: completed updates ``step``, 0-based ``epoch``, ``batch_in_epoch``
    of ``batches_per_epoch``, η of the next update, the history view and the last
    held-out evaluation."""

    step: int
    epoch: int
    batch_in_epoch: int
    batches_per_epoch: int
    eta: float
    history: HistoryView | None = None
    last_eval: EpochMetrics | None = None

    @classmethod
    def of(cls, source: Any, history: HistoryView | None) -> Counters:
        """The counters of ``source`` (a Session or a Snapshot: anything with ``step``,
        ``epoch``, ``batch_in_epoch``, ``batches_per_epoch``, ``eta`` and ``last_eval``)
        with this history view."""
        return cls(
            source.step,
            source.epoch,
            source.batch_in_epoch,
            source.batches_per_epoch,
            source.eta,
            history,
            source.last_eval,
        )


def _arrays(*parts):
    """Every array in nested tuples/traces (Nones skipped)."""
    for part in parts:
        if part is None:
            continue
        if isinstance(part, np.ndarray):
            yield part
        elif isinstance(part, ForwardTrace):
            yield from _arrays(part.z, part.a)
        elif isinstance(part, BackwardTrace):
            yield from _arrays(part.dC_da, part.sigma_prime, part.delta, part.grad_w, part.grad_b)
        else:
            yield from _arrays(*part)
