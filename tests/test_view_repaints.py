"""The views repaint what changed, once: a step that changes nothing a view shows paints
nothing there, and a step that changes it paints it once (not once more for changes made
while painting). Counted as the paint events the views' canvases receive."""

from __future__ import annotations

import numpy as np
from pyqtgraph.Qt import QtCore, QtGui, QtWidgets
from snapshots import make_snapshots, snapshot_at
from viewtools import shown

from bpviz.session.snapshot import PhaseKind
from bpviz.ui import colors
from bpviz.ui.views import DeltaView, GradientView, InputOutputView, LossView


class Paints(QtCore.QObject):
    """Counts the paint events of a widget (a GraphicsView: of its viewport)."""

    def __init__(self, widget: QtWidgets.QWidget) -> None:
        super().__init__(widget)
        self.count = 0
        target = widget.viewport() if isinstance(widget, QtWidgets.QAbstractScrollArea) else widget
        target.installEventFilter(self)

    def eventFilter(self, watched, event) -> bool:
        if event.type() == QtCore.QEvent.Type.Paint:
            self.count += 1
        return False


def settle(qtbot) -> None:
    """Let every posted change (layouts, update requests) be processed and painted."""
    for _ in range(5):
        QtWidgets.QApplication.processEvents()
        qtbot.wait(20)


def test_delta_step_that_changes_no_cell_paints_nothing(qtbot):
    """∂C/∂W² → ∂C/∂W¹ of one mini-batch: the δ view's arrays and highlight are the same
    (a wide network: its 512 and 256 neurons are drawn as lines)."""
    view = shown(qtbot, DeltaView(), height=700)
    wide = dict(sizes=(784, 512, 256, 10))
    view.show_snapshot(snapshot_at(PhaseKind.GRADIENT, 3, **wide))
    settle(qtbot)
    paints = Paints(view.canvas)
    shot = snapshot_at(PhaseKind.GRADIENT, 2, **wide)
    view.show_snapshot(shot)
    settle(qtbot)
    assert view._drawn is shot and view.cells(1)[2].lines
    assert paints.count == 0


def test_delta_cells_with_new_values_and_scales_paint_once(qtbot):
    """δ² arrives (its cells get values and levels, its row the highlight): one paint."""
    view = shown(qtbot, DeltaView(), height=700)
    for shot in make_snapshots()[:3]:  # up to the forward pass: nothing to show yet
        view.show_snapshot(shot)
    settle(qtbot)
    paints = Paints(view.canvas)
    shot = snapshot_at(PhaseKind.DELTA, 2)
    view.show_snapshot(shot)
    settle(qtbot)
    dC_da, _, delta = view.cells(2)
    assert dC_da.values is not None and delta.limit is not None
    assert paints.count == 1


def test_io_step_that_changes_neither_x_nor_the_output_paints_nothing(qtbot):
    """The forward pass of layer 1 → 2 computes a hidden layer: the digits, the selected
    digit and the output bars stay as they are."""
    view = shown(qtbot, InputOutputView())
    view.show_snapshot(snapshot_at(PhaseKind.FORWARD, 2))
    settle(qtbot)
    paints = Paints(view.canvas)
    shot = snapshot_at(PhaseKind.COST)
    view.show_snapshot(shot)
    settle(qtbot)
    assert view._drawn is shot and "prediction" in view.verdict.text()
    assert paints.count == 0
    view.set_example(3)  # another example: drawn
    settle(qtbot)
    assert paints.count >= 1 and "example 3" in view.verdict.text()


class Layouts(QtCore.QObject):
    """Counts the layout requests a graphics widget (a plot) receives."""

    def __init__(self, item: QtCore.QObject) -> None:
        super().__init__()
        self.count = 0
        item.installEventFilter(self)

    def eventFilter(self, watched, event) -> bool:
        if event.type() == QtCore.QEvent.Type.LayoutRequest:
            self.count += 1
        return False


def test_gradient_title_changes_colour_without_a_new_layout(qtbot):
    """∂C/∂W¹ computed (its title lit) → the update: the title goes back to the plain
    colour, same text: the plot is not laid out again."""
    view = shown(qtbot, GradientView(), width=1100, height=600)
    view.show_snapshot(snapshot_at(PhaseKind.GRADIENT, 1))
    qtbot.waitUntil(lambda: view._drawn is snapshot_at(PhaseKind.GRADIENT, 1))
    settle(qtbot)
    title = view.heatmap.plot.titleLabel
    assert QtGui.QColor(*colors.HIGHLIGHT).name() in title.item.toHtml()
    layouts = Layouts(view.heatmap.plot)
    shot = snapshot_at(PhaseKind.UPDATE)
    view.show_snapshot(shot)
    qtbot.waitUntil(lambda: view._drawn is shot)
    settle(qtbot)
    assert QtGui.QColor(colors.FOREGROUND).name() in title.item.toHtml()
    assert title.text == "∂C/∂W¹"
    assert layouts.count == 0


def test_gradient_following_the_layer_back_paints_once(qtbot):
    """The heatmap follows ∂C/∂W², then ∂C/∂W¹; following W² again (new shape, range and
    levels) paints the canvas once: no second paint for a transform applied while
    painting, no new layout for a colour bar narrowed and widened again."""
    view = shown(qtbot, GradientView(), width=1100, height=600)
    for shot in (snapshot_at(PhaseKind.GRADIENT, 2), snapshot_at(PhaseKind.GRADIENT, 1)):
        view.show_snapshot(shot)
        qtbot.waitUntil(lambda shot=shot: view._drawn is shot)
        settle(qtbot)
    assert view.layer == 1
    paints = Paints(view.canvas)
    shot = snapshot_at(PhaseKind.GRADIENT, 2)
    view.show_snapshot(shot)
    qtbot.waitUntil(lambda: view._drawn is shot)
    settle(qtbot)
    assert view.layer == 2 and view.heatmap.shape == shot.grad_w[1].shape
    assert paints.count == 1


def test_loss_new_history_paints_once(qtbot):
    """A mini-batch more in the history: new ranges for the loss and the accuracy's box
    (linked to its steps), one paint."""
    view = shown(qtbot, LossView())
    for step in (1, 2):
        shot = snapshot_at(PhaseKind.UPDATE, step=step)
        view.show_snapshot(shot)
        qtbot.waitUntil(lambda shot=shot: view._drawn is shot.history)
        settle(qtbot)
    paints = Paints(view.canvas)
    shot = snapshot_at(PhaseKind.UPDATE, step=3)
    view.show_snapshot(shot)
    qtbot.waitUntil(lambda: view._drawn is shot.history)
    settle(qtbot)
    assert len(view.mean.getData()[0]) == len(shot.history.loss_step)
    assert paints.count == 1


def test_delta_wide_layer_columns_are_painted_with_the_map(qtbot):
    """The columns of a wide layer (drawn as filled rectangles): the column of the
    largest δ¹ is painted from the zero line up to its height in the map's positive
    colours, and nothing is painted above it."""
    view = shown(qtbot, DeltaView(), width=420, height=300)
    shot = snapshot_at(PhaseKind.DELTA, 1, sizes=(784, 512, 256, 10))
    view.show_snapshot(shot)
    settle(qtbot)
    cell = view.cells(1)[2]
    up, _ = cell.heights()
    k = int(np.argmax(up))
    x = (cell.edges[k] + cell.edges[k + 1]) / 2
    box = cell.plot.getViewBox()
    image = view.canvas.grab().toImage()

    def pixels(y: float) -> np.ndarray:
        """The pixel at (x, y) and its left and right neighbours (a column is ~1 px)."""
        point = view.canvas.mapFromScene(box.mapViewToScene(QtCore.QPointF(x, y)))
        return np.array(
            [image.pixelColor(point.x() + dx, point.y()).getRgb()[:3] for dx in (-1, 0, 1)]
        )

    level = cell.limit
    y = 0.9 * up[k]
    expected = colors.DIVERGING.map((y + level) / (2 * level), mode="byte")[:3]
    assert np.abs(pixels(y) - expected).max(axis=1).min() <= 30  # the map's colour there
    assert pixels(up[k] + 0.2 * (level - up[k])).max() < 60  # above: the dark background


def test_loss_axis_keeps_its_width_when_the_numbers_narrow(qtbot):
    """Histories of several lengths shown in turn (their ranges' tick numbers of other
    widths): once the left axis is wide enough for them, the plot is not laid out again."""
    view = shown(qtbot, LossView())
    shots = [snapshot_at(PhaseKind.UPDATE, step=step) for step in (1, 2, 3, 4, 6)]
    for shot in shots:
        view.show_snapshot(shot)
        qtbot.waitUntil(lambda shot=shot: view._drawn is shot.history)
        settle(qtbot)
    layouts = Layouts(view.plot)
    for shot in shots:
        view.show_snapshot(shot)
        qtbot.waitUntil(lambda shot=shot: view._drawn is shot.history)
        settle(qtbot)
    assert layouts.count == 0


def test_network_narration_and_caption_change_without_a_new_layout(qtbot):
    """δ² → δ¹: the narration line and the edges' rule say something new, and the network
    view repaints them without laying itself (and the window around it) out again."""
    from bpviz.ui.views import NetworkView

    view = shown(qtbot, NetworkView())
    view.show_snapshot(snapshot_at(PhaseKind.DELTA, 2))
    settle(qtbot)
    told = view.narration.text()
    layouts = Layouts(view)
    view.show_snapshot(snapshot_at(PhaseKind.DELTA, 1))
    settle(qtbot)
    assert view.narration.text() != told and "δ¹" in view.narration.text()
    assert view.narration.isVisible() and view.narration.width() > 100
    assert layouts.count == 0


def test_io_new_verdict_repaints_without_a_new_layout(qtbot):
    """A new mini-batch (another digit, another prediction): the verdict line says so and
    the io view does not lay itself out again."""
    view = shown(qtbot, InputOutputView())
    first, last = (snapshot_at(PhaseKind.COST, seed=seed) for seed in (0, 1))
    view.show_snapshot(first)
    settle(qtbot)
    before = view.verdict.text()
    layouts = Layouts(view)
    view.show_snapshot(last)
    settle(qtbot)
    assert view.verdict.text() != before and view.verdict.isVisible()
    assert layouts.count == 0
