"""Snapshots for the view tests and benchmarks, from a small local forward/backward pass.

The session publishes snapshots after every phase; until the views are driven by the
real session in the window tests, these helpers build the same Snapshot objects from a
plain NumPy implementation of the paper's equations (IV.4), with entries not yet computed
in the phase left as None, exactly as the contract says.
"""

from __future__ import annotations

import gzip
import itertools
import os
from functools import cache
from pathlib import Path

import numpy as np

from bpviz.session.snapshot import (
    EpochMetrics,
    HistoryView,
    Phase,
    PhaseKind,
    SessionConfig,
    Snapshot,
    phases_for,
)


def _act(name: str, z: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """a = σ(z) and σ'(z) (None for softmax)."""
    if name == "softmax":
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True), None
    if name == "tanh":
        a = np.tanh(z)
        return a, 1.0 - a * a
    if name == "relu":
        return np.maximum(z, 0.0), (z > 0).astype(z.dtype)
    a = 1.0 / (1.0 + np.exp(-z))
    return a, a * (1.0 - a)


def _ro(values):
    """Read-only copies, as the session publishes them."""
    if values is None:
        return None
    if isinstance(values, tuple):
        return tuple(_ro(v) for v in values)
    out = np.array(values, copy=True)
    out.setflags(write=False)
    return out


@cache
def _test_digits(n: int = 256) -> tuple[np.ndarray, np.ndarray] | None:
    """The first ``n`` MNIST test digits (pixels in [0, 1]) and labels, when
    ``BPVIZ_MNIST_DIR`` has them; they only make pictures look real."""
    folder = Path(os.environ.get("BPVIZ_MNIST_DIR", "/nonexistent"))
    try:
        with gzip.open(folder / "t10k-images-idx3-ubyte.gz") as f:
            f.read(16)
            images = np.frombuffer(f.read(n * 784), np.uint8).reshape(n, 784) / 255.0
        with gzip.open(folder / "t10k-labels-idx1-ubyte.gz") as f:
            f.read(8)
            labels = np.frombuffer(f.read(n), np.uint8).astype(np.int64)
    except OSError:
        return None
    return images, labels


def fake_history(steps: int, seed: int = 0) -> HistoryView:
    """A decaying, noisy loss with a spike, decimated into min/max/mean buckets of 4."""
    rng = np.random.default_rng(seed)
    t = np.arange(max(steps, 4))
    loss = 0.05 + 0.4 * np.exp(-t / 300) + 0.03 * rng.random(t.size)
    loss[t.size // 2] += 0.5  # a spike the band must keep
    k = t.size // 4
    buckets = loss[: 4 * k].reshape(k, 4)
    epochs = tuple(
        EpochMetrics(
            epoch=e,
            step=s,
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
        epochs=epochs,
        eta_changes=((0, 3.0), (t.size // 2, 1.0)),
    )


def make_snapshots(
    sizes: tuple[int, ...] = (784, 30, 10),
    batch_size: int = 10,
    seed: int = 0,
    hidden: str = "sigmoid",
    output: str = "sigmoid",
    cost: str = "quadratic",
    step: int = 0,
    history_steps: int = 400,
) -> list[Snapshot]:
    """One snapshot per phase of one mini-batch (3L + 2 of them), preceded by the reset
    snapshot (``phase=None``). Inputs are random "digits" in [0, 1]."""
    config = SessionConfig(
        sizes=sizes, hidden=hidden, output=output, cost=cost, batch_size=batch_size, seed=seed
    )
    rng = np.random.default_rng(seed + 1000 * step)
    L = len(sizes) - 1
    W = [
        rng.normal(0, 1 / np.sqrt(n_in), (n_out, n_in)) for n_in, n_out in itertools.pairwise(sizes)
    ]
    b = [rng.normal(0, 1, n_out) for n_out in sizes[1:]]
    x = rng.random((batch_size, sizes[0])) ** 3
    labels = rng.integers(0, sizes[-1], batch_size)
    digits = _test_digits()
    if digits is not None and sizes[0] == 784 and sizes[-1] == 10 and batch_size <= 128:
        start = (step * batch_size) % 128
        x, labels = digits[0][start : start + batch_size], digits[1][start : start + batch_size]
    y = np.eye(sizes[-1])[labels]
    m = batch_size

    z, a, sp = [], [x], []
    for l in range(L):
        z.append(a[-1] @ W[l].T + b[l])
        act, prime = _act(output if l == L - 1 else hidden, z[-1])
        a.append(act)
        sp.append(prime)
    if cost == "cross_entropy":
        loss = float(-np.mean(np.sum(y * np.log(a[L] + 1e-12), axis=1)))
        dC_da_L = -y / (a[L] + 1e-12)
    else:
        loss = float(np.mean(0.5 * np.sum((a[L] - y) ** 2, axis=1)))
        dC_da_L = a[L] - y
    dC_da = [None] * L
    delta = [None] * L
    dC_da[L - 1] = dC_da_L
    delta[L - 1] = a[L] - y if sp[L - 1] is None else dC_da_L * sp[L - 1]
    for l in range(L - 2, -1, -1):
        dC_da[l] = delta[l + 1] @ W[l + 1]
        delta[l] = dC_da[l] * sp[l]
    grad_w = [delta[l].T @ a[l] / m for l in range(L)]
    grad_b = [delta[l].mean(axis=0) for l in range(L)]
    eta = 3.0
    W_after = [w - eta * g for w, g in zip(W, grad_w, strict=True)]
    b_after = [bb - eta * g for bb, g in zip(b, grad_b, strict=True)]

    history = fake_history(history_steps + step, seed)
    common = dict(
        config=config,
        epoch=0,
        batch_in_epoch=step,
        batches_per_epoch=5000 // batch_size,
        eta=eta,
        weights_before=_ro(tuple(W)),
        biases_before=_ro(tuple(b)),
        x=_ro(x),
        labels=_ro(labels),
        y=_ro(y),
        history=history,
    )
    weights, biases = common["weights_before"], common["biases_before"]
    out = [
        Snapshot(phase=None, phase_index=-1, step=step, weights=weights, biases=biases, **common)
    ]
    for index, phase in enumerate(phases_for(L)):
        n_fwd = L if phase.kind is not PhaseKind.FORWARD else phase.layer
        back = {PhaseKind.FORWARD: L + 1, PhaseKind.COST: L + 1}.get(phase.kind, 0)
        if phase.kind is PhaseKind.DELTA:
            back = phase.layer
        grads_from = L + 1
        if phase.kind is PhaseKind.GRADIENT:
            back, grads_from = 1, phase.layer
        if phase.kind is PhaseKind.UPDATE:
            back, grads_from = 1, 1
        done = phase.kind is PhaseKind.UPDATE

        def upto(values, lo):
            return tuple(values[l] if l + 1 >= lo else None for l in range(L))

        out.append(
            Snapshot(
                phase=phase,
                phase_index=index,
                step=step + done,
                weights=_ro(tuple(W_after)) if done else weights,
                biases=_ro(tuple(b_after)) if done else biases,
                z=_ro(tuple(z[l] if l < n_fwd else None for l in range(L))),
                a=_ro((x, *(a[l + 1] if l < n_fwd else None for l in range(L)))),
                sigma_prime=_ro(tuple(sp[l] if l < n_fwd else None for l in range(L))),
                dC_da=_ro(upto(dC_da, back)),
                delta=_ro(upto(delta, back)),
                grad_w=_ro(upto(grad_w, grads_from)),
                grad_b=_ro(upto(grad_b, grads_from)),
                loss=None if phase.kind is PhaseKind.FORWARD else loss,
                **common,
            )
        )
    return out


def snapshot_at(kind: PhaseKind, layer: int | None = None, **kwargs) -> Snapshot:
    """The snapshot right after phase ``Phase(kind, layer)`` of one mini-batch."""
    snaps = make_snapshots(**kwargs)
    target = Phase(kind, layer)
    return next(s for s in snaps if s.phase == target)
