"""Colours shared by every view: one diverging map for signed quantities, one sequential.

Signed quantities (δ^l, ∂C/∂a^l, ∂C/∂W^l, W^l, ΔW^l) use ``DIVERGING`` centred at zero with
symmetric levels ±m; unsigned ones (a^l, σ'(z^l), pixels) use ``SEQUENTIAL``. Both maps are
dark at zero, so "nothing here" looks like the background; entries a mini-batch has not
computed yet are drawn in ``MISSING`` grey.
"""

from __future__ import annotations

import bisect
import math
import time
import weakref

import numpy as np
import pyqtgraph as pg
from pyqtgraph.Qt import QtGui, QtWidgets

from bpviz.runtime.readonly import is_sealed

BACKGROUND = "#16181d"
FOREGROUND = "#d8dde6"
MISSING = "#555a66"
MISSING_AREA = "#2a2d35"  # background of a plot whose quantity is not computed yet
HIGHLIGHT = (255, 214, 10)  # the layer or item the current phase concerns
POSITIVE = "#e6504a"
NEGATIVE = "#1981fa"

DIVERGING: pg.ColorMap = pg.colormap.get("CET-D4")  # blue – black – red
SEQUENTIAL: pg.ColorMap = pg.colormap.get("inferno")  # black – red – yellow
GREYS: pg.ColorMap = pg.colormap.get("CET-L1")  # black – white, for digits

N_COLORS = 256
DIVERGING_LUT: np.ndarray = DIVERGING.getLookupTable(nPts=N_COLORS, alpha=True)
SEQUENTIAL_LUT: np.ndarray = SEQUENTIAL.getLookupTable(nPts=N_COLORS, alpha=True)
GREYS_LUT: np.ndarray = GREYS.getLookupTable(nPts=N_COLORS, alpha=True)

_BRUSHES: dict[int, list[QtGui.QBrush]] = {}


def symmetric_level(values: np.ndarray | None, floor: float = 1e-12) -> float:
    """m = max |values| (at least ``floor``), for levels (−m, m) centred at zero.

    A sealed array (``bpviz.runtime.readonly``: read-only, as is all it views — every
    array of a snapshot) never changes, so its m is computed once and remembered
    (``_LEVELS``): a phase-stepped mini-batch shows the same ∂C/∂W¹ (400,000 numbers for
    784-512-…) in several views and in frame after frame."""
    if values is None or values.size == 0:
        return 1.0
    sealed = is_sealed(values)
    if sealed:
        known = _LEVELS.get(id(values))
        if known is not None and known[0]() is values:
            return max(known[1], floor)
    m = max(float(values.max()), -float(values.min()))  # no |values| copy: two reductions
    if not math.isfinite(m):  # NaN or ±inf somewhere: the largest finite |value|, if any
        finite = np.abs(values[np.isfinite(values)])
        m = float(finite.max()) if finite.size else 1.0
    if sealed:
        if len(_LEVELS) >= _KEEP_LEVELS:
            _LEVELS.pop(next(iter(_LEVELS)))  # the oldest
        _LEVELS[id(values)] = (weakref.ref(values), m)
    return max(m, floor)


_KEEP_LEVELS = 64
_LEVELS: dict[int, tuple[weakref.ref, float]] = {}  # id → (the array, its max |value|)

NICE_STEPS = np.array([1.0, 1.25, 1.6, 2.0, 2.5, 3.2, 4.0, 5.0, 6.4, 8.0, 10.0])
_NICE = tuple(float(step) for step in NICE_STEPS)


def nice_level(m: float) -> float:
    """The smallest of 1, 1.25, 1.6, 2, 2.5, 3.2, 4, 5, 6.4, 8 × 10^k that is ≥ m: auto
    levels that change only now and then (a colour bar whose axis is not redrawn every
    frame), wasting at most a quarter of the colour range. (Plain floats: NumPy's scalar
    functions took ~15 µs a call.)"""
    m = float(m)
    if not math.isfinite(m) or m <= 0:
        return 1.0
    e = math.floor(math.log10(m))
    f = m / 10.0**e
    return _NICE[bisect.bisect_left(_NICE, f * (1 - 1e-12))] * 10.0**e


class StickyLevel:
    """An auto level ±m for a signed quantity, kept from frame to frame by one view.

    m is the largest |value| rounded up by ``nice_level``. While frames come fast (training
    runs: up to 40 a second) every change of level redraws a colour bar or an axis (all its
    text), and mini-batch values jump about: the level then grows at once but shrinks only
    after the values have stayed below level / ``shrink`` for ``hold`` seconds. A frame
    that comes slowly (over ``SLOW`` seconds after the one before: stepping by hand, a
    slow pace) or while nothing runs is a step the user looks at: it gets its own level.
    A frame without values (not computed yet in this mini-batch) says nothing about the
    scale and leaves the level as it is; before the first values ``level`` is None.
    """

    SLOW = 0.25  # seconds between frames: fewer than 4 a second are each looked at

    def __init__(self, shrink: float = 2.5, hold: float = 0.5) -> None:
        self.shrink, self.hold = float(shrink), float(hold)
        self.level: float | None = None
        self._small_since: float | None = None  # when the values fell below level / shrink
        self._last: float = -float("inf")  # time of the last frame with values

    def reset(self) -> None:
        """Forget the level (another quantity or network): the next values set it."""
        self.level, self._small_since, self._last = None, None, -float("inf")

    def update(
        self, values: np.ndarray | None, *, running: bool = False, now: float | None = None
    ) -> float | None:
        """The level for a frame showing ``values`` (None: not computed, level kept);
        ``running``: frames may come fast, so the level may hold before shrinking."""
        if values is None or values.size == 0:
            return self.level
        now = time.monotonic() if now is None else now
        slow, self._last = now - self._last >= self.SLOW, now
        m = symmetric_level(values)
        current = self.level
        if current is None or m > current or not running or slow:
            self.level, self._small_since = nice_level(m), None
        elif m >= current / self.shrink:
            self._small_since = None  # within the range the level suits: kept
        elif self._small_since is None:
            self._small_since = now
        elif now - self._small_since >= self.hold:
            self.level, self._small_since = nice_level(m), None
        return self.level


def brushes(lut: np.ndarray) -> list[QtGui.QBrush]:
    """One cached QBrush per entry of ``lut`` (``(N, 4)`` uint8), built once per map."""
    key = id(lut)
    if key not in _BRUSHES:
        _BRUSHES[key] = [pg.mkBrush(*(int(c) for c in row)) for row in lut]
    return _BRUSHES[key]


def lut_indices(values: np.ndarray, lo: float, hi: float, n: int = N_COLORS) -> np.ndarray:
    """Map ``values`` linearly from [lo, hi] to integer indices 0 … n − 1 (clipped)."""
    scale = (n - 1) / (hi - lo) if hi > lo else 0.0
    idx = (np.nan_to_num(values) - lo) * scale
    return np.clip(idx, 0, n - 1).astype(np.intp)


def rgba(
    values: np.ndarray, lo: float, hi: float, lut: np.ndarray, out: np.ndarray | None = None
) -> np.ndarray:
    """``values`` ``(...)`` coloured by ``lut`` over [lo, hi]: ``(..., 4)`` uint8 (into
    ``out`` when given). An ImageItem shows such an image as it is: no levels, no lookup
    table, no colour table rebuilt for every small image every frame."""
    return np.take(lut, lut_indices(values, lo, hi, len(lut)), axis=0, out=out)


def sigma_prime_max(activation: str) -> float:
    """The largest value σ'(z) can take: 1/4 for the sigmoid, 1 for tanh and (leaky) ReLU."""
    return 0.25 if activation == "sigmoid" else 1.0


def style_plot(plot: pg.PlotItem) -> None:
    """Shared look of the axes: light labels on the dark background."""
    for name in ("left", "bottom", "right", "top"):
        axis = plot.getAxis(name)
        axis.setPen(pg.mkPen(FOREGROUND))
        axis.setTextPen(pg.mkPen(FOREGROUND))
        axis.enableAutoSIPrefix(False)
        if not isinstance(plot, pg.ColorBarItem):
            # No ticks reaching into the view: such an axis is repainted (all its text)
            # whenever anything in the view changes.
            axis.setStyle(tickLength=0)
        # Repainted from a cached pixmap unless the axis itself changed (its range, its
        # size): otherwise every repaint of the plot around it replays all its text.
        axis.setCacheMode(QtWidgets.QGraphicsItem.CacheMode.DeviceCoordinateCache)


def set_title(plot: pg.PlotItem, text: str, color=FOREGROUND, size: str = "9pt") -> None:
    """``plot.setTitle`` only when the text or colour changed (a new title re-lays out the
    plot and repaints all of it)."""
    key = (text, str(color), size)
    old = getattr(plot, "_bpviz_title", None)
    if old == key:
        return
    plot._bpviz_title = key
    label = plot.titleLabel
    if old is not None and old[0::2] == key[0::2] and label.isVisible():
        # only the colour: the same text keeps its size, so the label's text is restyled
        # as LabelItem.setText styles it, without re-laying out the plot (repainting it all)
        label.opts["color"] = color
        ink = pg.mkColor(color).name(QtGui.QColor.NameFormat.HexArgb)
        label.item.setHtml(f"<span style='color: {ink}; font-size: {size}'>{text}</span>")
        return
    plot.setTitle(text, color=color, size=size)
