"""The glass box's layout: where each number of a small network's drawing goes (a mixin
of ``GlassOverlay``, split off for size).

Labels are laid out in pixels, nodes first, then edges (those of the selected neuron
first), each edge's at the first free place along it; one that finds none is left out.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from pyqtgraph.Qt import QtCore

GLASS_MAX = 8  # widest layer whose numbers are written
DIGITS = 3  # significant digits printed
FONT_PT = 7.5
GAP_PX = 3  # room between a node's disc and its label, and between labels
FILL = (22, 24, 29, 215)  # the view's background, nearly opaque: numbers readable over edges
WIDEST = "−0.000123"  # the widest number ``number`` writes (for the view's margins)
WIDTH_STEP = 8  # label widths are laid out in steps of this many pixels
SUMMARY = (
    "on edges: wᵢⱼ, yellow: wᵢⱼ δᵢ flowing back\n"
    "{written} of {total} written (click an edge: its neurons' first)"
)


def applies(sizes: Sequence[int]) -> bool:
    """Whether a network of layer ``sizes`` is small enough to write every number."""
    return len(sizes) >= 2 and max(sizes) <= GLASS_MAX


class GlassLayout:
    """``x_range`` (room for the numbers) and ``_place`` (where each goes); reads the
    overlay's ``vb``, ``_metrics``, ``_sizes``, ``_nodes``, ``_edges``, ``summary``,
    ``selected``, ``obstacles`` and ``names_px``."""

    # -- layout ------------------------------------------------------------------------
    def x_range(
        self, sizes: Sequence[int], width_px: float, names_px: float, image_input: bool
    ) -> tuple[float, float] | None:
        """The network view's x range that leaves room for the numbers: the input labels
        left of x = 0 (or the 28×28 image's 0.55), the class names (``names_px`` wide)
        and output labels right of x = L; None when no numbers are written."""
        if not applies(sizes):
            return None
        self.names_px = names_px
        L = len(sizes) - 1
        node_w = self._metrics.horizontalAdvance(f"z {WIDEST}  a {WIDEST}") + 6
        cost_w = self._metrics.horizontalAdvance(f"C = {WIDEST}") + 12  # the cost node
        right = names_px + node_w + 30 + cost_w  # node radius, gaps, the cost node
        left = 0.0 if image_input else self._metrics.horizontalAdvance(f"x₁ {WIDEST}") + 30
        per_unit = (width_px - right - left) / (L + (0.55 if image_input else 0.0))
        if per_unit < 40:  # a very narrow view: the plain range
            return None
        lo = -0.55 if image_input else -left / per_unit
        return (lo, L + right / per_unit)

    def _lines_fitting(self, y: np.ndarray, tall: int) -> int:
        """How many lines a label of a node of the layer at heights ``y`` may have:
        ``tall``, 2 or 1, whichever fits between two of its nodes."""
        if len(y) < 2:
            return tall
        py = self.vb.viewPixelSize()[1] or 1.0
        gap = float(np.min(np.abs(np.diff(y)))) / py - 2 - GAP_PX
        line = self._metrics.height()
        return tall if gap >= tall * line else 2 if gap >= 2 * line else 1

    def _widest(self, texts: list[str]) -> float:
        """The widest line of ``texts`` in pixels, rounded up to a WIDTH_STEP."""
        widest = max((self._metrics.horizontalAdvance(line) for t in texts
                      for line in t.split("\n")), default=0.0)  # fmt: skip
        return WIDTH_STEP * math.ceil((widest + 6) / WIDTH_STEP)

    def _place(
        self,
        xs,
        ys,
        node_px: float,
        backward: bool,
        flowing: int | None,
        lines: tuple[int, ...],
        node_w: float,
        edge_w: float,
    ) -> None:
        """Position every label and choose the edges written, laid out in pixels so that
        none covers another (redone only when the geometry or the lines change)."""
        key = (
            self.vb.width(), self.vb.height(), self.vb.viewRange()[0][0],
            tuple(tuple(np.round(y, 4)) for y in ys), tuple(tuple(np.round(x, 4)) for x in xs),
            node_px, backward, flowing, self.selected, lines, self.names_px, node_w, edge_w,
        )  # fmt: skip
        if key == self._layout_key:
            return
        self._layout_key = key
        placed: list[QtCore.QRectF] = list(self.obstacles)  # the view's own labels
        line_h = self._metrics.height()
        offset = node_px / 2 + GAP_PX
        px = self.vb.viewPixelSize()[0] or 1.0
        for (l, i), item in self._nodes.items():
            x, y = float(xs[l][i]), float(ys[l][i])
            if l == 0:
                item.setPos(x - offset * px, y)
                width = self._metrics.horizontalAdvance(f"x₁ {WIDEST}") + 6
                rect = self._rect(x, y, -offset - width, width, line_h + 2)
            elif l == len(self._sizes) - 1:
                item.setPos(x + (offset + self.names_px + GAP_PX) * px, y)
                dx = offset + self.names_px + GAP_PX
                rect = self._rect(x, y, dx, node_w, lines[l] * line_h + 2)
            else:
                item.setPos(x - offset * px, y)
                rect = self._rect(x, y, -offset - node_w, node_w, lines[l] * line_h + 2)
            placed.append(rect)
            item.setVisible(True)
        for x_l, y_l in zip(xs, ys, strict=True):  # no number on a node's disc
            for x, y in zip(x_l, y_l, strict=True):
                placed.append(self._rect(float(x), float(y), -node_px / 2, node_px, node_px))
        self._place_summary(placed)
        # edges: the selected neuron's first, then layer by layer
        order = sorted(
            self._edges, key=lambda e: (self.selected not in ((e[0], e[1]), (e[0] - 1, e[2])), e)
        )
        written = 0
        for l, i, j in order:
            item = self._edges[(l, i, j)]
            x0, y0 = float(xs[l - 1][j]), float(ys[l - 1][j])
            x1, y1 = float(xs[l][i]), float(ys[l][i])
            for t in self._along(l, i, j):  # the first free place along the edge
                x, y = x0 + t * (x1 - x0), y0 + t * (y1 - y0)
                rect = self._rect(x, y, -edge_w / 2, edge_w, line_h + 2)
                if not any(rect.intersects(other) for other in placed):
                    item.setPos(x, y)
                    placed.append(rect)
                    written += 1
                    break
            else:
                item.setVisible(False)
                continue
            item.setVisible(True)
        self.edges_written, self.edges_total = written, len(self._edges)
        shown = "all" if written == len(self._edges) else str(written)
        self.summary.setText(SUMMARY.format(written=shown, total=len(self._edges)))

    def _place_summary(self, placed: list[QtCore.QRectF]) -> None:
        """The lines saying what the edges' numbers are and how many are written: in the
        view's top-left corner, else its top-right, whichever no node label covers."""
        (left, right), (_, top) = self.vb.viewRange()
        lines = SUMMARY.format(written="00", total="00").split("\n")
        text_w = max(self._metrics.horizontalAdvance(t) for t in lines) + 4
        height = len(lines) * self._metrics.height() + 4
        for x, anchor, dx in ((left, (0, 0), 0.0), (right, (1, 0), -text_w)):
            corner = self.vb.mapViewToScene(QtCore.QPointF(x, top))
            rect = QtCore.QRectF(corner.x() + dx, corner.y(), text_w, height)
            if not any(rect.intersects(other) for other in placed):
                self.summary.setAnchor(anchor)
                self.summary.setPos(x, top)
                self.summary.setVisible(True)
                placed.append(rect)
                return
        self.summary.setVisible(False)

    def _along(self, l: int, i: int, j: int) -> list[float]:
        """Where along edge (l, i, j) its label may go (fractions from the source), the
        preferred first: staggered by j and i so labels of one fan do not line up."""
        n_from, n_to = self._sizes[l - 1], self._sizes[l]
        first = 0.3 + 0.4 * ((j + 0.5) / n_from + (i + 0.5) / n_to) / 2
        others = np.clip(first + np.array([-0.1, 0.1, -0.2, 0.2, -0.3, 0.3]), 0.12, 0.88)
        return [first, *others.tolist()]

    def _rect(self, x: float, y: float, dx: float, width: float, height: float) -> QtCore.QRectF:
        """A label's rectangle in scene pixels: from ``dx`` pixels right of the view point
        (x, y), ``width`` wide, ``height`` tall, centred on y, plus a gap all round."""
        p = self.vb.mapViewToScene(QtCore.QPointF(x, y))
        return QtCore.QRectF(
            p.x() + dx - GAP_PX / 2, p.y() - height / 2 - GAP_PX / 2,
            width + GAP_PX, height + GAP_PX,
        )  # fmt: skip
