"""The edges of the network view: the strongest |w_ij^l| of each W^l, coloured by w_ij^l.

Each layer's shown edges are split into ``N_BINS`` colour bins of w / max|w| (diverging
map, weak edges faded into the background). All edges are one graphics item that draws its
lines into an image once per change (new weights, resize; one image per highlighted layer)
and afterwards only copies that image: repainting the nodes every frame never redraws
hundreds of lines.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from pyqtgraph.Qt import QtCore, QtGui

from bpviz.ui import colors
from bpviz.ui.views._widgets import superscript

N_BINS = 8
DIM = 0.3  # strength of the layers the phase does not concern
BACKGROUND_RGB = np.array(pg.mkColor(colors.BACKGROUND).getRgb()[:3], float)


def _pens(dim: float) -> list[QtGui.QPen]:
    """One opaque cosmetic pen per colour bin: the map's colour faded into the background
    for weak edges (opaque lines cost far less to draw than translucent ones)."""
    pens = []
    for c in (np.arange(N_BINS) + 0.5) / N_BINS:
        rgb = np.asarray(colors.DIVERGING.map(c, mode="byte")[:3], float)
        alpha = dim * (0.2 + 0.8 * abs(2 * c - 1))
        pen = pg.mkPen(tuple(int(v) for v in alpha * rgb + (1 - alpha) * BACKGROUND_RGB))
        pen.setCosmetic(True)
        pens.append(pen)
    return pens


class EdgeItem(pg.GraphicsObject):
    """Line segments drawn into cached images in device pixels (the view never pans).

    ``set_layers`` gives each layer's segments per colour bin; ``set_highlight`` chooses
    the layer drawn in full colour (the others dimmed). One image per highlight is kept
    until the segments or the view's transform change, so stepping through the phases
    (a new highlight each) replays no lines after the first pass.
    """

    def __init__(self, pens: list[QtGui.QPen], dim_pens: list[QtGui.QPen]) -> None:
        super().__init__()
        self._pens, self._dim_pens = pens, dim_pens
        self._layers: list[list[tuple[int, list[QtCore.QLineF]]]] = []
        self._rect = QtCore.QRectF()
        self.highlight: int | None = None
        self._cache: dict[int | None, QtGui.QImage] = {}
        self._cache_key: tuple = ()

    def set_layers(self, layers: list[list[tuple[int, list[QtCore.QLineF]]]], rect) -> None:
        """Layer l's segments as ``layers[l - 1]``: (colour bin, lines), weakest first;
        ``rect`` bounds them all."""
        self.prepareGeometryChange()
        self._layers, self._rect = layers, rect
        self._cache.clear()
        self.update()

    def set_highlight(self, layer: int | None) -> None:
        """Draw W^layer in full colour, the others dimmed (None: all in full colour)."""
        if layer != self.highlight:
            self.highlight = layer
            self.update()

    def boundingRect(self) -> QtCore.QRectF:
        return self._rect

    def _render(self, transform: QtGui.QTransform, target: QtCore.QRect) -> QtGui.QImage:
        image = QtGui.QImage(target.size(), QtGui.QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(0)
        p = QtGui.QPainter(image)
        p.setTransform(transform * QtGui.QTransform.fromTranslate(-target.x(), -target.y()))
        for l, layer in enumerate(self._layers, start=1):
            dim = self.highlight is not None and self.highlight != l
            pens = self._dim_pens if dim else self._pens
            for b, lines in layer:
                p.setPen(pens[b])
                p.drawLines(lines)
        p.end()
        return image

    def paint(self, painter: QtGui.QPainter, *args) -> None:
        if not self._layers:
            return
        transform = painter.deviceTransform()
        target = transform.mapRect(self._rect).toAlignedRect().adjusted(-1, -1, 1, 1)
        key = (  # the whole transform: a stale image would put the edges beside the nodes
            transform.m11(), transform.m12(), transform.m21(), transform.m22(),
            transform.dx(), transform.dy(), target.width(), target.height(),
        )  # fmt: skip
        if key != self._cache_key:
            self._cache.clear()
            self._cache_key = key
        image = self._cache.get(self.highlight)
        if image is None:
            image = self._cache[self.highlight] = self._render(transform, target)
        painter.save()
        painter.resetTransform()
        # The painter may still map to the device through a window/viewport (then the
        # image, already in device pixels, came out scaled and beside the nodes): undo it.
        rest = painter.deviceTransform()
        if not rest.isIdentity():
            painter.setTransform(rest.inverted()[0])
        painter.drawImage(target.topLeft(), image)
        painter.restore()


def strongest(values: np.ndarray, k: int, floor: float = 0.0) -> np.ndarray:
    """Flat indices of the ``k`` largest |values| (all of them when k ≥ values.size).

    ``floor``: a guess at the k-th largest |value| (last frame's): when at least k values
    reach it, only those are sorted — the weights move little between two drawings.
    """
    flat = values.ravel()
    if k >= flat.size:
        return np.arange(flat.size)
    magnitude = np.abs(flat)
    if floor > 0:
        candidates = np.flatnonzero(magnitude >= floor)
        if k <= candidates.size <= 8 * k:
            part = np.argpartition(magnitude[candidates], candidates.size - k)
            return candidates[part[candidates.size - k :]]
    return np.argpartition(magnitude, flat.size - k)[flat.size - k :]


class EdgeLayer:
    """The edges between the node positions of a NetworkView, in its ViewBox."""

    def __init__(self, vb: pg.ViewBox, max_edges: int = 300) -> None:
        self.vb = vb
        self.max_edges = max_edges
        self.item = EdgeItem(_pens(1.0), _pens(DIM))
        vb.addItem(self.item, ignoreBounds=True)
        self._weights: tuple[np.ndarray, ...] | None = None
        self._fingerprint: tuple = ()
        self._sizes: tuple[int, ...] = ()
        self._chosen: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # i, j, bin
        self._floors: list[float] = []  # per layer: the smallest |w| drawn last time
        self._layer_lines: list[list[tuple[int, list[QtCore.QLineF]]]] = []
        self._layer_segs: list[np.ndarray] = []
        # Shown edges of all layers, for picking: layer, i, j and the segment ends.
        self._l = self._i = self._j = np.zeros(0, dtype=np.intp)
        self._seg = np.zeros((0, 4))

    def build(self, sizes: tuple[int, ...], input_x: np.ndarray, node_y: list) -> None:
        """Start over for a network of ``sizes``; node positions per layer."""
        self._sizes = sizes
        self._x = [np.asarray(input_x, float)] + [
            np.full(n, float(l)) for l, n in enumerate(sizes[1:], start=1)
        ]
        self._y = [np.asarray(y, float) for y in node_y]
        self._weights, self._fingerprint, self._chosen = None, (), []
        self._floors = [0.0] * (len(sizes) - 1)
        self._layer_lines, self._layer_segs = [], []
        self.item.set_highlight(None)
        self.item.set_layers([], QtCore.QRectF())

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
        """Pick and draw the strongest edges of every W^l (only when the weights changed, and
        only when that changed which edges are drawn or their colours: in a wide network
        the strongest few hundred of 400,000 weights rarely change between two drawings)."""
        if not self._sizes or self._same(weights):
            return
        chosen = []
        for l, w in enumerate(weights, start=1):
            idx = np.sort(strongest(w, self.max_edges, 0.98 * self._floors[l - 1]))
            values = w.ravel()[idx]
            self._floors[l - 1] = float(np.abs(values).min()) if values.size else 0.0
            level = colors.symmetric_level(values)
            bins = np.clip(((values / level + 1) / 2 * N_BINS).astype(np.intp), 0, N_BINS - 1)
            chosen.append((*np.divmod(idx, w.shape[1]), bins))
        if len(chosen) == len(self._chosen) and all(
            np.array_equal(a, b)
            for new, old in zip(chosen, self._chosen, strict=True)
            for a, b in zip(new, old, strict=True)
        ):
            return  # the same edges in the same colours: the image drawn is still right
        self._chosen = chosen
        self._l = np.concatenate([np.full(len(c[0]), l) for l, c in enumerate(self._chosen, 1)])
        self._i = np.concatenate([c[0] for c in self._chosen])
        self._j = np.concatenate([c[1] for c in self._chosen])
        self._layer_lines = [[] for _ in self._chosen]
        self._layer_segs = [np.zeros((0, 4)) for _ in self._chosen]
        for l in range(1, len(self._chosen) + 1):
            self._lines_of(l)
        self._draw()

    def set_input_x(self, input_x: np.ndarray, input_y: np.ndarray) -> None:
        """Move the input pixels' positions (the input image was resized)."""
        self._x[0], self._y[0] = input_x, input_y
        if self._chosen:
            self._lines_of(1)
            self._draw()

    def _lines_of(self, l: int) -> None:
        """Segments of W^l's shown edges, and their lines per colour bin, weakest first."""
        i, j, bins = self._chosen[l - 1]
        seg = np.column_stack((self._x[l - 1][j], self._y[l - 1][j], self._x[l][i], self._y[l][i]))
        self._layer_segs[l - 1] = seg
        lines = []
        for b in sorted(range(N_BINS), key=lambda b: abs(2 * b + 1 - N_BINS)):
            chosen = seg[bins == b]  # weakest bins first, the strongest on top
            if len(chosen):
                lines.append((b, [QtCore.QLineF(*s) for s in chosen.tolist()]))
        self._layer_lines[l - 1] = lines

    def _draw(self) -> None:
        self._seg = np.concatenate(self._layer_segs)
        lo, hi = self._seg.min(axis=0), self._seg.max(axis=0)
        x0, y0 = min(lo[0], lo[2]), min(lo[1], lo[3])
        x1, y1 = max(hi[0], hi[2]), max(hi[1], hi[3])
        self.item.set_layers(self._layer_lines, QtCore.QRectF(x0, y0, x1 - x0, y1 - y0))

    def set_highlight(self, layer: int | None) -> None:
        """Draw the edges of W^layer in full colour and the others dimmed (None: all full)."""
        self.item.set_highlight(layer)

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
