"""Checking what a session is asked to do, and the seeded order of each epoch."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from bpviz.data.dataset import Dataset
from bpviz.engine import Network
from bpviz.session.limits import ETA_MAX, check_batch_size, check_eta, check_sizes
from bpviz.session.snapshot import SessionConfig

__all__ = ["ETA_MAX", "check_config", "check_eta", "epoch_order", "make_network"]


def check_config(config: SessionConfig, dataset: Dataset) -> SessionConfig:
    """Validate ``config`` against ``dataset`` (ValueError naming the problem).

    Returns the config with ``sizes`` as a tuple of ints and ``eta`` as a float.
    """
    sizes = check_sizes(config.sizes)
    if sizes[0] != dataset.n_inputs:
        raise ValueError(
            f"the input layer has {sizes[0]} neurons but the images have {dataset.n_inputs} pixels"
        )
    if sizes[-1] != dataset.n_classes:
        raise ValueError(
            f"the output layer has {sizes[-1]} neurons but the data has {dataset.n_classes} classes"
        )
    batch_size = check_batch_size(config.batch_size, dataset.train_images.shape[0])
    if isinstance(config.seed, bool) or not isinstance(config.seed, int) or config.seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {config.seed!r}")
    config = replace(config, sizes=sizes, batch_size=batch_size, eta=check_eta(config.eta))
    make_network(config)  # the engine names what else is wrong (activation, cost, init)
    return config


def epoch_order(seed: int, epoch: int, n: int) -> np.ndarray:
    """The seeded order ``(n,)`` int64 in which epoch ``epoch`` visits the training set."""
    return np.random.default_rng([seed, epoch]).permutation(n)


def make_network(config: SessionConfig, dtype: type | np.dtype = np.float32) -> Network:
    """The engine network ``config`` describes (float32 unless ``dtype`` says otherwise)."""
    return Network.like(config, dtype)


def all_finite(arrays) -> bool:
    """All entries finite (a float64 sum of finite float32 values cannot overflow)."""
    return all(math.isfinite(np.add.reduce(a, axis=None, dtype=np.float64)) for a in arrays)
