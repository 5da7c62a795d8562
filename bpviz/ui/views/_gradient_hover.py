"""Hover in the gradient view: a heatmap cell or a tile pixel gives its value, its equation
and the numbers in it (``_value_text``), from the arrays the view drew."""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING

import pyqtgraph as pg
from pyqtgraph.Qt import QtCore, QtWidgets

from bpviz.ui.views import _value_text as vt
from bpviz.ui.views._base import SnapshotView
from bpviz.ui.views._hover import LiveTip, html_lines

if TYPE_CHECKING:
    from bpviz.session.snapshot import Snapshot


def weak_tip(widget: QtWidgets.QWidget, view: QtWidgets.QWidget, lines_at: Callable) -> LiveTip:
    """A ``LiveTip`` over ``widget`` saying ``lines_at(view, scene point)``, which holds
    ``view`` weakly: the view holds its tip, and a tip holding its view back would make
    a reference cycle that Python's collector breaks in any order — clearing the tip
    while Qt, deleting the view's widgets, still sends it their Hide events."""
    ref = weakref.ref(view)

    def text_at(pos: QtCore.QPointF) -> str | None:
        owner = ref()
        if owner is None:
            return None
        lines = lines_at(owner, scene_point(widget, pos))
        return html_lines(*lines) if lines else None

    return LiveTip(widget, text_at)


def drawn_tip(view: SnapshotView, lines_at: Callable) -> LiveTip:
    """A view's one live tooltip over its canvas (``weak_tip``): over scene point
    ``scene`` it says ``lines_at(view, snapshot, scene)`` of the snapshot the view drew
    last, and nothing before the view drew one."""

    def drawn_lines(owner: SnapshotView, scene: QtCore.QPointF) -> list[str] | None:
        snapshot = owner._drawn
        return None if snapshot is None else lines_at(owner, snapshot, scene)

    return weak_tip(view.canvas, view, drawn_lines)


def scene_point(canvas: pg.GraphicsView, pos: QtCore.QPointF) -> QtCore.QPointF:
    """``pos`` in ``canvas`` widget coordinates, in its scene's coordinates."""
    viewport = canvas.viewport().mapFrom(canvas, pos.toPoint())
    return canvas.mapToScene(viewport)


def pixel_under(image: pg.ImageItem, scene: QtCore.QPointF) -> tuple[int, int] | None:
    """(row, col) of the row-major ``image``'s pixel at scene point ``scene``, or None."""
    if image.image is None or not image.isVisible():
        return None
    p = image.mapFromScene(scene)
    rows, cols = image.image.shape[:2]
    if 0 <= p.y() < rows and 0 <= p.x() < cols:
        return int(p.y()), int(p.x())
    return None


def install(view: SnapshotView) -> LiveTip:
    """The view's one live tooltip, over its canvas (both the heatmap and the tiles)."""
    return drawn_tip(view, lines_at)


def lines_at(view: SnapshotView, snapshot: Snapshot, scene: QtCore.QPointF) -> list[str] | None:
    """What the tip says at scene point ``scene``: a heatmap cell, a tile pixel, or None."""
    hit = pixel_under(view.heatmap.image, scene)
    values = view._matrix
    if hit is not None and values is not None and values.shape[:2] == view.heatmap.shape[:2]:
        i, j = hit
        return vt.weight_cell(
            view.quantity, snapshot, view.layer, i, j, float(values[i, j]), view.example
        )
    tiles = view._tile_matrix
    if view.sheet is None or tiles is None or not view.tiles.plot.isVisible():
        return None
    hit = pixel_under(view.tiles.image, scene)
    weight = view.tile_weight(*hit) if hit is not None else None
    if weight is None:
        return None
    i, j = weight
    return vt.tile_pixel(
        view.quantity, snapshot, i, j, view.sheet.side, float(tiles[i, j]), view.example
    )
