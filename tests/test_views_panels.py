"""The gradient heatmaps, the loss view and the input/output view draw the snapshot's
numbers, map clicks to (l, i, j) and examples, and redraw only what changed."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
from pyqtgraph.Qt import QtCore
from snapshots import fake_history, snapshot_at
from viewtools import click, hover, shown

from bpviz.session.snapshot import PhaseKind
from bpviz.ui import colors
from bpviz.ui.views import GradientView, InputOutputView, LossView
from bpviz.ui.views._tiles import tile_grid


def greys(pixels: np.ndarray) -> np.ndarray:
    """The colours a digit is drawn in, ``(28, 28, 4)`` uint8: black 0 … white 1."""
    return colors.GREYS_LUT[colors.lut_indices(pixels, 0.0, 1.0)]


def test_gradient_heatmap_shows_grad_weights_and_update(qtbot):
    view = shown(qtbot, GradientView())
    snapshot = snapshot_at(PhaseKind.GRADIENT, 1, sizes=(784, 30, 10))
    view.show_snapshot(snapshot)
    np.testing.assert_array_equal(view.heatmap.image.image, snapshot.grad_w[0])
    m = np.abs(snapshot.grad_w[0]).max()
    level = colors.nice_level(m)  # symmetric, centred at zero, m rounded up
    assert view.heatmap.bar.levels() == (-level, level) and m <= level < 1.3 * m
    assert "auto" in view.status.text()
    view.set_layer(2)
    np.testing.assert_array_equal(view.heatmap.image.image, snapshot.grad_w[1])
    view.set_quantity("weights")
    np.testing.assert_array_equal(view.heatmap.image.image, snapshot.weights[1])
    view.quantity_box.setCurrentIndex(2)  # ΔW = −η ∂C/∂W, through the combo box
    assert view.quantity == "update"
    np.testing.assert_allclose(view.heatmap.image.image, -snapshot.eta * snapshot.grad_w[1])


def test_gradient_not_computed_yet_is_empty(qtbot):
    view = shown(qtbot, GradientView())
    view.show_snapshot(snapshot_at(PhaseKind.GRADIENT, 2, sizes=(784, 30, 10)))
    assert view.layer == 2  # the heatmap follows the layer the phase computes
    assert view.heatmap.image.isVisible() and not view.heatmap.note.isVisible()
    assert not view.tiles.image.isVisible() and view.tiles.note.isVisible()  # ∂C/∂W¹ not yet
    view.set_layer(1)  # chosen by hand: ∂C/∂W¹ is not computed yet, and the title says so
    assert not view.heatmap.image.isVisible() and view.heatmap.note.isVisible()
    assert "(chosen)" in view.heatmap.plot.titleLabel.text and not view.follow_box.isChecked()


def test_gradient_levels_fixed_per_layer(qtbot):
    view = shown(qtbot, GradientView())
    first = snapshot_at(PhaseKind.GRADIENT, 1, sizes=(784, 30, 10), seed=1)
    later = snapshot_at(PhaseKind.GRADIENT, 1, sizes=(784, 30, 10), seed=2)
    view.set_levels_mode("fixed")
    view.show_snapshot(first)
    m1 = np.abs(first.grad_w[0]).max()
    view.show_snapshot(later)
    qtbot.waitUntil(lambda: view._drawn is later)  # redraws are rate-limited (max_hz)
    np.testing.assert_array_equal(view.heatmap.image.image, later.grad_w[0])
    assert view.heatmap.bar.levels() == (-m1, m1) and "fixed" in view.status.text()
    view.set_levels_mode("auto")
    m2 = colors.nice_level(np.abs(later.grad_w[0]).max())
    assert m1 != m2 and view.heatmap.bar.levels() == (-m2, m2)


def test_gradient_tiles_are_rows_of_w1_paged_when_wide(qtbot):
    view = shown(qtbot, GradientView())
    snapshot = snapshot_at(PhaseKind.GRADIENT, 1, sizes=(784, 512, 256, 10))
    view.show_snapshot(snapshot)
    assert tile_grid(64) == (8, 8) and view.page_spin.isVisible()
    image = view.tiles.image.image
    assert image.shape == (8 * 29, 8 * 29)  # 64 readable tiles of 512

    def tile(k: int) -> np.ndarray:
        r, c = divmod(k, 8)
        return view.tiles.image.image[r * 29 : r * 29 + 28, c * 29 : c * 29 + 28]

    np.testing.assert_array_equal(tile(10), snapshot.grad_w[0][10].reshape(28, 28))
    assert "i = 0 … 63 of 512" in view.tiles.plot.getAxis("bottom").labelText
    view.page_spin.setValue(64)  # the next page: neurons 64 … 127
    np.testing.assert_array_equal(tile(10), snapshot.grad_w[0][74].reshape(28, 28))
    assert view.tile_weight(29 + 3, 2 * 29 + 5) == (64 + 10, 3 * 28 + 5)
    view.set_selection(1, 500, 7)  # a weight on the last page: the page follows
    assert view.page_spin.value() == 448
    np.testing.assert_array_equal(tile(500 - 448), snapshot.grad_w[0][500].reshape(28, 28))


def test_gradient_clicks_give_l_i_j(qtbot):
    view = shown(qtbot, GradientView(), width=1100, height=600)
    view.show_snapshot(snapshot_at(PhaseKind.UPDATE, sizes=(784, 30, 10)))
    view.set_layer(2)
    with qtbot.waitSignal(view.weight_clicked) as blocker:
        click(view.canvas, view.heatmap.image, 17.5, 4.5)  # column j = 17, row i = 4
    assert blocker.args == [2, 4, 17]
    hover(view.canvas, view.heatmap.image, 17.5, 4.5)
    assert "i=4, j=17" in view.hover.text()
    _, cols = tile_grid(30)
    tile, r, c = 7, 3, 20
    row, col = (tile // cols) * 29 + r, (tile % cols) * 29 + c
    with qtbot.waitSignal(view.weight_clicked) as blocker:
        click(view.canvas, view.tiles.image, col + 0.5, row + 0.5)
    assert blocker.args == [1, tile, r * 28 + c]


def test_loss_view_draws_history_and_redraws_only_on_change(qtbot):
    view = shown(qtbot, LossView())
    history = fake_history(400)
    snapshot = dataclasses.replace(snapshot_at(PhaseKind.COST), history=history)
    view.show_snapshot(snapshot)
    _x, y = view.mean.getData()
    np.testing.assert_array_equal(y, history.loss_mean)
    np.testing.assert_array_equal(view.low.getData()[1], history.loss_min)
    np.testing.assert_array_equal(view.high.getData()[1], history.loss_max)
    assert view.high.getData()[1].max() > 0.5  # the spike survives decimation
    _ax, ay = view.accuracy.getData()
    np.testing.assert_allclose(ay, 100 * history.epochs.test_accuracy.mean)
    np.testing.assert_array_equal(_ax, history.epochs.step)
    visible = [line for line in view._eta_lines if line.isVisible()]
    assert [line.value() for line in visible] == [s for s, _ in history.eta_changes[1:]]

    view.mean.setData([0.0], [0.0])  # the same history again: nothing is redrawn
    view.show_snapshot(dataclasses.replace(snapshot, step=snapshot.step + 1))
    assert len(view.mean.getData()[1]) == 1
    longer = dataclasses.replace(snapshot, history=fake_history(800))
    view.show_snapshot(longer)  # drawn within 1 / MAX_HZ (redraws are rate-limited)
    qtbot.waitUntil(lambda: len(view.mean.getData()[1]) == len(longer.history.loss_mean))

    steps = longer.history.loss_step
    hover(view.canvas, view.plot.getViewBox(), float(steps[20]) + 0.5, 0.3)
    found = re.match(r"step ([\d,]+): C = (\S+) \(min (\S+), max (\S+)\)", view.readout.text())
    k = int(np.searchsorted(steps, int(found[1].replace(",", ""))))
    assert abs(k - 20) <= 3  # within a few pixels of the pointer
    history = longer.history
    assert found.groups()[1:] == tuple(
        f"{v[k]:.4g}" for v in (history.loss_mean, history.loss_min, history.loss_max)
    )
    assert view.cursor.isVisible()


def test_input_output_view(qtbot):
    view = shown(qtbot, InputOutputView(), width=1000, height=400)
    snapshot = snapshot_at(PhaseKind.COST, batch_size=10)
    view.show_snapshot(snapshot)
    np.testing.assert_array_equal(view.digit.image, greys(snapshot.x[0].reshape(28, 28)))
    np.testing.assert_array_equal(view.output.opts["height"], snapshot.a[-1][0])
    np.testing.assert_array_equal(view.target.opts["height"], snapshot.y[0])
    predicted = np.argmax(snapshot.a[-1], axis=1)
    for k, text in enumerate(view._texts[:10]):
        label = str(snapshot.labels[k])
        expected = label if predicted[k] == snapshot.labels[k] else f"{label}→{predicted[k]}"
        assert text.text() == expected
    _, cols = tile_grid(10)
    with qtbot.waitSignal(view.example_changed) as blocker:  # the digit in row 1, column 2
        click(view.canvas, view.grid, (2 * 29) + 14, 29 + 14)
    k = cols + 2
    assert blocker.args == [k] and view.example == k
    np.testing.assert_array_equal(view.digit.image, greys(snapshot.x[k].reshape(28, 28)))
    np.testing.assert_array_equal(view.output.opts["height"], snapshot.a[-1][k])
    view.set_example(None)
    np.testing.assert_allclose(view.output.opts["height"], snapshot.a[-1].mean(axis=0))
    view.show_snapshot(snapshot_at(PhaseKind.FORWARD, 1, batch_size=10))  # a^L not yet
    assert not view.output.opts["height"].any() and "not computed" in view.verdict.text()


def test_gradient_selection_outlines_the_cell_and_the_tile_pixel(qtbot):
    view = shown(qtbot, GradientView())
    view.show_snapshot(snapshot_at(PhaseKind.UPDATE, sizes=(784, 30, 10)))
    view.set_selection(2, 4, 17)  # switches to W^2
    assert view.layer == 2 and view.layer_box.currentText() == "W²"
    assert view.heatmap.marker.rect() == QtCore.QRectF(17, 4, 1, 1)
    assert not view.tiles.marker.isVisible()
    view.set_selection(1, 7, 3 * 28 + 20)
    _, cols = tile_grid(30)
    row, col = (7 // cols) * 29 + 3, (7 % cols) * 29 + 20
    assert view.tiles.marker.isVisible()
    assert view.tiles.marker.rect() == QtCore.QRectF(col, row, 1, 1)
    assert view.tile_weight(row, col) == (7, 3 * 28 + 20)  # the same mapping as clicks
    view.set_selection(1, 2, None)  # bias b_2^1: row 2 outlined
    assert view.heatmap.marker.rect() == QtCore.QRectF(0, 2, 784, 1)
