"""The confusion matrix as a clickable image (the evaluation panel's)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from pyqtgraph.Qt import QtCore


class ConfusionImage(pg.ImageItem):
    """The matrix as an image, row-major: pixel (t, p) is cell (true t, predicted p)."""

    cell_clicked = QtCore.Signal(int, int)  # true class, predicted class
    cell_hovered = QtCore.Signal(int, int)  # (−1, −1) when the pointer leaves

    def __init__(self) -> None:
        super().__init__(axisOrder="row-major")
        self.setAcceptHoverEvents(True)

    def _cell(self, pos: QtCore.QPointF) -> tuple[int, int] | None:
        if self.image is None:
            return None
        row, col = int(np.floor(pos.y())), int(np.floor(pos.x()))
        rows, cols = self.image.shape[:2]
        return (row, col) if 0 <= row < rows and 0 <= col < cols else None

    def mouseClickEvent(self, event) -> None:  # pyqtgraph's click handler
        cell = self._cell(event.pos())
        if event.button() == QtCore.Qt.MouseButton.LeftButton and cell is not None:
            event.accept()
            self.cell_clicked.emit(*cell)

    def hoverEvent(self, event) -> None:  # pyqtgraph's hover handler
        cell = None if event.isExit() else self._cell(event.pos())
        self.cell_hovered.emit(*(cell or (-1, -1)))
