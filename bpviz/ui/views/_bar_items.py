"""The δ view's two kinds of bar items, each bounded by its whole cell (a known
rectangle): cheaper than bounds recomputed from the data, and never empty."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from pyqtgraph import Qt
from pyqtgraph.Qt import QtCore, QtGui, QtWidgets


class _Bounded:
    """A graphics item whose bounds are the rectangle it is given (``set_bounds``): the
    cell's x range and its y axis range, which every bar or line stays in."""

    bounds: QtCore.QRectF

    def set_bounds(self, rect: QtCore.QRectF) -> None:
        """The rectangle every bar or line stays in."""
        if rect != self.bounds:
            self.prepareGeometryChange()
            self.bounds = rect

    def boundingRect(self) -> QtCore.QRectF:
        return self.bounds


class _Columns(_Bounded, pg.GraphicsObject):
    """Vertical bars, one per pixel column, each from (x, y₀) to (x, y₁) of a pair of
    points (``setData(x, y)``, as a PlotCurveItem with ``connect="pairs"`` took them),
    as wide as the pen (``opts["pen"]``, cosmetic: pixels) and filled with its brush.

    Drawn as rectangles filled with that brush (QPainter.drawRects): stroking hundreds
    of lines with a gradient pen went through Qt's stroker, line by line, and cost more
    than the rest of the δ view's cell. Bounded by a known rectangle (``set_bounds``)."""

    def __init__(self, pen: QtGui.QPen) -> None:
        super().__init__()
        self.opts = {"pen": QtGui.QPen(pen)}
        self.bounds = QtCore.QRectF()
        self._x = self._y = np.zeros(0)
        self._rects = Qt.internals.PrimitiveArray(QtCore.QRectF, 4)

    def setPen(self, pen: QtGui.QPen) -> None:
        """The bars' width (pixels) and fill (its brush)."""
        self.opts["pen"] = QtGui.QPen(pen)
        self.update()

    def setData(self, x: np.ndarray, y: np.ndarray) -> None:
        """Pairs of points: bar k goes from (x[2k], y[2k]) to (x[2k + 1], y[2k + 1])."""
        self._x, self._y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        self.update()

    def getData(self) -> tuple[np.ndarray, np.ndarray]:
        """The pairs of points given to ``setData``."""
        return self._x, self._y

    def paint(self, painter: QtGui.QPainter, *args) -> None:
        n = len(self._x) // 2
        scale = abs(painter.transform().m11())  # pixels per unit of x
        if not n or not scale:
            return
        pen = self.opts["pen"]
        width = max(pen.widthF(), 1.0) / scale
        y0, y1 = self._y[0 : 2 * n : 2], self._y[1 : 2 * n : 2]
        self._rects.resize(n)
        rects = self._rects.ndarray()  # (n, 4): x, y, width, height
        rects[:, 0] = self._x[0 : 2 * n : 2] - width / 2
        rects[:, 1] = np.minimum(y0, y1)
        rects[:, 2] = width
        rects[:, 3] = np.abs(y1 - y0)
        painter.setPen(QtCore.Qt.PenStyle.NoPen)
        painter.setBrush(pen.brush())
        painter.drawRects(*self._rects.drawargs())


class _Polygon(_Bounded, QtWidgets.QGraphicsPathItem):
    """The bars of one sign as one filled path, bounded by the whole cell: the fill is a
    gradient along the value axis, and an exporter (SVG) scales a gradient by the item's
    bounds — never empty here, even when no bar has this sign."""

    def __init__(self) -> None:
        super().__init__()
        self.bounds = QtCore.QRectF(-1.0, -1.0, 2.0, 2.0)
