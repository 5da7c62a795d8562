"""Small widgets and text helpers the views share."""

from __future__ import annotations

import pyqtgraph as pg
from pyqtgraph.Qt import QtCore, QtWidgets

from bpviz.notation import superscript  # noqa: F401  (the views' one helper)


class ExampleSpin(QtWidgets.QSpinBox):
    """Chooses the example of the mini-batch: 0 … m − 1, or −1 shown as "batch mean"."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setRange(-1, 9999)
        self.setValue(0)
        self.setPrefix("example ")
        self.setSpecialValueText("batch mean")
        self.setToolTip(
            "Which example of the mini-batch to show: 0 … m − 1, or the batch mean "
            "(the average the gradient ∂C/∂W = mean over the batch of δ aᵀ uses)"
        )

    def set_batch_size(self, m: int) -> None:
        """Allow examples 0 … m − 1 (no signal)."""
        if self.maximum() != m - 1:
            self.blockSignals(True)
            self.setMaximum(max(m - 1, 0))
            self.blockSignals(False)

    def set_example(self, index: int | None) -> None:
        """Show ``index`` (None: batch mean) without emitting ``valueChanged``."""
        self.blockSignals(True)
        self.setValue(-1 if index is None else index)
        self.blockSignals(False)


def live_canvas() -> pg.GraphicsLayoutWidget:
    """A view's canvas, redrawn by every snapshot: it repaints the bounding rectangle of
    what changed, not the exact region (Qt's default). A new snapshot changes many small
    items at once — nodes, labels, bars — and clipping the paint to the union of their
    shapes cost more than painting the pixels between them."""
    canvas = pg.GraphicsLayoutWidget()
    canvas.setViewportUpdateMode(
        QtWidgets.QGraphicsView.ViewportUpdateMode.BoundingRectViewportUpdate
    )
    return canvas


class Pinned(QtWidgets.QWidget):
    """Holds ``label`` at its own size with no layout between them.

    A QLabel given new text asks its layout, and every layout up to the window, to lay
    out again (its size hint may have changed): a label whose text changes every phase
    made the whole view re-lay out every phase. Pinned, the label only repaints; this
    widget has the label's height (or ``height``) and takes whatever width its layout
    gives it."""

    def __init__(self, label: QtWidgets.QLabel, height: int | None = None) -> None:
        super().__init__()
        self.label = label
        label.setParent(self)
        self.setFixedHeight(height if height is not None else label.sizeHint().height())
        self.setSizePolicy(QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Fixed)
        self.setMinimumWidth(1)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.label.setGeometry(self.rect())


def caption_bar(view: QtWidgets.QWidget, caption: QtWidgets.QWidget) -> QtWidgets.QHBoxLayout:
    """The row above a view: ``caption`` beside an ``ExampleSpin``, stored as
    ``view.example_spin`` and wired to ``view.set_example``."""
    view.example_spin = ExampleSpin(view)
    view.example_spin.valueChanged.connect(view.set_example)
    bar = QtWidgets.QHBoxLayout()
    bar.addWidget(caption, 1)
    bar.addWidget(view.example_spin)
    return bar


class PickImage(pg.ImageItem):
    """An ImageItem (row-major) that reports the pixel clicked and the pixel hovered.

    ``clicked(row, col)``; ``hovered(row, col)``, with (−1, −1) when the mouse leaves.
    """

    clicked = QtCore.Signal(int, int)
    hovered = QtCore.Signal(int, int)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, axisOrder="row-major", **kwargs)
        self.setAcceptHoverEvents(True)

    def _pixel(self, pos) -> tuple[int, int] | None:
        if self.image is None:
            return None
        row, col = int(pos.y()), int(pos.x())
        rows, cols = self.image.shape[:2]
        if 0 <= row < rows and 0 <= col < cols and pos.x() >= 0 and pos.y() >= 0:
            return row, col
        return None

    def mouseClickEvent(self, event) -> None:
        if event.button() != QtCore.Qt.MouseButton.LeftButton:
            return
        hit = self._pixel(event.pos())
        if hit is not None:
            event.accept()
            self.clicked.emit(*hit)

    def hoverEvent(self, event) -> None:
        hit = None if event.isExit() else self._pixel(event.pos())
        self.hovered.emit(*(hit if hit is not None else (-1, -1)))
