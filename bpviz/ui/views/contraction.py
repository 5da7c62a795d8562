"""The tensor-contraction explainer (paper IV.2–IV.3), drawn with the live numbers.

For one small layer l (the selected one when it is small, else the output layer) and
one example x of the mini-batch, ∂a^l/∂W^l is a stack of n_l matrices of shape
(n_l, n_{l-1}): slice i is ∂a_i^l/∂W^l, whose only non-zero row is row i,
σ'(z_i^l) a^{l-1}. Contracting the stack over i with the vector ∂C/∂a^l,

    ∂C/∂W^l = Σ_i ∂C/∂a_i^l · ∂a_i^l/∂W^l,

gives δ^l (a^{l-1})^T for that example; the batch mean of these is the ∂C/∂W^l the
gradient view shows. With a softmax output ∂a^L/∂W^L is not row-sparse, so for that layer
the stack drawn is ∂z^L/∂W^L (row i of slice i is a^{L-1}) contracted with δ^L = ∂C/∂z^L.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from pyqtgraph.Qt import QtCore, QtWidgets

from bpviz.session.snapshot import Snapshot
from bpviz.ui import colors
from bpviz.ui.views._throttle import ThrottledView
from bpviz.ui.views._widgets import ExampleSpin, PickImage, superscript
from bpviz.ui.views.equations import MathLabel, dark_panel

MAX_ROWS = 16  # n_l of a layer small enough to draw as a stack of n_l matrices
MAX_COLS = 300  # n_{l-1}
GAP = 0.35  # space between slices, in units of the slice size


def drawable(sizes: tuple[int, ...], l: int) -> bool:
    """Whether layer l is small enough to draw its n_l slices of (n_l, n_{l-1})."""
    return 1 <= l < len(sizes) and sizes[l] <= MAX_ROWS and sizes[l - 1] <= MAX_COLS


class ContractionView(ThrottledView):
    """∂a^l/∂W^l ·_i ∂C/∂a^l = ∂C/∂W^l for one example, slice by slice.

    ``set_selection(l, i, j)`` picks the layer (when drawable) and highlights slice i and
    entry (i, j); clicking a cell of the result emits ``weight_clicked(l, i, j)``. After a
    render, ``layer``, ``slices`` ``(n_l, n_l, n_{l-1})``, ``weights`` ``(n_l,)`` (the
    contracted vector) and ``result`` ``(n_l, n_{l-1})`` hold what is drawn, or None
    before the phase computed them.
    """

    weight_clicked = QtCore.Signal(int, int, int)  # a cell (i, j) of ∂C/∂W^l was clicked

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.selection: tuple[int, int, int | None] | None = None
        self.layer: int | None = None
        self.slices: np.ndarray | None = None
        self.weights: np.ndarray | None = None
        self.result: np.ndarray | None = None
        self._shape: tuple[int, int] | None = None

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
        self.canvas = pg.GraphicsLayoutWidget()
        self.canvas.setBackground(colors.BACKGROUND)
        self.view: pg.ViewBox = self.canvas.addViewBox()
        self.view.setAspectLocked(True)
        self.view.invertY(True)
        self.view.setMouseEnabled(False, False)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.caption)
        layout.addWidget(self.canvas, 1)
        dark_panel(self)
        self._images: list[pg.ImageItem] = []
        self._labels: list[pg.TextItem] = []
        self._result_image = PickImage()
        self._result_image.clicked.connect(self._result_clicked)
        self._result_label = pg.TextItem(color=colors.FOREGROUND, anchor=(0, 1))
        pen = pg.mkPen(colors.HIGHLIGHT, width=2)
        self._slice_box = QtWidgets.QGraphicsRectItem()
        self._slice_box.setPen(pen)
        self._cell_box = QtWidgets.QGraphicsRectItem()
        self._cell_box.setPen(pen)

    def _result_clicked(self, row: int, col: int) -> None:
        if self.layer is not None:
            self.weight_clicked.emit(self.layer, row, col)

    def set_selection(self, l: int, i: int, j: int | None = None) -> None:
        """Show layer l when it is small enough; highlight slice i and entry (i, j)."""
        self.selection = (l, i, None if j is None or j < 0 else j)
        self.redraw()

    def _example_set(self, index: int | None) -> None:
        self.example_spin.set_example(0 if index is None else index)

    def _pick_layer(self, sizes: tuple[int, ...]) -> tuple[int | None, str]:
        L = len(sizes) - 1
        wanted = self.selection[0] if self.selection else L
        if drawable(sizes, wanted):
            return wanted, ""
        note = (
            f"Layer {wanted} ({sizes[wanted]}×{sizes[wanted - 1]}) is too large to draw as a stack"
        )
        if drawable(sizes, L):
            return L, note + f"; showing the output layer {L}. "
        return None, note + "; so is the output layer. "

    def _layout(self, n_rows: int, n_cols: int) -> None:
        """Create the slice images and labels once per layer shape."""
        for item in (*self._images, *self._labels, self._result_image, self._result_label):
            if item.scene() is not None:
                self.view.removeItem(item)
        for box in (self._slice_box, self._cell_box):
            if box.scene() is not None:
                self.view.removeItem(box)
        self._images, self._labels = [], []
        per_row = min(n_rows, math.ceil(math.sqrt(n_rows * 2.5)))
        self._origins = []
        for k in range(n_rows):
            r, c = divmod(k, per_row)
            x0, y0 = c * n_cols * (1 + GAP), r * n_rows * (1 + 2 * GAP) + n_rows * GAP * 1.5
            self._origins.append((x0, y0))
            image = pg.ImageItem(axisOrder="row-major")
            label = pg.TextItem(color=colors.FOREGROUND, anchor=(0, 1))
            label.setPos(x0, y0)
            self.view.addItem(image)
            self.view.addItem(label)
            self._images.append(image)
            self._labels.append(label)
        rows_used = math.ceil(n_rows / per_row)
        y_result = rows_used * n_rows * (1 + 2 * GAP) + n_rows * GAP * 2.5
        self._result_origin = (0.0, y_result)
        self._result_label.setPos(0, y_result)
        self.view.addItem(self._result_image)
        self.view.addItem(self._result_label)
        self.view.addItem(self._slice_box)
        self.view.addItem(self._cell_box)
        self._shape = (n_rows, n_cols)
        width = min(per_row, n_rows) * n_cols * (1 + GAP)
        self.view.setRange(xRange=(-0.5, width), yRange=(0, y_result + n_rows + 0.5), padding=0.01)

    def _render(self, snapshot: Snapshot) -> None:
        sizes = snapshot.config.sizes
        l, note = self._pick_layer(sizes)
        self.layer = l
        if l is None:
            self.caption.setText(note)
            self.slices = self.weights = self.result = None
            return
        L, n_rows, n_cols = len(sizes) - 1, sizes[l], sizes[l - 1]
        if self._shape != (n_rows, n_cols):
            self._layout(n_rows, n_cols)
        softmax = l == L and snapshot.config.output == "softmax"
        self._set_formula(l, softmax)
        ex = min(self.example or 0, (0 if snapshot.x is None else snapshot.x.shape[0]) - 1)
        a_prev = _at(snapshot.a, l - 1)
        factor_source = _at(snapshot.delta if softmax else snapshot.dC_da, l - 1)
        sp = None if softmax else _at(snapshot.sigma_prime, l - 1)
        if a_prev is None or factor_source is None or (sp is None and not softmax) or ex < 0:
            self.slices = self.weights = self.result = None
            for image in (*self._images, self._result_image):
                image.clear()
            for label in self._labels:
                label.setText("")
            self._result_label.setText("")
            self.caption.setText(note + "Computed once backpropagation has reached this layer.")
            return
        a = a_prev[ex].astype(np.float64)
        rows = np.ones(n_rows) if softmax else sp[ex].astype(np.float64)
        weights = factor_source[ex].astype(np.float64)
        slices = np.zeros((n_rows, n_rows, n_cols))
        slices[np.arange(n_rows), np.arange(n_rows)] = rows[:, None] * a[None, :]
        result = np.tensordot(weights, slices, axes=(0, 0))  # contraction over i
        self.slices, self.weights, self.result = slices, weights, result
        self._draw(slices, weights, result, l, softmax)
        engine = np.outer(snapshot.delta[l - 1][ex], a)
        gap = float(np.max(np.abs(result - engine))) if engine.size else 0.0
        digit = "" if snapshot.labels is None else f" (digit {int(snapshot.labels[ex])})"
        factor = "δᵢ" if softmax else "∂C/∂aᵢ"
        self.caption.setText(
            f"{note}Example {ex}{digit}. Slice i is "
            + (
                "∂zᵢ/∂W: only row i is non-zero, aˡ⁻¹. "
                if softmax
                else "∂aᵢ/∂W: only row i is non-zero, σ'(zᵢ) aˡ⁻¹. "
            )
            + f"Weighted by {factor} and summed over i, the stack gives ∂Cₓ/∂W{superscript(l)} "
            f"(bottom) = δ{superscript(l)} (a{superscript(l - 1)})ᵀ of the engine (largest "
            f"difference {gap:.1e}); the batch mean of these is ∂C/∂W in the gradient view."
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

    def _draw(self, slices, weights, result, l: int, softmax: bool) -> None:
        n_rows, n_cols = result.shape
        m_slices = colors.symmetric_level(slices)
        factor = "δ" if softmax else "∂C/∂a"
        for k, (image, label) in enumerate(zip(self._images, self._labels, strict=True)):
            image.setImage(slices[k], lut=colors.DIVERGING_LUT, levels=(-m_slices, m_slices))
            image.setRect(QtCore.QRectF(*self._origins[k], n_cols, n_rows))
            label.setText(f"{factor}{_sub(k)} = {weights[k]:+.3g} ×")
        m = colors.symmetric_level(result)
        self._result_image.setImage(result, lut=colors.DIVERGING_LUT, levels=(-m, m))
        self._result_image.setRect(QtCore.QRectF(*self._result_origin, 2 * n_cols, 2 * n_rows))
        w = f"∂Cₓ/∂W{superscript(l)}"
        self._result_label.setText(
            f"= Σᵢ {factor}ᵢ · slice i = {w}  (row i = {factor}ᵢ σ'(zᵢ) aˡ⁻¹ = δᵢ aˡ⁻¹)"
            if not softmax
            else f"= Σᵢ δᵢ · slice i = {w} = δ (aˡ⁻¹)ᵀ"
        )
        sel = self.selection
        if sel is not None and sel[0] == l and 0 <= sel[1] < n_rows:
            x0, y0 = self._origins[sel[1]]
            self._slice_box.setRect(QtCore.QRectF(x0, y0 + sel[1], n_cols, 1))
            self._slice_box.show()
            if sel[2] is not None and 0 <= sel[2] < n_cols:
                rx, ry = self._result_origin
                self._cell_box.setRect(QtCore.QRectF(rx + 2 * sel[2], ry + 2 * sel[1], 2, 2))
            else:
                rx, ry = self._result_origin
                self._cell_box.setRect(QtCore.QRectF(rx, ry + 2 * sel[1], 2 * n_cols, 2))
            self._cell_box.show()
        else:
            self._slice_box.hide()
            self._cell_box.hide()


_SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def _sub(k: int) -> str:
    return str(k).translate(_SUB)


def _at(values: tuple, index: int) -> np.ndarray | None:
    return values[index] if 0 <= index < len(values) else None
