"""The edges of the network view, and the wave that runs along them while a phase plays.

Every Wˡ's strongest |wᵢⱼ| are drawn coloured by wᵢⱼ (``DIVERGING``, each layer on its own
±max). A phase lights up the layers it computes with what their edges carry (``_waves``:
wᵢⱼ aⱼ forward, wᵢⱼ δᵢ backward, ∂C/∂wᵢⱼ, ΔW): those layers' strongest |values| are drawn
on one ±level, the other layers dimmed. All edges are one graphics item holding three
images drawn once per change (new weights, new phase, resize): the ``rest`` (layers the
phase does not concern), the lit layers' weights ``ahead`` of the wave (dimmed) and the
``wave`` (lit). ``set_progress`` only moves the x where the wave image is cut from the
ahead image — the edges light up along their length, as they all run left to right —
so a frame of the animation copies two image strips and draws no line.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from pyqtgraph.Qt import QtCore, QtGui

from bpviz.ui import colors
from bpviz.ui.views._waves import (  # noqa: F401  (strongest: the tests' too)
    BACKWARD,
    FORWARD,
    MEET,
    N_BINS,
    Shown,
    WavePlan,
    bins_of,
    choose,
    strongest,
)
from bpviz.ui.views._widgets import superscript

DIM = 0.3  # strength of the layers the phase does not concern
BACKGROUND_RGB = np.array(pg.mkColor(colors.BACKGROUND).getRgb()[:3], float)
INF = 1e9  # an open end of a clip interval (view units)


def _pens(dim: float, width: float = 1.0) -> list[QtGui.QPen]:
    """One opaque cosmetic pen per colour bin: the map's colour faded into the background
    for weak edges (opaque lines cost far less to draw than translucent ones)."""
    pens = []
    for c in (np.arange(N_BINS) + 0.5) / N_BINS:
        rgb = np.asarray(colors.DIVERGING.map(c, mode="byte")[:3], float)
        alpha = dim * (0.2 + 0.8 * abs(2 * c - 1))
        pen = pg.mkPen(tuple(int(v) for v in alpha * rgb + (1 - alpha) * BACKGROUND_RGB))
        pen.setCosmetic(True)
        pen.setWidthF(width)
        pens.append(pen)
    return pens


class EdgeItem(pg.GraphicsObject):
    """Line segments drawn into cached images in device pixels (the view never pans).

    ``set_entries`` lists what to draw, in order: (key, [(pen, lines)], rect, role) — one
    entry per weight layer (its weights, full or dimmed) and per lit layer (the wave).
    Each entry's image is drawn once and kept under its key until ``drop`` or a new
    transform; ``role`` says where it shows: "all", "ahead" (the x intervals the wave
    has not reached) or "lit" (those it has), set by ``set_clip``.
    """

    def __init__(self) -> None:
        super().__init__()
        self._entries: list[tuple] = []
        self._images: dict[tuple, tuple[QtGui.QImage, QtCore.QRect]] = {}
        self._rect = QtCore.QRectF()
        self._transform_key: tuple = ()
        self.lit: list[tuple[float, float]] = []
        self.ahead: list[tuple[float, float]] = [(-INF, INF)]

    def set_entries(self, entries: list[tuple], rect: QtCore.QRectF) -> None:
        """What to draw (see the class); ``rect`` bounds it all."""
        self.prepareGeometryChange()
        self._entries, self._rect = entries, rect
        self.update()

    def drop(self, stale) -> None:
        """Forget the images whose key ``stale(key)`` is true (their lines changed)."""
        self._images = {k: v for k, v in self._images.items() if not stale(k)}

    def set_clip(self, lit: list[tuple[float, float]], ahead: list[tuple[float, float]]) -> None:
        """Show the wave over the x intervals ``lit`` and the dimmed weights ahead of it
        over ``ahead`` (view units)."""
        if lit != self.lit or ahead != self.ahead:
            self.lit, self.ahead = lit, ahead
            self.update()

    def boundingRect(self) -> QtCore.QRectF:
        return self._rect

    def groups(self, role: str) -> list[tuple[QtGui.QPen, list[QtCore.QLineF]]]:
        """The (pen, lines) of every entry drawn in ``role`` ("all", "ahead", "lit")."""
        return [group for _key, groups, _r, r in self._entries if r == role for group in groups]

    @staticmethod
    def _render(groups, transform: QtGui.QTransform, target: QtCore.QRect) -> QtGui.QImage:
        image = QtGui.QImage(target.size(), QtGui.QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(0)
        p = QtGui.QPainter(image)
        p.setTransform(transform * QtGui.QTransform.fromTranslate(-target.x(), -target.y()))
        for pen, lines in groups:
            p.setPen(pen)
            p.drawLines(lines)
        p.end()
        return image

    def paint(self, painter: QtGui.QPainter, *args) -> None:
        if not self._entries:
            return
        transform = painter.deviceTransform()
        key = (  # the whole transform: a stale image would put the edges beside the nodes
            transform.m11(), transform.m12(), transform.m21(), transform.m22(),
            transform.dx(), transform.dy(),
        )  # fmt: skip
        if key != self._transform_key:
            self._images.clear()
            self._transform_key = key
        painter.save()
        painter.resetTransform()
        # The painter may still map to the device through a window/viewport (then the
        # image, already in device pixels, came out scaled and beside the nodes): undo it.
        rest = painter.deviceTransform()
        if not rest.isIdentity():
            painter.setTransform(rest.inverted()[0])
        clips = {"all": [(-INF, INF)], "ahead": self.ahead, "lit": self.lit}
        for name, groups, rect, role in self._entries:
            intervals = clips[role]
            if not groups or not intervals:
                continue
            cached = self._images.get(name)
            if cached is None:
                target = transform.mapRect(rect).toAlignedRect().adjusted(-1, -1, 1, 1)
                cached = self._images[name] = (self._render(groups, transform, target), target)
            image, target = cached
            for x0, x1 in intervals:  # view x → image column (no rotation in a ViewBox)
                c0 = transform.m11() * x0 + transform.dx() - target.x()
                c1 = transform.m11() * x1 + transform.dx() - target.x()
                c0, c1 = max(0.0, min(c0, c1)), min(float(image.width()), max(c0, c1))
                if c1 > c0:
                    source = QtCore.QRectF(c0, 0, c1 - c0, image.height())
                    at = QtCore.QRectF(target.x() + c0, target.y(), c1 - c0, image.height())
                    painter.drawImage(at, image, source)
        painter.restore()


class EdgeLayer:
    """The edges between the node positions of a NetworkView, in its ViewBox.

    ``out_xy[l]`` / ``in_xy[l]``: where the edges leave / reach the neurons of layer l,
    ``(n_l, 2)`` view coordinates (an input image sends its edges from its right border).
    """

    def __init__(self, vb: pg.ViewBox, max_edges: int = 300) -> None:
        self.vb = vb
        self.max_edges = max_edges
        self.item = EdgeItem()
        vb.addItem(self.item, ignoreBounds=True)
        self._pens, self._dim, self._lit = _pens(1.0), _pens(DIM), _pens(1.0)
        self._sizes: tuple[int, ...] = ()
        self._weights: tuple[np.ndarray, ...] | None = None
        self._fingerprint: tuple = ()
        self.base: list[Shown] = []  # per layer: the strongest |w|
        self._floors: list[float] = []
        self.plan: WavePlan | None = None
        self.lit: dict[int, Shown] = {}  # per lit layer: the strongest |value| of the wave
        self.cost_bins: np.ndarray | None = None
        self.cost_xy = (0.0, 0.5)
        self.cost_from_x = 0.0
        self.progress = 1.0
        self._seg = np.zeros((0, 4))  # drawn segments, for picking: their l, i, j
        self._l = self._i = self._j = np.zeros(0, dtype=np.intp)
        # per layer (lit: also "cost"): lines per colour bin, segments, bounding rect; the
        # versions key the item's images, so a new phase redraws only the lit layer
        self._base_lines: dict = {}
        self._lit_lines: dict = {}
        self._base_version = self._lit_version = 0

    def build(self, sizes: tuple[int, ...]) -> None:
        """Start over for a network of ``sizes`` (positions come with ``set_positions``)."""
        self._sizes = sizes
        self._weights, self._fingerprint, self.base, self.lit = None, (), [], {}
        self._floors = [0.0] * (len(sizes) - 1)
        self.plan, self.cost_bins = None, None
        self.out_xy: list[np.ndarray] = [np.zeros((n, 2)) for n in sizes]
        self.in_xy: list[np.ndarray] = [np.zeros((n, 2)) for n in sizes]
        self._base_lines, self._lit_lines = {}, {}
        self.item.set_entries([], QtCore.QRectF())

    def set_positions(self, out_xy: list, in_xy: list, cost_xy, cost_from_x: float) -> None:
        """New node positions (a resize): redraw the lines there."""
        self.out_xy, self.in_xy = out_xy, in_xy
        self.cost_xy, self.cost_from_x = cost_xy, cost_from_x
        self._rebuild_base()
        self._rebuild_lit()
        self._publish()

    # -- what is drawn -------------------------------------------------------------
    def _same(self, weights: tuple[np.ndarray, ...]) -> bool:
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
        """Choose and draw the strongest edges of every Wˡ (when the weights changed and
        that changed which edges are drawn or their colours)."""
        if not self._sizes or self._same(weights):
            return
        base = []
        for l, w in enumerate(weights, start=1):
            shown = choose(w, self.max_edges, floor=0.98 * self._floors[l - 1])
            self._floors[l - 1] = float(np.abs(shown.values).min()) if shown.values.size else 0
            base.append(shown)
        if len(base) == len(self.base) and all(
            np.array_equal(new.i, old.i)
            and np.array_equal(new.j, old.j)
            and np.array_equal(new.bins, old.bins)
            for new, old in zip(base, self.base, strict=True)
        ):
            self.base = base  # the same lines in the same colours: the images still hold
            return
        self.base = base
        self._rebuild_base()
        self._publish()

    def set_plan(self, plan: WavePlan | None) -> None:
        """Light up what ``plan`` carries (None: every layer shows its weights)."""
        if plan is None and self.plan is None:
            return
        self.plan = plan
        self.lit, self.cost_bins = {}, None
        if plan is not None:
            for l, values in plan.layers.items():
                self.lit[l] = choose(values, self.max_edges, plan.level)
            if plan.cost is not None:
                self.cost_bins = bins_of(plan.cost, plan.level)
        self._rebuild_lit()
        self._publish()
        self.set_progress(self.progress)

    def shown(self, l: int) -> Shown | None:
        """The edges of Wˡ drawn now: lit by the phase's wave, else the strongest |w|."""
        return self.lit.get(l) or (self.base[l - 1] if l - 1 < len(self.base) else None)

    def _segments(self, l: int, shown: Shown) -> np.ndarray:
        return np.column_stack((self.out_xy[l - 1][shown.j], self.in_xy[l][shown.i]))

    @staticmethod
    def _bins(seg: np.ndarray, bins: np.ndarray) -> list:
        """(bin, lines) for each colour bin, weakest first (the strongest drawn on top)."""
        out = []
        for b in sorted(range(N_BINS), key=lambda b: abs(2 * b + 1 - N_BINS)):
            chosen = seg[bins == b]
            if len(chosen):
                out.append((b, [QtCore.QLineF(*s) for s in chosen.tolist()]))
        return out

    @staticmethod
    def _entry(seg: np.ndarray, bins: np.ndarray) -> tuple:
        lo, hi = seg.reshape(-1, 2).min(axis=0), seg.reshape(-1, 2).max(axis=0)
        rect = QtCore.QRectF(lo[0], lo[1], hi[0] - lo[0], hi[1] - lo[1])
        return EdgeLayer._bins(seg, bins), seg, rect

    def _rebuild_base(self) -> None:
        if not self.base:
            return
        self._base_version += 1
        self._base_lines = {
            l: self._entry(self._segments(l, shown), shown.bins)
            for l, shown in enumerate(self.base, start=1)
        }
        version = self._base_version
        self.item.drop(lambda key: key[0] == "base" and key[-1] != version)

    def _rebuild_lit(self) -> None:
        self._lit_version += 1
        self._lit_lines = {
            l: self._entry(self._segments(l, s), s.bins) for l, s in self.lit.items()
        }
        if self.cost_bins is not None:  # δᴸ: links from the cost C into the outputs
            n = len(self.cost_bins)
            seg = np.column_stack(
                (np.tile(self.cost_xy, (n, 1)), np.full(n, self.cost_from_x), self.in_xy[-1][:, 1])
            )
            self._lit_lines["cost"] = self._entry(seg, self.cost_bins)
        version = self._lit_version
        self.item.drop(lambda key: key[0] == "lit" and key[-1] != version)

    def _publish(self) -> None:
        """Hand the item what to draw now, and keep the drawn segments for picking."""
        if not self._base_lines:
            return
        entries, picks, rect = [], [], QtCore.QRectF()
        dim = self.plan is not None
        for l, (bins, seg, r) in self._base_lines.items():
            lit = l in self._lit_lines
            pens = self._dim if lit or dim else self._pens
            groups = [(pens[b], lines) for b, lines in bins]
            key = ("base", l, lit or dim, self._base_version)
            entries.append((key, groups, r, "ahead" if lit else "all"))
            picks.append((l, self.lit[l] if lit else self.base[l - 1], seg))
            rect = rect.united(r)
        for l, (bins, seg, r) in self._lit_lines.items():
            groups = [(self._lit[b], lines) for b, lines in bins]
            entries.append((("lit", l, self._lit_version), groups, r, "lit"))
            if l != "cost":
                picks[l - 1] = (l, self.lit[l], seg)
            rect = rect.united(r)
        self._seg = np.concatenate([seg for _l, _s, seg in picks])
        self._l = np.concatenate([np.full(len(s.i), l) for l, s, _seg in picks])
        self._i = np.concatenate([s.i for _l, s, _seg in picks])
        self._j = np.concatenate([s.j for _l, s, _seg in picks])
        self.item.set_entries(entries, rect)

    # -- the wave ------------------------------------------------------------------
    def band(self) -> tuple[float, float]:
        """The x interval the wave crosses (view units)."""
        plan = self.plan
        if plan is None:
            return 0.0, 0.0
        if plan.cost is not None:
            return self.cost_from_x, self.cost_xy[0]
        ls = sorted(plan.layers)
        return float(self.out_xy[ls[0] - 1][:, 0].min()), float(self.in_xy[ls[-1]][:, 0].max())

    def set_progress(self, front: float) -> None:
        """Move the wave: ``front`` ∈ [0, 1] the fraction of the band it has crossed."""
        self.progress = front = float(np.clip(front, 0.0, 1.0))
        plan = self.plan
        if plan is None:
            self.item.set_clip([], [(-INF, INF)])
            return
        a, b = self.band()
        if front >= 1.0:
            self.item.set_clip([(-INF, INF)], [])
        elif plan.direction == FORWARD:
            x = a + front * (b - a)
            self.item.set_clip([(-INF, x)], [(x, INF)])
        elif plan.direction == BACKWARD:
            x = b - front * (b - a)
            self.item.set_clip([(x, INF)], [(-INF, x)])
        elif plan.direction == MEET:
            x0, x1 = a + front * (b - a) / 2, b - front * (b - a) / 2
            self.item.set_clip([(-INF, x0), (x1, INF)], [(x0, x1)])

    # -- words and picking ---------------------------------------------------------
    def rule(self) -> str:
        """The rule on screen, e.g. "W¹: 300 strongest of 23,520 · W²: all 300"."""
        parts = []
        for l in range(1, len(self._sizes)):
            shown = self.shown(l)
            if shown is None:
                continue
            k, total = len(shown.i), self._sizes[l] * self._sizes[l - 1]
            what = f"all {total:,}" if k == total else f"{k:,} strongest of {total:,}"
            parts.append(f"W{superscript(l)}: {what}")
        return " · ".join(parts)

    def edge_at(self, x: float, y: float, px: float, py: float) -> tuple[int, int, int] | None:
        """(l, i, j) of the drawn edge nearest to (x, y) within 4 pixels (px, py: view
        units per pixel), or None."""
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
