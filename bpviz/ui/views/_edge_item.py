"""The graphics item that draws the network view's edges: 1-pixel lines rasterised with
NumPy into two reused images, shown in strips as the wave runs.

Qt's raster engine takes ~11 µs for an aliased cosmetic line 400 px long here, and a phase
brings a few hundred new lines each step; the same lines as integer pixel indices
(``line_pixels``: Qt's own fixed-point steps along each line's major axis, one row of an
``(n, N)`` array per line) cost about a sixth of that, and written into a uint32 buffer
(last write wins, as painting opaque pens in order does) they make the same picture.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pyqtgraph as pg
from pyqtgraph.Qt import QtCore, QtGui

INF = 1e9  # an open end of a clip interval (view units)
FRAMES_KEPT = 3  # composed images kept (the weights ahead, the wave: ~1-7 MB each)
RESTS_KEPT = 4  # images of the layers a wave leaves alone (one per layer lit, and C's)
LINES_KEPT = 8192  # lines whose pixels are kept, per space (a few MB)


def _div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a / b rounded toward zero, as C's integer division (NumPy's // rounds down)."""
    q = np.abs(a) // np.maximum(np.abs(b), 1)
    return np.where((a < 0) != (b < 0), -q, q)


def line_pixels(
    seg: np.ndarray, transform: QtGui.QTransform, target: QtCore.QRect
) -> tuple[np.ndarray, np.ndarray]:
    """The pixels of the 1-px aliased lines ``seg`` ``(n, 4)`` (x₀, y₀, x₁, y₁ in item
    coordinates, mapped by ``transform`` to the device) in an image covering ``target``
    there: flat row-major indices int32, line after line, and how many each line has
    ``(n,)`` (a line shorter than half a pixel has none).

    The pixels are those Qt's raster engine (QCosmeticStroker::drawLine) paints for a
    cosmetic pen with square caps: ends in 26.6 fixed point, one pixel per column (or row,
    for a steep line) from round(x₀ − ½) to round(x₁ + ½) exclusive, the other coordinate
    stepped in 16.16 fixed point from the first pixel's centre (a falling one from half a
    step before). Ends are clamped into the image.
    """
    w, h = target.width(), target.height()
    x = seg[:, 0::2] * transform.m11() + seg[:, 1::2] * transform.m21()
    y = seg[:, 0::2] * transform.m12() + seg[:, 1::2] * transform.m22()
    x = np.clip(np.nan_to_num(x + (transform.dx() - target.x())), 0, w - 1e-3)
    y = np.clip(np.nan_to_num(y + (transform.dy() - target.y())), 0, h - 1e-3)
    x, y = (x * 64).astype(np.int64), (y * 64).astype(np.int64)  # 26.6, as Qt truncates
    steep = np.abs(y[:, 1] - y[:, 0]) > np.abs(x[:, 1] - x[:, 0])
    major, minor = np.where(steep[:, None], y, x), np.where(steep[:, None], x, y)
    flip = major[:, 0] > major[:, 1]  # drawn from the smaller end of the major axis
    major[flip], minor[flip] = major[flip, ::-1], minor[flip, ::-1]
    m1, m2, q1, q2 = major[:, 0], major[:, 1], minor[:, 0], minor[:, 1]
    inc = _div((q2 - q1) << 16, m2 - m1)  # minor step a pixel, 16.16
    q = (q1 << 10) - (inc >> 1)  # the square caps: half a pixel longer at each end
    m1, m2 = m1 - 32, m2 + 32
    first, end = (m1 + 32) >> 6, (m2 + 32) >> 6
    q += (((first << 6) + 32 - m1) * inc) >> 6  # at the first pixel's centre
    # Qt 6 takes a falling minor coordinate half a step further back (measured: with
    # this, every pixel of hundreds of random lines is Qt's own; tests/test_edge_raster)
    q = np.where(inc < 0, q - (inc >> 1), q)
    count = np.maximum(end - first, 0)
    if not count.any():
        return np.zeros(0, np.int32), count
    # int32 on an (n, N) grid, a row per line (NumPy multiplies int64 several times
    # slower); past a row's count its cells are not pixels, and are dropped at the end
    step = np.arange(int(count.max()), dtype=np.int32)[None, :]
    row_step = np.int32(w)
    along = np.where(steep, row_step, 1).astype(np.int32)[:, None]  # the major axis' stride
    across = np.where(steep, 1, row_step).astype(np.int32)[:, None]
    pixels = step * inc.astype(np.int32)[:, None]
    pixels += q.astype(np.int32)[:, None]
    pixels >>= 16
    pixels *= across
    major = step + first.astype(np.int32)[:, None]
    major *= along
    pixels += major
    return pixels[step < count[:, None]], count


def _reuse(cache: OrderedDict, kept: int, target: QtCore.QRect) -> np.ndarray:
    """A ``target``-sized uint32 buffer: the oldest of ``cache``'s when it holds ``kept``
    (dropped from it), else a new one."""
    shape = (target.height(), target.width())
    if len(cache) >= kept:
        old = cache.popitem(last=False)[1]
        old = old[0] if isinstance(old, tuple) else old
        if old.shape == shape:
            return old
    return np.empty(shape, np.uint32)


class Entry:
    """One image's worth of lines: ``groups`` [(pen, segments ``(k, 4)``)] drawn in order
    (weakest colours first); ``key`` names its pixels in the cache (new lines, new key);
    ``role`` where it shows: "all", "ahead" (where the wave has not reached) or "lit".
    ``ids`` (optional, ``(n,)`` in drawing order) name the lines within ``space``: a
    line of that name keeps its pixels from entry to entry (``EdgeItem.forget_lines``
    when the lines of a space move)."""

    __slots__ = ("_colours", "_segments", "groups", "ids", "key", "role", "space")

    def __init__(
        self, key: tuple, groups: list, role: str, ids=None, space=None,
        segments: np.ndarray | None = None, colours: np.ndarray | None = None,
    ) -> None:  # fmt: skip
        self.key, self.groups, self.role = key, groups, role
        self.ids, self.space = ids, space
        # the groups' segments and colours one after the other, when the maker has them
        self._segments, self._colours = segments, colours

    def lines(self) -> tuple[np.ndarray, np.ndarray]:
        """All segments ``(n, 4)`` in drawing order and their colours ``(n,)`` uint32
        (0xAARRGGBB, as Qt's ARGB32 pixels are)."""
        if self._segments is not None and self._colours is not None:
            return self._segments, self._colours
        segs = [lines for _pen, lines in self.groups]
        colours = [np.full(len(lines), pen.color().rgba(), np.uint32) for pen, lines in self.groups]
        if not segs:
            return np.zeros((0, 4)), np.zeros(0, np.uint32)
        return np.concatenate(segs), np.concatenate(colours)


class EdgeItem(pg.GraphicsObject):
    """Line segments drawn into cached images in device pixels (the view never pans).

    ``background`` (0xAARRGGBB) fills the images where no line is: the view's own opaque
    background when nothing lies under the edges (the images are then copied, not
    blended), else 0 (transparent). The lines' pens must be opaque.

    ``set_entries`` lists what to draw, in order (``Entry``: one per weight layer — its
    weights, full or dimmed — and per lit layer — the wave). Each entry's pixels are
    computed once and kept under its key until ``drop`` or a new transform. Two images
    are composed from them: the "ahead" one (entries "all" and "ahead") shown over the x
    intervals the wave has not reached and the "lit" one ("all" and "lit") over those it
    has (``set_clip``; the two sets of intervals are complementary) — moving the wave
    only copies other strips of the two images.
    """

    def __init__(self, background: int = 0) -> None:
        super().__init__()
        self._background = background
        # opaque images (the view's background colour where no line is) are copied to
        # the screen; translucent ones are blended, pixel by pixel
        self._format = (
            QtGui.QImage.Format.Format_RGB32
            if background >> 24 == 0xFF
            else QtGui.QImage.Format.Format_ARGB32_Premultiplied
        )
        self._entries: list[Entry] = []
        self._pixels: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}
        self._lines: dict[object, dict[int, np.ndarray]] = {}  # space → line id → pixels
        self._frames: OrderedDict[tuple, tuple[np.ndarray, QtGui.QImage]] = OrderedDict()
        self._rests: OrderedDict[tuple, np.ndarray] = OrderedDict()
        self._rect = QtCore.QRectF()
        self._transform_key: tuple = ()
        self.lit: list[tuple[float, float]] = []
        self.ahead: list[tuple[float, float]] = [(-INF, INF)]

    def set_entries(self, entries: list[Entry], rect: QtCore.QRectF) -> None:
        """What to draw (see the class); ``rect`` bounds it all (keep it while the nodes
        stay put: a new rectangle recomputes every entry's pixels)."""
        if rect != self._rect:
            self.prepareGeometryChange()
            self._rect = QtCore.QRectF(rect)
        self._entries = entries
        self.update()

    def forget_lines(self) -> None:
        """The lines' ends moved: compute every line's pixels anew."""
        self._lines.clear()
        self._pixels.clear()
        self._frames.clear()
        self._rests.clear()
        self.update()

    def drop(self, stale) -> None:
        """Forget the pixels whose key ``stale(key)`` is true (their lines changed)."""
        self._pixels = {k: v for k, v in self._pixels.items() if not stale(k)}

    def set_clip(self, lit: list[tuple[float, float]], ahead: list[tuple[float, float]]) -> None:
        """Show the wave over the x intervals ``lit`` and the dimmed weights ahead of it
        over ``ahead`` (view units; together they cover the line)."""
        if lit != self.lit or ahead != self.ahead:
            self.lit, self.ahead = lit, ahead
            self.update()

    def boundingRect(self) -> QtCore.QRectF:
        return self._rect

    def groups(self, role: str) -> list[tuple[QtGui.QPen, np.ndarray]]:
        """The (pen, segments) of every entry drawn in ``role`` ("all", "ahead", "lit")."""
        return [group for e in self._entries if e.role == role for group in e.groups]

    def _frame(self, role: str, transform: QtGui.QTransform, target: QtCore.QRect):
        """The image of the entries shown in ``role``'s intervals (None: no lines)."""
        shown = [e for e in self._entries if e.role in ("all", role) and e.groups]
        if not shown:
            return None
        return self._compose(shown, transform, target)[1]

    def _compose(self, shown: list[Entry], transform, target) -> tuple:
        """(buffer, image) of the entries ``shown`` drawn in order, kept by their keys. The
        wave's image starts from a copy of the layers it leaves alone (drawn first: the
        lit entries come last), kept from phase to phase (``_rests``)."""
        keys = tuple(e.key for e in shown)
        frame = self._frames.get(keys)
        if frame is not None:
            self._frames.move_to_end(keys)
            return frame
        start = next((k for k, e in enumerate(shown) if e.role != "all"), len(shown))
        rest = self._rest(shown[:start], transform, target) if 0 < start < len(shown) else None
        buffer = _reuse(self._frames, FRAMES_KEPT, target)
        if rest is None:
            buffer.fill(self._background)
            start = 0
        else:
            np.copyto(buffer, rest)
        self._draw(buffer, shown[start:], transform, target)
        image = QtGui.QImage(buffer.data, target.width(), target.height(), 4 * target.width(),
                             self._format)  # fmt: skip
        frame = self._frames[keys] = (buffer, image)  # the buffer outlives its image
        return frame

    def _rest(self, shown: list[Entry], transform, target) -> np.ndarray:
        """A buffer of the entries ``shown`` (the layers a wave leaves alone), kept."""
        keys = tuple(e.key for e in shown)
        buffer = self._rests.get(keys)
        if buffer is not None:
            self._rests.move_to_end(keys)
            return buffer
        buffer = self._rests[keys] = _reuse(self._rests, RESTS_KEPT, target)
        buffer.fill(self._background)
        self._draw(buffer, shown, transform, target)
        return buffer

    def _draw(self, buffer: np.ndarray, shown: list[Entry], transform, target) -> None:
        flat_buffer = buffer.ravel()
        for e in shown:
            pixels = self._pixels.get(e.key)
            if pixels is None:
                pixels = self._pixels[e.key] = self._entry_pixels(e, transform, target)
            flat_buffer[pixels[0]] = pixels[1]  # in order: the last line drawn is on top

    def _entry_pixels(self, e: Entry, transform, target) -> tuple[np.ndarray, np.ndarray]:
        """The pixels of ``e``'s lines in drawing order and their colours; the pixels of a
        named line are kept (a phase lights up many of the lines drawn before)."""
        segments, colours = e.lines()
        if e.ids is None:
            flat, counts = line_pixels(segments, transform, target)
            return flat, np.repeat(colours, counts)
        known = self._lines.setdefault(e.space, {})
        if len(known) > LINES_KEPT:
            known.clear()
        ids = e.ids.tolist()
        parts = [known.get(i) for i in ids]
        missing = [k for k, part in enumerate(parts) if part is None]
        if missing:
            flat, counts = line_pixels(segments[missing], transform, target)
            for k, part in zip(missing, np.split(flat, np.cumsum(counts)[:-1]), strict=True):
                parts[k] = known[ids[k]] = part
        counts = np.fromiter(map(len, parts), np.intp, len(parts))
        if not parts:
            return np.zeros(0, np.int32), np.zeros(0, np.uint32)
        return np.concatenate(parts), np.repeat(colours, counts)

    def paint(self, painter: QtGui.QPainter, *args) -> None:
        if not self._entries:
            return
        transform = painter.deviceTransform()
        target = transform.mapRect(self._rect).toAlignedRect().adjusted(-1, -1, 1, 1)
        if target.isEmpty():
            return
        key = (  # the whole transform: stale pixels would put the edges beside the nodes
            transform.m11(), transform.m12(), transform.m21(), transform.m22(),
            transform.dx(), transform.dy(), target.x(), target.y(), target.width(),
            target.height(),
        )  # fmt: skip
        if key != self._transform_key:
            self._lines.clear()
            self._pixels.clear()
            self._frames.clear()
            self._rests.clear()
            self._transform_key = key
        painter.save()
        painter.resetTransform()
        # The painter may still map to the device through a window/viewport (then the
        # image, already in device pixels, came out scaled and beside the nodes): undo it.
        rest = painter.deviceTransform()
        if not rest.isIdentity():
            painter.setTransform(rest.inverted()[0])
        for role, intervals in (("ahead", self.ahead), ("lit", self.lit)):
            image = self._frame(role, transform, target) if intervals else None
            if image is None:
                continue
            for x0, x1 in intervals:  # view x → image column (no rotation in a ViewBox)
                c0 = transform.m11() * x0 + transform.dx() - target.x()
                c1 = transform.m11() * x1 + transform.dx() - target.x()
                c0, c1 = max(0.0, min(c0, c1)), min(float(image.width()), max(c0, c1))
                if c1 > c0:
                    source = QtCore.QRectF(c0, 0, c1 - c0, image.height())
                    at = QtCore.QRectF(target.x() + c0, target.y(), c1 - c0, image.height())
                    painter.drawImage(at, image, source)
        painter.restore()
