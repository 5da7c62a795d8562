"""The edges of the network view: the strongest |w_ij^l| of each W^l, coloured by w_ij^l.

Each layer's shown edges are split into ``N_BINS`` colour bins of w / max|w| (diverging
map, more opaque when stronger); one PlotCurveItem with ``connect="pairs"`` per bin and
layer draws them, so an update is a few ``setData`` calls whatever the number of edges.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from bpviz.ui import colors
from bpviz.ui.views._widgets import superscript

N_BINS = 8
DIM = 0.3  # opacity of the layers the phase does not concern


class EdgeLayer:
    """Edges between the node positions of a NetworkView, owned by its ViewBox."""

    def __init__(self, vb: pg.ViewBox, max_edges: int = 300) -> None:
        self.vb = vb
        self.max_edges = max_edges
        self._curves: list[list[pg.PlotCurveItem]] = []  # [layer][bin]
        self._weights: tuple[np.ndarray, ...] | None = None
        self._fingerprint: tuple = ()
        self._highlight: int | None = None
        self._sizes: tuple[int, ...] = ()
        self._chosen: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # i, j, bin
        # Shown edges of all layers, for picking: layer, i, j and the segment ends.
        self._l = self._i = self._j = np.zeros(0, dtype=np.intp)
        self._seg = np.zeros((0, 4))

    def build(self, sizes: tuple[int, ...], input_x: np.ndarray, node_y: list) -> None:
        """Create the curves for a network of ``sizes``; node positions per layer."""
        for row in self._curves:
            for curve in row:
                self.vb.removeItem(curve)
        self._sizes = sizes
        self._x = [np.asarray(input_x, float)] + [
            np.full(n, float(l)) for l, n in enumerate(sizes[1:], start=1)
        ]
        self._y = [np.asarray(y, float) for y in node_y]
        centres = (np.arange(N_BINS) + 0.5) / N_BINS  # position on the colormap, 0 … 1
        self._curves = []
        for _ in sizes[1:]:
            row = []
            for c in centres:
                strength = abs(2 * c - 1)
                r, g, b, _a = colors.DIVERGING.map(c, mode="byte")
                pen = pg.mkPen((int(r), int(g), int(b), int(50 + 205 * strength)), width=1)
                curve = pg.PlotCurveItem(pen=pen, connect="pairs", antialias=False)
                curve.setZValue(strength)
                self.vb.addItem(curve, ignoreBounds=True)
                row.append(curve)
            self._curves.append(row)
        self._weights = None
        self._fingerprint = ()
        self._chosen = []
        self._highlight = -1
        self.set_highlight(None)

    def _same(self, weights: tuple[np.ndarray, ...]) -> bool:
        """True when ``weights`` are the ones drawn (same objects or same sampled values)."""
        if self._weights is not None and all(
            a is b for a, b in zip(weights, self._weights, strict=True)
        ):
            return True
        fingerprint = tuple(
            (w.shape, w.ravel()[:: max(1, w.size // 16)].tobytes()) for w in weights
        )
        same = fingerprint == self._fingerprint
        self._weights, self._fingerprint = weights, fingerprint
        return same

    def update(self, weights: tuple[np.ndarray, ...]) -> None:
        """Pick and draw the strongest edges of every W^l (only when the weights changed)."""
        if not self._curves or self._same(weights):
            return
        self._chosen = []
        for w in weights:
            flat = w.ravel()
            k = min(flat.size, self.max_edges)
            if k < flat.size:
                idx = np.argpartition(np.abs(flat), flat.size - k)[flat.size - k :]
            else:
                idx = np.arange(flat.size)
            values = flat[idx]
            level = colors.symmetric_level(values)
            bins = np.clip(((values / level + 1) / 2 * N_BINS).astype(np.intp), 0, N_BINS - 1)
            self._chosen.append((*np.divmod(idx, w.shape[1]), bins))
        self._l = np.concatenate([np.full(len(c[0]), l) for l, c in enumerate(self._chosen, 1)])
        self._i = np.concatenate([c[0] for c in self._chosen])
        self._j = np.concatenate([c[1] for c in self._chosen])
        self._draw()

    def set_input_x(self, input_x: np.ndarray, input_y: np.ndarray) -> None:
        """Move the input pixels' positions (the input image was resized)."""
        self._x[0], self._y[0] = input_x, input_y
        if self._chosen:
            self._draw()

    def _draw(self) -> None:
        segs = []
        for l, (i, j, bins) in enumerate(self._chosen, start=1):
            seg = np.column_stack(
                (self._x[l - 1][j], self._y[l - 1][j], self._x[l][i], self._y[l][i])
            )
            for b, curve in enumerate(self._curves[l - 1]):
                s = seg[bins == b]
                curve.setData(x=s[:, 0::2].ravel(), y=s[:, 1::2].ravel())
            segs.append(seg)
        self._seg = np.concatenate(segs)

    def set_highlight(self, layer: int | None) -> None:
        """Draw the edges of W^layer at full opacity and the others dimmed (None: all full)."""
        if layer == self._highlight:
            return
        self._highlight = layer
        for l, row in enumerate(self._curves, start=1):
            for curve in row:
                curve.setOpacity(1.0 if layer is None or layer == l else DIM)

    def rule(self) -> str:
        """The rule on screen, e.g. "W¹: 300 strongest of 23,520 · W²: all 300"."""
        parts = []
        for l, (i, _j, _b) in enumerate(self._chosen, start=1):
            k = len(i)
            total = self._sizes[l] * self._sizes[l - 1]
            what = f"all {total:,}" if k == total else f"{k:,} strongest of {total:,}"
            parts.append(f"W{superscript(l)}: {what}")
        return " · ".join(parts)

    def edge_at(self, x: float, y: float, px: float, py: float) -> tuple[int, int, int] | None:
        """(l, i, j) of the shown edge nearest to (x, y) within 4 pixels (px, py: view units
        per pixel), or None."""
        if not len(self._seg):
            return None
        scale = np.array([px, py, px, py])
        s = self._seg / scale
        p = np.array([x / px, y / py])
        d = s[:, 2:] - s[:, :2]
        t = np.clip(
            np.einsum("ij,ij->i", p - s[:, :2], d) / np.maximum((d * d).sum(1), 1e-12), 0, 1
        )
        dist = np.hypot(*(s[:, :2] + t[:, None] * d - p).T)
        k = int(np.argmin(dist))
        if dist[k] > 4:
            return None
        return int(self._l[k]), int(self._i[k]), int(self._j[k])
