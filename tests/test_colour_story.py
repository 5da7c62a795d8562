"""One colour story: every signed quantity (∂C/∂a, δ, ∂C/∂W, W, ΔW, the inspector's δᵢ aⱼ,
the contraction's slices and result) on ``colors.DIVERGING``, every activation or
unsigned quantity (σ′, aᴸ, the confusion matrix) on ``colors.SEQUENTIAL``, read from the
items the views draw with; each with a legend whose level is the view's."""

from __future__ import annotations

import numpy as np
import pytest
from pyqtgraph.Qt import QtGui
from PySide6.QtCore import Qt
from snapshots import snapshot_at
from viewtools import delta_cells, shown

from bpviz.session.snapshot import PhaseKind
from bpviz.ui import colors
from bpviz.ui.views import DeltaView, GradientView, InputOutputView
from bpviz.ui.views._legend import ColorLegend, level_text
from bpviz.ui.views.contraction import ContractionView
from bpviz.ui.views.inspector import InspectorView


def level_of(values: np.ndarray) -> float:
    return colors.nice_level(colors.symmetric_level(values))


def rgb(lut: np.ndarray) -> np.ndarray:
    return lut[:, :3].astype(int)


def assert_gradient_is_map(brush: QtGui.QBrush, cmap, lo: float, hi: float) -> None:
    """``brush`` is a linear gradient along the value axis from ``lo`` to ``hi`` whose
    colours are ``cmap``'s (sampled at its stops)."""
    grad = brush.gradient()
    assert grad is not None and grad.type() == QtGui.QGradient.Type.LinearGradient
    assert (grad.start().y(), grad.finalStop().y()) == pytest.approx((lo, hi))
    stops = grad.stops()
    assert len(stops) >= 16
    for at, color in stops:
        expected = cmap.map(at, mode="byte")[:3]
        assert np.abs(np.array(color.getRgb()[:3]) - expected).max() <= 2, at


def brush_rgb(brushes) -> np.ndarray:
    return np.array([b.color().getRgb()[:3] for b in brushes], dtype=int)


def test_delta_cells_use_the_maps_at_their_levels(qtbot):
    _, snapshot, rows = delta_cells(qtbot)
    for l, (dC_da, sigma_prime, delta) in rows:
        for cell, values in ((dC_da, snapshot.dC_da), (delta, snapshot.delta)):
            level = level_of(values[l - 1][0])
            assert cell.limit == level
            for item in (*cell.polygons, cell.strip):  # bars and their legend strip
                assert_gradient_is_map(item.brush(), colors.DIVERGING, -level, level)
            ticks = [text for _, text in cell.plot.getAxis("left")._tickLevels[0]]
            assert ticks == [level_text(level, True)[0], "0", level_text(level, True)[1]]
        top = colors.sigma_prime_max("sigmoid")
        for item in (*sigma_prime.polygons, sigma_prime.strip):
            assert_gradient_is_map(item.brush(), colors.SEQUENTIAL, 0.0, top)


def test_a_wide_delta_layer_draws_its_lines_with_the_map(qtbot):
    view = shown(qtbot, DeltaView(), width=420, height=300)
    snapshot = snapshot_at(PhaseKind.DELTA, 1, sizes=(784, 512, 256, 10))
    view.show_snapshot(snapshot)
    _, sigma_prime, delta = view.cells(1)
    assert delta.lines
    level = level_of(snapshot.delta[0][0])
    for item in delta.polygons:  # one vertical line per pixel column, its pen the map
        assert_gradient_is_map(item.opts["pen"].brush(), colors.DIVERGING, -level, level)
    # (each QBrush kept in a name while its gradient is read: a gradient points into
    # its brush, and a temporary brush is freed at once)
    dim, bright = (item.opts["pen"].brush() for item in sigma_prime.polygons)
    assert dim.gradient().stops()[-1][1].alphaF() < 0.5
    assert bright.gradient().stops()[-1][1].alphaF() == 1.0


@pytest.mark.parametrize("quantity", ["grad", "weights", "update"])
def test_gradient_heatmap_and_tiles_use_the_diverging_map_with_a_named_bar(qtbot, quantity):
    view = shown(qtbot, GradientView(), width=1100, height=600)
    snapshot = snapshot_at(PhaseKind.UPDATE, sizes=(784, 30, 10))
    view.show_snapshot(snapshot)
    view.set_quantity(quantity)
    view.set_layer(2)
    name = {"grad": "∂C/∂W", "weights": "W", "update": "ΔW"}[quantity]
    for panel, layer in ((view.heatmap, 2), (view.tiles, 1)):
        values = view.matrix(snapshot, layer)
        level = level_of(values)
        lut = panel.bar.colorMap().getLookupTable(nPts=colors.N_COLORS)
        np.testing.assert_array_equal(rgb(lut), rgb(colors.DIVERGING_LUT))
        assert panel.bar.levels() == (-level, level)
        assert panel.bar.getAxis("left").labelText == f"{name}{'²' if layer == 2 else '¹'}"
        ticks = [text for _, text in panel.bar.axis._tickLevels[0]]
        assert ticks == [f"−{level:.3g}", "0", f"+{level:.3g}"]


def test_io_output_bars_are_activations_on_the_sequential_map(qtbot):
    view = shown(qtbot, InputOutputView())
    snapshot = snapshot_at(PhaseKind.COST)
    view.show_snapshot(snapshot)
    out = snapshot.a[2][0]
    expected = colors.SEQUENTIAL_LUT[colors.lut_indices(out, 0.0, 1.0)]
    np.testing.assert_array_equal(brush_rgb(view.output.opts["brushes"]), rgb(expected))
    assert view.legend.lut is colors.SEQUENTIAL_LUT and view.legend.level == 1.0
    assert view.legend.text == "aᴸ 0 … 1"
    np.testing.assert_array_equal(view.grid.lut, colors.GREYS_LUT)  # pixels: greys
    assert "pixels, drawn in grey" in view.caption.toolTip()


def test_inspector_shares_are_on_the_diverging_map_with_their_legend(qtbot):
    view = shown(qtbot, InspectorView(), width=700, height=600)
    snapshot = snapshot_at(PhaseKind.UPDATE, sizes=(784, 30, 10))
    view.show_snapshot(snapshot)
    view.set_selection(2, 4, 17)
    qtbot.waitUntil(lambda: view.inspection is not None and view.inspection.selection.i == 4)
    c = snapshot.delta[1][:, 4] * snapshot.a[1][:, 17]
    level = level_of(c)
    assert view.legend.level == level and view.legend.text.startswith("δ₄² a₁₇¹ per example")
    expected = colors.DIVERGING_LUT[colors.lut_indices(c, -level, level)]
    np.testing.assert_array_equal(brush_rgb(view.bars.opts["brushes"]), rgb(expected))


def test_contraction_legends_say_the_levels_its_images_use(qtbot):
    view = shown(qtbot, ContractionView(), width=700, height=600)
    view.show_snapshot(snapshot_at(PhaseKind.UPDATE, sizes=(784, 30, 10)))
    view.set_selection(2, 4, 17)
    qtbot.waitUntil(lambda: view.result is not None)
    assert view.slice_legend.level == colors.symmetric_level(view.slices)
    assert view.result_legend.level == colors.symmetric_level(view.result)
    assert view.slice_legend.signed and view.result_legend.lut is colors.DIVERGING_LUT
    assert view.result_legend.text.startswith("∂Cₓ/∂W²")


def test_the_legend_paints_its_map_and_its_ends(qtbot):
    legend = ColorLegend("δ²", signed=True)
    qtbot.addWidget(legend)
    legend.set_level(0.05)
    legend.show()
    qtbot.waitExposed(legend)
    assert legend.text == "δ² −0.05 … +0.05"
    image = legend.grab().toImage().convertToFormat(QtGui.QImage.Format.Format_RGBA8888)
    pixels = np.array(
        [
            [image.pixelColor(x, y).getRgb()[:3] for x in range(image.width())]
            for y in range(image.height())
        ]
    )
    lut = rgb(colors.DIVERGING_LUT)
    # the bar: a band of columns painted in the map's colours, blue (−) left, red (+) right
    distance = np.abs(pixels[:, :, None, :] - lut[None, None]).sum(axis=3).min(axis=2)
    coloured = (distance <= 30) & (np.ptp(pixels, axis=2) > 40)  # on the map, not grey
    columns = np.flatnonzero(coloured.any(axis=0))
    assert len(columns) >= 60
    left, right = pixels[:, columns[0]], pixels[:, columns[-1]]
    assert (left[:, 2] > left[:, 0] + 60).any() and (right[:, 0] > right[:, 2] + 60).any()
    legend.set_level(None)  # nothing computed yet: no level to state
    assert legend.text == "δ² −— … +—"


def test_in_the_real_window_every_dock_keeps_the_colour_story(qtbot, window):
    """Stepped by key to ∂C/∂W¹: the δ dock's cells, the gradient dock's bars, the io
    bars, the inspector's shares and the evaluation's matrix use the two maps, each with
    its legend at the level drawn."""
    qtbot.waitUntil(lambda: window.latest is not None)
    window.activateWindow()
    for k in range(7):
        qtbot.keyClick(window, Qt.Key.Key_Period)
        qtbot.waitUntil(lambda k=k: window.latest.phase_index == k, timeout=10_000)
    shot = window.latest
    delta, gradients = window.views["delta"], window.views["gradients"]
    for view in (delta, gradients):
        qtbot.waitUntil(lambda view=view: view._drawn is shot, timeout=10_000)
    example = delta.example or 0
    cell = delta.cells(1)[2]
    level = level_of(shot.delta[0][example])
    assert_gradient_is_map(cell.strip.brush(), colors.DIVERGING, -level, level)
    level = level_of(shot.grad_w[0])
    assert gradients.heatmap.bar.levels() == (-level, level)
    assert gradients.heatmap.bar.getAxis("left").labelText == "∂C/∂W¹"
    io = window.views["io"]
    if io.isVisible():
        qtbot.waitUntil(lambda: io._drawn is shot, timeout=10_000)
        expected = colors.SEQUENTIAL_LUT[colors.lut_indices(shot.a[2][example], 0.0, 1.0)]
        np.testing.assert_array_equal(brush_rgb(io.output.opts["brushes"]), rgb(expected))
    evaluation = window.views["evaluation"]
    np.testing.assert_array_equal(evaluation.image.lut, colors.SEQUENTIAL_LUT)
    assert evaluation.legend.level == 1.0 and not evaluation.legend.signed
