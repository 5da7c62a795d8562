"""The evaluation panel: the held-out set through the network, as the session evaluated it.

Accuracy and mean cost C, per-class accuracy, and the confusion matrix (rows = true
class, columns = predicted) as an image with the counts written in. Clicking a cell
lists its examples as thumbnails; clicking a thumbnail (or a tile of the worst-mistakes
gallery) emits ``example_chosen`` with that digit, for the window to run one forward and
backward pass on it and show it in every view.

The numbers are the session's own epoch-end evaluation (``snapshot.last_eval``, a
``HeldOutEvaluation`` computed on the training thread at each epoch end, with the predictions
and worst mistakes the lists need): the panel draws it and never runs the held-out set
on the GUI thread. Before the first epoch ends (or for a session file's last epoch,
saved without its predictions), and on "Evaluate now", it evaluates the snapshot's
parameters on a thread of its own (``bpviz.runtime.threads``); the result arrives by a
signal.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from pyqtgraph.Qt import QtCore, QtWidgets

from bpviz.data.dataset import Dataset
from bpviz.session.evaluation import HeldOutEvaluation
from bpviz.session.snapshot import Snapshot
from bpviz.ui.colors import BACKGROUND, FOREGROUND, HIGHLIGHT, SEQUENTIAL_LUT, style_plot
from bpviz.ui.views._base import SnapshotView
from bpviz.ui.views._confusion import ConfusionImage
from bpviz.ui.views._heldout import HeldOutThread
from bpviz.ui.views._legend import ColorLegend
from bpviz.ui.views.mistakes import MistakeGallery, digit_pixmap

MAX_THUMBNAILS = 300  # a diagonal cell holds ~1,000 digits; the list shows the first ones
THUMB = 42
CONFUSION_TITLE = "confusion (rows = true, columns = predicted)"


class EvaluationPanel(SnapshotView):
    """Held-out accuracy, mean cost, per-class accuracy, confusion matrix, mistakes.

    The held-out set is ``set_dataset``'s, or ``data_source()`` (read at every
    evaluation, e.g. the window's current data). Feed snapshots with ``show_snapshot``.
    ``example_chosen(x, label, text)``: x ``(n_0,)`` floats in [0, 1].
    """

    example_chosen = QtCore.Signal(object, int, str)
    evaluated = QtCore.Signal(object)  # the HeldOutEvaluation now shown
    # an epoch ends many times a second on a small data set at full speed: draw at most
    # this often (the confusion matrix's hundred labels and the gallery's tiles)
    max_hz = 2.0
    paused_at_once = True  # a step that ends an epoch shows its evaluation now

    def __init__(
        self,
        parent: QtWidgets.QWidget | None = None,
        *,
        data_source: Callable[[], Dataset | None] | None = None,
    ) -> None:
        super().__init__(parent)
        self._dataset: Dataset | None = None
        self._data_source = data_source
        self.evaluation: HeldOutEvaluation | None = None
        self.evaluated_step: int | None = None
        self.cell: tuple[int, int] | None = None
        self.cell_indices = np.zeros(0, dtype=np.int64)
        self._eval_key: object = None
        self._texts: list[pg.TextItem] = []
        self.evaluator = HeldOutThread(self)
        self.evaluator.done.connect(self._evaluation_done)
        self._class_texts: list[pg.TextItem] = []

        self.header = QtWidgets.QLabel("No evaluation yet")
        self.header.setWordWrap(True)
        self.evaluate_button = QtWidgets.QPushButton("Evaluate now")
        self.evaluate_button.setToolTip(
            "Run the whole held-out set through the network as it is now (forward pass "
            "zˡ = Wˡ aˡ⁻¹ + bˡ, aˡ = σ(zˡ) only; nothing is trained)"
        )
        self.evaluate_button.clicked.connect(self.evaluate_now)
        top = QtWidgets.QHBoxLayout()
        top.addWidget(self.header, 1)
        self.legend = ColorLegend("confusion: √(share of true class)", signed=False)
        self.legend.set_level(1.0)  # the matrix image's levels
        top.addWidget(self.legend)
        top.addWidget(self.evaluate_button)
        self.note = QtWidgets.QLabel()
        self.note.setWordWrap(True)
        self.note.hide()

        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setBackground(BACKGROUND)
        self.matrix_plot: pg.PlotItem = self.graphics.addPlot(row=0, col=0)
        self.matrix_plot.setTitle(CONFUSION_TITLE, size="9pt")
        self.matrix_plot.setLabel("left", "true class")
        self.matrix_plot.setLabel("bottom", "predicted class")
        self.matrix_plot.invertY(True)
        self.matrix_plot.setAspectLocked(True)
        self.matrix_plot.setMouseEnabled(False, False)
        self.matrix_plot.hideButtons()
        self.image = ConfusionImage()
        self.image.setLookupTable(SEQUENTIAL_LUT)
        self.image.cell_clicked.connect(self.select_cell)
        self.image.cell_hovered.connect(self._hover)
        self.matrix_plot.addItem(self.image)
        self.outline = QtWidgets.QGraphicsRectItem(0, 0, 1, 1)
        self.outline.setPen(pg.mkPen(HIGHLIGHT, width=3, cosmetic=True))
        self.outline.setZValue(10)
        self.outline.hide()
        self.matrix_plot.addItem(self.outline)
        self.class_plot: pg.PlotItem = self.graphics.addPlot(row=0, col=1)
        self.class_plot.setTitle("per-class accuracy", size="9pt")
        self.class_plot.invertY(True)
        self.class_plot.setYLink(self.matrix_plot)
        self.class_plot.setMouseEnabled(False, False)
        self.class_plot.hideButtons()
        self.class_plot.setXRange(0, 1, padding=0.02)
        self.class_plot.getAxis("left").setStyle(showValues=False)
        self.class_bars = pg.BarGraphItem(x0=[], y=[], height=0.7, width=[], brush="#3fbf6f")
        self.class_plot.addItem(self.class_bars)
        self.graphics.ci.layout.setColumnStretchFactor(0, 3)
        self.graphics.ci.layout.setColumnStretchFactor(1, 1)
        for plot in (self.matrix_plot, self.class_plot):
            style_plot(plot)
        self.graphics.setToolTip(
            "Cell (t, p) counts the held-out examples of true class t the network "
            "predicts as p (largest aᴸₚ); colour = fraction of class t, square-root "
            "scale. Click a cell to list its examples."
        )

        self.thumbnails = QtWidgets.QListWidget()
        self.thumbnails.setViewMode(QtWidgets.QListView.ViewMode.IconMode)
        self.thumbnails.setIconSize(QtCore.QSize(THUMB, THUMB))
        self.thumbnails.setResizeMode(QtWidgets.QListView.ResizeMode.Adjust)
        self.thumbnails.setMovement(QtWidgets.QListView.Movement.Static)
        self.thumbnails.setUniformItemSizes(True)
        self.thumbnails.setToolTip("Click a digit to load it in every view")
        self.thumbnails.itemClicked.connect(
            lambda item: self.choose(int(item.data(QtCore.Qt.ItemDataRole.UserRole)))
        )
        self.cell_label = QtWidgets.QLabel("Click a cell of the confusion matrix")
        self.cell_label.setWordWrap(True)
        cell_page = QtWidgets.QWidget()
        cell_layout = QtWidgets.QVBoxLayout(cell_page)
        cell_layout.setContentsMargins(0, 0, 0, 0)
        cell_layout.addWidget(self.cell_label)
        cell_layout.addWidget(self.thumbnails, 1)
        self.gallery = MistakeGallery()
        self.gallery.chosen.connect(self.choose)
        self.tabs = QtWidgets.QTabWidget()
        self.tabs.addTab(cell_page, "In cell")
        self.tabs.addTab(self.gallery, "Worst mistakes")
        self.tabs.setTabToolTip(0, "The held-out digits of the confusion matrix cell clicked")
        self.tabs.setUsesScrollButtons(False)  # both tabs always readable, never scrolled
        self.tabs.tabBar().setExpanding(False)
        self.tabs.setTabToolTip(1, "The most confident wrong answers: largest aᴸ at a wrong class")

        self.splitter = splitter = QtWidgets.QSplitter(QtCore.Qt.Orientation.Vertical)
        splitter.addWidget(self.graphics)
        splitter.addWidget(self.tabs)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        self.matrix_plot.getViewBox().sigResized.connect(self._fit_texts)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.note)
        layout.addWidget(splitter, 1)

    @property
    def dataset(self) -> Dataset | None:
        """The data whose held-out split is evaluated."""
        return self._data_source() if self._data_source is not None else self._dataset

    @property
    def class_names(self) -> tuple[str, ...]:
        """The data set's class names (digits or Fashion-MNIST's)."""
        if self.dataset is not None:
            return self.dataset.class_names
        return tuple(str(c) for c in range(10))

    def set_dataset(self, dataset: Dataset) -> None:
        """Evaluate on ``dataset``'s held-out split from now on (re-evaluates if shown)."""
        self._dataset = dataset
        self.data_changed()

    def set_class_names(self, names: tuple[str, ...]) -> None:
        """The window's hook when the data set changes: evaluate afresh on the new one."""
        self.data_changed()

    def data_changed(self) -> None:
        """Forget the evaluation of the old data; evaluate again when next drawn."""
        self._eval_key = None
        self.evaluation = None
        self.cell = None
        self.outline.hide()
        self.thumbnails.clear()
        self._set_ticks()
        if self.snapshot is not None:
            self.redraw()

    def _fits(self, result: HeldOutEvaluation) -> bool:
        """``result`` predicts every held-out example of the panel's data set."""
        data = self.dataset
        return data is not None and result.predictions.shape == data.test_labels.shape

    def _render(self, snapshot: Snapshot) -> None:
        # Show the session's evaluation of each epoch; without one (no epoch ended yet
        # in this run, or a session file's, saved without predictions) evaluate this
        # snapshot on the panel's thread, once per run and last epoch.
        if self.dataset is None:
            return
        last = snapshot.last_eval
        # by value: a snapshot from the child process is a new object every time
        done = None if last is None else (last.epoch, last.step, str(last.test_loss))
        key = (snapshot.config, done)
        if key == self._eval_key:
            return
        self._eval_key = key
        if isinstance(last, HeldOutEvaluation) and self._fits(last):
            self._show(last)
        else:
            self.evaluate_now()

    def evaluate_now(self) -> None:
        """Evaluate the latest snapshot's parameters on the held-out set on the panel's
        own thread (the GUI goes on); the result is drawn when it arrives."""
        snapshot, data = self.snapshot, self.dataset
        if snapshot is None or data is None:
            self.header.setText("No network or no data yet")
            return
        self.evaluate_button.setEnabled(False)
        self.evaluator.start(snapshot, data)

    def _evaluation_done(self, data: Dataset, outcome: HeldOutEvaluation | str) -> None:
        self.evaluate_button.setEnabled(not self.evaluator.busy)
        if data is not self.dataset:
            pass  # the window has replaced the data meanwhile
        elif isinstance(outcome, str):
            self.header.setText(outcome)
        else:
            self._show(outcome)

    def wait_for_evaluation(self, timeout: float = 30.0) -> None:
        """Join the panel's evaluation thread (tests; closing the window)."""
        self.evaluator.wait(timeout)

    def _show(self, result: HeldOutEvaluation) -> None:
        self.evaluation = result
        self.evaluated_step = result.step
        self._draw(result)
        self.evaluated.emit(result)

    def _draw(self, result: HeldOutEvaluation) -> None:
        confusion = result.confusion
        k = confusion.shape[0]
        self.header.setText(
            f"Held-out set ({int(confusion.sum()):,} examples) after step "
            f"{self.evaluated_step:,}: accuracy <b>{100 * result.test_accuracy:.2f} %</b>, "
            f"mean cost C = <b>{result.test_loss:.4f}</b>"
        )
        rows = np.maximum(confusion.sum(axis=1, keepdims=True), 1)
        self.image.setImage(np.sqrt(confusion / rows), levels=(0.0, 1.0))
        self.image.setRect(QtCore.QRectF(0, 0, k, k))
        self._set_texts(confusion)
        accuracy = np.nan_to_num(result.per_class_accuracy)
        self.class_bars.setOpts(x0=np.zeros(k), y=np.arange(k) + 0.5, width=accuracy)
        while len(self._class_texts) < k:
            item = pg.TextItem("", color="#101010", anchor=(1.0, 0.5))
            self.class_plot.addItem(item)
            self._class_texts.append(item)
        for c, item in enumerate(self._class_texts):
            item.setVisible(c < k)
            if c < k:  # dark on a long bar, light beside a short one (not dark on dark)
                inside = accuracy[c] >= 0.3
                item.setText(
                    f"{100 * accuracy[c]:.0f} %", color="#101010" if inside else FOREGROUND
                )
                item.setAnchor((1.0, 0.5) if inside else (0.0, 0.5))
                item.setPos(accuracy[c] if inside else accuracy[c] + 0.02, c + 0.5)
        self._set_ticks()
        self.matrix_plot.setRange(xRange=(0, k), yRange=(0, k), padding=0.02)
        data = self.dataset
        if data is not None:
            self.gallery.set_mistakes(
                result.mistakes, data.test_images, data.test_labels,
                result.mistake_outputs, self.class_names,
            )  # fmt: skip
        if self.cell is not None:
            self.select_cell(*self.cell)

    def resizeEvent(self, event) -> None:
        """Matrix above the lists when tall, beside them when wide (a short dock)."""
        super().resizeEvent(event)
        wide = self.width() > 1.4 * self.height()
        orientation = QtCore.Qt.Orientation.Horizontal if wide else QtCore.Qt.Orientation.Vertical
        if self.splitter.orientation() != orientation:
            self.splitter.setOrientation(orientation)

    def _fit_texts(self) -> None:
        """Counts in a font that fits the cells; hidden when the cells are too small."""
        width = self.matrix_plot.getViewBox().viewPixelSize()[0]
        cell = 1.0 / width if width > 0 else 0.0
        font = self.font()
        font.setPointSizeF(float(np.clip(cell * 0.3, 6.0, 9.0)))
        for item in self._texts:
            item.setFont(font)
            item.setVisible(cell >= 18)

    def _set_texts(self, confusion: np.ndarray) -> None:
        k = confusion.shape[0]
        if len(self._texts) != k * k:
            for item in self._texts:
                self.matrix_plot.removeItem(item)
            self._texts = []
            for t in range(k):
                for p in range(k):
                    item = pg.TextItem("", anchor=(0.5, 0.5))
                    item.setPos(p + 0.5, t + 0.5)
                    self.matrix_plot.addItem(item)
                    self._texts.append(item)
            self._fit_texts()
        rows = np.maximum(confusion.sum(axis=1), 1)
        for n, item in enumerate(self._texts):
            t, p = divmod(n, k)
            bright = np.sqrt(confusion[t, p] / rows[t]) > 0.6
            item.setText(str(confusion[t, p]), color="#101010" if bright else FOREGROUND)

    def _set_ticks(self) -> None:
        names = self.class_names
        k = len(names)
        digits = all(name.isdigit() for name in names)
        left = [(c + 0.5, name if digits else f"{c} {name}") for c, name in enumerate(names)]
        bottom = [(c + 0.5, str(c) if not digits else names[c]) for c in range(k)]
        self.matrix_plot.getAxis("left").setTicks([left])
        self.matrix_plot.getAxis("bottom").setTicks([bottom])

    def _hover(self, true: int, predicted: int) -> None:
        """Say what the cell under the pointer holds, in the tooltip and the title."""
        result = self.evaluation
        if result is None or true < 0:
            self.matrix_plot.setTitle(CONFUSION_TITLE, size="9pt")
            return
        names = self.class_names
        count = int(result.confusion[true, predicted])
        share = count / max(int(result.confusion[true].sum()), 1)
        self.matrix_plot.setTitle(
            f"true {names[true]}, predicted {names[predicted]}: {count:,} "
            f"({100 * share:.1f} % of {names[true]}) — click to list",
            size="9pt",
        )

    def text_counts(self) -> np.ndarray:
        """The counts written in the cells, as a ``(k, k)`` array (what the user reads)."""
        k = round(np.sqrt(len(self._texts)))
        return np.array([int(t.toPlainText()) for t in self._texts], dtype=np.int64).reshape(k, k)

    def select_cell(self, true: int, predicted: int) -> None:
        """List the examples of cell (true, predicted) as thumbnails."""
        if self.evaluation is None or self.dataset is None:
            return
        names = self.class_names
        self.cell = (true, predicted)
        self.outline.setRect(predicted, true, 1, 1)
        self.outline.show()
        self.cell_indices = self.evaluation.cell(self.dataset.test_labels, true, predicted)
        shown = self.cell_indices[:MAX_THUMBNAILS]
        more = f" (showing the first {shown.size:,})" if shown.size < self.cell_indices.size else ""
        self.cell_label.setText(
            f"true {names[true]}, predicted {names[predicted]}: "
            f"{self.cell_indices.size:,} examples{more}"
        )
        self.thumbnails.clear()
        images = self.dataset.test_images
        for index in shown:
            item = QtWidgets.QListWidgetItem(digit_pixmap(images[index], THUMB), "")
            item.setData(QtCore.Qt.ItemDataRole.UserRole, int(index))
            item.setToolTip(f"held-out #{index}")
            self.thumbnails.addItem(item)
        self.tabs.setCurrentIndex(0)

    def set_note(self, text: str) -> None:
        """A line under the header (e.g. what one update on the chosen example would do)."""
        self.note.setText(text)
        self.note.setVisible(bool(text))

    def choose(self, index: int) -> None:
        """Emit ``example_chosen`` for held-out example ``index``."""
        if self.dataset is None:
            return
        label = int(self.dataset.test_labels[index])
        x = Dataset.to_float(self.dataset.test_images[index], np.float64)
        names = self.class_names
        text = f"held-out #{index}, true class {names[label]}"
        if self.evaluation is not None:
            text += f", predicted {names[int(self.evaluation.predictions[index])]}"
        self.example_chosen.emit(x, label, text)
