"""Every view accepts every snapshot (each phase, partial, reset, wide, deep, softmax) and
the network and δ views draw the snapshot's numbers."""

from __future__ import annotations

import re

import numpy as np
import pyqtgraph as pg
import pytest
from pyqtgraph.Qt import QtGui, QtWidgets
from snapshots import bare_snapshot, make_snapshots, snapshot_at
from viewtools import brush_rgba, click, delta_cells, shown

from bpviz.session.snapshot import PhaseKind
from bpviz.ui import colors
from bpviz.ui.throttle import Throttle
from bpviz.ui.views import (
    DeltaView,
    GradientView,
    InputOutputView,
    LossView,
    NetworkView,
)
from bpviz.ui.views._edges import strongest
from bpviz.ui.views.delta import bar_outline

ALL_VIEWS = (NetworkView, DeltaView, GradientView, LossView, InputOutputView)
NETWORKS = [
    dict(sizes=(784, 30, 10)),
    dict(sizes=(784, 512, 256, 10)),
    dict(sizes=(784, 100, 10), output="softmax", cost="cross_entropy", step=2),
    dict(sizes=(784, 40, 30, 20, 10), hidden="tanh"),
    dict(sizes=(784, 16, 10), hidden="relu", batch_size=1),
]


@pytest.mark.parametrize("view_class", ALL_VIEWS)
@pytest.mark.parametrize("network", NETWORKS, ids=lambda n: "-".join(map(str, n["sizes"])))
def test_every_view_accepts_every_phase_and_reshapes(qtbot, view_class, network):
    view = shown(qtbot, view_class())
    for throttle in view.findChildren(Throttle):  # draw every snapshot (views cap their rate)
        throttle.hz = None
    view.show_snapshot(bare_snapshot())
    for snapshot in make_snapshots(**network):
        view.show_snapshot(snapshot)
        qtbot.wait(1)
    view.show_snapshot(bare_snapshot(network["sizes"]))  # back to an empty batch
    view.grab()  # paints without error


def test_hidden_view_draws_when_shown(qtbot):
    view = NetworkView()
    qtbot.addWidget(view)
    snapshot = snapshot_at(PhaseKind.FORWARD, 2)
    view.show_snapshot(snapshot)
    assert view.input_image.image is None or not np.any(view.input_image.image)
    view.show()
    qtbot.waitExposed(view)
    digit = snapshot.x[0].reshape(28, 28)[::-1]  # row 0 at the bottom of the view
    expected = colors.GREYS_LUT[colors.lut_indices(digit, 0.0, 1.0)]
    np.testing.assert_array_equal(view.input_image.image, expected)


def test_network_nodes_show_activations_then_deltas(qtbot):
    view = shown(qtbot, NetworkView())
    forward = snapshot_at(PhaseKind.FORWARD, 2)
    view.show_snapshot(forward)
    hidden, output = view._columns
    idx = colors.lut_indices(forward.a[2][0], 0.0, 1.0)
    np.testing.assert_array_equal(brush_rgba(output), colors.SEQUENTIAL_LUT[idx])
    assert view.node_legend.text == "nodes aˡ 0 … 1"
    canvas_size = view.canvas.size()

    delta = snapshot_at(PhaseKind.DELTA, 2)
    view.show_snapshot(delta)
    d = delta.delta[1][0]
    m = np.abs(d).max()
    idx = colors.lut_indices(d, -m, m)
    np.testing.assert_array_equal(brush_rgba(output), colors.DIVERGING_LUT[idx])
    # δ^1 is not computed yet: grey nodes
    missing = np.array(pg.mkColor(colors.MISSING).getRgb())
    assert (brush_rgba(hidden) == missing).all()
    assert view.node_legend.text.startswith("nodes δˡ/max|δˡ|")
    QtWidgets.QApplication.processEvents()
    assert view.canvas.size() == canvas_size  # a new mode re-lays out nothing below
    assert view.highlight.isVisible() and view.highlight.rect().contains(2.0, 0.5)

    view.set_example(None)  # batch mean
    mean = delta.delta[1].mean(axis=0)
    idx = colors.lut_indices(mean, -np.abs(mean).max(), np.abs(mean).max())
    np.testing.assert_array_equal(brush_rgba(output), colors.DIVERGING_LUT[idx])


def test_network_wide_layers_are_strips_and_edges_are_the_strongest(qtbot):
    view = shown(qtbot, NetworkView(max_edges=300))
    snapshot = snapshot_at(PhaseKind.DELTA, 1, sizes=(784, 512, 256, 10))
    view.show_snapshot(snapshot)
    strip = view._columns[0]
    d = snapshot.delta[0][0][::-1]  # neuron 0 at the top
    m = np.abs(d).max()
    np.testing.assert_array_equal(
        strip.image[:, 0], colors.DIVERGING_LUT[colors.lut_indices(d, -m, m)]
    )
    strip.render()  # shown as it is: no levels, no colour table
    assert strip.qimage.format() == QtGui.QImage.Format.Format_RGBA8888
    assert "300 strongest of 401,408" in view.caption.full_text
    assert "300 strongest of 2,560" in view.caption.full_text
    w1 = snapshot.weights[0]
    shown_1 = {(i, j) for l, i, j in zip(*view.edges.drawn()[1:], strict=True) if l == 1}
    strongest = np.argsort(np.abs(w1).ravel())[-300:]
    assert shown_1 == {divmod(int(k), w1.shape[1]) for k in strongest}


def test_network_draws_exactly_the_edges_its_caption_states(qtbot):
    view = shown(qtbot, NetworkView(max_edges=3000))
    sizes = (784, 512, 256, 10)
    view.show_snapshot(snapshot_at(PhaseKind.GRADIENT, 2, sizes=sizes))
    view.grab()  # paint: the edge image is drawn from these lines
    rule = view.caption.full_text
    assert "W¹: 3,000 strongest of 401,408" in rule and "W³: all 2,560" in rule
    stated = [int(n.replace(",", "")) for n in re.findall(r"W\S+: (?:all )?([\d,]+)", rule)]
    drawn = [len(view.edges.shown(l).i) for l in (1, 2, 3)]
    item = view.edges.item
    lines = sum(len(lines) for role in ("all", "lit") for _pen, lines in item.groups(role))
    assert drawn == stated == [3000, 3000, 2560] and lines == sum(stated)
    assert list(view.edges.lit) == [2]  # ∂C/∂W² being computed: W² lit


def test_strongest_edges_with_any_guess_of_the_threshold():
    rng = np.random.default_rng(3)
    w = rng.normal(size=(64, 100))
    exact = set(np.argsort(np.abs(w).ravel())[-50:].tolist())
    kth = np.sort(np.abs(w).ravel())[-50]
    for floor in (0.0, 0.5 * kth, 0.98 * kth, kth, 2 * kth):  # good, poor and too high
        assert set(strongest(w, 50, floor).tolist()) == exact
    assert sorted(strongest(w, 10_000).tolist()) == list(range(w.size))


def test_network_example_selector_and_signal(qtbot):
    view = shown(qtbot, NetworkView())
    view.show_snapshot(snapshot_at(PhaseKind.COST))
    with qtbot.waitSignal(view.example_changed) as blocker:
        view.example_spin.setValue(3)
    assert blocker.args == [3] and view.example == 3
    with qtbot.waitSignal(view.example_changed) as blocker:
        view.set_example(None)
    assert blocker.args == [-1] and view.example_spin.text() == "batch mean"


def test_network_clicks_map_to_neurons_and_edges(qtbot):
    view = shown(qtbot, NetworkView())
    view.set_class_names(["zero", "one"])
    view.show_snapshot(snapshot_at(PhaseKind.COST, sizes=(784, 2, 10)))
    assert [t.toPlainText() for t in view._out_labels[:3]] == ["zero", "one", "2"]
    gv, vb = view.canvas, view.vb
    (x1, y1), (x2, y2) = view.node_positions(1)[0], view.node_positions(2)[1]
    with qtbot.waitSignal(view.neuron_clicked) as blocker:
        click(gv, vb, x2, y2)
    assert blocker.args == [2, 1]
    # edge w_10^2: from neuron 0 of layer 1 to neuron 1 of layer 2, a quarter of the way
    with qtbot.waitSignal(view.edge_clicked) as blocker:
        click(gv, vb, 0.75 * x1 + 0.25 * x2, 0.75 * y1 + 0.25 * y2)
    assert blocker.args == [2, 1, 0]
    rect = view._input_rect
    side = rect.width() / 28
    with qtbot.waitSignal(view.neuron_clicked) as blocker:  # pixel row 5, column 10
        click(gv, vb, rect.left() + 10.5 * side, rect.bottom() - 5.5 * rect.height() / 28)
    assert blocker.args == [0, 5 * 28 + 10]


def test_delta_view_draws_the_three_factors(qtbot):
    view, snapshot, rows = delta_cells(qtbot)
    for l, (dC_da, sigma_prime, delta) in rows:
        np.testing.assert_array_equal(dC_da.values, snapshot.dC_da[l - 1][0])
        np.testing.assert_array_equal(sigma_prime.values, snapshot.sigma_prime[l - 1][0])
        np.testing.assert_array_equal(delta.values, snapshot.delta[l - 1][0])
        path = delta.polygons[0].path()  # the positive bars' outline
        drawn = np.array(
            [(path.elementAt(k).x, path.elementAt(k).y) for k in range(path.elementCount())]
        )
        x, y = bar_outline(delta.edges, np.maximum(snapshot.delta[l - 1][0], 0))
        np.testing.assert_allclose(drawn, np.column_stack((x, y)))
    assert view.cells(1)[0].plot.getViewBox().background.isVisible()  # δ^1 row highlighted
    view.set_example(None)
    np.testing.assert_allclose(view.cells(2)[2].values, snapshot.delta[1].mean(axis=0))

    partial = snapshot_at(PhaseKind.DELTA, 3, sizes=(784, 30, 20, 10))
    view.show_snapshot(partial)
    assert view.cells(1)[2].values is None and view.cells(1)[2].note.isVisible()
    assert view.cells(3)[2].values is not None


def test_delta_view_wide_layer_keeps_each_pixel_columns_extremes(qtbot):
    view = shown(qtbot, DeltaView(), width=420, height=300)
    sizes = (784, 512, 256, 10)
    snapshot = snapshot_at(PhaseKind.DELTA, 1, sizes=sizes)
    view.show_snapshot(snapshot)
    _, sigma_prime, delta = view.cells(1)
    pixels = int(delta.plot.getViewBox().width())
    assert 0 < pixels < 512 and delta.starts is not None  # neurons share pixel columns
    d = snapshot.delta[0][0]
    np.testing.assert_array_equal(delta.values, d)  # the snapshot's δ¹, unchanged
    up, down = delta.heights()
    assert len(up) <= pixels and up.max() == d.max() and down.min() == d.min()
    k = delta.starts[1]  # neurons per column: the column's largest and most negative δ
    np.testing.assert_array_equal(up[3], max(d[3 * k : 4 * k].max(), 0))
    np.testing.assert_array_equal(down[3], min(d[3 * k : 4 * k].min(), 0))
    s = snapshot.sigma_prime[0][0]
    high, low = sigma_prime.heights()
    assert low.min() == s.min() and high.max() == s.max()  # a saturated neuron still shows
    x, y = delta.polygons[0].getData()  # a vertical line (0 → top) per column
    centres = (delta.edges[:-1] + delta.edges[1:]) / 2
    np.testing.assert_allclose(x, np.repeat(centres, 2))
    np.testing.assert_array_equal(y, np.column_stack((np.zeros_like(up), up)).ravel())


def test_delta_view_in_a_small_dock_gives_the_bars_the_room(qtbot):
    view = shown(qtbot, DeltaView(), width=330, height=260)
    view.show_snapshot(snapshot_at(PhaseKind.DELTA, 1, sizes=(784, 30, 10)))
    QtWidgets.QApplication.processEvents()  # the new layout applies
    canvas = view.canvas.width()
    for l in (1, 2):
        for bars in view.cells(l):
            assert not bars.plot.getAxis("left").isVisible()
            assert bars.plot.getViewBox().width() > 0.28 * canvas  # about a third each
            assert bars.label.isVisible() and bars.title in bars.label.toPlainText()
    dC_da = view.cells(1)[0]
    assert f"±{dC_da.limit:.2g}" in dC_da.label.toPlainText()  # its scale, in the cell
    assert "0 … 0.25" in view.cells(1)[1].label.toPlainText()  # σ' on [0, 1/4]
    view.resize(1000, 700)  # room: axes again
    QtWidgets.QApplication.processEvents()
    assert dC_da.plot.getAxis("left").isVisible() and not dC_da.label.isVisible()


def test_delta_view_softmax_has_no_sigma_prime_at_the_output(qtbot):
    view = shown(qtbot, DeltaView())
    kwargs = dict(sizes=(784, 30, 10), output="softmax", cost="cross_entropy")
    view.show_snapshot(snapshot_at(PhaseKind.DELTA, 1, **kwargs))
    cell = view.cells(2)[1]
    assert cell.values is None and "softmax" in cell.note.toPlainText()


def test_network_selection_highlights_the_edge_even_when_weak(qtbot):
    view = shown(qtbot, NetworkView(max_edges=5))
    view.show_snapshot(snapshot_at(PhaseKind.COST, sizes=(784, 30, 10)))
    view.set_selection(2, 7, 3)  # w_7,3^2: almost surely not among the 5 strongest
    x, y = view.selected_edge.getData()
    (x3, y3), (x7, y7) = view.node_positions(1)[3], view.node_positions(2)[7]
    np.testing.assert_allclose(x, [x3, x7])
    np.testing.assert_allclose(y, [y3, y7])
    view.set_selection(1, 4, 28 * 10 + 5)  # from input pixel (10, 5) to neuron 4 of layer 1
    x, y = view.selected_edge.getData()  # leaving the image's right border on the pixel's row
    assert x[0] == view._input_rect.right() and y[0] == view.node_positions(0)[285][1]
    view.set_selection(2, 1, None)  # the bias b_1^2: the neuron only
    assert len(view.selected_edge.getData()[0]) == 0
    assert view.selected_node.data["y"][0] == view.node_positions(2)[1][1]
