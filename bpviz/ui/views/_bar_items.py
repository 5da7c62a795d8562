"""The δ view's two kinds of bar items, each bounded by its whole cell (a known
rectangle): cheaper than bounds recomputed from the data, and never empty."""

from __future__ import annotations

import pyqtgraph as pg
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


class _Columns(_Bounded, pg.PlotCurveItem):
    """Vertical lines (pairs of points) within a known rectangle: PlotCurveItem recomputed
    its bounds from the data (nanmin/nanmax, pixel padding) on several calls a frame."""

    def __init__(self, pen: QtGui.QPen) -> None:
        super().__init__(pen=pen, connect="pairs")
        self.setSegmentedLineMode("on")
        self.bounds = QtCore.QRectF()


class _Polygon(_Bounded, QtWidgets.QGraphicsPathItem):
    """The bars of one sign as one filled path, bounded by the whole cell: the fill is a
    gradient along the value axis, and an exporter (SVG) scales a gradient by the item's
    bounds — never empty here, even when no bar has this sign."""

    def __init__(self) -> None:
        super().__init__()
        self.bounds = QtCore.QRectF(-1.0, -1.0, 2.0, 2.0)
