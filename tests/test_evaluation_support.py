"""Shared by the evaluation, drawing-pad and probe tests: real digits and real snapshots.

Real MNIST digits from the embedded sample, a network trained on them with the engine,
and the Snapshot the session would publish for it (between mini-batches: ``phase=None``).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from bpviz.data import Dataset, load_sample
from bpviz.engine.network import Network
from bpviz.engine.validation import one_hot
from bpviz.session.snapshot import SessionConfig, Snapshot


@lru_cache(maxsize=1)
def sample_dataset() -> Dataset:
    """The embedded sample: 4,000 training and 1,000 held-out real MNIST digits."""
    return load_sample()


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
