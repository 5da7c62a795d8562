"""Helpers for the view tests: show a view offscreen, click or hover at view coordinates,
the δ view's cells at the δ¹ phase."""

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


def delta_cells(qtbot, sizes: tuple[int, ...] = (784, 30, 20, 10)):
    """A ``DeltaView`` shown the snapshot at phase δ¹ of a ``sizes`` network: the view,
    that snapshot, and for each layer l = 1 … L the pair (l, the view's three cells of
    it: ∂C/∂aˡ, σ′(zˡ), δˡ)."""
    from snapshots import snapshot_at

    from bpviz.session.snapshot import PhaseKind
    from bpviz.ui.views import DeltaView

    view = shown(qtbot, DeltaView(), height=700)
    snapshot = snapshot_at(PhaseKind.DELTA, 1, sizes=sizes)
    view.show_snapshot(snapshot)
    return view, snapshot, [(l, view.cells(l)) for l in range(1, len(sizes))]


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
