"""The input plane (toy 2-D data): the points, the network's decision field, and what
each hidden neuron computes over the plane — live, phase by phase.

Left, the plane: training points filled and test points hollow, coloured by class; under
them the network's output aᴸ on a GRID × GRID grid (``bpviz.session.plane``, the engine's
forward pass with the snapshot's parameters) as a colour field: each class's colour
weighted by its output, so the decision boundary is where the colours meet. The
selected example of the mini-batch is ringed. Right, one thumbnail per hidden neuron:
its aᵢˡ over the same plane (the sequential map, over the activation's range); under
it, for the selected example, aᵢ going forward and δᵢ during the backward phases.
Shown only for 2-D inputs: for images the panel says why.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from pyqtgraph.Qt import QtCore, QtWidgets

from bpviz.data.dataset import Dataset
from bpviz.notation import subscript, superscript
from bpviz.session.plane import PlaneEvaluator, plane_extent, plane_grid
from bpviz.session.snapshot import PhaseKind, Snapshot
from bpviz.ui import colors
from bpviz.ui.views._base import SnapshotView, entry, pick
from bpviz.ui.views._hover import LiveTip, html_lines
from bpviz.ui.views._widgets import live_canvas
from bpviz.ui.views.glass import number

CLASS_COLORS = ((25, 129, 250), (230, 80, 74), (63, 191, 111))  # blue, red, green
FIELD_DIM = 0.55  # the field darker than the points drawn over it
MAX_THUMBS = 32  # hidden neurons with a thumbnail (the rest are listed as left out)
BACKWARD = (PhaseKind.DELTA, PhaseKind.GRADIENT)
NOT_2D = (
    "The input plane shows a network with 2 inputs (Data ▸ Toy 2-D): each point (x₁, x₂), "
    "the decision boundary and each hidden neuron over the plane. MNIST's 784 pixels have "
    "no plane to draw."
)


def class_rgb(k: int) -> tuple[int, int, int]:
    """The colour of class ``k`` (points and field)."""
    return CLASS_COLORS[k % len(CLASS_COLORS)]


def field_rgba(a_L: np.ndarray, n: int) -> np.ndarray:
    """The decision field ``(n, n, 4)`` uint8 from outputs ``(n², K)``: each class's colour
    weighted by its share of the outputs (softmax outputs are the shares already)."""
    share = np.clip(a_L, 0.0, None)
    share = share / np.maximum(share.sum(axis=1, keepdims=True), 1e-12)
    palette = np.array([class_rgb(k) for k in range(a_L.shape[1])], np.float64)
    rgb = FIELD_DIM * share @ palette
    out = np.empty((n * n, 4), np.uint8)
    out[:, :3] = np.clip(rgb, 0, 255).astype(np.uint8)
    out[:, 3] = 255
    return out.reshape(n, n, 4)


class PlaneView(SnapshotView):
    """The plane, the decision field and the hidden neurons' thumbnails (see module doc).

    ``data_source()`` gives the data set the window trains on (its points are drawn).
    ``field`` is the last decision field's outputs ``(GRID², K)`` (tests read it),
    ``grid`` its points ``(GRID², 2)``; ``thumb_text[(l, i)]`` the text under a thumbnail.
    """

    def __init__(
        self, data_source: Callable[[], Dataset | None] = lambda: None, parent=None
    ) -> None:
        super().__init__(parent)
        self._data_source = data_source
        self._dataset: Dataset | None = None
        self._evaluator = PlaneEvaluator()
        self._evaluated: tuple | None = None  # (config, weights) the field was drawn for
        self._shape: tuple[int, ...] = ()
        self.extent: tuple[float, ...] = (-1.0, 1.0, -1.0, 1.0)
        self.grid = plane_grid(self.extent)
        self.field: np.ndarray | None = None
        self.hidden_a: tuple[np.ndarray, ...] = ()
        self.thumb_text: dict[tuple[int, int], str] = {}

        self.message = QtWidgets.QLabel(NOT_2D)
        self.message.setWordWrap(True)
        self.message.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
        self.caption = QtWidgets.QLabel(
            "● training · ○ test points, by class · field: the network's output aᴸ "
            "(boundary where the colours meet) · right: each hidden aᵢ over the plane"
        )
        self.caption.setWordWrap(True)
        self.canvas = live_canvas()
        self.canvas.setBackground(colors.BACKGROUND)
        self.plot: pg.PlotItem = self.canvas.addPlot(row=0, col=0)
        self.plot.setAspectLocked(True)
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.plot.getViewBox().setMouseEnabled(False, False)
        colors.style_plot(self.plot)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.image)
        self.train_points = pg.ScatterPlotItem(size=5, pen=pg.mkPen(colors.BACKGROUND, width=0.6))
        self.test_points = pg.ScatterPlotItem(size=6, brush=None)
        self.chosen = pg.ScatterPlotItem(
            size=16, brush=None, pen=pg.mkPen(colors.HIGHLIGHT, width=2.5)
        )
        for z, item in enumerate((self.train_points, self.test_points, self.chosen), start=5):
            item.setZValue(z)
            self.plot.addItem(item)
        self.thumbs = self.canvas.addLayout(row=0, col=1)
        self.canvas.ci.layout.setColumnStretchFactor(0, 5)
        self.canvas.ci.layout.setColumnStretchFactor(1, 4)
        self._thumb_images: dict[tuple[int, int], pg.ImageItem] = {}
        self._thumb_labels: dict[tuple[int, int], pg.LabelItem] = {}

        self.tip = LiveTip(self.canvas, self._text_at)
        self._class_names: tuple[str, ...] = ()

        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.caption)
        layout.addWidget(self.message, 1)
        layout.addWidget(self.canvas, 1)
        self._set_2d(False)

    def _set_2d(self, on: bool) -> None:
        self.message.setVisible(not on)
        self.canvas.setVisible(on)
        self.caption.setVisible(on)

    # -- structure ---------------------------------------------------------------------
    def _use_data(self, dataset: Dataset) -> None:
        """Draw ``dataset``'s points and fit the plane to them."""
        self._dataset = dataset
        self.extent = plane_extent([dataset.train_images, dataset.test_images])
        self.grid = plane_grid(self.extent)
        x0, x1, y0, y1 = self.extent
        self.image.setRect(QtCore.QRectF(x0, y0, x1 - x0, y1 - y0))
        self.plot.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)
        brushes = [pg.mkBrush(*class_rgb(k)) for k in dataset.train_labels]
        self.train_points.setData(pos=dataset.train_images, brush=brushes)
        self.test_points.setData(
            pos=dataset.test_images,
            pen=[pg.mkPen(*class_rgb(k), width=1.4) for k in dataset.test_labels],
        )
        self._evaluated = None

    def _build_thumbs(self, sizes: tuple[int, ...]) -> None:
        self.thumbs.clear()
        self._thumb_images, self._thumb_labels = {}, {}
        self._shape = sizes
        hidden = [(l, i) for l in range(1, len(sizes) - 1) for i in range(sizes[l])][:MAX_THUMBS]
        cols = max(1, min(max(sizes[1:-1], default=1), 4))
        row = 0
        for l in range(1, len(sizes) - 1):
            neurons = [i for (layer, i) in hidden if layer == l]
            for start in range(0, len(neurons), cols):
                for c, i in enumerate(neurons[start : start + cols]):
                    vb = self.thumbs.addViewBox(row=row, col=c, lockAspect=True, enableMouse=False)
                    vb.setMenuEnabled(False)
                    image = pg.ImageItem(axisOrder="row-major")
                    vb.addItem(image)
                    label = self.thumbs.addLabel("", row=row + 1, col=c, size="7.5pt",
                                                 color=colors.FOREGROUND)  # fmt: skip
                    self._thumb_images[(l, i)] = image
                    self._thumb_labels[(l, i)] = label
                row += 2

    # -- drawing -----------------------------------------------------------------------
    def _render(self, snapshot: Snapshot) -> None:
        sizes = tuple(snapshot.config.sizes)
        if sizes[0] != 2:
            self._set_2d(False)
            return
        self._set_2d(True)
        dataset = self._data_source()
        if dataset is not None and dataset is not self._dataset and dataset.n_inputs == 2:
            self._use_data(dataset)
        if sizes != self._shape:
            self._build_thumbs(sizes)
            self._evaluated = None
        key = (snapshot.config, snapshot.weights, snapshot.biases)
        if self._evaluated is None or any(
            a is not b for a, b in zip(key[1:], self._evaluated[1:], strict=True)
        ) or key[0] != self._evaluated[0]:  # fmt: skip
            self._evaluate(snapshot)
            self._evaluated = key
        self._draw_example(snapshot)
        self.tip.refresh()

    def _evaluate(self, snapshot: Snapshot) -> None:
        try:
            trace = self._evaluator.evaluate(
                snapshot.config, snapshot.weights, snapshot.biases, self.grid
            )
        except ValueError:  # diverged parameters (NaN): nothing to draw
            self.image.clear()
            self.field = None
            return
        n = math.isqrt(self.grid.shape[0])
        self.field = trace.a[-1]
        self.hidden_a = trace.a[1:-1]
        self.image.setImage(field_rgba(self.field, n), levels=None)
        self.image.setRect(QtCore.QRectF(self.extent[0], self.extent[2],
                                         self.extent[1] - self.extent[0],
                                         self.extent[3] - self.extent[2]))  # fmt: skip
        hidden = snapshot.config.hidden
        lo, hi = (-1.0, 1.0) if hidden == "tanh" else (0.0, 1.0)
        for (l, i), image in self._thumb_images.items():
            values = self.hidden_a[l - 1][:, i].reshape(n, n)
            top = max(hi, float(values.max())) if hidden in ("relu", "leaky_relu") else hi
            image.setImage(colors.rgba(values, lo, top, colors.SEQUENTIAL_LUT), levels=None)

    def _draw_example(self, snapshot: Snapshot) -> None:
        x = pick(snapshot.x, self.example)
        if x is None or self.example is None:
            self.chosen.setData([], [])
        else:
            self.chosen.setData([float(x[0])], [float(x[1])])
        phase = snapshot.phase
        backward = phase is not None and phase.kind in BACKWARD
        for (l, i), label in self._thumb_labels.items():
            name = f"{subscript(i)}{superscript(l)}"
            if backward:
                d = pick(entry(snapshot.delta, l - 1), self.example)
                text = f"δ{name} {'·' if d is None else number(d[i])}"
            else:
                a = pick(entry(snapshot.a, l), self.example)
                text = f"a{name} {'·' if a is None else number(a[i])}"
            self.thumb_text[(l, i)] = text
            if label.text != text:
                label.setText(text)

    # -- hover -------------------------------------------------------------------------
    def _cell(self, x: float, y: float) -> int | None:
        """The grid point nearest (x, y) inside the plane, as an index, or None."""
        x0, x1, y0, y1 = self.extent
        n = math.isqrt(self.grid.shape[0])
        c, r = int((x - x0) / (x1 - x0) * n), int((y - y0) / (y1 - y0) * n)
        return r * n + c if 0 <= c < n and 0 <= r < n else None

    def _text_at(self, pos: QtCore.QPointF) -> str | None:
        """The field's aᴸ (or a hidden neuron's aᵢ) at the plane point under ``pos``."""
        if self.field is None or not self.canvas.isVisible():
            return None
        scene = self.canvas.mapToScene(pos.toPoint())
        if self.plot.getViewBox().sceneBoundingRect().contains(scene):
            point = self.plot.getViewBox().mapSceneToView(scene)
            k = self._cell(point.x(), point.y())
            if k is None:
                return None
            out = self.field[k]
            best = int(np.argmax(out))
            name = self._dataset.class_names[best] if self._dataset is not None else str(best)
            values = ", ".join(number(v) for v in out)
            return html_lines(
                f"x = ({number(point.x())}, {number(point.y())})",
                "aᴸ = σ(zᴸ), the network's output there",
                f"aᴸ = ({values}) → {name}",
            )
        for (l, i), image in self._thumb_images.items():
            view = image.getViewBox()
            if view is not None and view.sceneBoundingRect().contains(scene):
                local = image.mapFromScene(scene)
                n = math.isqrt(self.grid.shape[0])
                c, r = int(local.x()), int(local.y())
                if not (0 <= c < n and 0 <= r < n):
                    return None
                x, y = self.grid[r * n + c]
                name = f"{subscript(i)}{superscript(l)}"
                return html_lines(
                    f"a{name} = σ(z{name}) at x = ({number(x)}, {number(y)})",
                    f"= {number(self.hidden_a[l - 1][r * n + c, i])}",
                )
        return None
