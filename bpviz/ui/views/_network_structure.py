"""The network view's structure: its items made for a network's layer sizes (``_build``)
and every neuron, edge and label placed for the view's size in pixels (``_layout``) — a
mixin of ``NetworkView``, split off for size.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from pyqtgraph.Qt import QtCore

from bpviz.ui import colors
from bpviz.ui.views._network_layout import MAX_NODES, disc_column, strip_column
from bpviz.ui.views._network_parts import TOP
from bpviz.ui.views.glass import applies as glass_applies
from bpviz.ui.views.glass import spacing as glass_spacing

IMAGE_RIGHT = 0.3  # x of the input image's right border, where its edges leave


class NetworkStructure:
    """``_build(sizes)`` and ``_layout()`` of the NetworkView (its items and attributes)."""

    # -- structure (rebuilt only when the network's sizes change) ------------------
    def _build(self, sizes: tuple[int, ...]) -> None:
        for item in (*self._columns, *self._labels, *self._out_labels):
            self.vb.removeItem(item)
        self._columns, self._labels, self._out_labels, self._brushes = [], [], [], {}
        self._reset_node_colours()  # new items: nothing drawn on them yet
        self._sizes = sizes
        L = len(sizes) - 1
        side = math.isqrt(sizes[0])
        self._input_side = side if side * side == sizes[0] else 0
        self._rgba = {0: np.zeros((side, side, 4), np.uint8)}  # reused frame after frame
        self.input_image.setVisible(bool(self._input_side))
        if self._input_side:
            self.input_image.setImage(self._rgba[0], levels=None)
        for l in range(1, L + 1):
            n = sizes[l]
            if n > MAX_NODES:
                self._rgba[l] = np.zeros((n, 1, 4), np.uint8)
                item = pg.ImageItem(axisOrder="row-major")
                item.setImage(self._rgba[l], levels=None)
                item.setBorder(pg.mkPen(colors.MISSING))
            else:
                self._brushes[l] = [self._missing_brush] * n
                item = pg.ScatterPlotItem(pen=pg.mkPen(colors.MISSING, width=1))
            item.setZValue(10)
            self.vb.addItem(item)
            self._columns.append(item)
        for _l in range(L + 1):
            label = pg.TextItem(anchor=(0.5, 0), color=colors.FOREGROUND)
            self.vb.addItem(label)
            self._labels.append(label)
        for k in range(sizes[L] if sizes[L] <= MAX_NODES else 0):
            text = self._class_names[k] if k < len(self._class_names) else str(k)
            label = pg.TextItem(text, anchor=(0, 0.5), color=colors.FOREGROUND)
            self.vb.addItem(label)
            self._out_labels.append(label)
        # room right of the outputs for their labels and the cost C, whatever the depth
        self._right = L + 0.5 + 0.1 * max(L - 2, 0)
        self.vb.setRange(xRange=(-0.5, self._right), yRange=(-0.12, 1.1), padding=0)
        self.edges.build(sizes)
        self._input_rect = QtCore.QRectF()
        self._backward, self._last_phase, self.plan, self._pending = None, None, None, None
        self._last_snapshot = None
        self._layout()

    def _layout(self) -> None:
        """Place every neuron for the view's size in pixels (discs ≥ 10 px, a square input
        image), and the edges, labels and outline with them."""
        sizes = self._sizes
        if not sizes:
            return
        L = len(sizes) - 1
        self.glass.fit(self)  # room for the numbers (sets the x range)
        spread = glass_applies(sizes)  # the nodes further apart, for the numbers
        px, py = self.vb.viewPixelSize()
        if not (px > 0 and py > 0):
            px, py = 1 / 200, 1 / 200
        lo, hi = 1 - TOP, TOP
        xy, out0, disc = [np.zeros((sizes[0], 2))], np.zeros((sizes[0], 2)), [0.0]
        side = self._input_side
        if side:  # square on screen, its right border where its edges leave
            w = min(0.8 * (hi - lo) / py, (IMAGE_RIGHT + 0.45) / px) * px
            h = w / px * py
            rect = QtCore.QRectF(IMAGE_RIGHT - w, 0.5 - h / 2, w, h)
            self._input_rect = rect
            self.input_image.setRect(rect)
            r, c = np.divmod(np.arange(side * side), side)
            y = rect.top() + (side - r - 0.5) * h / side
            xy[0] = np.column_stack((rect.left() + (c + 0.5) * w / side, y))
            out0 = np.column_stack((np.full(side * side, rect.right()), y))
        else:
            ys = strip_column(sizes[0], lo, hi)
            xy[0] = out0 = np.column_stack((np.zeros(sizes[0]), ys))
        for l, item in enumerate(self._columns, start=1):
            n = sizes[l]
            if n > MAX_NODES:
                ys = strip_column(n, lo, hi)
                xy.append(np.column_stack((np.full(n, float(l)), ys)))
                disc.append(0.0)
                item.setRect(QtCore.QRectF(l - 7 * px, lo, 14 * px, hi - lo))
            else:
                cap = glass_spacing(n) if spread else None
                xs, ys, size = disc_column(n, float(l), lo, hi, px, py, cap)
                xy.append(np.column_stack((xs, ys)))
                disc.append(size)
                item.setData(x=xs, y=ys, size=size, brush=self._brushes[l])
                self._shown_keys[l] = self._colour_keys.get(l)
        self._xy, self._disc = xy, disc
        for l, label in enumerate(self._labels):
            x = self._input_rect.center().x() if l == 0 and side else float(l)
            label.setPos(x, lo - 16 * py)  # below the outline of a computed layer
        right = L + (disc[L] / 2 + 4) * px + (xy[L][:, 0].max() - L)
        for k, label in enumerate(self._out_labels):
            label.setPos(right, float(xy[L][k, 1]))
        # the view's right end: the glass box widens the range for its numbers
        end = max(self._right, self.vb.viewRange()[0][1])
        cost = (max(right + 40 * px, end - 22 * px), 0.5)
        self.cost_node.setData([cost[0]], [cost[1]])
        self.cost_label.setPos(end - 2 * px, cost[1] - 10 * py)  # right-aligned: whole
        self.edges.set_positions([out0, *xy[1:]], xy, cost, right + 16 * px)
        self._draw_highlight()
        self._draw_selection()
        self.glass.draw(self)
        self.layout_changed.emit()
