"""The glass box: every number of backprop written on a small network's drawing.

When every layer has at most ``GLASS_MAX`` neurons, the network view hands its view box,
the node positions and each snapshot to a ``GlassOverlay``, which writes, for the
example shown (or the batch mean):

- beside each node i of layer l ≥ 1 (left of it; an output's right of its class name):
  zᵢ, aᵢ, bᵢ and in the backward phases δᵢ — one a line where the nodes are far enough
  apart, else ``z 0.123  a 0.122`` over ``b 0.01  δ −0.0034``, else the phase's own
  quantity alone; left of each input node its xⱼ;
- on each edge of Wˡ: wᵢⱼ; while δ flows back through it (the phase computing δˡ⁻¹),
  the term it carries, wᵢⱼ δᵢ (the terms of (Wˡ)ᵀδˡ, summed at node j), in yellow. The
  bare numbers (no "w"): the summary line in the corner says what they are.

Numbers are printed to ``DIGITS`` significant digits (``number``). Text items are made
once per network shape and only ``setText`` per frame. Nothing overlaps: the labels are
laid out in pixels, nodes first, then edges (those of the selected neuron first), each
edge's at the first free place along it; one that finds none is left out, and the
summary line in a corner says how many were written.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from pyqtgraph.Qt import QtCore, QtGui

from bpviz.notation import subscript
from bpviz.session.snapshot import PhaseKind, Snapshot
from bpviz.ui import colors
from bpviz.ui.views._base import entry, pick
from bpviz.ui.views._glass_layout import (  # noqa: F401  (the module's constants, here too)
    DIGITS,
    FILL,
    FONT_PT,
    GAP_PX,
    GLASS_MAX,
    SUMMARY,
    WIDEST,
    WIDTH_STEP,
    GlassLayout,
    applies,
)

BACKWARD = (PhaseKind.DELTA, PhaseKind.GRADIENT)


def spacing(n: int) -> float:
    """How far apart (in the network view's y units, nodes spanning 0.05 … 0.95) the n
    nodes of a layer are drawn when the numbers are written: as far as leaves the
    layer's label below free, at most 0.28 (the plain view: 0.09)."""
    return min(0.8 / max(n - 1, 1), 0.28)


def number(value: float) -> str:
    """``value`` to DIGITS significant digits, Unicode minus (``−0.0123``, ``1.23e−05``)."""
    return f"{float(value):.{DIGITS}g}".replace("-", "−")


def parse(text: str) -> float:
    """The number ``number`` wrote (for tests and hover)."""
    return float(text.replace("−", "-"))


class GlassOverlay(GlassLayout):
    """Text items on ``vb`` (the network view's ViewBox) for the numbers of a small
    network. ``update(snapshot, example, xs, ys, node_px)`` writes them: ``xs``/``ys``
    per layer 0 … L the nodes' view coordinates, ``node_px`` their diameter in pixels.
    ``printed`` maps ``("z"|"a"|"b"|"delta", l, i)``, ``("x", 0, j)`` and
    ``("w"|"wdelta", l, i, j)`` to the text written (what a reader sees)."""

    def __init__(self, vb: pg.ViewBox) -> None:
        self.vb = vb
        self.font = QtGui.QFont()
        self.font.setPointSizeF(FONT_PT)
        self._metrics = QtGui.QFontMetricsF(self.font)
        self._sizes: tuple[int, ...] = ()
        self._nodes: dict[tuple[int, int], pg.TextItem] = {}
        self._edges: dict[tuple[int, int, int], pg.TextItem] = {}
        self.summary = pg.TextItem(anchor=(0, 0), color=colors.FOREGROUND)
        self.summary.setFont(self.font)
        self.summary.textItem.document().setDocumentMargin(1)
        self.summary.setVisible(False)
        vb.addItem(self.summary, ignoreBounds=True)
        self._inputs = pg.ScatterPlotItem(pen=pg.mkPen(colors.FOREGROUND), brush=None)
        self._inputs.setZValue(10)
        self._inputs.setVisible(False)
        vb.addItem(self._inputs, ignoreBounds=True)
        self._inputs_key: tuple | None = None  # where the input nodes are drawn
        self._layout_key: tuple | None = None
        self.printed: dict[tuple, str] = {}
        self.edges_written = 0
        self.edges_total = 0
        self.selected: tuple[int, int] | None = None  # (l, i): its edges are written first
        self.obstacles: list[QtCore.QRectF] = []  # scene rects no number may cover
        self.names_px = 0.0  # width of the class names right of the output nodes
        self._w_color = pg.mkColor(colors.FOREGROUND)
        self._carry_color = pg.mkColor(*colors.HIGHLIGHT)
        self.visible = False
        self.lines: tuple[int, ...] = ()  # lines of each layer's node labels

    # -- structure ---------------------------------------------------------------------
    def _build(self, sizes: tuple[int, ...]) -> None:
        for item in (*self._nodes.values(), *self._edges.values()):
            self.vb.removeItem(item)
        self._nodes, self._edges = {}, {}
        self._sizes = sizes
        for l, n in enumerate(sizes):
            for i in range(n):
                # left of its node; an output's right of it, after its class name
                anchor = (0, 0.5) if l == len(sizes) - 1 else (1, 0.5)
                self._nodes[(l, i)] = self._text(anchor, z=25)
        for l in range(1, len(sizes)):
            for i in range(sizes[l]):
                for j in range(sizes[l - 1]):
                    self._edges[(l, i, j)] = self._text((0.5, 0.5), z=24)
        self._layout_key = None

    def _text(self, anchor: tuple[float, float], z: float) -> pg.TextItem:
        item = pg.TextItem(anchor=anchor, color=colors.FOREGROUND, fill=pg.mkBrush(*FILL))
        item.setFont(self.font)
        item.textItem.document().setDocumentMargin(1)  # lines close: labels fit 25 px apart
        item.setZValue(z)
        item.setVisible(False)
        self.vb.addItem(item, ignoreBounds=True)
        return item

    def clear(self) -> None:
        """Write nothing (a network too large for the glass box)."""
        for item in (*self._nodes.values(), *self._edges.values()):
            item.setVisible(False)
        self._set_inputs(None)
        self.summary.setVisible(False)
        self.printed = {}
        self.visible = False

    def _set_inputs(self, xs, ys=None, size: float = 0.0) -> None:
        """Draw the input nodes at ``xs``/``ys`` (None: none), only when they moved (a new
        scatter is a repaint, and a costly one, of everything under it)."""
        key = None if xs is None else (np.asarray(xs, float).tobytes(),
                                       np.asarray(ys, float).tobytes(), size)  # fmt: skip
        if key == self._inputs_key:
            return
        self._inputs_key = key
        self._inputs.setVisible(xs is not None)  # an empty item still costs its paints
        if xs is None:
            self._inputs.setData([], [])
        else:
            self._inputs.setData(np.asarray(xs, float), np.asarray(ys, float), size=size)

    # -- the network view's hook -------------------------------------------------------
    # ``fit(view)`` and ``draw(view)`` read the NetworkView: its snapshot and example,
    # layer sizes ``_sizes``, ``node_positions(l)`` and ``node_size(l)``, whether the
    # input is an image (``_input_side``: then no input numbers) and the class-name
    # labels ``_out_labels`` right of the outputs.

    def fit(self, view) -> None:
        """Set ``view``'s x range to leave room for the numbers (small networks only)."""
        names = max((t.boundingRect().width() for t in view._out_labels), default=0.0)
        x_range = self.x_range(view._sizes, view.vb.width(), names, bool(view._input_side))
        if x_range is not None:
            view.vb.setXRange(*x_range, padding=0)

    def draw(self, view) -> None:
        """Write ``view``'s snapshot's numbers at its node positions (or write none)."""
        snapshot, sizes = view.snapshot, view._sizes
        if snapshot is None or tuple(snapshot.config.sizes) != sizes:
            return
        positions = [view.node_positions(l) for l in range(len(sizes))]
        xs = [p[:, 0] for p in positions]
        ys = [p[:, 1] for p in positions]
        size = max((view.node_size(l) for l in range(1, len(sizes))), default=10.0) or 10.0
        # the "computing …" label and the cost node belong to the view: numbers go elsewhere
        self.obstacles = [
            item.sceneBoundingRect()
            for item in (view.computing, view.cost_label)
            if item.isVisible()
        ]
        self.update(snapshot, view.example, xs, ys, size,
                    draw_inputs=not view._input_side)  # fmt: skip

    # -- numbers -----------------------------------------------------------------------
    def update(
        self,
        snapshot: Snapshot,
        example: int | None,
        xs: Sequence[np.ndarray],
        ys: Sequence[np.ndarray],
        node_px: float,
        draw_inputs: bool = True,
    ) -> None:
        """Write ``snapshot``'s numbers for ``example`` (None: the batch mean) at the node
        positions ``xs``/``ys``; ``draw_inputs``: draw the input nodes too (the network
        view draws none when the input is no image)."""
        sizes = tuple(snapshot.config.sizes)
        if not applies(sizes):
            self.clear()
            if draw_inputs:  # a wider toy network: its inputs as discs, without numbers
                self._set_inputs(xs[0], ys[0], node_px)
            return
        if sizes != self._sizes:
            self._build(sizes)
        self.visible = True
        L = len(sizes) - 1
        phase = snapshot.phase
        backward = phase is not None and phase.kind in BACKWARD
        # δ flows back through Wˡ while the phase computes δˡ⁻¹: its edges carry wᵢⱼ δᵢ
        flowing = phase.layer + 1 if phase is not None and phase.kind is PhaseKind.DELTA else None
        printed: dict[tuple, str] = {}
        texts: dict[tuple, str] = {}
        # lines a node's label has, per layer: one number a line where the nodes are far
        # enough apart, two lines, or (too close) the phase's own quantity alone
        tall = 4 if backward else 3
        lines = tuple(self._lines_fitting(y, tall) for y in ys)
        self.lines = lines
        x = pick(snapshot.x, example)
        for j in range(sizes[0]):
            value = "·" if x is None else number(x[j])
            printed[("x", 0, j)] = value
            texts[(0, j)] = f"x{subscript(j + 1)} {value}"
        self._set_inputs(xs[0] if draw_inputs else None, ys[0], node_px)
        for l in range(1, L + 1):
            z = pick(entry(snapshot.z, l - 1), example)
            a = pick(entry(snapshot.a, l), example)
            d = pick(entry(snapshot.delta, l - 1), example) if backward else None
            b = snapshot.biases[l - 1]
            for i in range(sizes[l]):
                parts = {
                    "z": None if z is None else number(z[i]),
                    "a": None if a is None else number(a[i]),
                    "b": number(b[i]),
                    "delta": None if d is None else number(d[i]),
                }
                for kind, text in parts.items():
                    if text is not None:
                        printed[(kind, l, i)] = text
                z_text, a_text = f"z {parts['z'] or '·'}", f"a {parts['a'] or '·'}"
                b_text = f"b {parts['b']}"
                d_text = f"δ {parts['delta'] or '·'}" if backward else ""
                if lines[l] >= 3:
                    texts[(l, i)] = "\n".join(t for t in (z_text, a_text, b_text, d_text) if t)
                elif lines[l] == 2:
                    texts[(l, i)] = f"{z_text}  {a_text}\n{b_text}" + (
                        f"  {d_text}" if backward else ""
                    )
                else:  # the phase's own quantity
                    texts[(l, i)] = d_text if backward else f"{z_text}  {a_text}"
        delta_flowing = None
        if flowing is not None and flowing <= L:
            delta_flowing = pick(entry(snapshot.delta, flowing - 1), example)
        carrying: set[tuple[int, int, int]] = set()  # edges writing w·δ (yellow)
        for l, i, j in self._edges:
            w = snapshot.weights[l - 1][i, j]
            printed[("w", l, i, j)] = number(w)
            # the bare number (the summary line says what edges carry): labels this
            # narrow fit between the nodes' labels at 1366×768
            if l == flowing and delta_flowing is not None:
                product = number(w * delta_flowing[i])
                printed[("wdelta", l, i, j)] = texts[(l, i, j)] = product
                carrying.add((l, i, j))
            else:
                texts[(l, i, j)] = number(w)
        self.printed = printed
        # labels as wide as the widest text now, in steps of WIDTH_STEP pixels (the
        # layout is redone only when a step is crossed, not for every new number)
        node_w = self._widest([texts[k] for k in self._nodes if k[0] > 0])
        edge_w = self._widest([texts[k] for k in self._edges])
        self._place(xs, ys, node_px, backward, flowing, lines, node_w, edge_w)
        for key, item in self._nodes.items():
            _set(item, texts[key])
        for key, item in self._edges.items():
            if item.isVisible():
                _set(item, texts[key])
                item.setColor(self._carry_color if key in carrying else self._w_color)

    def item(self, key: tuple) -> pg.TextItem:
        """The text item of node ``(l, i)`` or edge ``(l, i, j)`` (for tests)."""
        return self._nodes[key] if len(key) == 2 else self._edges[key]


def _set(item: pg.TextItem, text: str) -> None:
    if item.toPlainText() != text:
        item.setText(text)
