"""Draw a digit: a 28×28 input prepared the way MNIST's were, the network's answer live,
and "backprop this" — one forward and backward pass on your digit, shown in every view.

The canvas is 280×280 screen pixels (ten per input pixel); strokes are antialiased lines
with round caps, drawn with the mouse or a pen (Qt turns tablet input into mouse events).
``bpviz.data.preprocess.mnist_style`` turns the canvas into the input x: bounding box
into 20×20 (aspect kept), centre of mass at the centre of 28×28, Gaussian smoothing.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from pyqtgraph.Qt import QtCore, QtGui, QtWidgets

from bpviz.data.preprocess import FIELD, canvas_to_input
from bpviz.engine.network import Network
from bpviz.session.probe import network_of, outputs_of
from bpviz.session.snapshot import Snapshot
from bpviz.ui import colors
from bpviz.ui.colors import BACKGROUND, HIGHLIGHT, style_plot
from bpviz.ui.views._base import SnapshotView
from bpviz.ui.views._legend import ColorLegend
from bpviz.ui.views.mistakes import digit_pixmap

LIVE_MS = 30  # the forward pass runs at most this often while drawing
REFRESH_MS = 100  # … and while training changes the parameters


class Canvas(QtWidgets.QWidget):
    """Where the user draws: white ink on black, ``SIDE``×``SIDE`` pixels."""

    changed = QtCore.Signal()

    SIDE = 280

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFixedSize(self.SIDE, self.SIDE)
        self.setCursor(QtCore.Qt.CursorShape.CrossCursor)
        self.setToolTip("Draw a digit with the mouse or a pen; it is centred and scaled for you")
        self.thickness = 2.0  # pen width in input pixels (1/28 of the canvas)
        self._image = QtGui.QImage(self.SIDE, self.SIDE, QtGui.QImage.Format.Format_Grayscale8)
        self._image.fill(0)
        self._last: QtCore.QPointF | None = None
        self.empty = True

    def clear(self) -> None:
        """Erase everything."""
        self._image.fill(0)
        self.empty = True
        self.update()
        self.changed.emit()

    def array(self) -> np.ndarray:
        """The ink ``(SIDE, SIDE)`` as floats in [0, 1] (row = y downwards)."""
        ptr = self._image.constBits()
        stride = self._image.bytesPerLine()
        raw = np.frombuffer(ptr, dtype=np.uint8, count=stride * self.SIDE)
        return raw.reshape(self.SIDE, stride)[:, : self.SIDE] / 255.0

    def _stroke(self, start: QtCore.QPointF, end: QtCore.QPointF) -> None:
        painter = QtGui.QPainter(self._image)
        painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
        pen = QtGui.QPen(QtGui.QColor(255, 255, 255), self.thickness * self.SIDE / FIELD)
        pen.setCapStyle(QtCore.Qt.PenCapStyle.RoundCap)
        pen.setJoinStyle(QtCore.Qt.PenJoinStyle.RoundJoin)
        painter.setPen(pen)
        painter.drawLine(start, end)
        painter.end()
        self.empty = False
        self.update()
        self.changed.emit()

    def mousePressEvent(self, event: QtGui.QMouseEvent) -> None:
        if event.button() == QtCore.Qt.MouseButton.LeftButton:
            self._last = event.position()
            self._stroke(self._last, self._last)

    def mouseMoveEvent(self, event: QtGui.QMouseEvent) -> None:
        if self._last is not None and event.buttons() & QtCore.Qt.MouseButton.LeftButton:
            position = event.position()
            self._stroke(self._last, position)
            self._last = position

    def mouseReleaseEvent(self, event: QtGui.QMouseEvent) -> None:
        if event.button() == QtCore.Qt.MouseButton.LeftButton:
            self._last = None

    def paintEvent(self, event: QtGui.QPaintEvent) -> None:
        painter = QtGui.QPainter(self)
        painter.drawImage(0, 0, self._image)
        painter.setPen(QtGui.QPen(QtGui.QColor(70, 74, 84), 1, QtCore.Qt.PenStyle.DashLine))
        margin = self.SIDE * 4 / FIELD  # the 20×20 box inside 28×28, as a guide
        painter.drawRect(
            QtCore.QRectF(margin, margin, self.SIDE - 2 * margin, self.SIDE - 2 * margin)
        )
        painter.end()


class DrawPad(SnapshotView):
    """The canvas, its MNIST-style input x, the live output a^L, and the two actions.

    Signals: ``backprop_requested(x, label, text)`` — x ``(784,)`` float64 in [0, 1], the
    chosen target label; ``train_requested(x, label)`` — apply one update on it.
    """

    backprop_requested = QtCore.Signal(object, int, str)
    train_requested = QtCore.Signal(object, int)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.x: np.ndarray | None = None  # the preprocessed input (784,)
        self.outputs: np.ndarray | None = None  # a^L for it (n_L,)
        self._net: Network | None = None
        self._weights: tuple | None = None  # the parameters ``_net`` holds
        self._names: tuple[str, ...] = tuple(str(c) for c in range(10))

        self.canvas = Canvas()
        self.thickness = QtWidgets.QDoubleSpinBox()
        self.thickness.setRange(0.5, 5.0)
        self.thickness.setSingleStep(0.25)
        self.thickness.setValue(self.canvas.thickness)
        self.thickness.setPrefix("pen ")
        self.thickness.setSuffix(" px")
        self.thickness.setToolTip("Pen width in input pixels (the canvas is 28 of them wide)")
        self.thickness.valueChanged.connect(lambda v: setattr(self.canvas, "thickness", v))
        self.smoothing = QtWidgets.QDoubleSpinBox()
        self.smoothing.setRange(0.0, 2.0)
        self.smoothing.setSingleStep(0.1)
        self.smoothing.setValue(0.5)
        self.smoothing.setPrefix("smooth σ ")
        self.smoothing.setToolTip("Gaussian smoothing of x, in input pixels (0 = none)")
        self.smoothing.valueChanged.connect(self.update_input)
        clear = QtWidgets.QPushButton("Clear")
        clear.setToolTip("Erase the drawing")
        clear.clicked.connect(self.canvas.clear)
        tools = QtWidgets.QHBoxLayout()
        for widget in (self.thickness, self.smoothing, clear):
            tools.addWidget(widget)

        self.preview = QtWidgets.QLabel()
        self.preview.setFixedSize(112, 112)
        self.preview.setToolTip(
            "The network's input x: the drawing's bounding box scaled into 20×20 "
            "(aspect kept), centred by its centre of mass in 28×28, smoothed"
        )
        self.prediction = QtWidgets.QLabel("Draw a digit")
        self.prediction.setWordWrap(True)
        self.bars_widget = pg.PlotWidget(background=BACKGROUND)
        self.bars_widget.setMinimumHeight(120)
        plot = self.bars_widget.getPlotItem()
        plot.setMouseEnabled(False, False)
        plot.hideButtons()
        plot.setYRange(0, 1, padding=0.02)
        plot.setLabel("left", "aᴸ")
        style_plot(plot)
        self.bars = pg.BarGraphItem(x=[], height=[], width=0.7, brushes=[])
        plot.addItem(self.bars)
        self.bars_widget.setToolTip("The output aᴸ for your digit, updated as you draw")
        self.target = QtWidgets.QComboBox()
        self.target.setToolTip("The target y: the class your digit should be")
        self.backprop_button = QtWidgets.QPushButton("Backprop this")
        self.backprop_button.setToolTip(
            "One forward and backward pass on this digit alone: δˡ, ∂C/∂Wˡ and the "
            "update −η ∂C/∂Wˡ it would make, shown in every view. Training is not changed."
        )
        self.backprop_button.clicked.connect(self._backprop)
        self.train_button = QtWidgets.QPushButton("Train on it")
        self.train_button.setToolTip(
            "Apply one gradient step W ← W − η ∂C/∂W on this digit to the training session"
        )
        self.train_button.clicked.connect(self._train)
        self.train_button.setEnabled(False)
        self.train_available = False
        self.note = QtWidgets.QLabel()
        self.note.setWordWrap(True)
        self.note.setToolTip('What the last "backprop this" found, and what its update would do')

        side = QtWidgets.QGridLayout()
        side.addWidget(self.preview, 0, 0, 2, 1)
        side.addWidget(self.prediction, 0, 1)
        target_row = QtWidgets.QHBoxLayout()
        target_row.addWidget(QtWidgets.QLabel("target y:"))
        target_row.addWidget(self.target, 1)
        side.addLayout(target_row, 1, 1)
        self.legend = ColorLegend("aᴸ", signed=False)  # the bars' sequential map
        self.legend.set_level(1.0)
        bars_box = QtWidgets.QVBoxLayout()
        bars_box.addWidget(self.legend, 0, QtCore.Qt.AlignmentFlag.AlignRight)
        bars_box.addWidget(self.bars_widget, 1)
        side.addLayout(bars_box, 2, 0, 1, 2)
        side.addWidget(self.backprop_button, 3, 0, 1, 2)
        side.addWidget(self.train_button, 4, 0, 1, 2)
        side.addWidget(self.note, 5, 0, 1, 2)
        left = QtWidgets.QVBoxLayout()
        left.addWidget(self.canvas)
        left.addLayout(tools)
        left.addStretch(1)
        layout = QtWidgets.QHBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(left)
        layout.addLayout(side, 1)
        self.set_class_names(self._names)

        self._timer = QtCore.QTimer(self, singleShot=True, interval=LIVE_MS)
        self._refresh = QtCore.QTimer(self, singleShot=True, interval=REFRESH_MS)
        self._refresh.timeout.connect(self._forward)
        self._timer.timeout.connect(self.update_input)
        self.canvas.changed.connect(self._timer.start)
        self.canvas.changed.connect(lambda: self.note.setText(""))
        self._set_enabled()

    def set_class_names(self, names: tuple[str, ...]) -> None:
        """Label the targets and bars with the data set's class names."""
        self._names = tuple(names)
        current = max(self.target.currentIndex(), 0)
        self.target.clear()
        self.target.addItems(list(self._names))
        self.target.setCurrentIndex(min(current, len(self._names) - 1))
        ticks = [(c, n if len(n) <= 3 else str(c)) for c, n in enumerate(self._names)]
        self.bars_widget.getPlotItem().getAxis("bottom").setTicks([ticks])

    @property
    def class_names(self) -> tuple[str, ...]:
        """The names of the output classes (targets)."""
        return self._names

    @property
    def pending(self) -> bool:
        """True while a preprocessing + forward pass of the latest strokes is scheduled."""
        return self._timer.isActive()

    def set_note(self, text: str) -> None:
        """Show ``text`` under the buttons (e.g. what the update would do)."""
        self.note.setText(text)

    def set_train_available(self, available: bool) -> None:
        """Enable "train on it" (only when the window can apply it to the session)."""
        self.train_available = available
        self._set_enabled()

    def _set_enabled(self) -> None:
        ready = self.x is not None and self.snapshot is not None
        self.backprop_button.setEnabled(ready)
        self.train_button.setEnabled(ready and self.train_available)

    def update_input(self) -> None:
        """Preprocess the canvas into x and run the forward pass (if there is a network)."""
        self._timer.stop()
        if self.canvas.empty:
            self.x = self.outputs = None
            self.preview.setPixmap(digit_pixmap(np.zeros(FIELD * FIELD), 112))
        else:
            self.x = canvas_to_input(self.canvas.array(), sigma=self.smoothing.value())
            self.preview.setPixmap(digit_pixmap(self.x, 112))
        self._forward()
        self._set_enabled()

    def _render(self, snapshot: Snapshot) -> None:
        if snapshot.config.sizes[0] != FIELD * FIELD:
            self.prediction.setText(
                "The drawing pad feeds a 28×28 digit to a network with 784 inputs; this "
                "network takes a point (x₁, x₂): see the Input plane panel instead"
            )
            return
        if snapshot.weights is not self._weights and not self._refresh.isActive():
            self._refresh.start()  # new parameters: a^L again, at most 1000/REFRESH_MS a second
        self._set_enabled()

    def _forward(self) -> None:
        snapshot = self.snapshot
        if snapshot is not None:
            self._weights = snapshot.weights
        if self.x is None or snapshot is None:
            self.outputs = None
            self.bars.setOpts(x=[], height=[], brushes=[])
            self.prediction.setText("Draw a digit" if snapshot else "Draw a digit (no network yet)")
            return
        try:
            self._net = network_of(snapshot, self._net)
        except ValueError as error:  # a diverged network
            self.prediction.setText(f"No forward pass: {error}")
            return
        self.outputs = outputs_of(self._net, self.x)[0]
        guess = int(np.argmax(self.outputs))
        # activations on the sequential map (as in every view); the guess outlined
        shades = colors.brushes(colors.SEQUENTIAL_LUT)
        brushes = [shades[k] for k in colors.lut_indices(self.outputs, 0.0, self.legend.level)]
        pens = [
            pg.mkPen(HIGHLIGHT, width=2) if c == guess else pg.mkPen(None)
            for c in range(self.outputs.size)
        ]
        x = np.arange(self.outputs.size)
        self.bars.setOpts(x=x, height=self.outputs, brushes=brushes, pens=pens)
        self.prediction.setText(
            f"The network says <b>{self._names[guess]}</b> (aᴸ = {self.outputs[guess]:.2f})"
        )

    def _backprop(self) -> None:
        if self.x is None:
            return
        label = self.target.currentIndex()
        self.backprop_requested.emit(
            self.x.copy(), label, f"your drawing, target {self._names[label]}"
        )

    def _train(self) -> None:
        if self.x is not None:
            self.train_requested.emit(self.x.copy(), self.target.currentIndex())
