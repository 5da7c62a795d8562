"""Scoring a whole labelled set in one vectorised pass (chunked to bound memory)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bpviz.engine import kernels
from bpviz.engine.functions import run
from bpviz.engine.network import Network
from bpviz.engine.validation import QUIET, as_batch, frozen

CHUNK = 2000  # examples per forward pass: about 7 MB of float32 input at 784 pixels


@dataclass(frozen=True)
class Evaluation:
    """How ``net`` does on n labelled examples (arrays read-only).

    ``accuracy`` (fraction 0–1), ``loss`` (mean cost C), ``predictions`` ``(n,)`` int64
    (argmax of a^L), ``confidence`` ``(n,)`` (a^L at that class: how sure the answer is),
    ``confusion`` ``(k, k)`` int64 counts with rows = true class and
    columns = predicted class, ``per_class_accuracy`` ``(k,)`` (NaN for a class with no
    examples).
    """

    accuracy: float
    loss: float
    predictions: np.ndarray
    confusion: np.ndarray
    per_class_accuracy: np.ndarray
    confidence: np.ndarray

    @property
    def n(self) -> int:
        """Number of examples scored."""
        return int(self.predictions.shape[0])


def evaluate(net: Network, x: np.ndarray, labels: np.ndarray, chunk: int = CHUNK) -> Evaluation:
    """Forward the examples x ``(n, n_0)`` — floats, or uint8 pixels scaled by 1/255 —
    and compare the argmax of a^L with ``labels`` ``(n,)`` in 0 … n_L − 1."""
    x, labels, k = np.asarray(x), np.asarray(labels), net.sizes[-1]
    if x.ndim != 2 or x.shape[1] != net.sizes[0] or labels.shape != (x.shape[0],):
        raise ValueError(f"x {x.shape} and labels {labels.shape} do not match (n, {net.sizes[0]})")
    if not np.issubdtype(labels.dtype, np.integer) or (
        labels.size and (labels.min() < 0 or labels.max() >= k)
    ):
        raise ValueError(f"labels must be integers in 0…{k - 1}")
    n = x.shape[0]
    predictions = np.empty(n, np.int64)
    confidence = np.empty(n, net.dtype)
    total = 0.0
    eye = np.eye(k, dtype=net.dtype)
    with np.errstate(**QUIET):
        for start in range(0, n, chunk):
            rows = x[start : start + chunk]
            if rows.dtype == np.uint8:
                a = np.multiply(rows, 1.0 / 255.0, dtype=net.dtype)
            else:
                a = as_batch(rows, net.sizes[0], net.dtype, "x")
            for l in range(1, net.n_layers + 1):
                z = kernels.empty((a.shape[0], net.sizes[l]), net.dtype)
                a_next = kernels.empty(z.shape, net.dtype)
                run(net.forward_ops(l, a, z, a_next))
                a = a_next
            predictions[start : start + chunk] = best = a.argmax(axis=1)
            confidence[start : start + chunk] = np.take_along_axis(a, best[:, None], 1)[:, 0]
            y = eye[labels[start : start + chunk]]
            total += net.cost_function.value(a, y) * a.shape[0]
    truth = labels.astype(np.int64)
    confusion = np.bincount(truth * k + predictions, minlength=k * k).reshape(k, k)
    counts = confusion.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_class = np.diag(confusion) / counts
    return Evaluation(
        accuracy=float(np.trace(confusion) / n) if n else float("nan"),
        loss=total / n if n else float("nan"),
        predictions=frozen(predictions),
        confusion=frozen(confusion),
        per_class_accuracy=frozen(per_class),
        confidence=frozen(confidence),
    )
