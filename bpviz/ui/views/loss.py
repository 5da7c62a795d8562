"""The loss and accuracy view: C of every mini-batch, smoothed, and the epochs' test accuracy.

The history arrives decimated into buckets that keep min, max and mean of the loss of the
mini-batches they hold; the band between min and max is drawn, so a spike is never lost
however long the run. A trailing moving average of the bucket means is the smoothed curve;
test accuracy at the end of each epoch sits on the right axis (each point the mean of a
bucket of epochs once there are more than 2,048 of them); dashed lines mark the steps
from which a new η applied. Hovering shows the numbers under the cursor.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from pyqtgraph.Qt import QtCore, QtGui, QtWidgets

from bpviz.session.snapshot import EpochsView, HistoryView, Snapshot
from bpviz.ui import colors
from bpviz.ui.throttle import Throttle
from bpviz.ui.views import _loss_hover
from bpviz.ui.views._widgets import live_canvas

BAND = (90, 150, 230, 70)
MEAN = (120, 170, 240, 160)
SMOOTH = "#ffd60a"
ACCURACY = "#4cd964"
ETA = (230, 80, 200, 200)
FEW_POINTS = 30  # up to this many buckets the mean curve marks each one
MAX_HZ = 5.0  # at full speed the history changes every frame; redraw at most this often


def smooth(values: np.ndarray, window: int) -> np.ndarray:
    """Trailing moving average over ``window`` entries (fewer at the start), ``(k,)``."""
    if window <= 1 or values.size == 0:
        return np.asarray(values, dtype=float)
    c = np.cumsum(np.concatenate(([0.0], np.nan_to_num(values, posinf=0.0))))
    k = np.arange(1, values.size + 1)
    lo = np.maximum(k - window, 0)
    return (c[k] - c[lo]) / (k - lo)


class StepAxis(pg.AxisItem):
    """An axis of counts (steps) written as the window writes numbers: 20,000 not 20000."""

    def tickStrings(self, values, scale, spacing) -> list[str]:
        if spacing * scale >= 1:  # whole steps
            return [f"{v * scale:,.0f}" for v in values]
        return super().tickStrings(values, scale, spacing)


class LossView(QtWidgets.QWidget):
    """Loss per mini-batch (min–max band, mean, smoothed) and test accuracy per epoch.

    Setter: ``set_log_scale(bool)``. ``show_snapshot`` redraws only when the history
    changed, at most ``throttle.hz`` (``MAX_HZ``) times a second (the latest history is
    always drawn).
    """

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self._history: HistoryView | None = None
        self._key: tuple = ()
        self._pending: HistoryView | None = None
        self._smoothed = np.zeros(0)
        self._drawn: HistoryView | None = None
        self.throttle = Throttle(self._draw_pending, MAX_HZ, self)  # hz None: every history

        self.key = QtWidgets.QLabel(
            f'<span style="color:{SMOOTH}">━</span> smoothed '
            f'<span style="color:rgb{BAND[:3]}">█</span> min–max of C per mini-batch '
            f'<span style="color:{ACCURACY}">●</span> test accuracy '
            f'<span style="color:rgb{ETA[:3]}">┆</span> η changed'
        )
        self.key.setWordWrap(True)  # two lines in a narrow dock rather than a wide minimum
        self.key.setToolTip(
            "C of every mini-batch: the band spans each bucket's min and max (spikes are "
            "kept however long the run), the thin line its mean, the thick one a moving "
            "average. Green: test accuracy at the end of each epoch (right axis)."
        )
        self.readout = QtWidgets.QLabel("hover over the plot for values")
        self.log_box = QtWidgets.QCheckBox("log C")
        self.log_box.setToolTip("Logarithmic loss axis (slow late progress stays visible)")
        self.log_box.toggled.connect(self.set_log_scale)
        bar = QtWidgets.QHBoxLayout()
        bar.addWidget(self.key, 1)
        bar.addWidget(self.log_box)

        self.canvas = live_canvas()
        self.canvas.setBackground(colors.BACKGROUND)
        self.plot: pg.PlotItem = self.canvas.addPlot(axisItems={"bottom": StepAxis("bottom")})
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.plot.setLabel("bottom", "step s (mini-batch)", color=colors.FOREGROUND)
        self.plot.setLabel("left", "cost C", color=colors.FOREGROUND)
        self.plot.showAxis("right")
        self.plot.setLabel("right", "test accuracy (%)", color=ACCURACY)
        colors.style_plot(self.plot)
        # its ticks' text only widens the axis: a narrower one (new ranges bring new
        # numbers) re-laid out and repainted the whole plot, and again when it widened
        self.plot.getAxis("left").setStyle(autoReduceTextSpace=False)

        self.low = pg.PlotDataItem(pen=pg.mkPen(BAND), connect="finite")
        self.high = pg.PlotDataItem(pen=pg.mkPen(BAND), connect="finite")
        # The band as one closed path (pyqtgraph's FillBetweenItem rebuilt its polygon
        # from both curves' paths on each of their updates: ~13 ms a time here).
        self.band = QtWidgets.QGraphicsPathItem()
        self.band.setBrush(pg.mkBrush(BAND))
        self.band.setPen(pg.mkPen(None))
        self.mean = pg.PlotDataItem(pen=pg.mkPen(MEAN, width=1))
        # While there are few buckets each is marked (a line through one point shows
        # nothing): a dot is a round-capped segment too short to see, all of them one
        # path. pyqtgraph's symbols (a ScatterPlotItem) cost 2-3 ms a draw here.
        dot = pg.mkPen(MEAN, width=5)
        dot.setCapStyle(QtCore.Qt.PenCapStyle.RoundCap)
        self.marks = pg.PlotDataItem(pen=dot, connect="pairs")
        self._ranges: tuple | None = None  # the (x, y) ranges last set
        self.smoothed = pg.PlotDataItem(pen=pg.mkPen(SMOOTH, width=2))
        for item in (self.low, self.high, self.mean, self.marks, self.smoothed):
            self.plot.addItem(item)
        # The ranges are set from the data on every draw (_fit_ranges): pyqtgraph's auto
        # range showed a lone first point as an empty 0.6–1.4 and kept a reset history's
        # old range.
        self.plot.getViewBox().disableAutoRange()
        self.plot.setMouseEnabled(False, False)
        self.plot.addItem(self.band, ignoreBounds=True)
        self.band.setZValue(self.low.zValue() - 1)

        self.accuracy_box = pg.ViewBox()
        self.plot.scene().addItem(self.accuracy_box)
        self.plot.getAxis("right").linkToView(self.accuracy_box)
        self.accuracy_box.setXLink(self.plot)
        self.accuracy_box.setYRange(0, 100, padding=0.02)
        self.accuracy_box.setMouseEnabled(False, False)
        self.accuracy = pg.PlotDataItem(
            pen=pg.mkPen(ACCURACY, width=2), symbol="o", symbolSize=7, symbolBrush=ACCURACY
        )
        self.accuracy_box.addItem(self.accuracy)
        self.plot.getViewBox().sigResized.connect(self._sync_boxes)

        self._eta_lines: list[pg.InfiniteLine] = []
        self.cursor = pg.InfiniteLine(angle=90, pen=pg.mkPen(colors.FOREGROUND, width=1))
        self.cursor.setVisible(False)
        self.plot.addItem(self.cursor, ignoreBounds=True)
        self.plot.scene().sigMouseMoved.connect(self._hover)

        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(bar)
        layout.addWidget(self.canvas, 1)
        layout.addWidget(self.readout)
        self._install_tip()

    def _install_tip(self) -> None:
        """Hover a point: step, epoch, C and the test accuracy, kept live (_loss_hover)."""
        self._per_epoch = 0  # mini-batches per epoch, for the epoch of a step
        self.loss_tip = _loss_hover.install(self)

    def _sync_boxes(self) -> None:
        self.accuracy_box.setGeometry(self.plot.getViewBox().sceneBoundingRect())
        self.accuracy_box.linkedViewChanged(self.plot.getViewBox(), self.accuracy_box.XAxis)

    def set_log_scale(self, log: bool) -> None:
        """Draw the loss on a logarithmic axis."""
        self.log_box.setChecked(log)
        self.plot.setLogMode(y=log)  # (every axis of the plot, the right one too:)
        self.plot.getAxis("right").setLogMode(False)  # test accuracy stays in %, 0 … 100
        self._ranges = None  # the y axis is in other units now
        if self._drawn is not None:
            self._draw_band(self._drawn)
            self._fit_ranges(self._drawn)

    def show_snapshot(self, snapshot: Snapshot) -> None:
        """Redraw from ``snapshot.history`` when it changed (nothing to do otherwise)."""
        history = snapshot.history
        self._per_epoch = snapshot.batches_per_epoch
        if history is None or history is self._history:
            return
        n = len(history.loss_step)
        key = (
            n,
            float(history.loss_step[-1]) if n else None,
            float(history.loss_mean[-1]) if n else None,
            float(history.loss_max[-1]) if n else None,
            history.epochs.count,
            len(history.eta_changes),
        )
        self._history = history
        if key == self._key:
            return
        self._key = key
        self._pending = history
        self.throttle.request()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self._draw_pending()

    def _draw_pending(self) -> None:
        if self._pending is not None and self.isVisible():
            self._draw(self._pending)
            self._pending = None
            self.loss_tip.refresh()

    def _draw(self, history: HistoryView) -> None:
        steps = np.asarray(history.loss_step, dtype=float)
        self.low.setData(steps, history.loss_min)
        self.high.setData(steps, history.loss_max)
        self._drawn = history
        self._draw_band(history)
        self.mean.setData(steps, history.loss_mean)
        self._mark_buckets(steps, history.loss_mean)
        self._smoothed = smooth(history.loss_mean, max(1, len(steps) // 40))
        self.smoothed.setData(steps, self._smoothed)
        epochs = history.epochs
        self.accuracy.setData(epochs.step.astype(float), 100.0 * epochs.test_accuracy.mean)
        self._fit_ranges(history)
        changes = history.eta_changes[1:]  # the first entry is the initial η
        while len(self._eta_lines) < len(changes):
            line = pg.InfiniteLine(
                angle=90,
                pen=pg.mkPen(ETA, width=1, style=QtCore.Qt.PenStyle.DashLine),
                label="",
                labelOpts={"position": 0.92, "color": ETA, "anchors": [(0, 0), (0, 0)]},
            )
            self.plot.addItem(line, ignoreBounds=True)
            self._eta_lines.append(line)
        for k, line in enumerate(self._eta_lines):
            line.setVisible(k < len(changes))
            if k < len(changes):
                step, eta = changes[k]
                line.setValue(float(step))
                line.label.setFormat(f" η = {eta:g}")

    def _mark_buckets(self, steps: np.ndarray, mean: np.ndarray) -> None:
        """A dot on each bucket's mean while there are at most ``FEW_POINTS``."""
        if len(steps) > FEW_POINTS:
            if self.marks.isVisible():
                self.marks.setVisible(False)
                self.marks.setData([], [])
            return
        x = np.repeat(steps, 2)
        x[1::2] += 1e-6 * max(1.0, float(steps[-1]) if len(steps) else 1.0)  # ≪ a pixel
        self.marks.setData(x, np.repeat(np.asarray(mean, dtype=float), 2))
        self.marks.setVisible(True)

    def _fit_ranges(self, history: HistoryView) -> None:
        """x from step 0 to just past the last step drawn, y the loss's min–max
        with a margin, never below 0 (a cost); empty history: 0 … 1 on both axes. Both
        in one change of the view (each change re-lays out the axes), none if the same."""
        steps = np.asarray(history.loss_step, dtype=float)
        last = max(float(steps[-1]) if steps.size else 0.0, 1.0)  # steps ascend
        if history.epochs.count:
            last = max(last, float(history.epochs.step[-1]))
        ranges = (
            (0.0, last + max(0.5, 0.02 * last)),
            loss_range(history, self.log_box.isChecked()),
        )
        if ranges != self._ranges:
            self._ranges = ranges
            self.plot.getViewBox().setRange(xRange=ranges[0], yRange=ranges[1], padding=0)
            # the new transforms now (the accuracy's box follows the x range), not while
            # the scene paints: their changes then asked for a second paint
            self.plot.getViewBox().updateMatrix()
            self.accuracy_box.updateMatrix()

    def _draw_band(self, history: HistoryView) -> None:
        """The filled region between the buckets' min and max of C (log10 on a log axis)."""
        steps = np.asarray(history.loss_step, dtype=float)
        low = np.asarray(history.loss_min, dtype=float)
        high = np.asarray(history.loss_max, dtype=float)
        if self.log_box.isChecked():
            with np.errstate(divide="ignore", invalid="ignore"):
                low, high = np.log10(low), np.log10(high)
        x = np.concatenate((steps, steps[::-1]))
        y = np.nan_to_num(np.concatenate((high, low[::-1])), nan=0.0, posinf=0.0, neginf=0.0)
        self.band.setPath(pg.arrayToQPath(x, y, connect="all") if x.size else QtGui.QPainterPath())

    def _hover(self, pos) -> None:
        history = self._history
        vb = self.plot.getViewBox()
        if (
            history is None
            or not len(history.loss_step)
            or not vb.sceneBoundingRect().contains(pos)
        ):
            self.cursor.setVisible(False)
            return
        x = vb.mapSceneToView(pos).x()
        k = int(np.clip(np.searchsorted(history.loss_step, x, side="right") - 1, 0, None))
        k = min(k, len(history.loss_step) - 1)
        self.cursor.setValue(float(history.loss_step[k]))
        self.cursor.setVisible(True)
        text = (
            f"step {int(history.loss_step[k]):,}: C = {history.loss_mean[k]:.4g} "
            f"(min {history.loss_min[k]:.4g}, max {history.loss_max[k]:.4g}), "
            f"smoothed {self._smoothed[k]:.4g}"
        )
        text += _epoch_text(history.epochs, x)
        self.readout.setText(text)


def loss_range(history: HistoryView, log: bool = False) -> tuple[float, float]:
    """The y range that shows every bucket's min and max of C with a 5 % margin: in log10
    units when ``log``; never below 0 on a linear axis; (0, 1) with no finite loss."""
    values = np.concatenate((history.loss_min, history.loss_max)).astype(float)
    values = values[np.isfinite(values) & ((values > 0) if log else True)]
    if not values.size:
        return (-1.0, 0.0) if log else (0.0, 1.0)
    lo, hi = float(values.min()), float(values.max())
    if log:
        lo, hi = np.log10(lo), np.log10(hi)
    span = hi - lo if hi > lo else max(abs(hi) * 0.1, 0.05)
    lo, hi = lo - 0.05 * span, hi + 0.05 * span
    return (lo, hi) if log else (max(lo, 0.0), hi)


def _epoch_text(epochs: EpochsView, x: float) -> str:
    """The test accuracy of the last epoch (or bucket of epochs) evaluated by step ``x``."""
    k = int(np.searchsorted(epochs.step, x, side="right")) - 1
    if k < 0:
        return ""
    first, accuracy = int(epochs.epoch[k]), epochs.test_accuracy
    if epochs.width == 1:
        return f" · epoch {first}: test accuracy {100 * accuracy.mean[k]:.2f}%"
    last = min(first + epochs.width, epochs.count) - 1
    return (
        f" · epochs {first}–{last}: test accuracy {100 * accuracy.mean[k]:.2f}% "
        f"(min {100 * accuracy.min[k]:.2f}%, max {100 * accuracy.max[k]:.2f}%)"
    )
