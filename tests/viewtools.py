"""Helpers for the view tests: show a view offscreen, click or hover at view coordinates."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from pyqtgraph.Qt import QtCore, QtTest, QtWidgets


def shown(qtbot, view: QtWidgets.QWidget, width: int = 900, height: int = 520):
    """Register ``view`` with qtbot (closed and deleted after the test) and show it."""
    qtbot.addWidget(view)
    view.resize(width, height)
    view.show()
    qtbot.waitExposed(view)
    QtWidgets.QApplication.processEvents()
    return view


def _viewport_point(gv: pg.GraphicsView, item: pg.GraphicsObject, x: float, y: float):
    QtWidgets.QApplication.processEvents()  # let pending range and layout changes apply
    point = QtCore.QPointF(x, y)
    scene = item.mapViewToScene(point) if isinstance(item, pg.ViewBox) else item.mapToScene(point)
    return gv.mapFromScene(scene)


def click(gv: pg.GraphicsView, item: pg.GraphicsObject, x: float, y: float) -> None:
    """A real left click (press and release) at (x, y) in ``item``'s coordinates (a ViewBox: its
    view coordinates)."""
    point = _viewport_point(gv, item, x, y)
    QtTest.QTest.mouseClick(
        gv.viewport(), QtCore.Qt.MouseButton.LeftButton, QtCore.Qt.KeyboardModifier(0), point
    )
    QtWidgets.QApplication.processEvents()


def hover(gv: pg.GraphicsView, item: pg.GraphicsObject, x: float, y: float) -> None:
    """Move the mouse to (x, y) in ``item``'s coordinates."""
    QtTest.QTest.mouseMove(gv.viewport(), _viewport_point(gv, item, x, y))
    QtWidgets.QApplication.processEvents()


def brush_rgba(scatter: pg.ScatterPlotItem) -> np.ndarray:
    """The fill colour of each spot, ``(n, 4)`` uint8."""
    return np.array([b.color().getRgb() for b in scatter.data["brush"]], dtype=np.uint8)


def stroke(qtbot, canvas: QtWidgets.QWidget, *points: tuple[int, int]) -> None:
    """Draw on ``canvas`` as a person does: press at the first point, move through the
    others, release at the last (pixel coordinates of the canvas)."""
    left = QtCore.Qt.MouseButton.LeftButton
    first, *rest = (QtCore.QPoint(x, y) for x, y in points)
    qtbot.mousePress(canvas, left, pos=first)
    for point in rest:
        qtbot.mouseMove(canvas, point)
    qtbot.mouseRelease(canvas, left, pos=rest[-1] if rest else first)
