"""Digit thumbnails and the gallery of the worst mistakes (most confident wrong answers).

Each tile shows the digit, its output a^L as ten bars (the true class in green, the
predicted one in red) and "true → predicted (a^L)". Tiles are painted with QPainter: a
gallery of dozens costs one paint each, not one plot each.
"""

from __future__ import annotations

import math

import numpy as np
from pyqtgraph.Qt import QtCore, QtGui, QtWidgets

from bpviz.ui.colors import BACKGROUND, FOREGROUND

TRUE_COLOR = QtGui.QColor("#3fbf6f")
PREDICTED_COLOR = QtGui.QColor("#e6504a")
BAR_COLOR = QtGui.QColor("#8a93a6")


def digit_image(pixels: np.ndarray, side: int = 28) -> QtGui.QImage:
    """A grey QImage of one digit: ``pixels`` ``(side*side,)`` uint8, or floats in [0, 1]."""
    pixels = np.asarray(pixels)
    if pixels.dtype != np.uint8:
        pixels = np.clip(np.rint(pixels * 255.0), 0, 255).astype(np.uint8)
    data = np.ascontiguousarray(pixels.reshape(side, side))
    image = QtGui.QImage(data.data, side, side, side, QtGui.QImage.Format.Format_Grayscale8)
    return image.copy()  # own the bytes: ``data`` is freed when this returns


def digit_pixmap(pixels: np.ndarray, size: int) -> QtGui.QPixmap:
    """``digit_image`` scaled to ``size``×``size`` pixels, without smoothing (sharp pixels)."""
    return QtGui.QPixmap.fromImage(digit_image(pixels)).scaled(
        size, size, QtCore.Qt.AspectRatioMode.IgnoreAspectRatio
    )


def point_pixmap(point: np.ndarray, size: int) -> QtGui.QPixmap:
    """An input that is no image (a toy set's point): its coordinates written, one a line."""
    pixmap = QtGui.QPixmap(size, size)
    pixmap.fill(QtGui.QColor(BACKGROUND))
    painter = QtGui.QPainter(pixmap)
    painter.setPen(QtGui.QColor(FOREGROUND))
    font = painter.font()
    font.setPointSizeF(8.0)
    painter.setFont(font)
    lines = [f"x{chr(0x2081 + k)} {v:.2f}".replace("-", "−") for k, v in enumerate(point[:4])]
    painter.drawText(pixmap.rect(), QtCore.Qt.AlignmentFlag.AlignCenter, "\n".join(lines))
    painter.end()
    return pixmap


class MistakeTile(QtWidgets.QWidget):
    """One wrong answer: the digit, a^L as bars, and the caption; click to choose it."""

    clicked = QtCore.Signal(int)  # index of the example in the evaluated set

    SIZE = QtCore.QSize(184, 84)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFixedSize(self.SIZE)
        self.setCursor(QtCore.Qt.CursorShape.PointingHandCursor)
        self.index = -1
        self._pixmap = QtGui.QPixmap()
        self._outputs = np.zeros(10)
        self._true = self._predicted = 0
        self._caption = ""

    def set_mistake(
        self, index: int, pixels: np.ndarray, outputs: np.ndarray, true: int, names: tuple
    ) -> None:
        """Show example ``index`` with output a^L ``outputs`` ``(k,)`` and true class."""
        self.index = int(index)
        side = math.isqrt(np.size(pixels))
        square = side > 1 and side * side == np.size(pixels)
        self._pixmap = digit_pixmap(pixels, 56) if square else point_pixmap(pixels, 56)
        self._outputs = np.asarray(outputs, dtype=np.float64)
        self._true = int(true)
        self._predicted = int(np.argmax(self._outputs))
        confidence = self._outputs[self._predicted]
        self._caption = f"{names[self._true]} → {names[self._predicted]}  ({confidence:.2f})"
        self.setToolTip(
            f"Held-out example #{self.index}: true class {names[self._true]}, predicted "
            f"{names[self._predicted]} with aᴸ = {confidence:.3f}. Click to load it in "
            "every view (forward and backward pass on it alone)."
        )
        self.update()

    def paintEvent(self, event: QtGui.QPaintEvent) -> None:
        p = QtGui.QPainter(self)
        p.fillRect(self.rect(), QtGui.QColor(BACKGROUND))
        p.drawPixmap(4, 4, self._pixmap)
        k = len(self._outputs)
        left, top, width, height = 66, 6, self.width() - 70, 54
        bar = width / max(k, 1)
        peak = max(1.0, float(self._outputs.max()))
        for c, value in enumerate(self._outputs):
            color = (
                PREDICTED_COLOR
                if c == self._predicted
                else TRUE_COLOR
                if c == self._true
                else BAR_COLOR
            )
            h = max(1.0, height * float(np.clip(value, 0, None)) / peak)
            rect = QtCore.QRectF(left + c * bar + 1, top + height - h, bar - 2, h)
            p.fillRect(rect, color)
        p.setPen(QtGui.QColor(FOREGROUND))
        font = p.font()
        font.setPointSizeF(8.0)
        p.setFont(font)
        p.drawText(QtCore.QRectF(4, 62, self.width() - 8, 20), self._caption)
        p.end()

    def mouseReleaseEvent(self, event: QtGui.QMouseEvent) -> None:
        if event.button() == QtCore.Qt.MouseButton.LeftButton and self.index >= 0:
            self.clicked.emit(self.index)
        super().mouseReleaseEvent(event)


class MistakeGallery(QtWidgets.QScrollArea):
    """The most confident wrong answers, as tiles in as many columns as fit the width."""

    chosen = QtCore.Signal(int)  # index of the example in the evaluated set

    GAP = 4

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._body = QtWidgets.QWidget()
        self.setWidget(self._body)
        self.tiles: list[MistakeTile] = []

    def _reflow(self) -> None:
        """Place the visible tiles row by row in as many columns as fit the width."""
        step_x = MistakeTile.SIZE.width() + self.GAP
        step_y = MistakeTile.SIZE.height() + self.GAP
        columns = max(1, (self.viewport().width() - self.GAP) // step_x)
        shown = [t for t in self.tiles if t.index >= 0]
        for n, tile in enumerate(shown):
            tile.move(self.GAP + (n % columns) * step_x, self.GAP + (n // columns) * step_y)
        rows = -(-len(shown) // columns)
        self._body.resize(self.viewport().width(), self.GAP + rows * step_y)

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:
        super().resizeEvent(event)
        self._reflow()

    def set_mistakes(
        self,
        indices: np.ndarray,
        images: np.ndarray,
        labels: np.ndarray,
        outputs: np.ndarray,
        names: tuple,
    ) -> None:
        """Show examples ``indices`` ``(m,)`` (most confident first) of ``images``
        ``(n, 784)``, with true ``labels`` ``(n,)``; ``outputs`` ``(m, k)``: their a^L."""
        while len(self.tiles) < len(indices):
            tile = MistakeTile(self._body)
            tile.clicked.connect(self.chosen)
            self.tiles.append(tile)
        for row, (tile, index) in enumerate(zip(self.tiles, indices, strict=False)):
            tile.set_mistake(int(index), images[index], outputs[row], labels[index], names)
            tile.show()
        for tile in self.tiles[len(indices) :]:
            tile.hide()
            tile.index = -1
        self._reflow()

    def shown_indices(self) -> list[int]:
        """The example indices on the visible tiles, in order."""
        return [t.index for t in self.tiles if t.index >= 0]
