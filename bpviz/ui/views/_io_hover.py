"""Hover in the input/output view: a pixel of a digit (x, in greys: pixels, not a signed
quantity) or an output bar (aₖᴸ against yₖ), with the snapshot's numbers."""

from __future__ import annotations

from pyqtgraph.Qt import QtCore

from bpviz.ui.views import _value_text as vt
from bpviz.ui.views._base import SnapshotView, entry
from bpviz.ui.views._gradient_hover import pixel_under, weak_tip
from bpviz.ui.views._hover import LiveTip
from bpviz.ui.views._tiles import tile_grid


def install(view: SnapshotView) -> LiveTip:
    """The view's one live tooltip, over the grid, the large digit and the output bars."""
    return weak_tip(view.canvas, view, lines_at)


def lines_at(view: SnapshotView, scene: QtCore.QPointF) -> list[str] | None:
    """What the tip says at scene point ``scene``."""
    snapshot = view._drawn
    if snapshot is None or snapshot.x is None:
        return None
    x = snapshot.x
    side = round(x.shape[1] ** 0.5)
    hit = pixel_under(view.digit, scene)
    if hit is not None and side * side == x.shape[1]:
        return vt.input_pixel(x, hit[0] * side + hit[1], side, view.example)
    hit = pixel_under(view.grid, scene)
    m, shown_side = view._shape
    if hit is not None and m and shown_side == side:
        step = side + 1
        (tr, r), (tc, c) = divmod(hit[0], step), divmod(hit[1], step)
        k = tr * tile_grid(m)[1] + tc
        if r >= 1 and c >= 1 and k < m:  # row/column 0 of a tile is the gap
            return vt.input_pixel(x, (r - 1) * side + (c - 1), side, k)
    box = view.out_plot.getViewBox()
    a_L = entry(snapshot.a, snapshot.n_layers)
    if a_L is None or snapshot.y is None or not box.sceneBoundingRect().contains(scene):
        return None
    k = round(box.mapSceneToView(scene).x())
    if not 0 <= k < a_L.shape[1]:
        return None
    return vt.output_bar(a_L, snapshot.y, k, view._name(k), view.example)
