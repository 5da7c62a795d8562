"""Shared by the evaluation, drawing-pad and probe tests: real digits and real snapshots.

Real MNIST digits from the 5,000-digit sample in /work/shared (or the repository's
embedded sample when that is absent), a network trained on them with the engine, and
the Snapshot the session would publish for it (after reset: ``phase=None``).
"""

from __future__ import annotations

import gzip
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest

from bpviz.data.dataset import Dataset
from bpviz.engine.network import Network, one_hot
from bpviz.session.snapshot import SessionConfig, Snapshot

SAMPLE_CSV = Path("/work/shared/mnist-sample/mnist_5k.csv.gz")


@lru_cache(maxsize=1)
def sample_dataset() -> Dataset:
    """4,000 training and 1,000 held-out real MNIST digits, shuffled once."""
    if not SAMPLE_CSV.is_file():
        pytest.skip(f"MNIST SAMPLE NOT AVAILABLE at {SAMPLE_CSV}")
    with gzip.open(SAMPLE_CSV, "rt") as f:
        table = np.loadtxt(f, delimiter=",", dtype=np.uint8)
    order = np.random.default_rng(0).permutation(table.shape[0])  # the file is sorted
    images, labels = table[order, :784], table[order, 784]
    return Dataset(images[:4000], labels[:4000], images[4000:], labels[4000:], source="sample")


def read_only(arrays):
    out = tuple(np.array(a, copy=True) for a in arrays)
    for a in out:
        a.flags.writeable = False
    return out


def snapshot_of(net: Network, config: SessionConfig, step: int = 0) -> Snapshot:
    """The snapshot a session publishes for ``net`` between mini-batches."""
    w, b = read_only(net.weights), read_only(net.biases)
    return Snapshot(
        config=config,
        phase=None,
        phase_index=-1,
        step=step,
        epoch=0,
        batch_in_epoch=0,
        batches_per_epoch=400,
        eta=config.eta,
        weights=w,
        biases=b,
        weights_before=w,
        biases_before=b,
    )


@lru_cache(maxsize=2)
def trained(epochs: int = 1) -> tuple[Network, SessionConfig, Snapshot]:
    """784-30-10 trained with the engine for ``epochs`` epochs on the sample."""
    data = sample_dataset()
    config = SessionConfig()
    net = Network(config.sizes, seed=config.seed)
    x = Dataset.to_float(data.train_images)
    y = one_hot(data.train_labels, 10)
    rng = np.random.default_rng(0)
    for _ in range(epochs):
        order = rng.permutation(x.shape[0])
        for start in range(0, x.shape[0], config.batch_size):
            batch = order[start : start + config.batch_size]
            net.step(x[batch], y[batch], config.eta)
    return net, config, snapshot_of(net, config, step=epochs * 400)
