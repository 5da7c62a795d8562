"""The δ view: for every layer, the factors of δ^l side by side.

Row l shows ∂C/∂a^l (= (W^{l+1})^T δ^{l+1} for a hidden layer, the cost's derivative for
the output), σ'(z^l) and their product δ^l = ∂C/∂a^l ⊙ σ'(z^l), each over the neurons
i = 0 … n_l − 1 of the layer, as bars filled with the window's colour maps along the
value axis: the signed ∂C/∂a^l and δ^l with ``colors.DIVERGING`` over ±the cell's level
(blue < 0 < red), σ'(z^l) with ``colors.SEQUENTIAL`` on the fixed scale [0, max σ'], so
saturated neurons (σ' ≈ 0, which stop δ) stand out. A bar's tip has its value's colour;
a strip at the cell's left edge is the legend of that map, beside the axis (or the
label) that says the level. Hovering a bar gives its equation with the numbers in it.
The output layer is the top row, so δ is read flowing downward, as it is computed.

A layer wider than its cell has pixels shows the neurons sharing a pixel column as one
bar reaching their extremes (the largest positive and the most negative value: a spike
is never lost); for σ'(z^l), the column's smallest σ' bright over its largest dim, so a
saturated neuron still shows as a gap.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from pyqtgraph.Qt import QtCore, QtGui, QtWidgets

from bpviz.session.snapshot import PhaseKind, Snapshot
from bpviz.ui import colors
from bpviz.ui.views import _delta_hover
from bpviz.ui.views._bar_items import _Columns, _Polygon
from bpviz.ui.views._base import SnapshotView, entry, pick, same_sources
from bpviz.ui.views._legend import gradient, level_text
from bpviz.ui.views._widgets import caption_bar, live_canvas, superscript

ROW_HIGHLIGHT = (*colors.HIGHLIGHT, 28)
DIM = 0.4  # opacity of the largest σ' of a pixel column of a wide layer (the smallest: 1)
STRIP_PX, STRIP_GAP_PX = 5, 3  # the legend strip at a cell's left edge, in pixels
CELL_BORDER = colors.MISSING_AREA  # without axes, a faint frame tells the cells apart
MAX_POLYGON_BARS = 64  # wider vectors are drawn as one vertical line per pixel column


def bar_outline(edges: np.ndarray, heights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The outline of bars ``heights`` ``(n,)`` between ``edges`` ``(n + 1,)`` standing on
    zero, as one closed polygon ``(x, y)`` of 2n + 2 points."""
    x = np.repeat(edges, 2)
    y = np.concatenate(([0.0], np.repeat(heights, 2), [0.0]))
    return x, y


def column_starts(n: int, pixels: int) -> np.ndarray | None:
    """First neuron of each group of neurons sharing a pixel column of a ``pixels``-wide
    cell (``np.maximum.reduceat`` groups), or None when every neuron has a column."""
    if n <= max(pixels, 1):
        return None
    return np.arange(0, n, -(-n // max(pixels, 1)))


class _Bars:
    """One cell: a bar chart of one vector. Up to MAX_POLYGON_BARS bars are one filled
    polygon per colour (a QGraphicsPathItem); more are one line per pixel column
    (drawLines), as filling a polygon of hundreds of vertices costs several times more to
    repaint."""

    def __init__(self, plot: pg.PlotItem, title: str, signed: bool) -> None:
        self.plot, self.title, self.signed = plot, title, signed
        # per polygon, the opacity of the map's colours (unsigned: dim maxima, bright minima)
        self.palette = (1.0, 1.0) if signed else (DIM, 1.0)
        self.lut = colors.DIVERGING_LUT if signed else colors.SEQUENTIAL_LUT
        self.strip = QtWidgets.QGraphicsRectItem()  # the legend: the map along the axis
        self.strip.setPen(pg.mkPen(None))
        self.strip.setZValue(4)
        plot.addItem(self.strip, ignoreBounds=True)
        self._brush_key: tuple = ()
        self._left = -0.5  # the x range's left end (room for the strip)
        self.polygons: list[QtWidgets.QGraphicsItem] = []
        self.lines = False
        self.note = pg.TextItem("", color=colors.MISSING, anchor=(0.5, 0.5))
        self.notes = ("not computed yet", "–")  # (full, compact)
        plot.addItem(self.note, ignoreBounds=True)
        # In a small dock the axes go: the title and the scale are written in the cell.
        self.label = pg.TextItem("", color=colors.FOREGROUND, anchor=(0, 0))
        self.compact = False  # label shown, axes hidden
        self._range = (-1.0, 1.0)
        self.label.setZValue(5)
        plot.addItem(self.label, ignoreBounds=True)
        # The bars are bounded by the whole cell, so each new δ repaints the cell: the
        # texts, which change far less often, are drawn from a pixmap then (a text
        # document's layout replayed cost more than the bars). Not the strip: its
        # gradient spans the level in value units (±1e-5 and less), and drawn into a
        # cache at such a scale it came out one flat colour.
        cached = QtWidgets.QGraphicsItem.CacheMode.DeviceCoordinateCache
        for item in (self.label.textItem, self.note.textItem):
            item.setCacheMode(cached)
        self.fixed: float | None = None
        # Each mini-batch brings a new example whose δ may be far smaller: while running,
        # the axis (all its text) shrinks only after a second of small ones
        self.auto = colors.StickyLevel(shrink=6.0, hold=1.0)
        self.values: np.ndarray | None = None
        self._source: tuple = ()  # (array, example) ``values`` were picked from
        self.starts: np.ndarray | None = None  # groups of neurons per pixel column
        self._columns: tuple = ()  # (n, neurons per column) that starts and edges are for
        self.n = 0
        plot.getViewBox().sigResized.connect(self._fit_columns)

    def set_size(self, n: int, fixed: float | None) -> None:
        """``n`` neurons; ``fixed``: the axis is [0, fixed] (σ'), else ±(sticky max |·|)."""
        self.n, self.fixed = n, fixed
        self.auto.reset()
        self._source = ()
        for item in self.polygons:
            self.plot.removeItem(item)
        self.polygons = []
        self.lines = n > MAX_POLYGON_BARS
        for _ in self.palette:
            if self.lines:
                item = _Columns(pg.mkPen(colors.FOREGROUND))
            else:
                item = _Polygon()
                item.setPen(pg.mkPen(None))
            self.plot.addItem(item, ignoreBounds=True)
            self.polygons.append(item)
        self._columns = ()
        self._brush_key = ()
        self.plot.setXRange(-0.5, n - 0.5, padding=0.01)
        if fixed is not None:
            self._set_range(0.0, fixed)
        else:
            self._set_range(-1.0, 1.0)
        self._fit_columns()

    def _set_range(self, lo: float, hi: float) -> None:
        self._range = (lo, hi)
        top = hi
        if self.compact:  # a strip above the bars for the label: bars never repaint it
            pixels = self.plot.getViewBox().height()
            text = self.label.textItem.boundingRect().height()  # pixels, with its margins
            top = hi + (hi - lo) * text / max(pixels - text, text)
        box = self.plot.getViewBox()
        box.setYRange(lo, top, padding=0.05 if self.fixed is not None else 0)
        # the new transform now, not while the scene paints (its changes then asked for
        # a second paint of the cell)
        box.updateMatrix()
        # every |value| ≤ the axis' limit (σ' ≤ its maximum)
        rect = QtCore.QRectF(-1.0, lo, self.n + 1.0, hi - lo)
        for item in self.polygons:
            item.set_bounds(rect)
        self.note.setPos((self.n - 1) / 2, (lo + hi) / 2)
        self.label.setPos(self._left, top)
        if self.fixed is not None:
            scale = f"0 … {hi:.3g}"
        else:  # — : nothing computed yet, so no scale to state
            scale = "±—" if self.auto.level is None else f"±{hi:.2g}"
        self.label.setText(f"{self.title}  {scale}")
        self._paint(lo, hi)

    def _paint(self, lo: float, hi: float) -> None:
        """Fill the bars and the legend strip with the map over (lo, hi) along the value
        axis, and mark the axis' ends with the level (the legend's numbers)."""
        key = (lo, hi, self.lines, self._left, self.plot.getViewBox().width())
        if key == self._brush_key or not self.polygons:
            return
        self._brush_key = key
        start, stop = QtCore.QPointF(0.0, lo if self.signed else 0.0), QtCore.QPointF(0.0, hi)
        grad = gradient(self.lut, start, stop)
        for item, alpha in zip(self.polygons, self.palette, strict=True):
            brush = QtGui.QBrush(grad if alpha == 1.0 else gradient(self.lut, start, stop, alpha))
            if self.lines:
                pen = QtGui.QPen(item.opts["pen"])
                pen.setBrush(brush)
                item.setPen(pen)
            else:
                item.setBrush(brush)
        self.strip.setBrush(QtGui.QBrush(grad))
        px = max(self.plot.getViewBox().width(), 1.0)
        per_px = (self.n - 0.5 - self._left) / px
        self.strip.setRect(QtCore.QRectF(self._left, lo, STRIP_PX * per_px, hi - lo))
        low, high = level_text(hi, self.signed)
        ticks = [(lo, low), (0.0, "0"), (hi, high)] if self.signed else [(0.0, low), (hi, high)]
        self.plot.getAxis("left").setTicks([ticks])

    def _fit_columns(self) -> None:
        """Group the neurons by pixel column of the cell (after a resize); keep room for
        the legend strip at the left edge."""
        px = max(self.plot.getViewBox().width(), 1.0)
        room = STRIP_PX + STRIP_GAP_PX
        self._left = -0.5 - room * self.n / max(px - room, 1.0)
        self.plot.setXRange(self._left, self.n - 0.5, padding=0)
        self._paint(*self._range)
        starts = column_starts(self.n, int(px))
        key = (self.n, None if starts is None else int(starts[1]))  # neurons per column
        if self.compact:
            self._set_range(*self._range)  # the label's strip, in the new pixels
        if key == self._columns:
            return
        self._columns, self.starts = key, starts
        first = np.arange(self.n) if starts is None else starts
        self.edges = np.append(first, self.n).astype(float) - 0.5
        if self.lines:  # one vertical line per column, as wide as 80 % of it (≥ 1 px)
            centres = (self.edges[:-1] + self.edges[1:]) / 2
            self.x_pairs = np.repeat(centres, 2)
            self.y_pairs = [np.zeros(2 * len(centres)) for _ in self.polygons]
            pixels = self.plot.getViewBox().width() * (self.edges[1] - self.edges[0]) / self.n
            for item in self.polygons:
                pen = pg.mkPen(colors.FOREGROUND, width=max(1.0, 0.8 * pixels))
                pen.setCapStyle(QtCore.Qt.PenCapStyle.FlatCap)
                item.setPen(pen)
            self._brush_key = ()  # the new pens take the map again
            self._paint(*self._range)
        if self.values is not None:
            self._draw(self.values)

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

    def heights(self) -> tuple[np.ndarray, np.ndarray] | None:
        """The two polygons' bar heights per pixel column (positive/negative parts, or σ'
        column maxima/minima), or None when nothing is drawn."""
        values = self.values
        if values is None:
            return None
        if self.signed:
            up, down = np.maximum(values, 0), np.minimum(values, 0)
            if self.starts is None:
                return up, down
            return np.maximum.reduceat(up, self.starts), np.minimum.reduceat(down, self.starts)
        if self.starts is None:
            return values, values
        return np.maximum.reduceat(values, self.starts), np.minimum.reduceat(values, self.starts)

    def _draw(self, values: np.ndarray) -> None:
        first, second = self.heights()
        self._fill(0, first if self.signed or self.starts is not None else None)
        self._fill(1, second)

    @property
    def limit(self) -> float | None:
        """The signed axis' ±limit (None: nothing computed since the cell was made)."""
        return self.auto.level

    def show(self, values: np.ndarray | None, running: bool = False, source: tuple = ()) -> None:
        """Draw ``values`` ``(n,)``, or mark the cell as not computed yet (None); while
        ``running`` the axis may wait before shrinking (``colors.StickyLevel``).
        ``source``: (the snapshot's array or None, the example) ``values`` were picked
        from. A sealed array never changes, so the same source again is the picture
        already drawn: nothing is set (stepping phase by phase, most cells keep theirs)."""
        if source and same_sources(source, self._source):
            return
        self._source = source
        self.values = values
        self.note.setVisible(values is None)
        if values is None:
            self._fill(0, None)
            self._fill(1, None)
            return
        self._draw(values)
        if not self.signed:
            return
        limit = self.auto.update(values, running=running)
        if self._range != (-limit, limit):
            self._set_range(-limit, limit)


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
            "output. σ'(zˡ) near 0 is a saturated neuron: it stops δ. A layer wider than "
            "its cell shows per pixel column the extremes of the neurons there (σ': the "
            "smallest bright, the largest dim)."
        )
        bar = caption_bar(self, self.caption)
        self.canvas = live_canvas()
        self.canvas.setBackground(colors.BACKGROUND)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(bar)
        layout.addWidget(self.canvas, 1)
        self.tip = _delta_hover.install(self)  # hover a bar: its equation and numbers

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
                bars = _Bars(plot, title, signed)
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
        """Full axes, titles and labels when there is room; in a small dock no axes at all:
        each cell's title and scale are written in its corner, the bars get the space."""
        rows = max(len(self._rows), 1)
        compact = self.canvas.width() < 600 or self.canvas.height() < 130 * rows
        if compact == self._compact or not self._rows:
            return
        self._compact = compact
        self.canvas.ci.layout.setSpacing(2 if compact else 6)
        self.canvas.ci.setContentsMargins(*((1,) * 4 if compact else (6,) * 4))
        font = QtGui.QFont()
        font.setPointSize(7 if compact else 9)
        for cells in self._rows.values():
            for bars in cells:
                plot = bars.plot
                title, left, bottom = plot.titles
                plot.setTitle(None if compact else title, color=colors.FOREGROUND, size="9pt")
                plot.layout.setContentsMargins(*((0,) * 4 if compact else (1,) * 4))
                bars.note.setText(bars.notes[compact])
                bars.label.setVisible(compact)
                bars.label.setFont(font)
                bars.compact = compact
                bars._set_range(*bars._range)
                plot.getViewBox().setBorder(CELL_BORDER if compact else None)  # cells apart
                axis = plot.getAxis("left")
                axis.setStyle(tickFont=font)
                axis.setWidth(60)
                plot.showAxis("left", not compact)
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
        running = snapshot.running
        example = self.example
        for l, cells in self._rows.items():
            for bars, arrays in zip(
                cells, (snapshot.dC_da, snapshot.sigma_prime, snapshot.delta), strict=True
            ):
                values = entry(arrays, l - 1)
                bars.show(pick(values, example), running, (values, example))
        phase = snapshot.phase
        layer = phase.layer if phase is not None and phase.kind is PhaseKind.DELTA else None
        if layer != self._highlighted:
            for l in (self._highlighted, layer):  # the rows lit before and now
                color = ROW_HIGHLIGHT if l == layer else None
                for bars in self._rows.get(l, ()):
                    bars.plot.getViewBox().setBackgroundColor(color)
            self._highlighted = layer
        self.tip.refresh()
