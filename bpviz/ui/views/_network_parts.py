"""The network view's outline of the layer being computed and its pointer: clicks and the
hover tip on neurons and edges (a mixin of ``NetworkView``, split off for size)."""

from __future__ import annotations

import numpy as np
from pyqtgraph.Qt import QtCore

from bpviz.session.snapshot import PhaseKind
from bpviz.ui.narration import computing
from bpviz.ui.views._hover import html_lines
from bpviz.ui.views._network_hover import edge_lines, node_lines

TOP = 0.95  # nodes and strips span y ∈ [1 − TOP, TOP]


class OutlineAndPointer:
    """``_draw_highlight`` (the bright outline and the "computing …" label) and the
    pointer: ``_clicked`` (scene clicks), ``_tip_text`` (the LiveTip's text), ``_hit``."""

    def _column_rect(self, l: int, px: float, py: float) -> QtCore.QRectF:
        """Layer l's outline rectangle (px, py: view units per pixel)."""
        pad = self._disc[l] / 2 + 5 if self._disc[l] else 10
        xs, ys = self._xy[l][:, 0], self._xy[l][:, 1]
        x0, x1 = xs.min() - pad * px, xs.max() + pad * px
        y0, y1 = min(ys.min(), 1 - TOP) - pad * py, max(ys.max(), TOP) + pad * py
        if l == 0:
            return self._input_rect.adjusted(-4 * px, -4 * py, 4 * px, 4 * py)
        return QtCore.QRectF(x0, y0, x1 - x0, y1 - y0)

    def _draw_highlight(self) -> None:
        snapshot, sizes = self.snapshot, self._sizes
        phase = snapshot.phase if snapshot is not None and len(self._xy) == len(sizes) else None
        self.cost_node.setVisible(phase is not None)
        self.cost_label.setVisible(phase is not None)
        if snapshot is not None and snapshot.loss is not None:
            self.cost_label.setText(f"C = {snapshot.loss:.3g}")
        else:
            self.cost_label.setText("C")
        if phase is None or self._stream:
            self.highlight.setVisible(False)
            self.computing.setVisible(False)
            return
        L, l = len(sizes) - 1, phase.layer
        px, py = self.vb.viewPixelSize()  # once: pyqtgraph maps two vectors to find it
        if phase.kind in (PhaseKind.FORWARD, PhaseKind.DELTA):
            rect = self._column_rect(l, px, py)
        elif phase.kind is PhaseKind.GRADIENT:
            rect = self._column_rect(l - 1, px, py).united(self._column_rect(l, px, py))
        elif phase.kind is PhaseKind.COST:
            rect = self._column_rect(L, px, py).united(
                QtCore.QRectF(self.edges.cost_xy[0] - 14 * px, 0.5 - 14 * py, 28 * px, 28 * py)
            )
        else:
            rect = self._column_rect(0, px, py).united(self._column_rect(L, px, py))
        self.highlight.setRect(rect)
        self.highlight.setVisible(True)
        self.computing.setText(computing(phase, snapshot.config))
        half = self.computing.boundingRect().width() / 2 * px
        x = min(max(rect.center().x(), -0.5 + half), self._right - half)
        self.computing.setPos(x, rect.bottom() if rect.bottom() > rect.top() else rect.top())
        self.computing.setVisible(True)

    # -- pointer ------------------------------------------------------------------
    def _view_point(self, scene: QtCore.QPointF):
        if not self._sizes or not self.vb.sceneBoundingRect().contains(scene):
            return None
        return self.vb.mapSceneToView(scene)

    def _hit(self, pos) -> tuple | None:
        """("node", l, i) or ("edge", l, i, j) at view point ``pos``, or None."""
        px, py = self.vb.viewPixelSize()
        node = self._node_at(pos.x(), pos.y(), px, py)
        if node is not None:
            return ("node", *node)
        edge = self.edges.edge_at(pos.x(), pos.y(), px, py)
        return None if edge is None else ("edge", *edge)

    def _clicked(self, event) -> None:
        pos = self._view_point(event.scenePos())
        hit = None if pos is None else self._hit(pos)
        if hit is not None and hit[0] == "node":
            self.neuron_clicked.emit(*hit[1:])
        elif hit is not None:
            self.edge_clicked.emit(*hit[1:])

    def _tip_text(self, pos: QtCore.QPointF) -> str | None:
        point = self._view_point(self.canvas.mapToScene(pos.toPoint()))
        hit = None if point is None or self.snapshot is None else self._hit(point)
        if hit is None or tuple(self.snapshot.config.sizes) != self._sizes:
            return None
        lines = (node_lines if hit[0] == "node" else edge_lines)(
            self.snapshot, *hit[1:], self.example
        )
        return html_lines(*lines)

    def _node_at(self, x: float, y: float, px: float, py: float) -> tuple[int, int] | None:
        if self._input_side and self._input_rect.contains(QtCore.QPointF(x, y)):
            side, rect = self._input_side, self._input_rect
            c = int((x - rect.left()) / rect.width() * side)
            r = side - 1 - int((y - rect.top()) / rect.height() * side)
            return 0, int(np.clip(r, 0, side - 1) * side + np.clip(c, 0, side - 1))
        for l in range(1, len(self._sizes)):
            xy = self._xy[l]
            if self._disc[l]:  # within the disc (and 2 px around it)
                d = np.hypot((xy[:, 0] - x) / px, (xy[:, 1] - y) / py)
                i = int(np.argmin(d))
                if d[i] <= self._disc[l] / 2 + 2:
                    return l, i
            elif abs(x - l) <= 8 * px:  # a strip: the row under the pointer
                i = int(np.argmin(np.abs(xy[:, 1] - y)))
                if abs(xy[i, 1] - y) <= max(abs(xy[0, 1] - xy[-1, 1]) / len(xy), 2 * py):
                    return l, i
        return None
