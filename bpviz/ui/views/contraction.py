"""The tensor-contraction explainer (paper IV.2–IV.3), drawn with the live numbers.

For layer l (the selected one, else the output layer) and one example x of the
mini-batch, ∂aˡ/∂Wˡ is a stack of n_l matrices of shape (n_l, n_{l−1}): slice i is
∂aᵢˡ/∂Wˡ, whose only non-zero row is row i, σ′(zᵢˡ) aˡ⁻¹. Contracting the stack over i
with the vector ∂C/∂aˡ,

    ∂Cₓ/∂Wˡ = Σᵢ ∂Cₓ/∂aᵢˡ · ∂aᵢˡ/∂Wˡ,

gives δˡ (aˡ⁻¹)ᵀ for that example; the batch mean of these is the ∂C/∂Wˡ the gradient
view shows. With a softmax output ∂aᴸ/∂Wᴸ is not row-sparse, so for that layer the stack
drawn is ∂zᴸ/∂Wᴸ (row i of slice i is aᴸ⁻¹) contracted with δᴸ = ∂C/∂zᴸ.

Every network the dialog allows is drawn: a layer of more than ``MAX_ROWS`` neurons shows
``MAX_ROWS`` consecutive slices (those of the selected i), and says which ("rows 16–31 of
512"); since slice i only touches row i, the sum over the slices shown is exactly those
rows of ∂Cₓ/∂Wˡ. The n_{l−1} columns are all drawn, scaled to the panel's width. Labels
and matrices are laid out in pixels (``StackCanvas``), one per band, so they never
overlap; the panel scrolls when they do not fit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from pyqtgraph.Qt import QtCore, QtGui, QtWidgets

from bpviz.session.snapshot import Snapshot
from bpviz.ui import colors
from bpviz.ui.views._throttle import ThrottledView
from bpviz.ui.views._widgets import ExampleSpin, superscript
from bpviz.ui.views.equations import MathLabel, dark_panel

MAX_ROWS = 16  # slices drawn at most; a wider layer shows MAX_ROWS consecutive rows
MARGIN, GAP = 6, 8  # pixels around the drawing and between bands
MAX_CELL = 12  # widest column of a slice, in pixels (result cells: twice)
SLICE_HEIGHT = 40  # tallest slice, in pixels, unless it has more than 13 rows
MIN_SLICE_WIDTH = 140  # narrowest slice drawn (unless it has fewer columns)


def shown_rows(n_rows: int, i: int | None) -> range:
    """The rows (slices) drawn: all of a small layer, else the block of ``MAX_ROWS``
    consecutive rows that holds the selected row ``i`` (the first block when None)."""
    if n_rows <= MAX_ROWS:
        return range(n_rows)
    start = min(((i or 0) // MAX_ROWS) * MAX_ROWS, n_rows - MAX_ROWS)
    return range(start, start + MAX_ROWS)


def span(rows: range) -> str:
    """``"rows 16–31"`` (one row: ``"row 3"``)."""
    if len(rows) == 1:
        return f"row {rows.start}"
    return f"rows {rows.start}–{rows.stop - 1}"


@dataclass(frozen=True)
class Layout:
    """Where the canvas draws, in pixels: one label and one image per slice, then the
    result's label and image. ``row_px``/``result_row_px``: height of a matrix row."""

    labels: tuple[QtCore.QRectF, ...]
    slices: tuple[QtCore.QRectF, ...]
    result_label: QtCore.QRectF
    result: QtCore.QRectF
    row_px: float
    result_row_px: float
    height: int


class StackCanvas(QtWidgets.QWidget):
    """Paints the stack of slices, their weights and the result, laid out in pixels.

    ``clicked(i, j)`` when a cell of the result is clicked (i as in the layer, not the
    row drawn). ``layout_for(width)`` is the geometry a width gives (tests read it).
    """

    clicked = QtCore.Signal(int, int)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAutoFillBackground(True)
        self.rows = range(0)
        self.labels: list[str] = []
        self.result_text = ""
        self.highlight: tuple[int, int | None] | None = None
        self._images: list[QtGui.QImage] = []
        self._result_image: QtGui.QImage | None = None
        self._shape = (0, 0)

    def clear(self) -> None:
        """Draw nothing (the layer's numbers are not computed yet)."""
        self.set_data(range(0), None, None, [], "")

    def set_data(
        self,
        rows: range,
        slices: np.ndarray | None,
        result: np.ndarray | None,
        labels: list[str],
        result_text: str,
    ) -> None:
        """Draw ``slices`` ``(k, k, c)`` (slice of row ``rows[s]`` first), labelled by
        ``labels``, and ``result`` ``(k, c)`` under ``result_text``."""
        self.rows, self.labels, self.result_text = rows, labels, result_text
        if slices is None or result is None:
            self._images, self._result_image, self._shape = [], None, (0, 0)
        else:
            m = colors.symmetric_level(slices)
            self._images = [_image(s, m) for s in slices]
            self._result_image = _image(result, colors.symmetric_level(result))
            self._shape = result.shape
        self._relayout()

    def layout_for(self, width: int) -> Layout | None:
        """The geometry at ``width`` pixels, or None when there is nothing to draw."""
        k, c = self._shape
        if not k:
            return None
        fm = self.fontMetrics()
        line = fm.height()
        avail = max(width - 2 * MARGIN, 120)
        label_w = max(fm.horizontalAdvance(t) for t in self.labels) + 8
        # as many slices side by side as fit with MIN_SLICE_WIDTH pixels each, then wider
        narrowest = min(c * MAX_CELL, MIN_SLICE_WIDTH)
        per_line = max(1, min(k, (avail + GAP) // (label_w + narrowest + GAP)))
        img_w = max(min(c * MAX_CELL, (avail + GAP) // per_line - label_w - GAP), 20)
        unit = label_w + img_w + GAP
        lines = math.ceil(k / per_line)
        text_h = fm.boundingRect(
            QtCore.QRect(0, 0, avail, 10 * line),
            QtCore.Qt.TextFlag.TextWordWrap,
            self.result_text,
        ).height()
        # a slice as tall as its label at least, taller while everything still fits the
        # panel's height (the result is drawn twice as tall), at most 3 px a matrix row
        fixed = 2 * MARGIN + lines * GAP + text_h + 4
        fits = (self._visible_height() - fixed) / (lines + 2)
        img_h = max(line + 2, min(fits, max(SLICE_HEIGHT, k * 3), k * 20))
        row_px = img_h / k
        band = img_h + GAP
        labels, slices = [], []
        for s in range(k):
            r, col = divmod(s, per_line)
            x0, y0 = MARGIN + col * unit, MARGIN + r * band
            labels.append(QtCore.QRectF(x0, y0, label_w - 6, img_h))
            slices.append(QtCore.QRectF(x0 + label_w, y0, img_w, img_h))
        y = MARGIN + lines * band
        result_label = QtCore.QRectF(MARGIN, y, avail, text_h)
        index_w = fm.horizontalAdvance(f"i = {self.rows.stop - 1}") + 8
        res_w = max(min(c * 2 * MAX_CELL, avail - index_w), 40)
        res_h = max(min(2 * img_h, k * 24), line)
        result_row_px = res_h / k
        result = QtCore.QRectF(MARGIN + index_w, y + text_h + 4, res_w, res_h)
        height = math.ceil(result.bottom()) + MARGIN
        return Layout(
            tuple(labels),
            tuple(slices),
            result_label,
            result,
            row_px,
            result_row_px,
            height,
        )

    def _visible_height(self) -> int:
        """The height the panel shows without scrolling (the scroll area's viewport)."""
        parent = self.parentWidget()
        return self.height() if parent is None else parent.height()

    def _relayout(self) -> None:
        layout = self.layout_for(self.width())
        self.setMinimumHeight(0 if layout is None else layout.height)
        self.update()

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:
        super().resizeEvent(event)
        layout = self.layout_for(self.width())
        if layout is not None and layout.height != self.minimumHeight():
            self.setMinimumHeight(layout.height)

    def paintEvent(self, event: QtGui.QPaintEvent) -> None:
        painter = QtGui.QPainter(self)
        painter.fillRect(self.rect(), QtGui.QColor(colors.BACKGROUND))
        layout = self.layout_for(self.width())
        if layout is None:
            painter.end()
            return
        painter.setPen(QtGui.QColor(colors.FOREGROUND))
        right = QtCore.Qt.AlignmentFlag.AlignRight | QtCore.Qt.AlignmentFlag.AlignVCenter
        for text, rect in zip(self.labels, layout.labels, strict=True):
            painter.drawText(rect, right, text)
        for image, rect in zip(self._images, layout.slices, strict=True):
            _draw_image(painter, rect, image)
        painter.drawText(
            layout.result_label,
            QtCore.Qt.TextFlag.TextWordWrap | QtCore.Qt.AlignmentFlag.AlignLeft,
            self.result_text,
        )
        _draw_image(painter, layout.result, self._result_image)
        res = layout.result
        fm = self.fontMetrics()
        first = QtCore.QRectF(MARGIN, res.top(), res.left() - MARGIN - 4, fm.height())
        painter.drawText(first, right, f"i = {self.rows.start}")
        if len(self.rows) > 1 and res.height() >= 2 * fm.height():
            last = first.translated(0, res.height() - fm.height())
            painter.drawText(last, right, f"i = {self.rows.stop - 1}")
        self._paint_highlight(painter, layout)
        painter.end()

    def _paint_highlight(self, painter: QtGui.QPainter, layout: Layout) -> None:
        if self.highlight is None or self.highlight[0] not in self.rows:
            return
        i, j = self.highlight
        s = i - self.rows.start
        painter.setPen(QtGui.QPen(QtGui.QColor(*colors.HIGHLIGHT), 2))
        painter.setBrush(QtCore.Qt.BrushStyle.NoBrush)
        painter.drawRect(layout.slices[s].adjusted(-2, -2, 2, 2))  # slice i
        res, c = layout.result, self._shape[1]
        cell_w = res.width() / c
        y = res.top() + s * layout.result_row_px
        if j is None or not 0 <= j < c:
            painter.drawRect(QtCore.QRectF(res.left(), y, res.width(), layout.result_row_px))
        else:
            w = max(cell_w, 3.0)
            x = res.left() + (j + 0.5) * cell_w - w / 2
            painter.drawRect(QtCore.QRectF(x, y, w, layout.result_row_px))

    def cell_at(self, pos: QtCore.QPointF) -> tuple[int, int] | None:
        """The (i, j) of the result cell under ``pos``, or None."""
        layout = self.layout_for(self.width())
        if layout is None or not layout.result.contains(pos):
            return None
        res, (k, c) = layout.result, self._shape
        row = min(int((pos.y() - res.top()) / layout.result_row_px), k - 1)
        col = min(int((pos.x() - res.left()) / (res.width() / c)), c - 1)
        return self.rows.start + row, col

    def cell_center(self, i: int, j: int) -> QtCore.QPoint:
        """Where the result cell (i, j) is drawn (i among the rows shown)."""
        layout = self.layout_for(self.width())
        res, c = layout.result, self._shape[1]
        x = res.left() + (j + 0.5) * res.width() / c
        y = res.top() + (i - self.rows.start + 0.5) * layout.result_row_px
        return QtCore.QPoint(int(x), int(y))

    def mousePressEvent(self, event: QtGui.QMouseEvent) -> None:
        cell = self.cell_at(event.position())
        if event.button() == QtCore.Qt.MouseButton.LeftButton and cell is not None:
            self.clicked.emit(*cell)
        else:
            super().mousePressEvent(event)


def _draw_image(painter: QtGui.QPainter, rect: QtCore.QRectF, image: QtGui.QImage) -> None:
    """Crisp cells when enlarged; averaged columns when a row has more of them than pixels."""
    smooth = rect.width() < image.width()
    painter.setRenderHint(QtGui.QPainter.RenderHint.SmoothPixmapTransform, smooth)
    painter.drawImage(rect, image)


def _image(values: np.ndarray, m: float) -> QtGui.QImage:
    """``values`` ``(h, w)`` coloured on the diverging map over (−m, m), as a QImage."""
    rgba = np.ascontiguousarray(colors.rgba(values, -m, m, colors.DIVERGING_LUT))
    h, w = values.shape
    return QtGui.QImage(rgba.data, w, h, 4 * w, QtGui.QImage.Format.Format_RGBA8888).copy()


class ContractionView(ThrottledView):
    """∂aˡ/∂Wˡ ·ᵢ ∂C/∂aˡ = ∂Cₓ/∂Wˡ for one example, slice by slice.

    ``set_selection(l, i, j)`` picks the layer and highlights slice i and entry (i, j);
    clicking a cell of the result emits ``weight_clicked(l, i, j)``. After a render,
    ``layer``, ``rows`` (the rows drawn), ``slices`` ``(k, k, n_{l−1})`` (slice s is
    that of row ``rows[s]``), ``weights`` ``(k,)`` (the contracted vector's entries)
    and ``result`` ``(k, n_{l−1})`` (those rows of ∂Cₓ/∂Wˡ) hold what is drawn, or None
    before the phase computed them.
    """

    weight_clicked = QtCore.Signal(int, int, int)  # a cell (i, j) of ∂C/∂W^l was clicked

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.selection: tuple[int, int, int | None] | None = None
        self.layer: int | None = None
        self.rows = range(0)
        self.slices: np.ndarray | None = None
        self.weights: np.ndarray | None = None
        self.result: np.ndarray | None = None

        self.formula = MathLabel(self)
        self.caption = QtWidgets.QLabel()
        self.caption.setWordWrap(True)
        self.example_spin = ExampleSpin(self)
        self.example_spin.setMinimum(0)
        self.example_spin.setSpecialValueText("")
        self.example_spin.valueChanged.connect(self.set_example)
        top = QtWidgets.QHBoxLayout()
        top.addWidget(self.formula)
        top.addStretch(1)
        top.addWidget(self.example_spin)
        self.canvas = StackCanvas()
        self.canvas.clicked.connect(self._result_clicked)
        self.scroll = QtWidgets.QScrollArea()
        self.scroll.setWidget(self.canvas)
        self.scroll.setWidgetResizable(True)
        self.scroll.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.caption)
        layout.addWidget(self.scroll, 1)
        dark_panel(self)
        self.setToolTip(
            "IV.2: slice i of the stack is ∂aᵢ/∂W, a matrix whose only non-zero row is "
            "row i = σ′(zᵢ) aˡ⁻¹. Weighting each slice by ∂C/∂aᵢ and adding them up "
            "(the contraction over i) gives ∂Cₓ/∂W = δ (aˡ⁻¹)ᵀ for one example; click a "
            "cell of the result to inspect that weight"
        )

    def _result_clicked(self, row: int, col: int) -> None:
        if self.layer is not None:
            self.weight_clicked.emit(self.layer, row, col)

    def set_selection(self, l: int, i: int, j: int | None = None) -> None:
        """Show layer l; highlight slice i and entry (i, j) (showing the rows of i)."""
        self.selection = (l, i, None if j is None or j < 0 else j)
        self.redraw()

    def _example_set(self, index: int | None) -> None:
        self.example_spin.set_example(0 if index is None else index)

    def _pick(self, sizes: tuple[int, ...]) -> tuple[int, int | None]:
        """The layer drawn (the selected one while it exists, else the output layer) and
        the selected row in it."""
        L = len(sizes) - 1
        if self.selection and 1 <= self.selection[0] <= L:
            l, i, _ = self.selection
            return l, i if 0 <= i < sizes[l] else None
        return L, None

    def _render(self, snapshot: Snapshot) -> None:
        sizes = snapshot.config.sizes
        l, selected = self._pick(sizes)
        L, n_rows = len(sizes) - 1, sizes[l]
        softmax = l == L and snapshot.config.output == "softmax"
        self.layer, self.rows = l, shown_rows(n_rows, selected)
        self._set_formula(l, softmax)
        shown = "" if len(self.rows) == n_rows else f"{span(self.rows)} of {n_rows:,} shown · "
        m = 0 if snapshot.x is None else snapshot.x.shape[0]
        self.example_spin.set_batch_size(max(m, 1))
        ex = min(self.example or 0, m - 1)
        a_prev = _at(snapshot.a, l - 1)
        factor_source = _at(snapshot.delta if softmax else snapshot.dC_da, l - 1)
        sp = None if softmax else _at(snapshot.sigma_prime, l - 1)
        if a_prev is None or factor_source is None or (sp is None and not softmax) or ex < 0:
            self.slices = self.weights = self.result = None
            self.canvas.clear()
            self.caption.setText(
                f"Layer {l} ({n_rows:,} × {sizes[l - 1]:,}): {shown}computed once "
                f"backpropagation has reached δ{superscript(l)}."
            )
            return
        rows = np.arange(self.rows.start, self.rows.stop)
        a = a_prev[ex].astype(np.float64)
        row_factor = np.ones(len(rows)) if softmax else sp[ex, rows].astype(np.float64)
        weights = factor_source[ex, rows].astype(np.float64)
        k = len(rows)
        slices = np.zeros((k, k, a.size))
        slices[np.arange(k), np.arange(k)] = row_factor[:, None] * a[None, :]
        result = np.tensordot(weights, slices, axes=(0, 0))  # the contraction over i
        self.slices, self.weights, self.result = slices, weights, result
        engine = np.outer(snapshot.delta[l - 1][ex, rows], a)
        gap = float(np.max(np.abs(result - engine))) if engine.size else 0.0
        self._draw(l, softmax)
        digit = "" if snapshot.labels is None else f" (digit {int(snapshot.labels[ex])})"
        slice_text = "∂zᵢ/∂W: row i is aˡ⁻¹" if softmax else "∂aᵢ/∂W: row i is σ′(zᵢ) aˡ⁻¹"
        self.caption.setText(
            f"Layer {l}, example {ex}{digit} · {shown}{sizes[l - 1]:,} columns · "
            f"slice i = {slice_text}, every other row 0 · Σᵢ = ∂Cₓ/∂W{superscript(l)} = "
            f"δ{superscript(l)} (a{superscript(l - 1)})ᵀ of the engine (largest difference "
            f"{gap:.1e}); its batch mean is the gradient view's ∂C/∂W."
        )

    def _set_formula(self, l: int, softmax: bool) -> None:
        if softmax:
            tex = (
                rf"\frac{{\partial C}}{{\partial W^{{{l}}}}} = \frac{{\partial z^{{{l}}}}}"
                rf"{{\partial W^{{{l}}}}} \cdot_{{i}} \delta^{{{l}}} = "
                rf"\sum_{{i}} \delta_{{i}}^{{{l}}}\, "
                rf"\frac{{\partial z_{{i}}^{{{l}}}}}{{\partial W^{{{l}}}}}"
            )
        else:
            tex = (
                rf"\frac{{\partial C}}{{\partial W^{{{l}}}}} = \frac{{\partial a^{{{l}}}}}"
                rf"{{\partial W^{{{l}}}}} \cdot_{{i}} \frac{{\partial C}}{{\partial a^{{{l}}}}} = "
                rf"\sum_{{i}} \frac{{\partial C}}{{\partial a_{{i}}^{{{l}}}}}\, "
                rf"\frac{{\partial a_{{i}}^{{{l}}}}}{{\partial W^{{{l}}}}}"
            )
        self.formula.set_latex(tex, size=15.0)

    def _draw(self, l: int, softmax: bool) -> None:
        factor = "δ" if softmax else "∂C/∂a"
        labels = [
            f"{factor}{_sub(i)} = {w:+.3g} ×" for i, w in zip(self.rows, self.weights, strict=True)
        ]
        w = f"∂Cₓ/∂W{superscript(l)}"
        subset = "" if len(self.rows) == self._n_rows() else f", {span(self.rows)}"
        text = (
            f"= Σᵢ δᵢ · slice i = {w}{subset} = δ (aˡ⁻¹)ᵀ"
            if softmax
            else f"= Σᵢ ∂C/∂aᵢ · slice i = {w}{subset}: row i = ∂C/∂aᵢ σ′(zᵢ) aˡ⁻¹ = δᵢ aˡ⁻¹"
        )
        self.canvas.highlight = None
        sel = self.selection
        if sel is not None and sel[0] == l:
            self.canvas.highlight = (sel[1], sel[2])
        self.canvas.set_data(self.rows, self.slices, self.result, labels, text)

    def _n_rows(self) -> int:
        snapshot = self._drawn
        return len(self.rows) if snapshot is None else snapshot.config.sizes[self.layer]


_SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def _sub(k: int) -> str:
    return str(k).translate(_SUB)


def _at(values: tuple, index: int) -> np.ndarray | None:
    return values[index] if 0 <= index < len(values) else None
