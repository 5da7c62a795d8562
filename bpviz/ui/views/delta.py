"""The δ view: for every layer, the factors of δ^l side by side.

Row l shows ∂C/∂a^l (= (W^{l+1})^T δ^{l+1} for a hidden layer, the cost's derivative for
the output), σ'(z^l) and their product δ^l = ∂C/∂a^l ⊙ σ'(z^l), each over the neurons
i = 0 … n_l − 1 of the layer, as bars (positive red, negative blue). σ'(z^l) is drawn on
the fixed scale [0, max σ'], so saturated neurons (σ' ≈ 0, which stop δ) stand out.
The output layer is the top row, so δ is read flowing downward, as it is computed.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from pyqtgraph.Qt import QtCore, QtGui, QtWidgets

from bpviz.session.snapshot import PhaseKind, Snapshot
from bpviz.ui import colors
from bpviz.ui.views._base import SnapshotView, entry, pick
from bpviz.ui.views._widgets import caption_bar, superscript

ROW_HIGHLIGHT = (*colors.HIGHLIGHT, 28)


def bar_outline(edges: np.ndarray, heights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The outline of bars ``heights`` ``(n,)`` between ``edges`` ``(n + 1,)`` standing on
    zero, as one closed polygon ``(x, y)`` of 2n + 2 points."""
    x = np.repeat(edges, 2)
    y = np.concatenate(([0.0], np.repeat(heights, 2), [0.0]))
    return x, y


MAX_POLYGON_BARS = 64  # wider vectors are drawn as one vertical line per neuron
SHRINK_FRAMES = 40  # about a second of frames (40 Hz) before an axis shrinks


class _Bars:
    """One cell: a bar chart of one vector. Up to MAX_POLYGON_BARS bars are one filled
    polygon per sign (a QGraphicsPathItem); more are one line per neuron (drawLines), as
    filling a polygon of thousands of vertices costs several times more to repaint."""

    def __init__(self, plot: pg.PlotItem, signed: bool) -> None:
        self.plot, self.signed = plot, signed
        self.colors = (colors.POSITIVE, colors.NEGATIVE) if signed else ("#f5a623",)
        self.polygons: list[QtWidgets.QGraphicsItem] = []
        self.note = pg.TextItem("", color=colors.MISSING, anchor=(0.5, 0.5))
        self.notes = ("not computed yet", "–")  # (full, compact)
        plot.addItem(self.note, ignoreBounds=True)
        self.limit = 0.0
        self._small = 0  # frames in a row whose level was far below the axis
        self.values: np.ndarray | None = None
        self.lines = False
        plot.getViewBox().sigResized.connect(self._fit_pens)

    def _fit_pens(self) -> None:
        """Lines as wide as 80 % of a neuron's share of the plot's width (at least 1 px)."""
        if not self.lines:
            return
        width = max(1.0, 0.8 * self.plot.getViewBox().width() / (len(self.edges) - 1))
        for item, color in zip(self.polygons, self.colors, strict=True):
            pen = pg.mkPen(color, width=width)
            pen.setCapStyle(QtCore.Qt.PenCapStyle.FlatCap)
            item.setPen(pen)

    def set_size(self, n: int, fixed: float | None) -> None:
        for item in self.polygons:
            self.plot.removeItem(item)
        self.polygons = []
        self.lines = n > MAX_POLYGON_BARS
        for color in self.colors:
            if self.lines:
                item = pg.PlotCurveItem(pen=pg.mkPen(color), connect="pairs")
                item.setSegmentedLineMode("on")
            else:
                item = QtWidgets.QGraphicsPathItem()
                item.setBrush(pg.mkBrush(color))
                item.setPen(pg.mkPen(None))
            self.plot.addItem(item, ignoreBounds=True)
            self.polygons.append(item)
        self.edges = np.arange(n + 1, dtype=float) - 0.5
        self.x_pairs = np.repeat(np.arange(n, dtype=float), 2)
        self.y_pairs = [np.zeros(2 * n) for _ in self.colors]  # one buffer per item
        self._fit_pens()
        self.plot.setXRange(-0.5, n - 0.5, padding=0.01)
        self.note.setPos((n - 1) / 2, 0)
        if fixed is not None:
            self.plot.setYRange(0, fixed, padding=0.05)
            self.note.setPos((n - 1) / 2, fixed / 2)
        else:
            self.plot.setYRange(-1, 1, padding=0)

    def _fill(self, k: int, heights: np.ndarray | None) -> None:
        item = self.polygons[k]
        if self.lines:
            if heights is None:
                item.setData([], [])
            else:
                self.y_pairs[k][1::2] = heights
                item.setData(self.x_pairs, self.y_pairs[k])
        elif heights is None:
            item.setPath(QtGui.QPainterPath())
        else:
            item.setPath(pg.arrayToQPath(*bar_outline(self.edges, heights)))

    def show(self, values: np.ndarray | None) -> None:
        """Draw ``values`` ``(n,)``, or mark the cell as not computed yet (None)."""
        self.values = values
        self.note.setVisible(values is None)
        if values is None or not self.signed:
            self._fill(0, values)
            if self.signed:
                self._fill(1, None)
            return
        self._fill(0, np.maximum(values, 0))
        self._fill(1, np.minimum(values, 0))
        m = colors.symmetric_level(values)
        # Each mini-batch brings a new example whose δ may be far smaller: shrink only
        # after SHRINK_FRAMES small ones in a row, so the axis (all its text) rarely redraws.
        self._small = self._small + 1 if m < self.limit / 6.0 else 0
        if 0 < self._small < SHRINK_FRAMES:
            m = self.limit
        limit = colors.sticky_level(m, self.limit, 6.0)
        if limit != self.limit:
            self._small = 0
            self.limit = limit
            self.plot.setYRange(-limit, limit, padding=0)


class DeltaView(SnapshotView):
    """δ^l with its factors ∂C/∂a^l and σ'(z^l), one row per layer (output on top).

    Signals: ``example_changed(int)`` (−1 = batch mean).
    """

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self._sizes: tuple[int, ...] = ()
        self._rows: dict[int, tuple[_Bars, _Bars, _Bars]] = {}  # layer l → cells
        self._highlighted: int | None = None
        self._compact: bool | None = None
        self.caption = QtWidgets.QLabel("δˡ = ∂C/∂aˡ ⊙ σ'(zˡ)")
        self.caption.setToolTip(
            "Each row is a layer l (output on top): the factors of δˡ = ∂C/∂aˡ ⊙ σ'(zˡ), "
            "with ∂C/∂aˡ = (Wˡ⁺¹)ᵀ δˡ⁺¹ for a hidden layer and the cost's derivative for the "
            "output. σ'(zˡ) near 0 is a saturated neuron: it stops δ."
        )
        bar = caption_bar(self, self.caption)
        self.canvas = pg.GraphicsLayoutWidget()
        self.canvas.setBackground(colors.BACKGROUND)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(bar)
        layout.addWidget(self.canvas, 1)

    def _example_set(self, index: int | None) -> None:
        self.example_spin.set_example(index)

    def cells(self, layer: int) -> tuple[_Bars, _Bars, _Bars]:
        """The (∂C/∂a^l, σ'(z^l), δ^l) cells of paper layer ``layer``; ``.values`` is drawn."""
        return self._rows[layer]

    def _build(self, snapshot: Snapshot) -> None:
        self.canvas.clear()
        self._rows = {}
        self._highlighted = None
        config = snapshot.config
        self._sizes = tuple(config.sizes)
        L = config.n_layers
        for row, l in enumerate(range(L, 0, -1)):
            s = superscript(l)
            name = "output" if l == L else "hidden"
            activation = config.output if l == L else config.hidden
            cells = []
            for col, (title, signed) in enumerate(
                ((f"∂C/∂a{s}", True), (f"⊙ σ'(z{s})", False), (f"= δ{s}", True))
            ):
                plot = self.canvas.addPlot(row=row, col=col)
                plot.setMenuEnabled(False)
                plot.hideButtons()
                plot.setMouseEnabled(False, False)
                plot.titles = (title, f"l = {l} ({name})" if col == 0 else None, row == L - 1)
                colors.style_plot(plot)
                bars = _Bars(plot, signed)
                fixed = None if signed else colors.sigma_prime_max(activation)
                bars.set_size(config.sizes[l], fixed)
                if not signed and l == L and activation == "softmax":
                    bars.notes = ("softmax: δᴸ = aᴸ − y\n(no σ' factor)", "no σ'")
                cells.append(bars)
            self._rows[l] = tuple(cells)
        self._compact = None
        self._apply_layout()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._apply_layout()

    def _apply_layout(self) -> None:
        """Full axes and labels when there is room; in a small dock only the titles and
        small tick labels, so the nine plots still read."""
        rows = max(len(self._rows), 1)
        compact = self.canvas.width() < 600 or self.canvas.height() < 130 * rows
        if compact == self._compact or not self._rows:
            return
        self._compact = compact
        font = QtGui.QFont()
        font.setPointSize(7 if compact else 9)
        for cells in self._rows.values():
            for bars in cells:
                plot = bars.plot
                title, left, bottom = plot.titles
                plot.setTitle(title, color=colors.FOREGROUND, size="8pt" if compact else "9pt")
                bars.note.setText(bars.notes[compact])
                axis = plot.getAxis("left")
                axis.setStyle(tickFont=font)
                axis.setWidth(34 if compact else 60)
                plot.setLabel("left", None if compact or left is None else left)
                if left is not None and not compact:
                    axis.setLabel(left, color=colors.FOREGROUND)
                if bottom and not compact:
                    plot.setLabel("bottom", "neuron i", color=colors.FOREGROUND)
                    plot.getAxis("bottom").setStyle(tickFont=font)
                plot.showAxis("bottom", bottom and not compact)

    def _render(self, snapshot: Snapshot) -> None:
        if tuple(snapshot.config.sizes) != self._sizes:
            self._build(snapshot)
        self.example_spin.set_batch_size(snapshot.config.batch_size)
        for l, (dC_da, sigma_prime, delta) in self._rows.items():
            dC_da.show(pick(entry(snapshot.dC_da, l - 1), self.example))
            sigma_prime.show(pick(entry(snapshot.sigma_prime, l - 1), self.example))
            delta.show(pick(entry(snapshot.delta, l - 1), self.example))
        phase = snapshot.phase
        layer = phase.layer if phase is not None and phase.kind is PhaseKind.DELTA else None
        if layer != self._highlighted:
            for l, cells in self._rows.items():
                color = ROW_HIGHLIGHT if l == layer else None
                for bars in cells:
                    bars.plot.getViewBox().setBackgroundColor(color)
            self._highlighted = layer
