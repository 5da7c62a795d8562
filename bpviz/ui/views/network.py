"""The network view: layers left to right, nodes coloured by a^l (or δ^l going backward).

The input is drawn as a 28×28 image, every other layer as a column of nodes (a colour
strip when the layer is wide). Edges are coloured by w_ij^l; for a wide W^l only the
strongest |w_ij^l| are drawn and the caption says how many of how many. During the δ and
gradient phases the nodes show δ^l (each layer scaled to its own max |δ^l|) and the layer
the phase concerns is highlighted, so δ is seen travelling from the output to the input.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from pyqtgraph.Qt import QtCore, QtWidgets

from bpviz.session.snapshot import PhaseKind, Snapshot
from bpviz.ui import colors
from bpviz.ui.throttle import Throttle
from bpviz.ui.views._base import SnapshotView, entry, pick
from bpviz.ui.views._edges import EdgeLayer
from bpviz.ui.views._widgets import caption_bar, superscript
from bpviz.ui.views.glass import GlassOverlay
from bpviz.ui.views.glass import applies as glass_applies
from bpviz.ui.views.glass import spacing as glass_spacing

MAX_NODES = 64  # wider layers are drawn as a colour strip
EDGES_HZ = 4.0  # the edges (hundreds of lines to repaint) follow new weights at most this often
TOP = 0.95  # nodes and strips span y ∈ [1 − TOP, TOP]
BACKWARD = (PhaseKind.DELTA, PhaseKind.GRADIENT)
MODES = {False: "aˡ", True: "δˡ (backward)"}  # what the nodes show


class NetworkView(SnapshotView):
    """Layers, nodes and the strongest edges of the network in one picture.

    Signals: ``example_changed(int)`` (−1 = batch mean), ``neuron_clicked(l, i)``
    (l = 0 for an input pixel) and ``edge_clicked(l, i, j)`` for w_ij^l. Setters:
    ``set_example(index_or_None)``, ``set_class_names(names)``, ``set_selection(l, i, j)``.
    """

    neuron_clicked = QtCore.Signal(int, int)
    edge_clicked = QtCore.Signal(int, int, int)

    def __init__(self, parent: QtWidgets.QWidget | None = None, max_edges: int = 300) -> None:
        super().__init__(parent)
        self.max_edges = max_edges
        self._class_names: list[str] = [str(k) for k in range(10)]
        self._sizes: tuple[int, ...] = ()
        self._backward: bool | None = None

        # What the nodes show (changes with the phase) apart from the edges' rule (changes
        # with the network): a caption whose text changes, re-wrapped to another number
        # of lines, would resize the plot below it and re-lay out all of it every phase.
        self.mode = QtWidgets.QLabel()
        texts = [f"nodes: {m}" for m in MODES.values()]
        self.mode.setFixedWidth(
            max(self.mode.fontMetrics().horizontalAdvance(t) for t in texts) + 8
        )
        self.caption = QtWidgets.QLabel()
        self.caption.setWordWrap(True)
        bar = caption_bar(self, self.caption)
        bar.insertWidget(0, self.mode)

        self.canvas = pg.GraphicsLayoutWidget()
        self.canvas.setBackground(colors.BACKGROUND)
        self.plot: pg.PlotItem = self.canvas.addPlot()
        self.plot.hideAxis("left")
        self.plot.hideAxis("bottom")
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.vb: pg.ViewBox = self.plot.getViewBox()
        self.vb.setMouseEnabled(False, False)
        self.colorbar = pg.ColorBarItem(
            values=(0, 1), colorMap=colors.SEQUENTIAL, interactive=False, width=14
        )
        self.colorbar.setMenuEnabled(False)
        self.canvas.addItem(self.colorbar)
        colors.style_plot(self.colorbar)

        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(bar)
        layout.addWidget(self.canvas, 1)

        self.highlight = QtWidgets.QGraphicsRectItem()
        self.highlight.setPen(pg.mkPen(None))
        self.highlight.setBrush(pg.mkBrush(*colors.HIGHLIGHT, 28))
        self.highlight.setZValue(-20)
        self.vb.addItem(self.highlight, ignoreBounds=True)
        self.edges = EdgeLayer(self.vb, max_edges)
        self.input_image = pg.ImageItem(axisOrder="row-major")
        self.input_image.setZValue(5)
        self.vb.addItem(self.input_image)
        self._selection: tuple[int, int, int | None] | None = None
        self.selected_edge = pg.PlotCurveItem(pen=pg.mkPen(colors.HIGHLIGHT, width=3))
        self.selected_node = pg.ScatterPlotItem(
            size=22, brush=None, pen=pg.mkPen(colors.HIGHLIGHT, width=3)
        )
        for item in (self.selected_edge, self.selected_node):
            item.setZValue(30)
            self.vb.addItem(item, ignoreBounds=True)
        self._columns: list[pg.GraphicsObject] = []  # per layer 1 … L: scatter or strip
        self._labels: list[pg.TextItem] = []
        self._out_labels: list[pg.TextItem] = []
        self._node_y: list[np.ndarray] = []  # per layer 0 … L: y of each neuron
        self._input_rect = QtCore.QRectF()
        self._input_side = 0
        self._missing_brush = pg.mkBrush(colors.MISSING)
        # the edges' own, slower rate (hz None: redraw the edges for every snapshot)
        self.edge_throttle = Throttle(self._update_edges, EDGES_HZ, self)
        self.glass = GlassOverlay(self.vb)
        self.vb.sigResized.connect(self._resize_nodes)
        self.plot.scene().sigMouseClicked.connect(self._clicked)

    # -- public setters --------------------------------------------------------------
    def set_class_names(self, names: Sequence[str]) -> None:
        """Label the output nodes (index k = class k); default "0" … "9"."""
        self._class_names = [str(n) for n in names]
        for k, item in enumerate(self._out_labels):
            item.setText(self._class_names[k] if k < len(self._class_names) else str(k))

    def _example_set(self, index: int | None) -> None:
        self.example_spin.set_example(index)

    def set_selection(self, l: int, i: int, j: int | None = None) -> None:
        """Highlight w_ij^l (its edge, even when not among the strongest, and neuron i of
        layer l); j None or −1: the bias b_i^l (the neuron only)."""
        self._selection = (l, i, None if j is None or j < 0 else j)
        self._draw_selection()
        self.glass.selected = (l, i)  # its edges' numbers are written first
        self.glass.draw(self)

    def _draw_selection(self) -> None:
        selection = self._selection
        sizes = self._sizes
        if selection is None or not sizes or not (1 <= selection[0] < len(sizes)):
            self.selected_edge.setData([], [])
            self.selected_node.setData([], [])
            return
        l, i, j = selection
        if not (0 <= i < sizes[l] and (j is None or 0 <= j < sizes[l - 1])):
            return
        y = self._node_y[l][i]
        self.selected_node.setData([float(l)], [float(y)])
        if j is None:
            self.selected_edge.setData([], [])
        else:
            x0 = self._input_x[j] if l == 1 and self._input_side else float(l - 1)
            self.selected_edge.setData([x0, float(l)], [self._node_y[l - 1][j], y])

    # -- structure (rebuilt only when the network's sizes change) ------------------
    def _build(self, sizes: tuple[int, ...]) -> None:
        for item in (*self._columns, *self._labels, *self._out_labels):
            self.vb.removeItem(item)
        self._columns, self._labels, self._out_labels, self._node_y = [], [], [], []
        self._sizes = sizes
        L = len(sizes) - 1
        side = math.isqrt(sizes[0])
        self._input_side = side if side * side == sizes[0] else 0
        # Colours per image, ``(rows, cols, 4)`` uint8, reused frame after frame.
        self._rgba = {0: np.zeros((side, side, 4), np.uint8)}
        if self._input_side:
            self.input_image.setImage(self._rgba[0], levels=None)
            self.input_image.setVisible(True)
        else:
            self.input_image.setVisible(False)
        spread = glass_applies(sizes)  # room for the numbers between nodes
        self._node_y.append(self._column_y(sizes[0], spread))
        self._input_x = np.zeros(sizes[0])
        for l in range(1, L + 1):
            n = sizes[l]
            self._node_y.append(self._column_y(n, spread))
            if n > MAX_NODES:
                self._rgba[l] = np.zeros((n, 1, 4), np.uint8)
                item = pg.ImageItem(axisOrder="row-major")
                item.setImage(self._rgba[l], levels=None)
                item.setRect(QtCore.QRectF(l - 0.04, 1 - TOP, 0.08, 2 * TOP - 1))
                item.setBorder(pg.mkPen(colors.MISSING))
            else:
                item = pg.ScatterPlotItem(
                    x=np.full(n, float(l)),
                    y=self._node_y[l],
                    pen=pg.mkPen(colors.MISSING, width=1),
                    brush=colors.MISSING,
                    size=10,
                )
            item.setZValue(10)
            self.vb.addItem(item)
            self._columns.append(item)
        for l in range(L + 1):
            label = pg.TextItem(anchor=(0.5, 0), color=colors.FOREGROUND)
            label.setPos(float(l), 1 - TOP - 0.01)
            self.vb.addItem(label)
            self._labels.append(label)
        for k, yk in enumerate(self._node_y[L] if sizes[L] <= MAX_NODES else []):
            text = self._class_names[k] if k < len(self._class_names) else str(k)
            label = pg.TextItem(text, anchor=(0, 0.5), color=colors.FOREGROUND)
            label.setPos(L + 0.06, float(yk))
            self.vb.addItem(label)
            self._out_labels.append(label)
        self.vb.setRange(xRange=(-0.55, L + 0.25), yRange=(-0.08, 1.0), padding=0)
        self.edges.build(sizes, self._input_x, self._node_y)
        self._edges_drawn_at = -float("inf")
        self._input_rect = QtCore.QRectF()
        self._backward = None
        self._resize_nodes()
        self._draw_selection()

    @staticmethod
    def _column_y(n: int, spread: bool = False) -> np.ndarray:
        """y of each neuron of an n-neuron column, neuron 0 at the top (``spread``: wider
        apart, for the glass box's numbers)."""
        if n > MAX_NODES:
            return TOP - (np.arange(n) + 0.5) * (2 * TOP - 1) / n
        spacing = glass_spacing(n) if spread else min((2 * TOP - 1) / max(n - 1, 1), 0.09)
        return 0.5 + ((n - 1) / 2 - np.arange(n)) * spacing

    def _place_input(self) -> None:
        """Keep the input image square on screen, its right edge at x = 0.45."""
        side = self._input_side
        if not side:
            return
        px, py = self.vb.viewPixelSize()
        h = 2 * TOP - 1
        w = min(h * px / py, 0.95) if py > 0 else h
        h = w * py / px if py > 0 else h
        rect = QtCore.QRectF(0.45 - w, 0.5 - h / 2, w, h)
        if rect == self._input_rect:
            return
        self._input_rect = rect
        self.input_image.setRect(rect)
        r, c = np.divmod(np.arange(side * side), side)
        self._node_y[0] = rect.top() + (side - r - 0.5) * h / side
        self._input_x = rect.left() + (c + 0.5) * w / side
        self.edges.set_input_x(self._input_x, self._node_y[0])
        self._draw_selection()

    def _resize_nodes(self) -> None:
        """Node size in pixels follows the view's height and the node spacing."""
        self.glass.fit(self)  # room for the numbers (sets the x range)
        self._place_input()
        height = max(self.vb.height(), 1.0)
        size = 8.0
        for l, item in enumerate(self._columns, start=1):
            if isinstance(item, pg.ScatterPlotItem):
                ys = self._node_y[l]
                spacing = abs(ys[0] - ys[1]) if len(ys) > 1 else 0.09
                size = float(np.clip(0.8 * spacing * height / 1.08, 4, 26))
                item.setSize(size)
        px = self.vb.viewPixelSize()[0]
        for label in self._out_labels:  # beside the output nodes, whatever the zoom
            label.setPos(len(self._sizes) - 1 + (size / 2 + 4) * px, label.pos().y())
        self.glass.draw(self)

    # -- drawing ------------------------------------------------------------------
    def _render(self, snapshot: Snapshot) -> None:
        sizes = tuple(snapshot.config.sizes)
        if sizes != self._sizes:
            self._build(sizes)
        L = len(sizes) - 1
        self.example_spin.set_batch_size(snapshot.config.batch_size)
        phase = snapshot.phase
        backward = phase is not None and phase.kind in BACKWARD
        if backward != self._backward:
            self._set_mode(backward, L)
        self.edge_throttle.request()
        self._draw_input(pick(snapshot.x, self.example))
        for l in range(1, L + 1):
            if backward:
                values = pick(entry(snapshot.delta, l - 1), self.example)
                level = colors.symmetric_level(values)
                self._draw_column(l, values, -level, level, colors.DIVERGING_LUT)
            else:
                values = pick(entry(snapshot.a, l), self.example)
                lo, hi = self._activation_levels(snapshot, l)
                self._draw_column(l, values, lo, hi, colors.SEQUENTIAL_LUT)
        self._draw_highlight(phase, L)
        self.glass.draw(self)  # glass box: every number (bpviz/ui/views/glass.py)

    def _update_edges(self) -> None:
        """Draw the edges of the latest snapshot's weights (rate-limited to EDGES_HZ)."""
        if self.snapshot is None or tuple(self.snapshot.config.sizes) != self._sizes:
            return
        self.edges.update(self.snapshot.weights)
        self._set_caption()

    def _set_mode(self, backward: bool, L: int) -> None:
        self._backward = backward
        if backward:
            self.colorbar.setColorMap(colors.DIVERGING)
            self.colorbar.setLevels((-1, 1))
            self.colorbar.getAxis("right").setLabel("δˡ / max|δˡ|")
        else:
            self.colorbar.setColorMap(colors.SEQUENTIAL)
            self.colorbar.setLevels((0, 1))
            self.colorbar.getAxis("right").setLabel("aˡ")
        self._set_caption()
        for l, label in enumerate(self._labels):
            name = "x = a⁰" if l == 0 else ("δ" if backward else "a") + superscript(l)
            label.setText(f"{name}\n({self._sizes[l]})")

    @staticmethod
    def _activation_levels(snapshot: Snapshot, l: int) -> tuple[float, float]:
        config = snapshot.config
        name = config.output if l == config.n_layers else config.hidden
        if name == "tanh":
            return -1.0, 1.0
        if name in ("relu", "leaky_relu"):
            a = entry(snapshot.a, l)
            return 0.0, max(1.0, float(a.max()) if a is not None else 1.0)
        return 0.0, 1.0

    def _draw_input(self, x: np.ndarray | None) -> None:
        side = self._input_side
        if not side:
            return
        buffer = self._rgba[0]
        if x is None:
            buffer[:] = 0  # transparent: not computed yet
        else:
            colors.rgba(x.reshape(side, side)[::-1], 0.0, 1.0, colors.GREYS_LUT, out=buffer)
        self.input_image.setImage(buffer, levels=None)

    def _draw_column(self, l, values, lo, hi, lut) -> None:
        item = self._columns[l - 1]
        if isinstance(item, pg.ImageItem):
            buffer = self._rgba[l]
            if values is None:
                buffer[:] = 0  # transparent inside the grey border: not computed yet
            else:
                colors.rgba(values[::-1, None], lo, hi, lut, out=buffer)
            item.setImage(buffer, levels=None)
            return
        if values is None:
            item.setBrush([self._missing_brush] * len(self._node_y[l]))
            return
        palette = colors.brushes(lut)
        item.setBrush([palette[k] for k in colors.lut_indices(values, lo, hi)])

    def _draw_highlight(self, phase, L: int) -> None:
        if phase is None or phase.layer is None:
            self.highlight.setVisible(phase is not None and phase.kind is PhaseKind.UPDATE)
            if self.highlight.rect() != QtCore.QRectF(0, 0, L, 1):
                self.highlight.setRect(QtCore.QRectF(0, 0, L, 1))
            self.edges.set_highlight(None)
            return
        l = phase.layer
        if phase.kind is PhaseKind.GRADIENT:
            rect = QtCore.QRectF(l - 1, 1 - TOP - 0.02, 1, 2 * TOP - 1 + 0.04)
        else:
            rect = QtCore.QRectF(l - 0.15, 1 - TOP - 0.02, 0.3, 2 * TOP - 1 + 0.04)
        if rect != self.highlight.rect():
            self.highlight.setRect(rect)
        self.highlight.setVisible(True)
        self.edges.set_highlight(l if phase.kind is PhaseKind.GRADIENT else None)

    def _set_caption(self) -> None:
        mode = f"nodes: {MODES[bool(self._backward)]}"
        if mode != self.mode.text():
            self.mode.setText(mode)
        text = f"· edges: wᵢⱼˡ, by |w| — {self.edges.rule()}"
        if text != self.caption.text():
            self.caption.setText(text)

    # -- clicks -------------------------------------------------------------------
    def _clicked(self, event) -> None:
        if not self._sizes or not self.vb.sceneBoundingRect().contains(event.scenePos()):
            return
        pos = self.vb.mapSceneToView(event.scenePos())
        px, py = self.vb.viewPixelSize()
        hit = self._node_at(pos.x(), pos.y(), px, py)
        if hit is not None:
            self.neuron_clicked.emit(*hit)
            return
        edge = self.edges.edge_at(pos.x(), pos.y(), px, py)
        if edge is not None:
            self.edge_clicked.emit(*edge)

    def _node_at(self, x: float, y: float, px: float, py: float) -> tuple[int, int] | None:
        if self._input_side and self._input_rect.contains(QtCore.QPointF(x, y)):
            side, rect = self._input_side, self._input_rect
            c = int((x - rect.left()) / rect.width() * side)
            r = side - 1 - int((y - rect.top()) / rect.height() * side)
            return 0, int(np.clip(r, 0, side - 1) * side + np.clip(c, 0, side - 1))
        l = round(x)
        if not 1 <= l < len(self._sizes) or abs(x - l) > max(0.05, 8 * px):
            return None
        ys = self._node_y[l]
        i = int(np.argmin(np.abs(ys - y)))
        tolerance = max(abs(ys[0] - ys[1]) / 2 if len(ys) > 1 else 0.05, 2 * py)
        return (l, i) if abs(ys[i] - y) <= tolerance else None
