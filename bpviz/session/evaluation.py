"""Held-out evaluation at the end of an epoch: accuracy, loss, per-class accuracy, confusion.

``held_out`` runs at each epoch end, on the training thread (``Session.end_epoch`` says
why not beside it). Its result, a ``HeldOutEvaluation``, also holds what the window's
evaluation panel lists — every prediction (the confusion matrix's cells) and the most
confident wrong answers with their a^L (the mistakes gallery) — so that the window draws
the session's evaluation instead of running the held-out set again on its GUI thread.
The history keeps only the ``EpochMetrics`` part of each epoch (``summary``).

The evaluation runs with one BLAS thread unless told it has the machine to itself (a
headless run): see :mod:`bpviz.session.blas` for why and how.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, fields

import numpy as np

from bpviz.data.dataset import Dataset
from bpviz.engine import evaluate
from bpviz.engine.network import Network
from bpviz.engine.validation import frozen
from bpviz.session import blas
from bpviz.session.snapshot import EpochMetrics

N_MISTAKES = 24  # the most confident wrong answers kept (the window's gallery shows them)


@dataclass(frozen=True)
class HeldOutEvaluation(EpochMetrics):
    """``EpochMetrics`` plus the examples behind them (arrays read-only).

    ``predictions`` ``(n,)`` uint8 (wider for over 256 classes): argmax of a^L for every
    held-out example, in the data set's order (it travels with every snapshot: 10 KB for
    MNIST's 10,000 test digits rather than 80 KB as int64); ``mistakes`` ``(m,)`` int64,
    m ≤ ``N_MISTAKES``: the indices of the most confident wrong answers, most confident
    first; ``mistake_outputs`` ``(m, k)``: their a^L.
    """

    predictions: np.ndarray
    mistakes: np.ndarray
    mistake_outputs: np.ndarray

    def summary(self) -> EpochMetrics:
        """The ``EpochMetrics`` alone (what a history keeps for every epoch)."""
        return EpochMetrics(*(getattr(self, f.name) for f in fields(EpochMetrics)))

    def cell(self, labels: np.ndarray, true: int, predicted: int) -> np.ndarray:
        """Indices of the held-out examples (true ``labels`` ``(n,)``) in cell
        (``true``, ``predicted``) of the confusion matrix."""
        return np.flatnonzero((labels == true) & (self.predictions == predicted))


def held_out(
    network: Network, data: Dataset, *, one_blas_thread: bool = True, **fields: object
) -> HeldOutEvaluation:
    """Evaluate ``network`` on ``data``'s held-out split (the engine's vectorised pass),
    then a^L of the ``N_MISTAKES`` most confident wrong answers; ``fields``: ``epoch``,
    ``step``, ``train_loss`` and ``seconds`` of the result. Run it off the GUI thread
    (the training thread at an epoch end, or the window's own for "Evaluate now")."""
    labels = data.test_labels
    with blas.one_thread() if one_blas_thread else contextlib.nullcontext():
        result = evaluate(network, data.test_images, labels)
    wrong = np.flatnonzero(result.predictions != labels)
    mistakes = wrong[np.argsort(-result.confidence[wrong], kind="stable")[:N_MISTAKES]]
    if mistakes.size:
        x = Dataset.to_float(data.test_images[mistakes], network.dtype)
        outputs = np.array(network.forward(x).a[-1])
    else:
        outputs = np.zeros((0, network.sizes[-1]), network.dtype)
    for array in (mistakes, outputs):
        array.flags.writeable = False
    return HeldOutEvaluation(
        test_loss=float(result.loss),
        test_accuracy=float(result.accuracy),
        per_class_accuracy=result.per_class_accuracy,
        confusion=result.confusion,
        predictions=class_indices(result.predictions, network.sizes[-1]),
        mistakes=mistakes,
        mistake_outputs=outputs,
        **fields,
    )


def class_indices(values: np.ndarray, k: int) -> np.ndarray:
    """``values`` (class indices 0 … k − 1) as a read-only array of the smallest unsigned
    type that holds them: uint8 for up to 256 classes."""
    dtype = np.min_scalar_type(max(k - 1, 0))
    return frozen(np.asarray(values).astype(dtype, copy=False))
