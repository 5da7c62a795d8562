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

import weakref

import numpy as np
from pyqtgraph.Qt import QtCore, QtWidgets

from bpviz.session.snapshot import Snapshot
from bpviz.ui.views import _value_text as vt
from bpviz.ui.views._hover import LiveTip, html_lines
from bpviz.ui.views._legend import ColorLegend
from bpviz.ui.views._stack_canvas import StackCanvas
from bpviz.ui.views._throttle import ThrottledView
from bpviz.ui.views._widgets import ExampleSpin, superscript
from bpviz.ui.views.equations import MathLabel, dark_panel

MAX_ROWS = 16  # slices drawn at most; a wider layer shows MAX_ROWS consecutive rows


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
        # the canvas colours the slices and the result each on the diverging map over
        # ± its own largest |value|: one legend each
        self.slice_legend = ColorLegend("slices", signed=True)
        self.result_legend = ColorLegend("∂Cₓ/∂Wˡ", signed=True)
        legends = QtWidgets.QVBoxLayout()  # stacked: the panel stays as narrow as it was
        legends.setSpacing(1)
        legends.addWidget(self.slice_legend)
        legends.addWidget(self.result_legend)
        top.addWidget(self.example_spin)
        self.canvas = StackCanvas()
        self.canvas.clicked.connect(self._result_clicked)
        ref = weakref.ref(self)  # held weakly: no view ↔ tip reference cycle
        self.tip = LiveTip(self.canvas, lambda pos: ref() and ref()._tip_text(pos))
        self.scroll = QtWidgets.QScrollArea()
        self.scroll.setWidget(self.canvas)
        self.scroll.setWidgetResizable(True)
        self.scroll.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addLayout(legends)
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
            self.slice_legend.set_level(None)
            self.result_legend.set_level(None)
            self.tip.refresh()
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
        levels = self.canvas.levels or (None, None)
        self.slice_legend.set_name(
            f"slices ∂z/∂W{superscript(l)}" if softmax else f"slices ∂a/∂W{superscript(l)}"
        )
        self.slice_legend.set_level(levels[0])
        self.result_legend.set_name(f"∂Cₓ/∂W{superscript(l)}")
        self.result_legend.set_level(levels[1])
        self.tip.refresh()

    def _tip_text(self, pos: QtCore.QPointF) -> str | None:
        """Result cell (i, j): ∂Cₓ/∂w_ij = (the contracted entry) × (slice i's row, j)."""
        cell = self.canvas.cell_at(pos)
        if cell is None or self.result is None or self.layer is None:
            return None
        i, j = cell
        s, l = i - self.rows.start, self.layer
        factor, entry, value = self.weights[s], self.slices[s, s, j], self.result[s, j]
        a_name = vt.sym("a", j, l - 1)
        snapshot = self._drawn
        softmax = snapshot is not None and self._is_softmax(snapshot, l)
        first = vt.sym("δ", i, l) if softmax else "∂C/∂" + vt.sym("a", i, l)
        second = a_name if softmax else f"σ′({vt.sym('z', i, l)}) {a_name}"
        return html_lines(
            f"∂Cₓ/∂{vt.sym('w', f'{i},{j}', l)} = {first} · {second}  (example "
            f"{self.example_spin.value()})",
            f"= {vt.fmt(factor)} × {vt.fmt(entry)}",
            f"= {vt.fmt(value)}",
        )

    @staticmethod
    def _is_softmax(snapshot: Snapshot, l: int) -> bool:
        return l == len(snapshot.config.sizes) - 1 and snapshot.config.output == "softmax"

    def _n_rows(self) -> int:
        snapshot = self._drawn
        return len(self.rows) if snapshot is None else snapshot.config.sizes[self.layer]


_SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def _sub(k: int) -> str:
    return str(k).translate(_SUB)


def _at(values: tuple, index: int) -> np.ndarray | None:
    return values[index] if 0 <= index < len(values) else None
