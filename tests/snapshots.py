"""Snapshots for the view tests: the real Session on the embedded sample, phase by phase.

``make_snapshots`` returns what the session publishes during one mini-batch: the snapshot
before it (``phase=None`` after a reset, or after the previous update) and one after each
of its 3L + 2 phases, with the entries not computed yet left None, as the contract says.
``fake_history`` makes a long history with a spike, epochs and an η change for the loss
view without training for minutes.
"""

from __future__ import annotations

import itertools
from functools import cache

import numpy as np

from bpviz.data import load_sample
from bpviz.session.session import Session
from bpviz.session.snapshot import (
    EpochMetrics,
    EpochsView,
    HistoryView,
    Phase,
    PhaseKind,
    SessionConfig,
    Snapshot,
)


def _ro(values: np.ndarray) -> np.ndarray:
    out = np.array(values, copy=True)
    out.setflags(write=False)
    return out


def fake_history(steps: int, seed: int = 0) -> HistoryView:
    """A decaying, noisy loss with a spike, decimated into min/max/mean buckets of 4;
    three epochs; η changed from 3 to 1 halfway."""
    rng = np.random.default_rng(seed)
    t = np.arange(1, max(steps, 4) + 1)
    loss = 0.05 + 0.4 * np.exp(-t / 300) + 0.03 * rng.random(t.size)
    loss[t.size // 2] += 0.5  # a spike the band must keep
    k = t.size // 4
    buckets = loss[: 4 * k].reshape(k, 4)
    epochs = tuple(
        EpochMetrics(
            epoch=e,
            step=int(s),
            train_loss=float(loss[s - 1]),
            test_loss=float(loss[s - 1]),
            test_accuracy=0.80 + 0.05 * e,
            per_class_accuracy=np.full(10, 0.9),
            confusion=np.eye(10, dtype=np.int64),
            seconds=1.0,
        )
        for e, s in enumerate(range(t.size // 3, t.size + 1, t.size // 3))
    )
    return HistoryView(
        loss_step=_ro(t[: 4 * k : 4]),
        loss_min=_ro(buckets.min(axis=1)),
        loss_max=_ro(buckets.max(axis=1)),
        loss_mean=_ro(buckets.mean(axis=1)),
        epochs=EpochsView.of(epochs),
        eta_changes=((1, 3.0), (int(t[t.size // 2]), 1.0)),
    )


@cache
def make_snapshots(
    sizes: tuple[int, ...] = (784, 30, 10),
    batch_size: int = 10,
    seed: int = 0,
    hidden: str = "sigmoid",
    output: str = "sigmoid",
    cost: str = "quadratic",
    step: int = 0,
) -> tuple[Snapshot, ...]:
    """The snapshot before mini-batch ``step`` + 1 and one after each of its phases, from a
    real Session (``step`` whole mini-batches are trained first)."""
    config = SessionConfig(
        sizes=sizes,
        hidden=hidden,
        output=output,
        cost=cost,
        batch_size=batch_size,
        seed=seed,
        eta=0.5 if output == "softmax" else 3.0,
    )
    session = Session(load_sample(), config)
    for _ in range(step):
        session.step_batch()
    before = session.snapshot()
    return (before, *(session.step_phase() for _ in range(3 * config.n_layers + 2)))


def snapshot_at(kind: PhaseKind, layer: int | None = None, **kwargs) -> Snapshot:
    """The snapshot right after phase ``Phase(kind, layer)`` of one mini-batch."""
    target = Phase(kind, layer)
    return next(s for s in make_snapshots(**kwargs) if s.phase == target)


def bare_snapshot(sizes=(784, 30, 10), *, config=None, parameters=None) -> Snapshot:
    """Right after reset, before any mini-batch: parameters only (zeros unless given as
    ``(weights, biases)``), everything else empty."""
    config = SessionConfig(sizes=sizes) if config is None else config
    if parameters is None:
        W = tuple(np.zeros((b, a)) for a, b in itertools.pairwise(config.sizes))
        B = tuple(np.zeros(b) for b in config.sizes[1:])
        parameters = (W, B)
    return Snapshot(
        config=config,
        phase=None,
        phase_index=-1,
        step=0,
        epoch=0,
        batch_in_epoch=0,
        batches_per_epoch=1,
        eta=3.0,
        weights=parameters[0],
        biases=parameters[1],
        weights_before=parameters[0],
        biases_before=parameters[1],
    )


class FlakySession(Session):
    """A real session whose second whole-batch step fails, as a bug inside it would."""

    calls = 0

    def step_batch(self):
        self.calls += 1
        if self.calls == 2:
            raise RuntimeError("boom in step_batch")
        return super().step_batch()
