"""The input and output view: the mini-batch's digits, the selected one large, and its
output a^L beside the one-hot target y, with the prediction argmax_k a_k^L.

The digits are drawn in greys: they are pixels (0 black … 1 white), not one of the
quantities the colour maps are for. The output bars are activations, coloured by
``colors.SEQUENTIAL`` over 0 … 1 (their legend beside the caption). Hover a pixel or a
bar for its value.

Click a digit of the grid to select that example (``example_changed`` tells the other views).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from pyqtgraph.Qt import QtCore, QtGui, QtWidgets

from bpviz.session.snapshot import Snapshot
from bpviz.ui import colors
from bpviz.ui.views import _io_hover
from bpviz.ui.views._base import SnapshotView, entry, pick, same_sources
from bpviz.ui.views._legend import ColorLegend
from bpviz.ui.views._tiles import tile_grid
from bpviz.ui.views._widgets import PickImage, Pinned, caption_bar, live_canvas

MAX_GRID = 100  # digits drawn in the grid; a larger batch shows its first MAX_GRID
RIGHT, WRONG = "#4cd964", "#ff453a"


def _plot(canvas: pg.GraphicsLayoutWidget, col: int) -> pg.PlotItem:
    plot = canvas.addPlot(row=0, col=col)
    plot.setMenuEnabled(False)
    plot.hideButtons()
    plot.setMouseEnabled(False, False)
    colors.style_plot(plot)
    return plot


def _image_plot(canvas: pg.GraphicsLayoutWidget, col: int) -> pg.PlotItem:
    """A plot for images: rows down as in the image, square pixels, no axes."""
    plot = _plot(canvas, col)
    plot.invertY(True)
    plot.setAspectLocked(True)
    plot.hideAxis("left")
    plot.hideAxis("bottom")
    return plot


class InputOutputView(SnapshotView):
    """Digits of the batch with labels (and predictions), the selected example, a^L vs y.

    Setters: ``set_example(index_or_None)``, ``set_class_names(names)``.
    Signal: ``example_changed(int)`` (−1 = batch mean).
    """

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self._class_names = [str(k) for k in range(10)]
        self._shape: tuple[int, int] = (0, 0)  # (digits in the grid, pixels per digit)
        self._n_out = 0
        self._texts: list[QtWidgets.QGraphicsSimpleTextItem] = []
        self._brushes = {c: pg.mkBrush(c) for c in (colors.FOREGROUND, RIGHT, WRONG)}
        self._font = QtGui.QFont()
        self._font.setPointSize(10)
        self._font.setBold(True)
        self._grid_of: tuple = ()  # (x, a^L) the grid shows, to skip redrawing it
        self._images = True  # whether the inputs are square images (else 2-D points)
        self._sources: tuple = ()  # what the view was last drawn from (_render)
        self.caption = QtWidgets.QLabel("the mini-batch x (labels; → prediction when wrong)")
        self.verdict = QtWidgets.QLabel()
        # Opaque, coloured through its palette (a style sheet paints slower, and a see-through
        # label's new text repaints the dock and the window behind it every frame too).
        palette = self.verdict.palette()
        palette.setColor(QtGui.QPalette.ColorRole.Window, QtGui.QColor(colors.BACKGROUND))
        palette.setColor(QtGui.QPalette.ColorRole.WindowText, QtGui.QColor(colors.FOREGROUND))
        self.verdict.setPalette(palette)
        self.verdict.setAutoFillBackground(True)
        self.verdict.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
        self._digit_text = ""
        bar = caption_bar(self, self.caption)
        self.caption.setToolTip(
            "The digits are pixels, drawn in grey: 0 black … 1 white (not a colour "
            "scale). The output bars aᴸ are activations on the sequential map (legend)."
        )
        # the output bars' colours, in the verdict's dark band (the caption row is full)
        self.legend = ColorLegend("aᴸ", signed=False)
        self.legend.set_level(1.0)
        self.legend.setPalette(palette)
        self.legend.setAutoFillBackground(True)

        self.canvas = live_canvas()
        self.canvas.setBackground(colors.BACKGROUND)
        self.grid_plot = _image_plot(self.canvas, 0)
        self.grid = PickImage()
        self.grid.setLookupTable(colors.GREYS_LUT)
        self.grid_plot.addItem(self.grid)
        self.grid.clicked.connect(self._grid_clicked)
        self.selection = QtWidgets.QGraphicsRectItem()
        self.selection.setPen(pg.mkPen(colors.HIGHLIGHT, width=2))
        self.grid_plot.addItem(self.selection)

        self.digit_plot = _image_plot(self.canvas, 1)
        self.digit = pg.ImageItem(axisOrder="row-major")  # coloured here: colors.rgba
        self._digit_rgba = np.zeros((0, 0, 4), np.uint8)
        self.digit_plot.addItem(self.digit)

        self.out_plot = _plot(self.canvas, 2)
        self.out_plot.setLabel("left", "aᴸ (bars) vs y (outline)", color=colors.FOREGROUND)
        self.out_plot.setLabel("bottom", "class k", color=colors.FOREGROUND)
        self.out_plot.setYRange(0, 1.05, padding=0)
        self.output = pg.BarGraphItem(x=[0], height=[0], width=0.7, brush=None, pen=None)
        self.target = pg.BarGraphItem(
            x=[0], height=[0], width=0.9, brush=None, pen=pg.mkPen(colors.FOREGROUND, width=2)
        )
        self.out_plot.addItem(self.output)
        self.out_plot.addItem(self.target)
        for col, stretch in enumerate((4, 3, 3)):
            self.canvas.ci.layout.setColumnStretchFactor(col, stretch)

        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(bar)
        band = QtWidgets.QHBoxLayout()
        band.setSpacing(0)
        # a new verdict every frame: pinned, so it never re-lays out the view (Pinned)
        band.addWidget(Pinned(self.verdict, self.verdict.fontMetrics().lineSpacing() + 6), 1)
        band.addWidget(self.legend)
        layout.addLayout(band)
        layout.addWidget(self.canvas, 1)
        self.tip = _io_hover.install(self)  # hover a pixel or a bar: its value

    # -- setters ------------------------------------------------------------------
    def set_class_names(self, names: Sequence[str]) -> None:
        """Name the classes (index k = class k); default "0" … "9"."""
        self._class_names = [str(n) for n in names]
        self._n_out = 0  # relabel the axis on the next draw
        self.redraw()

    def _example_set(self, index: int | None) -> None:
        self.example_spin.set_example(index)

    def _name(self, k: int) -> str:
        return self._class_names[k] if k < len(self._class_names) else str(k)

    # -- drawing ------------------------------------------------------------------
    def _render(self, snapshot: Snapshot) -> None:
        self.example_spin.set_batch_size(snapshot.config.batch_size)
        x, labels = snapshot.x, snapshot.labels
        a_L = entry(snapshot.a, snapshot.n_layers)
        n0 = snapshot.config.sizes[0]
        self._show_images(math.isqrt(n0) ** 2 == n0 and n0 > 1)
        # the same sources again (a phase that computes neither x nor aᴸ): the picture
        # already there
        if same_sources(self._sources_of(snapshot), self._sources):
            return
        if self._images:
            self._draw_grid(x, labels, a_L)
            self._draw_digit(snapshot, x, labels, a_L)
        else:
            self._draw_point(x, labels)
        self._draw_output(snapshot, a_L)
        self._sources = self._sources_of(snapshot)  # (the output's axis is labelled now)
        self.tip.refresh()

    def _sources_of(self, snapshot: Snapshot) -> tuple:
        """What the view draws from: the same again draws nothing anew."""
        a_L = entry(snapshot.a, snapshot.n_layers)
        x, y, labels = snapshot.x, snapshot.y, snapshot.labels
        return (x, labels, a_L, y, self.example, self._n_out, self._images)

    def _show_images(self, images: bool) -> None:
        """Inputs that are no square image (a toy set's two coordinates) have no digit to
        draw: the grid and digit plots leave, the caption says where the points are."""
        if images == self._images:
            return
        self._images = images
        layout = self.canvas.ci
        for col, plot in enumerate((self.grid_plot, self.digit_plot)):
            if images:
                layout.addItem(plot, row=0, col=col)
            else:
                layout.removeItem(plot)
        self.out_plot.setVisible(True)
        self._grid_of, self._shape = (), (0, 0)
        self.caption.setText(
            "the mini-batch x (labels; → prediction when wrong)"
            if images
            else "x is a point (x₁, x₂), not an image: the Input plane panel shows them all"
        )

    def _draw_point(self, x, labels) -> None:
        point = pick(x, self.example)
        if point is None:
            self._digit_text = "no mini-batch yet"
        elif self.example is None:
            self._digit_text = f"batch mean of {x.shape[0]} points: x = {_pair(point)}"
        else:
            k = min(self.example, x.shape[0] - 1)
            self._digit_text = (
                f"example {k}: x = {_pair(point)}, label {self._name(int(labels[k]))}"
            )

    def _layout_grid(self, m: int, side: int) -> None:
        self._shape = (m, side)
        rows, cols = tile_grid(m)
        self._buffer = np.zeros((rows * (side + 1) + 1, cols * (side + 1) + 1))
        self._padded = np.zeros((rows * cols, side + 1, side + 1))
        while len(self._texts) < m:
            # A plain text item, unscaled by the view: far cheaper than pg.TextItem.
            text = QtWidgets.QGraphicsSimpleTextItem()
            text.setFlag(QtWidgets.QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
            text.setFont(self._font)
            self.grid_plot.addItem(text)
            self._texts.append(text)
        for k, text in enumerate(self._texts):
            text.setVisible(k < m)
            r, c = divmod(k, cols)
            text.setPos(c * (side + 1) + 1, r * (side + 1) + 1)
        self.grid_plot.setRange(
            xRange=(0, self._buffer.shape[1]), yRange=(0, self._buffer.shape[0]), padding=0.01
        )

    def _draw_grid(self, x, labels, a_L) -> None:
        if self._grid_of and x is self._grid_of[0] and a_L is self._grid_of[1]:
            self._draw_selection()
            return
        self._grid_of = (x, a_L)
        if x is None:
            self.grid.clear()
            for text in self._texts:
                text.setVisible(False)
            return
        m = min(x.shape[0], MAX_GRID)
        side = int(np.sqrt(x.shape[1]))
        if side * side != x.shape[1]:
            return
        if (m, side) != self._shape:
            self._layout_grid(m, side)
        rows, cols = tile_grid(m)
        np.copyto(self._padded[:m, 1:, 1:], x[:m].reshape(m, side, side))
        np.copyto(
            self._buffer[: rows * (side + 1), : cols * (side + 1)].reshape(
                rows, side + 1, cols, side + 1
            ),
            self._padded.reshape(rows, cols, side + 1, side + 1).transpose(0, 2, 1, 3),
        )
        self.grid.setImage(self._buffer, levels=(0.0, 1.0))
        predicted = None if a_L is None else np.argmax(a_L[:m], axis=1)
        tile_px = (side + 1) / max(self.grid_plot.getViewBox().viewPixelSize()[0], 1e-9)
        arrows = tile_px >= 48  # "7→3" fits a tile; in a small grid the colour alone tells
        for k in range(m):
            label = self._name(int(labels[k])) if labels is not None else "?"
            if predicted is None or labels is None:
                self._label(k, label, colors.FOREGROUND)
            elif predicted[k] == labels[k]:
                self._label(k, label, RIGHT)
            else:
                wrong = f"{label}→{self._name(int(predicted[k]))}" if arrows else label
                self._label(k, wrong, WRONG)
        self._draw_selection()
        shown = f"the first {m:,} of {x.shape[0]:,}" if m < x.shape[0] else f"all {m:,}"
        text = f"mini-batch x: {shown} digits · label, red when predicted wrong (click to select)"
        if text != self.caption.text():
            self.caption.setText(text)

    def _label(self, k: int, text: str, color: str) -> None:
        item = self._texts[k]
        if item.text() != text:
            item.setText(text)
        item.setBrush(self._brushes[color])

    def _draw_selection(self) -> None:
        m, side = self._shape
        if self.example is None or self.example >= m:
            self.selection.setVisible(False)
            return
        _, cols = tile_grid(m)
        r, c = divmod(self.example, cols)
        step = side + 1
        self.selection.setRect(QtCore.QRectF(c * step + 0.5, r * step + 0.5, step, step))
        self.selection.setVisible(True)

    def _draw_digit(self, snapshot: Snapshot, x, labels, a_L) -> None:
        image = pick(x, self.example)
        if image is None:
            self.digit.clear()
            self._digit_text = "no mini-batch yet"
            return
        side = int(np.sqrt(image.size))
        if self._digit_rgba.shape[:2] != (side, side):
            self._digit_rgba = np.zeros((side, side, 4), np.uint8)
        colors.rgba(image.reshape(side, side), 0.0, 1.0, colors.GREYS_LUT, out=self._digit_rgba)
        self.digit.setImage(self._digit_rgba, levels=None)
        if self.example is None:
            title = f"batch mean of {x.shape[0]} digits"
        else:
            k = min(self.example, x.shape[0] - 1)
            title = f"example {k}: label {self._name(int(labels[k]))}"
        self._digit_text = title

    def _draw_output(self, snapshot: Snapshot, a_L) -> None:
        n = snapshot.config.sizes[-1]
        if n != self._n_out:
            self._n_out = n
            ticks = [[(k, self._name(k)) for k in range(n)]]
            self.out_plot.getAxis("bottom").setTicks(ticks)
            self.out_plot.setXRange(-0.6, n - 0.4, padding=0)
            self._x = np.arange(n, dtype=float)
        y = pick(snapshot.y, self.example)
        out = pick(a_L, self.example)
        self.target.setOpts(x=self._x, height=np.zeros(n) if y is None else y)
        if out is None:
            self.output.setOpts(x=self._x, height=np.zeros(n))
            self._set_verdict("aᴸ not computed yet", colors.MISSING)
            return
        shades = colors.brushes(colors.SEQUENTIAL_LUT)  # aᴸ ∈ [0, 1]: the legend's range
        index = colors.lut_indices(out, 0.0, self.legend.level)
        self.output.setOpts(x=self._x, height=out, brushes=[shades[k] for k in index])
        k = int(np.argmax(out))
        if self.example is None:
            right = int(np.sum(np.argmax(a_L, axis=1) == snapshot.labels))
            title = f"batch mean · {right} of {a_L.shape[0]} right"
            color = colors.FOREGROUND
        else:
            label = int(snapshot.labels[min(self.example, len(snapshot.labels) - 1)])
            mark = "✓" if k == label else "✗"
            title = f"prediction {self._name(k)} (aₖᴸ = {out[k]:.2f}) {mark}"
            color = RIGHT if k == label else WRONG
        self._set_verdict(title, color)

    def _set_verdict(self, text: str, color: str) -> None:
        """The selected digit and its prediction, above the plots (a title inside the
        scene would re-lay out the plots whenever its text changes)."""
        html = f'{self._digit_text} · <span style="color:{color}">{text}</span>'
        if html != self.verdict.text():
            self.verdict.setText(html)

    def _grid_clicked(self, row: int, col: int) -> None:
        m, side = self._shape
        if not m:
            return
        _, cols = tile_grid(m)
        k = (row // (side + 1)) * cols + col // (side + 1)
        if k < m:
            self.set_example(k)


def _pair(point: np.ndarray) -> str:
    """A 2-D point as ``(0.41, −0.52)`` (Unicode minus)."""
    return "(" + ", ".join(f"{v:.2f}".replace("-", "−") for v in point) + ")"
