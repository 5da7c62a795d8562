"""Hover in the loss view: the point under the pointer — its step and epoch, the cost C
of that mini-batch (or the bucket of mini-batches it stands for, with their min and
max), the smoothed curve there, and the test accuracy of the epoch evaluated by then."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from pyqtgraph.Qt import QtCore, QtWidgets

from bpviz.notation import number
from bpviz.ui.views._gradient_hover import weak_tip
from bpviz.ui.views._hover import LiveTip
from bpviz.ui.views._value_text import fmt

if TYPE_CHECKING:
    from bpviz.session.snapshot import HistoryView


def install(view: QtWidgets.QWidget) -> LiveTip:
    """The view's live tooltip over its plot (``view.loss_tip``)."""
    return weak_tip(view.canvas, view, lines_at)


def bucket_at(history: HistoryView, x: float) -> int:
    """The bucket (point) drawn at step ``x``: the last one starting at or before it."""
    k = int(np.searchsorted(history.loss_step, x, side="right")) - 1
    return min(max(k, 0), len(history.loss_step) - 1)


def lines_at(view: QtWidgets.QWidget, scene: QtCore.QPointF) -> list[str] | None:
    """What the tip says at scene point ``scene`` (None: not over the plot, no history)."""
    history = view._drawn
    box = view.plot.getViewBox()
    if history is None or not len(history.loss_step) or not box.sceneBoundingRect().contains(scene):
        return None
    x = box.mapSceneToView(scene).x()
    k = bucket_at(history, x)
    first = int(history.loss_step[k])
    last = int(history.loss_step[k + 1]) - 1 if k + 1 < len(history.loss_step) else first
    per_epoch = getattr(view, "_per_epoch", 0)
    epoch = f" · epoch {(first - 1) // per_epoch}" if per_epoch else ""
    if last > first:  # a bucket of several mini-batches
        lines = [
            f"steps {number(first)} … {number(last)}{epoch}",
            f"C = mean of those {last - first + 1} mini-batches' costs = "
            f"{fmt(history.loss_mean[k])}",
            f"(min {fmt(history.loss_min[k])}, max {fmt(history.loss_max[k])})",
        ]
    else:
        lines = [
            f"step {number(first)}{epoch}",
            f"C = mean over the mini-batch of Cₓ = {fmt(history.loss_mean[k])}",
        ]
    smoothed = view._smoothed
    if k < len(smoothed):
        lines.append(f"smoothed (moving average) = {fmt(smoothed[k])}")
    epochs = history.epochs
    e = int(np.searchsorted(epochs.step, x, side="right")) - 1
    if e >= 0:
        first_epoch = int(epochs.epoch[e])
        which = f"epoch {first_epoch}"
        if epochs.width > 1:
            which = f"epochs {first_epoch}–{min(first_epoch + epochs.width, epochs.count) - 1}"
        lines.append(
            f"test accuracy after {which} (step {number(int(epochs.step[e]))}) = "
            f"{100 * float(epochs.test_accuracy.mean[e]):.2f} %"
        )
    return lines
