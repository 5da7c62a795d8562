"""The session's history, small however long training runs.

Every mini-batch's loss is kept (float32 in a growable array: 4 bytes a step), with a
decimated min/max/mean view for plotting that is updated incrementally, so publishing
60 views a second costs little even after millions of steps. Beside it: the held-out
metrics of every epoch, every η change (with the step it applies from) and the watch
list — chosen weights w_ij of W^l with their value and ∂C/∂w_ij after each update.

Step numbers: the value appended for a mini-batch belongs to step ``s`` = the number of
completed updates once that mini-batch's update is done (1 for the first mini-batch).
"""

from __future__ import annotations

import numpy as np

from bpviz.engine.validation import frozen
from bpviz.session.evaluation import HeldOutEvaluation
from bpviz.session.snapshot import EpochMetrics, EpochsView, HistoryView, SeriesView, WatchView

MAX_POINTS = 2048  # buckets in a decimated view; spikes survive as each bucket's max
EPOCH_SERIES = ("step", "test_accuracy", "test_loss", "train_loss", "seconds")


class Series:
    """A growable float32 (or ``dtype``) series with an incremental min/max/mean decimation.

    ``values[k]`` belongs to step ``first_step + k``. Buckets have a power-of-two size
    ``b``, the smallest giving at most ``max_points`` buckets; complete buckets are
    reduced once and cached, only the new ones and the partial tail are reduced per view.
    """

    __slots__ = (
        "_cache",
        "_data",
        "_done",
        "_view",
        "_view_n",
        "_width",
        "first_step",
        "max_points",
        "n",
    )

    def __init__(
        self,
        first_step: int = 1,
        *,
        capacity: int = 1024,
        max_points: int = MAX_POINTS,
        dtype: type = np.float32,
    ):
        if max_points < 2:
            raise ValueError(f"max_points must be at least 2, got {max_points}")
        self.first_step = first_step
        self.max_points = max_points
        self._data = np.empty(max(capacity, 16), dtype)
        self.n = 0
        self._width = 1  # bucket size of the cache
        self._done = 0  # complete buckets in the cache
        self._cache = np.empty((3, max_points), np.float64)  # rows: min, max, mean
        self._view: SeriesView | None = None
        self._view_n = -1

    def append(self, value: float) -> None:
        """Add the value of the next step (amortised O(1): the array doubles when full)."""
        if self.n == self._data.shape[0]:
            grown = np.empty(2 * self.n, self._data.dtype)
            grown[: self.n] = self._data
            self._data = grown
        self._data[self.n] = value
        self.n += 1

    def extend(self, values: np.ndarray) -> None:
        """Add the values of the next ``len(values)`` steps."""
        count = len(values)
        if self.n + count > self._data.shape[0]:
            grown = np.empty(max(2 * self._data.shape[0], self.n + count), self._data.dtype)
            grown[: self.n] = self._data[: self.n]
            self._data = grown
        self._data[self.n : self.n + count] = values
        self.n += count

    @property
    def values(self) -> np.ndarray:
        """All values so far, ``(n,)`` (a read-only view)."""
        return frozen(self._data[: self.n])

    @property
    def last(self) -> float | None:
        """The latest value, or None when empty."""
        return float(self._data[self.n - 1]) if self.n else None

    @property
    def nbytes(self) -> int:
        """Bytes held (the growable array's capacity and the bucket cache)."""
        return self._data.nbytes + self._cache.nbytes

    def truncate(self, n: int) -> None:
        """Keep only the first ``n`` values (a diverged run rolled back)."""
        if n < self.n:
            self.n = max(n, 0)
            self._done = min(self._done, self.n // self._width)
            self._view = None

    def view(self) -> SeriesView:
        """The decimated series: at most ``max_points`` buckets (cached while unchanged)."""
        if self._view is not None and self._view_n == self.n:
            return self._view
        n, width = self.n, self._width
        while -(-n // width) > self.max_points:
            width *= 2
        if width != self._width:  # buckets grew: reduce the complete ones afresh
            self._width, self._done = width, 0
        full = n // width
        if full > self._done:
            self._reduce_into(self._done, full)
            self._done = full
        k = full + (n > full * width)  # buckets, with the partial last one
        out = np.empty((3, k), self._data.dtype)  # rows: min, max, mean (one allocation)
        out[:, :full] = self._cache[:, :full]
        if k > full:  # the partial last bucket
            tail = self._data[full * width : n]
            out[:, full] = tail.min(), tail.max(), tail.mean(dtype=np.float64)
        steps = np.arange(self.first_step, self.first_step + width * k, width, dtype=np.int64)
        frozen(out)
        self._view = SeriesView(step=frozen(steps), min=out[0], max=out[1], mean=out[2])
        self._view_n = n
        return self._view

    def _reduce_into(self, start: int, stop: int) -> None:
        width = self._width
        block = self._data[start * width : stop * width].reshape(stop - start, width)
        np.minimum.reduce(block, axis=1, out=self._cache[0, start:stop])
        np.maximum.reduce(block, axis=1, out=self._cache[1, start:stop])
        np.mean(block, axis=1, dtype=np.float64, out=self._cache[2, start:stop])


class Watch:
    """One watched weight w_ij of W^l: its value and ∂C/∂w_ij after every update."""

    __slots__ = ("grad", "i", "j", "l", "w")

    def __init__(self, l: int, i: int, j: int, first_step: int):
        self.l, self.i, self.j = l, i, j
        self.w = Series(first_step)
        self.grad = Series(first_step)

    @property
    def key(self) -> tuple[int, int, int]:
        return (self.l, self.i, self.j)

    def view(self) -> WatchView:
        return WatchView(self.l, self.i, self.j, self.w.view(), self.grad.view())


class History:
    """Loss per mini-batch, epoch metrics, η changes and watched weights of one run."""

    def __init__(self, eta: float, *, max_points: int = MAX_POINTS):
        self.loss = Series(1, max_points=max_points)
        self.epochs: list[EpochMetrics] = []  # every epoch's, for session files; record_epoch
        # the same epochs' scalars as series over the epoch number, for the decimated view
        self._epoch_series = {
            name: Series(0, capacity=64, max_points=max_points, dtype=np.float64)
            for name in EPOCH_SERIES
        }
        self.eta_changes: list[tuple[int, float]] = [(1, float(eta))]
        self.watches: dict[tuple[int, int, int], Watch] = {}
        self._view: HistoryView | None = None
        self._view_key: tuple | None = None

    @property
    def steps(self) -> int:
        """Mini-batches recorded."""
        return self.loss.n

    def record_eta(self, step: int, eta: float) -> None:
        """η is used by the updates of step ``step`` on (1-based, like ``loss_step``)."""
        if self.eta_changes and self.eta_changes[-1][0] == step:
            self.eta_changes[-1] = (step, float(eta))
        else:
            self.eta_changes.append((step, float(eta)))
        self._view = None

    def record_epoch(self, metrics: EpochMetrics) -> None:
        """Add the held-out metrics of the next epoch (only the ``EpochMetrics`` of a
        ``HeldOutEvaluation``: its predictions are for the window's latest epoch only)."""
        if isinstance(metrics, HeldOutEvaluation):
            metrics = metrics.summary()
        self.epochs.append(metrics)
        for name, series in self._epoch_series.items():
            series.append(getattr(metrics, name))
        self._view = None

    def add_watch(self, l: int, i: int, j: int) -> bool:
        """Start recording w_ij of W^l from the next step; False if already watched."""
        if (l, i, j) in self.watches:
            return False
        self.watches[(l, i, j)] = Watch(l, i, j, self.loss.n + 1)
        self._view = None
        return True

    def remove_watch(self, l: int, i: int, j: int) -> bool:
        """Forget a watched weight and its series; False if it was not watched."""
        self._view = None
        return self.watches.pop((l, i, j), None) is not None

    def truncate(self, steps: int) -> None:
        """Forget everything recorded after step ``steps`` (a diverged run rolled back)."""
        self.loss.truncate(steps)
        for watch in self.watches.values():
            watch.w.truncate(steps - watch.w.first_step + 1)
            watch.grad.truncate(steps - watch.grad.first_step + 1)
        self.epochs = [m for m in self.epochs if m.step <= steps]
        for series in self._epoch_series.values():
            series.truncate(len(self.epochs))
        self._view = None

    def truncate_eta(self, steps: int, eta: float) -> None:
        """Forget η changes after step ``steps + 1`` and make ``eta`` the one in use then."""
        kept = [(s, e) for s, e in self.eta_changes if s <= steps + 1]
        self.eta_changes = kept or [(1, float(eta))]
        if self.eta_changes[-1][1] != eta:
            self.record_eta(steps + 1, eta)
        self._view = None

    def epoch_mean_loss(self, first_step: int) -> float:
        """Mean loss of steps ``first_step`` … latest (the training loss of an epoch)."""
        values = self.loss.values[first_step - 1 :]
        return float(values.mean(dtype=np.float64)) if values.size else float("nan")

    @property
    def nbytes(self) -> int:
        """Bytes the history holds (arrays, and an estimate for the per-epoch metrics)."""
        total = self.loss.nbytes + 16 * len(self.eta_changes)
        total += sum(w.w.nbytes + w.grad.nbytes for w in self.watches.values())
        # an epoch's metrics: its two arrays and about 640 bytes of Python objects
        total += sum(m.confusion.nbytes + m.per_class_accuracy.nbytes + 640 for m in self.epochs)
        return total + sum(series.nbytes for series in self._epoch_series.values())

    def view(self) -> HistoryView:
        """An immutable, decimated view for plotting (the same object while unchanged)."""
        key = (self.loss.n, len(self.epochs), len(self.eta_changes), len(self.watches))
        if self._view is not None and key == self._view_key:
            return self._view
        loss = self.loss.view()
        self._view = HistoryView(
            loss_step=loss.step,
            loss_min=loss.min,
            loss_max=loss.max,
            loss_mean=loss.mean,
            epochs=self._epochs_view(),
            eta_changes=tuple(self.eta_changes),
            watches=tuple(w.view() for w in self.watches.values()),
        )
        self._view_key = key
        return self._view

    def _epochs_view(self) -> EpochsView:
        """The epochs' metrics in at most ``max_points`` buckets of equal width."""
        views = {name: series.view() for name, series in self._epoch_series.items()}
        first = views["step"].step  # first epoch of each bucket
        steps = frozen(self._epoch_series["step"].values[first].astype(np.int64))
        return EpochsView(
            len(self.epochs),
            steps,
            views["test_accuracy"],
            views["test_loss"],
            views["train_loss"],
            views["seconds"],
        )
