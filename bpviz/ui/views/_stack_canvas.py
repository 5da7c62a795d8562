"""The tensor-contraction panel's drawing: a stack of slices with their weights, then the
result, laid out in pixels so that no label or matrix ever overlaps another.

One band per slice: its label (right-aligned, as wide as the widest label) and the slice
as an image; as many bands side by side as fit the width, as tall as fits the height (at
least a label's height: the panel scrolls below that). Then the result's caption and the
result, twice as tall. Colours: the views' diverging map, symmetric about zero.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from pyqtgraph.Qt import QtCore, QtGui, QtWidgets

from bpviz.ui import colors

MARGIN, GAP = 6, 8  # pixels around the drawing and between bands
MAX_CELL = 12  # widest column of a slice, in pixels (result cells: twice)
SLICE_HEIGHT = 40  # tallest slice, in pixels, unless it has more than 13 rows
MIN_SLICE_WIDTH = 140  # narrowest slice drawn (unless it has fewer columns)
MIN_IMAGE_WIDTH = 20  # even a one-column slice gets this many pixels, so it can be seen


@dataclass(frozen=True)
class Layout:
    """Where the canvas draws, in pixels: one label and one image per slice, then the
    result's label and image. ``row_px``/``result_row_px``: height of a matrix row."""

    labels: tuple[QtCore.QRectF, ...]
    slices: tuple[QtCore.QRectF, ...]
    result_label: QtCore.QRectF
    result: QtCore.QRectF
    row_px: float
    result_row_px: float
    height: int


class StackCanvas(QtWidgets.QWidget):
    """Paints the stack of slices, their weights and the result, laid out in pixels.

    ``clicked(i, j)`` when a cell of the result is clicked (i as in the layer, not the
    row drawn). ``layout_for(width)`` is the geometry a width gives (tests read it).
    """

    clicked = QtCore.Signal(int, int)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAutoFillBackground(True)
        self.rows = range(0)
        self.labels: list[str] = []
        self.result_text = ""
        self.highlight: tuple[int, int | None] | None = None
        self._images: list[QtGui.QImage] = []
        self._result_image: QtGui.QImage | None = None
        self._shape = (0, 0)
        self.levels: tuple[float, float] | None = None  # ± of the slices' and the result's map

    def clear(self) -> None:
        """Draw nothing (the layer's numbers are not computed yet)."""
        self.set_data(range(0), None, None, [], "")

    def set_data(
        self,
        rows: range,
        slices: np.ndarray | None,
        result: np.ndarray | None,
        labels: list[str],
        result_text: str,
    ) -> None:
        """Draw ``slices`` ``(k, k, c)`` (slice of row ``rows[s]`` first), labelled by
        ``labels``, and ``result`` ``(k, c)`` under ``result_text``."""
        self.rows, self.labels, self.result_text = rows, labels, result_text
        if slices is None or result is None:
            self._images, self._result_image, self._shape = [], None, (0, 0)
            self.levels = None
        else:
            m, r = colors.symmetric_level(slices), colors.symmetric_level(result)
            self._images = [_image(s, m) for s in slices]
            self._result_image = _image(result, r)
            self._shape = result.shape
            self.levels = (m, r)
        self._relayout()

    def layout_for(self, width: int) -> Layout | None:
        """The geometry at ``width`` pixels, or None when there is nothing to draw."""
        k, c = self._shape
        if not k:
            return None
        fm = self.fontMetrics()
        line = fm.height()
        avail = max(width - 2 * MARGIN, 120)
        label_w = max(fm.horizontalAdvance(t) for t in self.labels) + 8
        # as many slices side by side as fit with MIN_SLICE_WIDTH pixels each, then wider
        narrowest = max(min(c * MAX_CELL, MIN_SLICE_WIDTH), MIN_IMAGE_WIDTH)
        per_line = max(1, min(k, (avail + GAP) // (label_w + narrowest + GAP)))
        img_w = max(min(c * MAX_CELL, (avail + GAP) // per_line - label_w - GAP), MIN_IMAGE_WIDTH)
        unit = label_w + img_w + GAP
        lines = math.ceil(k / per_line)
        text_h = fm.boundingRect(
            QtCore.QRect(0, 0, avail, 10 * line),
            QtCore.Qt.TextFlag.TextWordWrap,
            self.result_text,
        ).height()
        # a slice as tall as its label at least, taller while everything still fits the
        # panel's height (the result is drawn twice as tall), at most 3 px a matrix row
        fixed = 2 * MARGIN + lines * GAP + text_h + 4
        fits = (self._visible_height() - fixed) / (lines + 2)
        img_h = max(line + 2, min(fits, max(SLICE_HEIGHT, k * 3), k * 20))
        row_px = img_h / k
        band = img_h + GAP
        labels, slices = [], []
        for s in range(k):
            r, col = divmod(s, per_line)
            x0, y0 = MARGIN + col * unit, MARGIN + r * band
            labels.append(QtCore.QRectF(x0, y0, label_w - 6, img_h))
            slices.append(QtCore.QRectF(x0 + label_w, y0, img_w, img_h))
        y = MARGIN + lines * band
        result_label = QtCore.QRectF(MARGIN, y, avail, text_h)
        index_w = fm.horizontalAdvance(f"i = {self.rows.stop - 1}") + 8
        res_w = max(min(c * 2 * MAX_CELL, avail - index_w), 40)
        res_h = max(min(2 * img_h, k * 24), line)
        result_row_px = res_h / k
        result = QtCore.QRectF(MARGIN + index_w, y + text_h + 4, res_w, res_h)
        height = math.ceil(result.bottom()) + MARGIN
        return Layout(
            tuple(labels),
            tuple(slices),
            result_label,
            result,
            row_px,
            result_row_px,
            height,
        )

    def _visible_height(self) -> int:
        """The height the panel shows without scrolling (the scroll area's viewport)."""
        parent = self.parentWidget()
        return self.height() if parent is None else parent.height()

    def _relayout(self) -> None:
        layout = self.layout_for(self.width())
        self.setMinimumHeight(0 if layout is None else layout.height)
        self.update()

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:
        super().resizeEvent(event)
        layout = self.layout_for(self.width())
        if layout is not None and layout.height != self.minimumHeight():
            self.setMinimumHeight(layout.height)

    def paintEvent(self, event: QtGui.QPaintEvent) -> None:
        painter = QtGui.QPainter(self)
        painter.fillRect(self.rect(), QtGui.QColor(colors.BACKGROUND))
        layout = self.layout_for(self.width())
        if layout is None:
            painter.end()
            return
        painter.setPen(QtGui.QColor(colors.FOREGROUND))
        right = QtCore.Qt.AlignmentFlag.AlignRight | QtCore.Qt.AlignmentFlag.AlignVCenter
        for text, rect in zip(self.labels, layout.labels, strict=True):
            painter.drawText(rect, right, text)
        for image, rect in zip(self._images, layout.slices, strict=True):
            _draw_image(painter, rect, image)
        painter.drawText(
            layout.result_label,
            QtCore.Qt.TextFlag.TextWordWrap | QtCore.Qt.AlignmentFlag.AlignLeft,
            self.result_text,
        )
        _draw_image(painter, layout.result, self._result_image)
        res = layout.result
        fm = self.fontMetrics()
        first = QtCore.QRectF(MARGIN, res.top(), res.left() - MARGIN - 4, fm.height())
        painter.drawText(first, right, f"i = {self.rows.start}")
        if len(self.rows) > 1 and res.height() >= 2 * fm.height():
            last = first.translated(0, res.height() - fm.height())
            painter.drawText(last, right, f"i = {self.rows.stop - 1}")
        self._paint_highlight(painter, layout)
        painter.end()

    def _paint_highlight(self, painter: QtGui.QPainter, layout: Layout) -> None:
        if self.highlight is None or self.highlight[0] not in self.rows:
            return
        i, j = self.highlight
        s = i - self.rows.start
        painter.setPen(QtGui.QPen(QtGui.QColor(*colors.HIGHLIGHT), 2))
        painter.setBrush(QtCore.Qt.BrushStyle.NoBrush)
        painter.drawRect(layout.slices[s].adjusted(-2, -2, 2, 2))  # slice i
        res, c = layout.result, self._shape[1]
        cell_w = res.width() / c
        y = res.top() + s * layout.result_row_px
        if j is None or not 0 <= j < c:
            painter.drawRect(QtCore.QRectF(res.left(), y, res.width(), layout.result_row_px))
        else:
            w = max(cell_w, 3.0)
            x = res.left() + (j + 0.5) * cell_w - w / 2
            painter.drawRect(QtCore.QRectF(x, y, w, layout.result_row_px))

    def cell_at(self, pos: QtCore.QPointF) -> tuple[int, int] | None:
        """The (i, j) of the result cell under ``pos``, or None."""
        layout = self.layout_for(self.width())
        if layout is None or not layout.result.contains(pos):
            return None
        res, (k, c) = layout.result, self._shape
        row = min(int((pos.y() - res.top()) / layout.result_row_px), k - 1)
        col = min(int((pos.x() - res.left()) / (res.width() / c)), c - 1)
        return self.rows.start + row, col

    def cell_center(self, i: int, j: int) -> QtCore.QPoint:
        """Where the result cell (i, j) is drawn (i among the rows shown)."""
        layout = self.layout_for(self.width())
        res, c = layout.result, self._shape[1]
        x = res.left() + (j + 0.5) * res.width() / c
        y = res.top() + (i - self.rows.start + 0.5) * layout.result_row_px
        return QtCore.QPoint(int(x), int(y))

    def mousePressEvent(self, event: QtGui.QMouseEvent) -> None:
        cell = self.cell_at(event.position())
        if event.button() == QtCore.Qt.MouseButton.LeftButton and cell is not None:
            self.clicked.emit(*cell)
        else:
            super().mousePressEvent(event)


def _draw_image(painter: QtGui.QPainter, rect: QtCore.QRectF, image: QtGui.QImage) -> None:
    """Crisp cells when enlarged; averaged columns when a row has more of them than pixels."""
    smooth = rect.width() < image.width()
    painter.setRenderHint(QtGui.QPainter.RenderHint.SmoothPixmapTransform, smooth)
    painter.drawImage(rect, image)


def _image(values: np.ndarray, m: float) -> QtGui.QImage:
    """``values`` ``(h, w)`` coloured on the diverging map over (−m, m), as a QImage."""
    rgba = np.ascontiguousarray(colors.rgba(values, -m, m, colors.DIVERGING_LUT))
    h, w = values.shape
    return QtGui.QImage(rgba.data, w, h, 4 * w, QtGui.QImage.Format.Format_RGBA8888).copy()
