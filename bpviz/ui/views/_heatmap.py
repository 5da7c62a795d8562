"""One heatmap of the gradient view: a matrix as an image with its colour bar, a note
where the quantity is not computed yet, and a marker for the selected weight."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from pyqtgraph.Qt import QtGui, QtWidgets

from bpviz.ui import colors
from bpviz.ui.views._legend import level_text
from bpviz.ui.views._widgets import PickImage


class HeatmapPanel:
    """A PlotItem with a PickImage and a colour bar, rows downward like a matrix."""

    def __init__(self, canvas: pg.GraphicsLayoutWidget, col: int, left: str, bottom: str):
        self.plot = canvas.addPlot(row=0, col=col)
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.plot.invertY(True)
        self.plot.setLabel("left", left, color=colors.FOREGROUND)
        self.plot.setLabel("bottom", bottom, color=colors.FOREGROUND)
        colors.style_plot(self.plot)
        # its ticks' text only widens the axis: a narrower one (new ranges bring new
        # numbers) re-laid out and repainted the whole plot, and again when it widened
        self.plot.getAxis("left").setStyle(autoReduceTextSpace=False)
        self.image = PickImage()
        self.plot.addItem(self.image)
        self.bar = pg.ColorBarItem(
            values=(-1, 1), colorMap=colors.DIVERGING, width=14, interactive=False
        )
        self.bar.setImageItem(self.image)
        colors.style_plot(self.bar)
        # the ±level ticks sit on the bar's very ends: let their text reach past them
        self.bar.axis.setStyle(hideOverlappingLabels=False)
        canvas.addItem(self.bar, row=0, col=col + 1)
        self.note = pg.TextItem("", color=colors.FOREGROUND, anchor=(0.5, 0.5))
        self.plot.addItem(self.note, ignoreBounds=True)
        self.marker = QtWidgets.QGraphicsRectItem()  # the selected weight
        self.marker.setPen(pg.mkPen(colors.HIGHLIGHT, width=2))
        self.marker.setZValue(20)
        self.marker.setVisible(False)
        self.plot.addItem(self.marker, ignoreBounds=True)
        self.shape: tuple[int, ...] = ()
        self.drawn: object = None
        self.legend_name = ""
        self._legend: tuple = ()

    def set_missing(self, missing: bool, text: str) -> None:
        """Grey, empty panel with ``text`` when the quantity is not computed yet."""
        if missing == self.note.isVisible() and text == self.note.toPlainText():
            return
        self.note.setText(text)
        self.note.setVisible(missing)
        self.image.setVisible(not missing)
        self.plot.getViewBox().setBackgroundColor(colors.MISSING_AREA if missing else None)
        if missing:
            self.drawn = None

    def show(self, data: np.ndarray, level: float) -> None:
        """Draw ``data`` with levels (−level, level); keep the view when the shape is kept."""
        self.image.setImage(data, autoLevels=False)
        if self.bar.levels() != (-level, level):
            self.bar.setLevels((-level, level))
        self.set_legend(self.legend_name, level)
        self.set_shape(data.shape)

    def set_legend(self, name: str, level: float | None) -> None:
        """The colour bar is the legend: ``name`` beside it, its ends marked −level, 0,
        +level (the levels the image is drawn with). Changed only when they change: a new
        label or new ticks re-lay out the bar."""
        key = (name, level)
        if key == self._legend:
            return
        self._legend, self.legend_name = key, name
        if self.bar.getAxis("left").labelText != name:
            self.bar.getAxis("left").setLabel(name, color=colors.FOREGROUND)
        if level is not None:
            lo, hi = level_text(level, signed=True)
            end = level * (1 - 1e-6)  # an axis drops a tick on its very end
            self.bar.axis.setTicks([[(-end, lo), (0.0, "0"), (end, hi)]])
            font = self.bar.axis.style["tickFont"] or QtGui.QFont()
            wide = QtGui.QFontMetrics(font).horizontalAdvance(max(lo, hi, key=len))
            # the ends' text fits (an axis drops text it cuts); the bar only widens, as a
            # narrower one re-lays out and repaints the whole canvas (the levels change
            # with each layer followed and each stepped mini-batch)
            width = max(45, wide + 14)
            if self.bar.axis.width() < width:
                self.bar.axis.setWidth(width)

    def set_shape(self, shape: tuple[int, ...]) -> None:
        """Show rows 0 … shape[0] and columns 0 … shape[1] (also while nothing is drawn)."""
        if shape != self.shape:
            self.shape = shape
            self.plot.setRange(xRange=(0, shape[1]), yRange=(0, shape[0]), padding=0)
            # the new transform now, not while the scene paints (its changes then asked
            # for a second paint)
            self.plot.getViewBox().updateMatrix()
            self.note.setPos(shape[1] / 2, shape[0] / 2)
