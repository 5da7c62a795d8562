"""Checks that turn bad input into a ValueError naming the problem."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np

# A diverging network overflows (e^{-z}), divides by zero and makes ∞ − ∞: it shows up as
# non-finite values and a non-finite loss, not as warnings.
QUIET = {"over": "ignore", "divide": "ignore", "invalid": "ignore", "under": "ignore"}


def frozen(array: np.ndarray | None) -> np.ndarray | None:
    """Mark ``array`` read-only and return it (None passes through)."""
    if array is not None:
        array.flags.writeable = False
    return array


def frozen_copies(arrays: Iterable[np.ndarray]) -> tuple[np.ndarray, ...]:
    """Read-only copies of ``arrays`` (they share no memory with the originals)."""
    return tuple(frozen(np.array(a, copy=True)) for a in arrays)


def check_layer(l: int, n_layers: int) -> None:
    """The paper's layer number l must lie in 1 … ``n_layers``."""
    if isinstance(l, bool) or not isinstance(l, int | np.integer) or not 1 <= l <= n_layers:
        raise ValueError(f"layer l must be an integer in 1…{n_layers}, got {l!r}")


def check_eta(eta: float) -> float:
    """η must be a finite number ≥ 0: all the update W ← W − η ∂C/∂W needs to be defined.

    Which η a user may choose (positive, at most ``ETA_MAX``) is the training model's
    policy, checked once at every door by ``bpviz.session.limits.check_eta``; the engine
    only refuses what would break its arithmetic (η = 0 leaves the parameters unchanged).
    """
    eta = float(eta)
    if not math.isfinite(eta) or eta < 0:
        raise ValueError(f"learning rate η must be finite and ≥ 0, got {eta}")
    return eta


def as_batch(
    x: np.ndarray, n: int, dtype: np.dtype, name: str = "x", finite: bool = True
) -> np.ndarray:
    """A C-contiguous ``(m, n)`` array of ``dtype``, m ≥ 1, with finite values if ``finite``."""
    x = np.asarray(x)
    if x.ndim != 2 or x.shape[1] != n or x.shape[0] < 1:
        raise ValueError(f"{name} must have shape (m, {n}) with m ≥ 1, got {x.shape}")
    if not np.issubdtype(x.dtype, np.number) or np.iscomplexobj(x):
        raise ValueError(f"{name} must be real numbers, got dtype {x.dtype}")
    x = np.ascontiguousarray(x, dtype=dtype)
    if finite and not np.isfinite(x).all():
        raise ValueError(f"{name} contains NaN or infinity")
    return x


def one_hot(labels: np.ndarray | Sequence[int], n: int, dtype=np.float32) -> np.ndarray:
    """Labels ``(m,)`` in 0 … n−1 → one-hot targets y ``(m, n)``."""
    labels = np.asarray(labels)
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels must be a 1-D integer array, got {labels.dtype} {labels.shape}")
    if labels.size and (labels.min() < 0 or labels.max() >= n):
        raise ValueError(
            f"labels out of range: found {labels.min()}…{labels.max()}, expected 0…{n - 1}"
        )
    y = np.zeros((labels.shape[0], n), dtype=dtype)
    y[np.arange(labels.shape[0]), labels] = 1
    return y


def as_targets(y: np.ndarray, m: int, n: int, dtype: np.dtype) -> np.ndarray:
    """Targets y ``(m, n)``: one-hot rows as given, or integer labels ``(m,)`` one-hot encoded."""
    y = np.asarray(y)
    if y.ndim == 1 and np.issubdtype(y.dtype, np.integer):
        if y.shape[0] != m:
            raise ValueError(f"{y.shape[0]} labels for a batch of {m}")
        return one_hot(y, n, dtype)
    return as_batch(y, n, dtype, "y") if y.shape[:1] == (m,) else _bad_targets(y, m, n)


def _bad_targets(y: np.ndarray, m: int, n: int) -> np.ndarray:
    raise ValueError(f"y must have shape ({m}, {n}) or be {m} integer labels, got {y.shape}")
