"""The history as a snapshot carries it: small, immutable, decimated views for plotting.

``bpviz.session.history`` records and decimates; these are what it hands out (read-only
arrays). Re-exported by ``bpviz.session.snapshot``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bpviz.engine.validation import frozen


@dataclass(frozen=True, slots=True)
class EpochMetrics:
    """Held-out evaluation at the end of an epoch.

    ``per_class_accuracy`` is ``(n_classes,)``; ``confusion`` is ``(n_classes, n_classes)``
    int64 counts, rows = true class, columns = predicted class.
    """

    epoch: int
    step: int
    train_loss: float
    test_loss: float
    test_accuracy: float
    per_class_accuracy: np.ndarray
    confusion: np.ndarray
    seconds: float


@dataclass(frozen=True)
class SeriesView:
    """A decimated series: bucket k starts at step ``step[k]`` and holds ``min[k]``,
    ``max[k]`` and ``mean[k]`` of its values; all ``(k,)``, read-only."""

    step: np.ndarray
    min: np.ndarray
    max: np.ndarray
    mean: np.ndarray


def _series_of(values: np.ndarray) -> SeriesView:
    """One bucket per value, index k at ``step[k] = k``."""
    values = frozen(np.asarray(values, np.float64))
    index = frozen(np.arange(values.size, dtype=np.int64))
    return SeriesView(index, values, values, values)


@dataclass(frozen=True)
class EpochsView:
    """The held-out metrics of the epochs so far, decimated like the loss for plotting.

    ``count`` epochs were evaluated. Bucket k holds epochs ``epoch[k]`` …
    ``epoch[k + 1] − 1`` (the last bucket up to ``count − 1``): one epoch a bucket while
    ``count`` ≤ the history's resolution (2,048), then 2, 4, … (``width``), so a snapshot
    stays small however long training runs. ``step[k]`` is the step at which epoch
    ``epoch[k]`` ended (and was evaluated). ``test_accuracy`` (a fraction), ``test_loss``,
    ``train_loss`` and ``seconds`` hold each bucket's min, max and mean (float64; their
    ``step`` is ``epoch``). All ``(k,)``, read-only.
    """

    count: int
    step: np.ndarray
    test_accuracy: SeriesView
    test_loss: SeriesView
    train_loss: SeriesView
    seconds: SeriesView

    @property
    def epoch(self) -> np.ndarray:
        """First epoch (0-based) of each bucket, ``(k,)``."""
        return self.test_accuracy.step

    @property
    def width(self) -> int:
        """Epochs a bucket (the last one may hold fewer)."""
        return int(self.epoch[1] - self.epoch[0]) if len(self.epoch) > 1 else 1

    @classmethod
    def of(cls, metrics: tuple[EpochMetrics, ...] | list[EpochMetrics]) -> EpochsView:
        """Every epoch of ``metrics`` in a bucket of its own."""
        steps = frozen(np.array([m.step for m in metrics], np.int64))

        def series(name: str) -> SeriesView:
            return _series_of(np.array([getattr(m, name) for m in metrics], np.float64))

        return cls(
            len(metrics),
            steps,
            series("test_accuracy"),
            series("test_loss"),
            series("train_loss"),
            series("seconds"),
        )


NO_EPOCHS = EpochsView.of(())


@dataclass(frozen=True)
class WatchView:
    """A watched weight w_ij of W^l (row i, column j of ``weights[l-1]``): its value
    after every update (``w``) and ∂C/∂w_ij of that update (``grad``), decimated."""

    l: int
    i: int
    j: int
    w: SeriesView
    grad: SeriesView


@dataclass(frozen=True)
class HistoryView:
    """A small, immutable view of the history for plotting.

    Loss of every mini-batch, decimated into at most a few thousand buckets that keep
    each bucket's min, max and mean (spikes are never dropped): ``loss_step`` (first
    step of each bucket), ``loss_min``, ``loss_max``, ``loss_mean``, all ``(k,)``; the
    epochs' held-out metrics, decimated the same way (``epochs``).
    """

    loss_step: np.ndarray
    loss_min: np.ndarray
    loss_max: np.ndarray
    loss_mean: np.ndarray
    epochs: EpochsView = NO_EPOCHS
    # (s, η): the updates of step s on use η. Steps are 1-based: step s is the s-th
    # mini-batch, as in ``loss_step``; the first entry is (1, initial η).
    eta_changes: tuple[tuple[int, float], ...] = ()
    watches: tuple[WatchView, ...] = ()

    @property
    def loss(self) -> SeriesView:
        """The loss buckets as one SeriesView."""
        return SeriesView(self.loss_step, self.loss_min, self.loss_max, self.loss_mean)
