"""The network view: layers left to right, nodes coloured by aˡ (or δˡ going backward),
the signal travelling along the edges while a phase plays.

The input is a 28×28 image whose edges leave from its right border; every other layer is
a column of discs (≥ 10 px, zig-zagging over sub-columns when the view is short) or a
colour strip when wider than 64 neurons. Edges show the strongest wᵢⱼ; the phase being
computed lights up what its edges carry (``_waves``) and ``animate(p)`` runs that wave
along them, the computed layer filling in as it arrives. A bright outline and a label
name the layer being computed and its equation; a narration line says it in words
(``bpviz.ui.narration``); two legends give the nodes' and the edges' colour scales.
Hover a neuron or an edge for its values (``LiveTip``).

For other helpers: ``node_positions(l)`` gives the neurons' centres ``(n_l, 2)`` in the
coordinates of ``self.vb`` (the ViewBox of ``self.plot``), ``node_size(l)`` their disc
diameter in pixels; ``layout_changed`` fires when they move (a resize).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from pyqtgraph.Qt import QtCore, QtWidgets

from bpviz.session.snapshot import PhaseKind, Snapshot
from bpviz.ui import colors
from bpviz.ui.narration import FULL_SPEED, narrate
from bpviz.ui.throttle import Throttle
from bpviz.ui.views._base import SnapshotView, entry, pick
from bpviz.ui.views._edges import EdgeLayer
from bpviz.ui.views._hover import LiveTip
from bpviz.ui.views._network_legend import ColourLegend, ElidedLabel
from bpviz.ui.views._network_nodes import NodeColours
from bpviz.ui.views._network_parts import OutlineAndPointer
from bpviz.ui.views._network_structure import NetworkStructure
from bpviz.ui.views._waves import wave_plan
from bpviz.ui.views._widgets import Pinned, caption_bar, live_canvas, superscript
from bpviz.ui.views.glass import GlassOverlay

EDGES_HZ = 4.0  # at full speed the edges (hundreds of lines) follow new weights this often
BACKWARD = (PhaseKind.DELTA, PhaseKind.GRADIENT)
ARRIVE = 0.8  # the wave reaches the computed layer at this fraction of the phase
NO_CACHE = QtWidgets.QGraphicsItem.CacheMode.NoCache
DEVICE_CACHE = QtWidgets.QGraphicsItem.CacheMode.DeviceCoordinateCache


class NetworkView(NetworkStructure, NodeColours, OutlineAndPointer, SnapshotView):
    """Layers, nodes and the strongest edges of the network in one picture.

    Signals: ``example_changed(int)`` (−1 = batch mean), ``neuron_clicked(l, i)``
    (l = 0 for an input pixel), ``edge_clicked(l, i, j)`` for wᵢⱼˡ, ``layout_changed()``.
    Setters: ``set_example(index_or_None)``, ``set_class_names(names)``,
    ``set_selection(l, i, j)``.
    """

    neuron_clicked = QtCore.Signal(int, int)
    edge_clicked = QtCore.Signal(int, int, int)
    layout_changed = QtCore.Signal()

    def __init__(self, parent: QtWidgets.QWidget | None = None, max_edges: int = 300) -> None:
        super().__init__(parent)
        self.max_edges = max_edges
        self._class_names: list[str] = [str(k) for k in range(10)]
        self._sizes: tuple[int, ...] = ()
        self._backward: bool | None = None
        self._last_phase = None
        self._last_snapshot: Snapshot | None = None
        self.plan = None
        self._pending: int | None = None  # the column waiting for the wave
        self._stream = False  # updates stream in (full speed): no phase to point at
        self._right = 0.0  # the right end of the view's x range

        self.node_legend = ColourLegend(colors.SEQUENTIAL, "nodes δˡ/max|δˡ| −1 1")
        self.edge_legend = ColourLegend(colors.DIVERGING, "edges ∂C/∂wᵢⱼ² −0.0032 0.0032")
        self.caption = ElidedLabel()  # the edges' rule (how many are drawn)
        bar = caption_bar(self, Pinned(self.caption))  # a new rule every phase: pinned
        bar.setSpacing(14)
        bar.insertWidget(0, self.edge_legend)
        bar.insertWidget(0, self.node_legend)
        # The narration's two lines are reserved and pinned: its new text every phase
        # repaints it and never re-lays out the view (see ``Pinned``).
        self.narration = QtWidgets.QLabel()
        self.narration.setWordWrap(True)
        self.narration.setTextFormat(QtCore.Qt.TextFormat.RichText)
        self.narration.setAlignment(QtCore.Qt.AlignmentFlag.AlignTop)
        narration_line = Pinned(self.narration, 2 * self.narration.fontMetrics().lineSpacing() + 4)

        self.canvas = live_canvas()
        self.canvas.setBackground(colors.BACKGROUND)
        self.plot: pg.PlotItem = self.canvas.addPlot()
        self.plot.hideAxis("left")
        self.plot.hideAxis("bottom")
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.vb: pg.ViewBox = self.plot.getViewBox()
        self.vb.setMouseEnabled(False, False)

        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(1)
        layout.addLayout(bar)
        layout.addWidget(narration_line)
        layout.addWidget(self.canvas, 1)

        self.highlight = QtWidgets.QGraphicsRectItem()
        pen = pg.mkPen(colors.HIGHLIGHT, width=2)
        pen.setCosmetic(True)
        self.highlight.setPen(pen)
        self.highlight.setBrush(pg.mkBrush(None))
        self.highlight.setZValue(20)
        self.vb.addItem(self.highlight, ignoreBounds=True)
        self.computing = pg.TextItem(
            anchor=(0.5, 1), color=colors.HIGHLIGHT, fill=pg.mkBrush(colors.BACKGROUND)
        )
        self.computing.setZValue(25)
        self.vb.addItem(self.computing, ignoreBounds=True)
        self.edges = EdgeLayer(self.vb, max_edges)
        self.input_image = pg.ImageItem(axisOrder="row-major")
        self.input_image.setZValue(5)
        self.vb.addItem(self.input_image)
        self.cost_node = pg.ScatterPlotItem(size=16, pen=pg.mkPen(colors.FOREGROUND), brush=None)
        self.cost_label = pg.TextItem(
            "C", anchor=(1, 0), color=colors.FOREGROUND, fill=pg.mkBrush(colors.BACKGROUND)
        )
        # one disc, repainted with the edges under it every phase: from its own pixmap
        self.cost_node.setCacheMode(DEVICE_CACHE)
        for item in (self.cost_node, self.cost_label):
            item.setZValue(10)
            self.vb.addItem(item, ignoreBounds=True)
        self._selection: tuple[int, int, int | None] | None = None
        self.selected_edge = pg.PlotCurveItem(pen=pg.mkPen(colors.HIGHLIGHT, width=3))
        self.selected_node = pg.ScatterPlotItem(brush=None, pen=pg.mkPen(colors.HIGHLIGHT, width=3))
        for item in (self.selected_edge, self.selected_node):
            item.setVisible(False)  # nothing selected
            item.setZValue(30)
            self.vb.addItem(item, ignoreBounds=True)
        self._columns: list[pg.GraphicsObject] = []  # per layer 1 … L: scatter or strip
        self._labels: list[pg.TextItem] = []
        self._out_labels: list[pg.TextItem] = []
        self._xy: list[np.ndarray] = []  # per layer 0 … L: centre of each neuron
        self._disc: list[float] = []  # per layer: disc diameter in pixels (0: strip, image)
        self._brushes: dict[int, list] = {}  # per disc column: the brushes of its values
        self._input_rect = QtCore.QRectF()
        self._input_side = 0
        self._missing_brush = pg.mkBrush(colors.MISSING)
        self._reset_node_colours()
        # the edges' own, slower rate while updates stream in (full speed)
        self.edge_throttle = Throttle(self._update_edges, EDGES_HZ, self)
        self.glass = GlassOverlay(self.vb)  # every number, for a small network (glass.py)
        self.vb.sigResized.connect(self._layout)
        self.plot.scene().sigMouseClicked.connect(self._clicked)
        self.tip = LiveTip(self.canvas, self._tip_text)

    # -- public ---------------------------------------------------------------------
    def set_class_names(self, names: Sequence[str]) -> None:
        """Label the output nodes (index k = class k); default "0" … "9"."""
        self._class_names = [str(n) for n in names]
        for k, item in enumerate(self._out_labels):
            item.setText(self._class_names[k] if k < len(self._class_names) else str(k))

    def node_positions(self, layer: int) -> np.ndarray:
        """Centres of layer ``layer``'s neurons ``(n_l, 2)`` in ``self.vb``'s coordinates
        (layer 0 of a square input: the image's pixel centres)."""
        return self._xy[layer].copy()

    def node_size(self, layer: int) -> float:
        """Disc diameter of layer ``layer``'s neurons in pixels (0: a strip or the image)."""
        return self._disc[layer]

    def _example_set(self, index: int | None) -> None:
        self.example_spin.set_example(index)

    def set_selection(self, l: int, i: int, j: int | None = None) -> None:
        """Highlight wᵢⱼˡ (its edge, even when not drawn, and neuron i of layer l); j None
        or −1: the bias bᵢˡ (the neuron only)."""
        self._selection = (l, i, None if j is None or j < 0 else j)
        self._draw_selection()
        self.glass.selected = (l, i)  # its edges' numbers are written first
        self.glass.draw(self)

    def _draw_selection(self) -> None:
        node, edge = self._mark_selection()
        # hidden when empty: an empty item still costs a paint whenever the edges change
        self.selected_node.setVisible(node)
        self.selected_edge.setVisible(edge)

    def _mark_selection(self) -> tuple[bool, bool]:
        """Put the marks on the selection; whether a node and an edge are marked."""
        selection, sizes = self._selection, self._sizes
        if selection is None or not sizes or not (1 <= selection[0] < len(sizes)):
            self.selected_edge.setData([], [])
            self.selected_node.setData([], [])
            return False, False
        l, i, j = selection
        if not (0 <= i < sizes[l] and (j is None or 0 <= j < sizes[l - 1])):
            return self.selected_node.isVisible(), self.selected_edge.isVisible()
        x, y = self._xy[l][i]
        self.selected_node.setData([x], [y], size=max(self._disc[l], 8) + 10)
        if j is None:
            self.selected_edge.setData([], [])
            return True, False
        x0, y0 = self.edges.out_xy[l - 1][j]
        self.selected_edge.setData([x0, x], [y0, y])
        return True, True

    # -- drawing ------------------------------------------------------------------
    def _render(self, snapshot: Snapshot) -> None:
        sizes = tuple(snapshot.config.sizes)
        if sizes != self._sizes:
            self._build(sizes)
        L = len(sizes) - 1
        self.example_spin.set_batch_size(snapshot.config.batch_size)
        phase = snapshot.phase
        # a run of updates (full speed): the edges show W, at their own slower rate (a
        # snapshot drawn again, for another example, keeps what it was)
        if snapshot is not self._last_snapshot:
            self._stream = snapshot.running and phase == self._last_phase
            self._last_phase, self._last_snapshot = phase, snapshot
        stream = self._stream
        # Stepping, the columns keep their colours over most phases while the edges under
        # them change: repainted from pixmaps of their own. Streaming, they change every
        # frame: a pixmap would only be drawn and thrown away.
        cache = NO_CACHE if stream else DEVICE_CACHE
        for item in self._columns:
            if item.cacheMode() != cache:
                item.setCacheMode(cache)
        backward = phase is not None and phase.kind in BACKWARD
        self._draw_input(pick(snapshot.x, self.example))
        levels = []
        for l in range(1, L + 1):
            if backward:
                values = pick(entry(snapshot.delta, l - 1), self.example)
                level = colors.symmetric_level(values)
                self._draw_column(l, values, -level, level, colors.DIVERGING_LUT)
                levels.append(level if values is not None else None)
            else:
                values = pick(entry(snapshot.a, l), self.example)
                lo, hi = self._activation_levels(snapshot, l)
                self._draw_column(l, values, lo, hi, colors.SEQUENTIAL_LUT)
        self._set_mode(backward, levels, snapshot)
        self.plan = wave_plan(snapshot, self.example, stream)
        self.edges.set_plan(self.plan)
        if self.plan is None:
            self.edge_legend.set_scale("edges wᵢⱼ/max|wˡ|", -1, 1)
        else:
            level = self.plan.level
            self.edge_legend.set_scale(f"edges {self.plan.quantity}", -level, level)
        if stream:
            self.edge_throttle.request()
        else:
            self.edge_throttle.flush()
        self._pending = None
        self._draw_highlight()
        told = FULL_SPEED if stream else narrate(phase, snapshot.config)
        text = f"<b>{told.equation}</b> — {told.words}"
        if text != self.narration.text():
            self.narration.setText(text)
        self._play(1.0)  # drawn whole; the window's clock then plays it from 0
        self.glass.draw(self)  # glass box: every number (bpviz/ui/views/glass.py)
        self.tip.refresh()

    def animate(self, progress: float) -> None:
        """The phase at ``progress`` ∈ [0, 1]: the wave runs along the lit edges and
        reaches the computed layer at ``ARRIVE``; that layer's nodes fill in then."""
        self._play(progress)

    def _play(self, progress: float) -> None:
        plan = self.plan
        if plan is None or not self._columns:
            return
        front = min(1.0, max(0.0, progress) / ARRIVE)
        self.edges.set_progress(front)
        waiting = plan.target if front < 1.0 else None
        if waiting != self._pending:
            for l in {waiting, self._pending} - {None}:
                self._show_column(l, values_shown=l != waiting)
            self._pending = waiting

    def _update_edges(self) -> None:
        """The strongest edges of the latest weights (at most EDGES_HZ while streaming)."""
        if self.snapshot is None or tuple(self.snapshot.config.sizes) != self._sizes:
            return
        self.edges.update(self.snapshot.weights)
        rule = f"drawn: {self.edges.rule()}"
        self.caption.set_full_text(rule)

    def _set_mode(self, backward: bool, levels: list, snapshot: Snapshot) -> None:
        if backward != self._backward:
            self._backward = backward
            self.node_legend.set_map(colors.DIVERGING if backward else colors.SEQUENTIAL)
        if backward:
            self.node_legend.set_scale("nodes δˡ/max|δˡ|", -1, 1)
        else:
            lo, hi = self._activation_levels(snapshot, 1)
            self.node_legend.set_scale("nodes aˡ", lo, hi)
        for l, label in enumerate(self._labels):
            name = "x = a⁰" if l == 0 else ("δ" if backward else "a") + superscript(l)
            scale = ""
            if backward and l >= 1 and levels[l - 1] is not None:
                scale = f" ±{levels[l - 1]:.2g}".replace("-", "−")
            text = f"{name} ({self._sizes[l]}){scale}"
            if label.toPlainText() != text:
                label.setText(text)

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
