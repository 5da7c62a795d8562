"""What every view shares: drawing only when visible, and the selected example of the batch."""

from __future__ import annotations

import numpy as np
from pyqtgraph.Qt import QtCore, QtWidgets

from bpviz.runtime.readonly import is_sealed
from bpviz.session.snapshot import Snapshot
from bpviz.ui.throttle import Throttle

BATCH_MEAN = -1  # the example index that stands for "mean over the mini-batch"


def pick(values: np.ndarray | None, example: int | None) -> np.ndarray | None:
    """Row ``example`` of a ``(m, n)`` batch array, or the batch mean ``(n,)`` for None.

    An index past the end of a smaller batch falls back to the last example.
    """
    if values is None:
        return None
    if example is None:
        return values.mean(axis=0)
    return values[min(example, values.shape[0] - 1)]


def entry(values: tuple[np.ndarray | None, ...], index: int) -> np.ndarray | None:
    """``values[index]``, or None when the tuple is shorter (not computed yet)."""
    return values[index] if 0 <= index < len(values) else None


def same_sources(a: tuple, b: tuple) -> bool:
    """Whether two tuples of what a drawing was made from are the same: each array the
    very same sealed array (``bpviz.runtime.readonly``: it never changes), every other
    entry equal. A view whose sources are the same draws nothing anew (a phase stepped
    leaves most arrays of the mini-batch as they were)."""
    if len(a) != len(b):
        return False
    for x, y in zip(a, b, strict=True):
        if isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
            if x is not y or not is_sealed(x):
                return False
        elif x != y:
            return False
    return True


class SnapshotView(QtWidgets.QWidget):
    """Base of the views: ``show_snapshot`` draws now when visible, else on the next show.

    Subclasses implement ``_render(snapshot)``, which must only touch existing graphics
    items (setData / setImage) unless the network's shape changed. While training runs,
    ``throttle`` (a ``Throttle`` at the class's ``max_hz``; None: every snapshot) caps how
    often a view redraws: a snapshot arriving sooner is drawn when the interval has
    passed, unless a newer one replaced it (the latest is always drawn). With
    ``paused_at_once`` a paused session's snapshot (a step) is drawn at once instead.
    """

    example_changed = QtCore.Signal(int)  # selected example; −1 = batch mean
    max_hz: float | None = None
    paused_at_once = False

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self._snapshot: Snapshot | None = None
        self._drawn: Snapshot | None = None
        self._example: int | None = 0
        self.throttle = Throttle(self._draw_latest, self.max_hz, self)

    @property
    def snapshot(self) -> Snapshot | None:
        """The latest snapshot given to ``show_snapshot``."""
        return self._snapshot

    @property
    def example(self) -> int | None:
        """Selected example of the mini-batch (0-based), or None for the batch mean."""
        return self._example

    def show_snapshot(self, snapshot: Snapshot) -> None:
        """Draw ``snapshot`` (cheap; skipped while hidden and when already drawn)."""
        self._snapshot = snapshot
        if not self.isVisible() or snapshot is self._drawn:
            return
        if self.paused_at_once and not snapshot.running:
            self.throttle.flush()
        else:
            self.throttle.request()

    def _draw_latest(self) -> None:
        if self._snapshot is not None and self.isVisible():
            self._drawn = self._snapshot
            self._render(self._snapshot)

    def redraw(self) -> None:
        """Draw the latest snapshot again (after a setting of the view changed)."""
        self._draw_latest()

    def set_example(self, index: int | None) -> None:
        """Show example ``index`` of the batch (None or −1: the batch mean); emits
        ``example_changed`` when the selection changes."""
        if index is not None and index < 0:
            index = None
        if index == self._example:
            return
        self._example = index
        self._example_set(index)
        self.redraw()
        self.example_changed.emit(BATCH_MEAN if index is None else index)

    def _example_set(self, index: int | None) -> None:
        """Hook: reflect a new selection in the view's own controls."""

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._snapshot is not self._drawn:
            self._draw_latest()

    def animate(self, progress: float) -> None:
        """Hook: draw the moving part of the current phase at ``progress`` ∈ [0, 1] (the
        fraction of the phase's display time gone). ``show_snapshot`` draws a phase
        complete (as at 1); the window calls this every frame while a phase plays,
        starting in the same event-loop turn as ``show_snapshot``, so nothing flashes."""

    def _render(self, snapshot: Snapshot) -> None:
        raise NotImplementedError
