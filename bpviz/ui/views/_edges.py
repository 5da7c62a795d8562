"""The edges of the network view, and the wave that runs along them while a phase plays.

Every Wˡ's strongest |wᵢⱼ| are drawn coloured by wᵢⱼ (``DIVERGING``, each layer on its own
±max). A phase lights up the layers it computes with what their edges carry (``_waves``:
wᵢⱼ aⱼ forward, wᵢⱼ δᵢ backward, ∂C/∂wᵢⱼ, ΔW): those layers' strongest |values| are drawn
on one ±level, the other layers dimmed. All edges are one graphics item (``_edge_item``)
whose lines are rasterised once per change (new weights, new phase, resize): the layers
the phase does not concern, the lit layers' weights ``ahead`` of the wave (dimmed) and
the ``wave`` (lit), composed into two images. ``set_progress`` only moves the x where the
wave image is cut from the ahead image — the edges light up along their length, as they
all run left to right — so a frame of the animation copies two image strips and draws
no line.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from pyqtgraph.Qt import QtCore, QtGui

from bpviz.ui import colors
from bpviz.ui.views._edge_item import INF, EdgeItem, Entry
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
# the colour bins, weakest first (the strongest drawn on top)
_ORDER = sorted(range(N_BINS), key=lambda b: abs(2 * b + 1 - N_BINS))
_RANK = np.argsort(_ORDER)  # bin → its place in _ORDER


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


class EdgeLayer:
    """The edges between the node positions of a NetworkView, in its ViewBox.

    ``out_xy[l]`` / ``in_xy[l]``: where the edges leave / reach the neurons of layer l,
    ``(n_l, 2)`` view coordinates (an input image sends its edges from its right border).
    """

    def __init__(self, vb: pg.ViewBox, max_edges: int = 300) -> None:
        self.vb = vb
        self.max_edges = max_edges
        # below every other item, over nothing but the view's background: opaque images
        self.item = EdgeItem(pg.mkColor(colors.BACKGROUND).rgba())
        self.item.setZValue(-1)
        vb.addItem(self.item, ignoreBounds=True)
        self._pens, self._dim, self._lit = _pens(1.0), _pens(DIM), _pens(1.0)
        # each pen list's colours as Qt's ARGB32 pixels (N_BINS,) uint32, by list
        self._colours = {
            id(pens): np.array([pen.color().rgba() for pen in pens], np.uint32)
            for pens in (self._pens, self._dim, self._lit)
        }
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
        self._picks: list = []  # per layer: (l, Shown, segments) drawn, for picking
        self._picking: tuple | None = None  # their segments, l, i, j (made when asked)
        self._rect = QtCore.QRectF()  # bounds every line the nodes' positions allow
        # per layer (lit: also "cost"): lines per colour bin and segments; the versions
        # key the item's pixels, so a new phase draws only the lit layer's lines
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
        self._picks, self._picking = [], None
        self.item.set_entries([], QtCore.QRectF())

    def set_positions(self, out_xy: list, in_xy: list, cost_xy, cost_from_x: float) -> None:
        """New node positions (a resize): redraw the lines there."""
        self.out_xy, self.in_xy = out_xy, in_xy
        self.cost_xy, self.cost_from_x = cost_xy, cost_from_x
        points = np.concatenate([*out_xy, *in_xy, [cost_xy, (cost_from_x, cost_xy[1])]])
        lo, hi = points.min(axis=0), points.max(axis=0)
        self._rect = QtCore.QRectF(lo[0], lo[1], hi[0] - lo[0], hi[1] - lo[1])
        self.item.forget_lines()  # the lines' ends moved
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
        if len(base) != len(self.base):
            changed = range(1, len(base) + 1)
        else:  # only the layers whose lines or colours changed are drawn again
            changed = [
                l
                for l, (new, old) in enumerate(zip(base, self.base, strict=True), start=1)
                if not (
                    np.array_equal(new.i, old.i)
                    and np.array_equal(new.j, old.j)
                    and np.array_equal(new.bins, old.bins)
                )
            ]
        self.base = base
        if changed:
            self._rebuild_base(changed)
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
    def _entry(seg: np.ndarray, bins: np.ndarray, ids: np.ndarray) -> tuple:
        """(bin, segments ``(k, 4)``) for each colour bin present, weakest first (the
        strongest drawn on top); all the segments ``seg``; the lines' ``ids``, segments
        and bins in the order drawn."""
        rank = _RANK[bins]
        order = np.argsort(rank, kind="stable")
        ends = np.searchsorted(rank[order], np.arange(N_BINS + 1))
        ordered = seg[order]
        groups = [
            (_ORDER[r], ordered[ends[r] : ends[r + 1]])
            for r in range(N_BINS)
            if ends[r + 1] > ends[r]
        ]
        return groups, seg, ids[order], ordered, bins[order]

    def _layer_entry(self, l: int, shown: Shown) -> tuple:
        """``_entry`` for the edges ``shown`` of Wˡ, each named by its index i·nˡ⁻¹ + j."""
        ids = shown.i * self._sizes[l - 1] + shown.j
        return self._entry(self._segments(l, shown), shown.bins, ids)

    def _rebuild_base(self, layers=None) -> None:
        """New lines for the weights of ``layers`` (None: all)."""
        if not self.base:
            return
        self._base_version += 1
        for l in range(1, len(self.base) + 1) if layers is None else layers:
            shown = self.base[l - 1]
            self._base_lines[l] = (*self._layer_entry(l, shown), self._base_version)
        live = {(l, lines[-1]) for l, lines in self._base_lines.items()}
        self.item.drop(lambda key: key[0] == "base" and (key[1], key[-1]) not in live)

    def _rebuild_lit(self) -> None:
        self._lit_version += 1
        self._lit_lines = {l: self._layer_entry(l, s) for l, s in self.lit.items()}
        if self.cost_bins is not None:  # δᴸ: links from the cost C into the outputs
            n = len(self.cost_bins)
            seg = np.column_stack(
                (np.tile(self.cost_xy, (n, 1)), np.full(n, self.cost_from_x), self.in_xy[-1][:, 1])
            )
            self._lit_lines["cost"] = self._entry(seg, self.cost_bins, np.arange(n))
        version = self._lit_version
        self.item.drop(lambda key: key[0] == "lit" and key[-1] != version)

    def _publish(self) -> None:
        """Hand the item what to draw now, and keep the drawn segments for picking."""
        if not self._base_lines:
            return
        entries, picks = [], []
        dim = self.plan is not None
        for l, (bins, seg, ids, ordered, ordered_bins, version) in self._base_lines.items():
            lit = l in self._lit_lines
            pens = self._dim if lit or dim else self._pens
            groups = [(pens[b], lines) for b, lines in bins]
            key = ("base", l, lit or dim, version)
            colours = self._colours[id(pens)][ordered_bins]
            entries.append(Entry(key, groups, "ahead" if lit else "all", ids, l, ordered, colours))
            picks.append((l, self.lit[l] if lit else self.base[l - 1], seg))
        for l, (bins, seg, ids, ordered, ordered_bins) in self._lit_lines.items():
            groups = [(self._lit[b], lines) for b, lines in bins]
            colours = self._colours[id(self._lit)][ordered_bins]
            key = ("lit", l, self._lit_version)
            entries.append(Entry(key, groups, "lit", ids, l, ordered, colours))
            if l != "cost":
                picks[l - 1] = (l, self.lit[l], seg)
        self._picks, self._picking = picks, None
        self.item.set_entries(entries, self._rect)

    def _picked(self) -> tuple:
        """The drawn segments ``(n, 4)`` and their l, i, j (made once per drawing, when
        a pointer first asks)."""
        if self._picking is None:
            picks = self._picks
            if not picks:
                empty = np.zeros(0, dtype=np.intp)
                self._picking = (np.zeros((0, 4)), empty, empty, empty)
            else:
                self._picking = (
                    np.concatenate([seg for _l, _s, seg in picks]),
                    np.concatenate([np.full(len(s.i), l) for l, s, _seg in picks]),
                    np.concatenate([s.i for _l, s, _seg in picks]),
                    np.concatenate([s.j for _l, s, _seg in picks]),
                )
        return self._picking

    def drawn(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The edges drawn now, for picking and tests: segments ``(k, 4)`` (x0, y0, x1, y1
        in view units) and each one's l, i and j."""
        return self._picked()

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
        seg, ls, iis, js = self._picked()
        if not len(seg):
            return None
        scale = np.array([px, py, px, py])
        s = seg / scale
        p = np.array([x / px, y / py])
        d = s[:, 2:] - s[:, :2]
        t = np.clip(
            np.einsum("ij,ij->i", p - s[:, :2], d) / np.maximum((d * d).sum(1), 1e-12), 0, 1
        )
        dist = np.hypot(*(s[:, :2] + t[:, None] * d - p).T)
        k = int(np.argmin(dist))
        if dist[k] > 4:
            return None
        return int(ls[k]), int(iis[k]), int(js[k])
