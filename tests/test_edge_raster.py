"""The network view's edges are rasterised with NumPy (``_edge_item.line_pixels``): the
pixels must be the very ones Qt's raster engine paints for the same cosmetic pens, and
lines drawn later must cover earlier ones where they cross, as painting in order does."""

from __future__ import annotations

import numpy as np
from pyqtgraph.Qt import QtCore, QtGui

from bpviz.ui.views._edge_item import line_pixels
from bpviz.ui.views._edges import _pens

W, H = 300, 200


def _qt_lines(segments: np.ndarray, pens: list[QtGui.QPen], transform: QtGui.QTransform):
    image = QtGui.QImage(W, H, QtGui.QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(0)
    painter = QtGui.QPainter(image)
    painter.setTransform(transform)
    for segment, pen in zip(segments, pens, strict=True):
        painter.setPen(pen)
        painter.drawLines([QtCore.QLineF(*segment)])
    painter.end()
    return np.frombuffer(image.constBits(), np.uint32).reshape(H, W).copy()


def _numpy_lines(segments, pens, transform) -> np.ndarray:
    colours = np.array([pen.color().rgba() for pen in pens], np.uint32)
    flat, counts = line_pixels(segments, transform, QtCore.QRect(0, 0, W, H))
    out = np.zeros(H * W, np.uint32)
    out[flat] = np.repeat(colours, counts)
    return out.reshape(H, W)


def _random_lines(rng: np.random.Generator, n: int) -> np.ndarray:
    # inside the image by a few pixels, as the edges are inside theirs
    seg = 3 + np.column_stack(
        (rng.random(n) * (W - 6), rng.random(n) * (H - 6), rng.random(n) * (W - 6),
         rng.random(n) * (H - 6))
    )  # fmt: skip
    seg[: n // 8, 2] = seg[: n // 8, 0] + rng.random(n // 8) * 2 - 1  # steep and short
    seg[n // 8 : n // 6, 3] = seg[n // 8 : n // 6, 1]  # level
    seg[n // 6 : n // 5, 2:] = seg[n // 6 : n // 5, :2] + rng.random((n // 5 - n // 6, 2)) * 0.4
    return seg


def test_each_line_has_the_pixels_qt_paints(qapp):
    rng = np.random.default_rng(7)
    pen = _pens(1.0)[3]
    for segment in _random_lines(rng, 300):
        ours = _numpy_lines(segment[None], [pen], QtGui.QTransform())
        theirs = _qt_lines(segment[None], [pen], QtGui.QTransform())
        np.testing.assert_array_equal(ours, theirs, err_msg=f"line {segment}")


def test_a_picture_of_many_lines_through_a_view_transform_is_qts(qapp):
    """As the edges are drawn: view units mapped by a scale and offset, a pen per colour
    bin, the later lines over the earlier where they cross."""
    rng = np.random.default_rng(11)
    unit = _random_lines(rng, 400) / [W, H, W, H] * [2.5, 1.2, 2.5, 1.2] - [0.4, 0.1, 0.4, 0.1]
    # the view maps x ∈ [−0.4, 2.1], y ∈ [−0.1, 1.1] (up) onto the image
    transform = QtGui.QTransform(W / 2.6, 0, 0, -H / 1.3, 0.4 * W / 2.6, H * 1.15 / 1.3)
    palette = _pens(1.0) + _pens(0.3)
    pens = [palette[k] for k in rng.integers(0, len(palette), len(unit))]
    ours = _numpy_lines(unit, pens, transform)
    theirs = _qt_lines(unit, pens, transform)
    assert (theirs != 0).sum() > 20_000  # a crowded picture, with crossings
    np.testing.assert_array_equal(ours, theirs)


def _qt_entries(item, shown, transform: QtGui.QTransform, target: QtCore.QRect, background):
    """What the edge item showed before its NumPy raster: each entry's groups painted by
    Qt in order, in device pixels, over the view's background."""
    image = QtGui.QImage(target.size(), QtGui.QImage.Format.Format_RGB32)
    image.fill(background)
    painter = QtGui.QPainter(image)
    painter.setTransform(transform * QtGui.QTransform.fromTranslate(-target.x(), -target.y()))
    for entry in shown:
        for pen, lines in entry.groups:
            painter.setPen(pen)
            painter.drawLines([QtCore.QLineF(*segment) for segment in lines.tolist()])
    painter.end()
    return np.frombuffer(image.constBits(), np.uint32).reshape(target.height(), -1).copy()


def test_the_network_views_edges_are_the_lines_qt_would_paint(qtbot):
    """Every phase of a mini-batch, the wave drawn whole and half way: the images the
    view shows are, pixel for pixel, its entries' lines painted by Qt in order."""
    from snapshots import make_snapshots
    from viewtools import shown

    from bpviz.ui.views import NetworkView

    view = shown(qtbot, NetworkView())
    snapshots = make_snapshots()
    for snapshot in snapshots:
        view.show_snapshot(snapshot)
        for progress in (1.0, 0.5):
            view.animate(progress)
            _check_edges(view, snapshot.phase)
    # the nodes move (a resize, a taller view): no line keeps its old pixels
    for width, height in ((700, 520), (700, 640)):
        view.resize(width, height)
        qtbot.waitUntil(lambda w=width, h=height: view.size() == QtCore.QSize(w, h))
        for snapshot in (snapshots[1], snapshots[-1]):
            view.show_snapshot(snapshot)
            view.animate(1.0)
            _check_edges(view, (width, height, snapshot.phase))


def _check_edges(view, what) -> None:
    item = view.edges.item
    view.canvas.grab()  # painted: the item composed what it shows
    m11, m12, m21, m22, dx, dy, x, y, w, h = item._transform_key
    transform = QtGui.QTransform(m11, m12, m21, m22, dx, dy)
    target = QtCore.QRect(int(x), int(y), int(w), int(h))
    for role, intervals in (("ahead", item.ahead), ("lit", item.lit)):
        entries = [e for e in item._entries if e.role in ("all", role) and e.groups]
        if not intervals or not entries:
            continue
        ours = item._compose(entries, transform, target)[0]
        theirs = _qt_entries(item, entries, transform, target, item._background)
        # A falling line whose fixed-point row lands exactly on a pixel boundary may go
        # either way in Qt (the last bit of the float transform decides): a pixel or two
        # of a line one row off, never more
        differ = np.argwhere(ours != theirs)
        assert len(differ) <= 4, (what, role, differ[:8])
        assert (theirs != item._background).sum() > 10_000  # the lines are there
