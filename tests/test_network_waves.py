"""The network view tells each phase: the edges carry wᵢⱼ aⱼ forward and wᵢⱼ δᵢ backward
(checked against the snapshot's arrays), ``animate(p)`` runs that wave along them, a
bright outline and label name the layer computed, hovering a neuron or an edge reads its
numbers, discs stay ≥ 10 px at 1366×768 and the input image leaves its edges visible."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pyqtgraph as pg
import pytest
from pyqtgraph.Qt import QtCore, QtGui, QtWidgets
from snapshots import snapshot_at
from viewtools import brush_rgba, shown

from bpviz.session.snapshot import PhaseKind, phases_for
from bpviz.ui import colors
from bpviz.ui.views import NetworkView
from bpviz.ui.views._edges import bins_of, strongest
from bpviz.ui.views._network_hover import num


def image_of(widget) -> np.ndarray:
    QtWidgets.QApplication.processEvents()
    image = widget.grab().toImage().convertToFormat(QtGui.QImage.Format.Format_RGB32)
    return np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), -1).copy()


def lit(view: NetworkView, l: int):
    """The lit edges of Wˡ the view holds: (i, j, values, bins)."""
    shown_ = view.edges.lit[l]
    return shown_.i, shown_.j, shown_.values, shown_.bins


def test_a_backward_phase_colours_the_edges_by_w_times_delta(qtbot):
    view = shown(qtbot, NetworkView(max_edges=120))
    snap = snapshot_at(PhaseKind.DELTA, 1)  # δ¹ = (W²)ᵀδ² ⊙ σ′(z¹): W²'s edges carry w δ²
    view.show_snapshot(snap)
    W2, d2 = snap.weights[1], snap.delta[1][0]
    i, j, values, bins = lit(view, 2)
    np.testing.assert_allclose(values, W2[i, j] * d2[i], rtol=1e-6)
    terms = W2 * d2[:, None]
    chosen = set(zip(i.tolist(), j.tolist(), strict=True))
    assert chosen == {divmod(int(k), 30) for k in strongest(terms, 120)}
    level = view.plan.level
    assert level >= np.abs(terms).max()  # one scale for the layer, the legend's
    np.testing.assert_array_equal(bins, bins_of(values, level))
    assert f"{level:.2g}" in view.edge_legend.text and "δᵢ²" in view.edge_legend.text
    assert 1 not in view.edges.lit  # W¹ is not what δ¹ needs: not lit
    # the pens drawn are the bins' (positive terms red, negative blue)
    wave = view.edges.item.groups("lit")
    assert sum(len(lines) for _pen, lines in wave) == 120
    reds = [pen.color().red() - pen.color().blue() for pen, _lines in wave]
    assert max(reds) > 0 > min(reds)

    view.set_example(None)  # the batch mean of δ²
    i, j, values, _ = lit(view, 2)
    np.testing.assert_allclose(values, W2[i, j] * snap.delta[1].mean(axis=0)[i], rtol=1e-6)


def test_a_forward_phase_colours_the_edges_by_w_times_a(qtbot):
    view = shown(qtbot, NetworkView())
    snap = snapshot_at(PhaseKind.FORWARD, 1)
    view.show_snapshot(snap)
    x = snap.x[0]
    i, j, values, _ = lit(view, 1)
    np.testing.assert_allclose(values, snap.weights[0][i, j] * x[j], rtol=1e-6)
    assert np.all(x[j] > 0)  # the strongest wᵢⱼ aⱼ leave the digit's ink, not its background
    snap2 = snapshot_at(PhaseKind.FORWARD, 2)
    view.show_snapshot(snap2)
    i, j, values, _ = lit(view, 2)
    np.testing.assert_allclose(values, snap2.weights[1][i, j] * snap2.a[1][0][j], rtol=1e-6)
    assert "aⱼ¹" in view.edge_legend.text


@pytest.mark.parametrize("kind,layer", [(PhaseKind.DELTA, 1), (PhaseKind.FORWARD, 1)])
def test_animate_moves_the_wave_and_ends_on_the_phase_drawn_whole(qtbot, kind, layer):
    view = shown(qtbot, NetworkView())
    view.show_snapshot(snapshot_at(kind, layer))
    whole = image_of(view.canvas)
    computed = view._columns[0]  # layer 1 (a¹ forward, δ¹ backward)
    done = brush_rgba(computed)
    view.animate(0.3)
    early, early_clip = image_of(view.canvas), view.edges.item.lit
    assert not np.array_equal(brush_rgba(computed), done)  # waiting for the wave
    view.animate(0.9)
    late, late_clip = image_of(view.canvas), view.edges.item.lit
    np.testing.assert_array_equal(brush_rgba(computed), done)  # arrived: filled in
    assert early_clip != late_clip and not np.array_equal(early, late)
    # forward runs left → right, backward right → left: the lit x interval grows
    (a0, a1), (b0, b1) = early_clip[0], late_clip[0]
    assert (b1 > a1) if kind is PhaseKind.FORWARD else (b0 < a0)
    view.animate(1.0)
    np.testing.assert_array_equal(image_of(view.canvas), whole)


def test_the_computed_layer_is_outlined_and_named(qtbot):
    view = shown(qtbot, NetworkView())
    view.show_snapshot(snapshot_at(PhaseKind.DELTA, 1))
    assert view.highlight.isVisible()
    rect = view.highlight.rect()
    xs, ys = view.node_positions(1).T
    assert rect.left() < xs.min() and xs.max() < rect.right()
    assert rect.top() < ys.min() and ys.max() < rect.bottom()
    assert not rect.contains(QtCore.QPointF(*view.node_positions(2)[0]))
    assert view.computing.toPlainText() == "computing δ¹ = (W²)ᵀδ² ⊙ σ′(z¹)"
    assert view.narration.text().startswith("<b>δ¹ = (W²)ᵀδ² ⊙ σ′(z¹)</b>")


def _move_to(qtbot, view: NetworkView, x: float, y: float) -> str | None:
    scene = view.vb.mapViewToScene(QtCore.QPointF(x, y))
    point = view.canvas.mapFromScene(scene)
    qtbot.mouseMove(view.canvas.viewport(), point)
    QtWidgets.QApplication.processEvents()
    return view.tip.text


def test_hovering_a_neuron_reads_its_z_a_and_delta(qtbot):
    view = shown(qtbot, NetworkView())
    snap = snapshot_at(PhaseKind.DELTA, 1)
    view.show_snapshot(snap)
    k = 7
    text = _move_to(qtbot, view, *view.node_positions(1)[k])
    assert text is not None and f"neuron {k} of layer 1" in text
    for value in (snap.z[0][0, k], snap.a[1][0, k], snap.delta[0][0, k]):
        assert f"= {num(value)}" in text
    expected = f"= {num(snap.dC_da[0][0, k])} × {num(snap.sigma_prime[0][0, k])} = "
    assert expected in text and "δ₇¹ = (W²ᵀδ²)₇ · σ′(z₇¹)" in text

    later = snapshot_at(PhaseKind.DELTA, 1, step=1)  # the pointer rests; the values move on
    view.show_snapshot(later)
    assert f"= {num(later.delta[0][0, k])}" in view.tip.text


def test_hovering_an_edge_reads_w_and_w_times_delta(qtbot):
    view = shown(qtbot, NetworkView())
    snap = snapshot_at(PhaseKind.DELTA, 1)
    view.show_snapshot(snap)
    i, j = 3, 12
    (x0, y0), (x1, y1) = view.node_positions(1)[j], view.node_positions(2)[i]
    text = _move_to(qtbot, view, x0 + 0.6 * (x1 - x0), y0 + 0.6 * (y1 - y0))
    found = re.search(r"edge from neuron (\d+) of layer 1 to neuron (\d+) of layer 2", text)
    assert found, text
    j, i = int(found[1]), int(found[2])  # the nearest drawn edge (it may be a neighbour)
    w, d = snap.weights[1][i, j], snap.delta[1][0, i]
    assert f"= {num(w)}" in text
    assert f"= {num(w)} × {num(d)} = {num(w * d)}" in text


def test_discs_are_readable_and_the_input_leaves_its_edges_visible_at_1366(qtbot, window):
    window.resize(1342, 712)
    window.arrange_default()
    view = window.views["network"]
    qtbot.waitUntil(lambda: window.latest is not None and view.snapshot is not None)
    QtWidgets.QApplication.processEvents()
    px, py = view.vb.viewPixelSize()
    for l in (1, 2):
        size = view.node_size(l)
        assert size >= 10
        pixels = view.node_positions(l) / [px, py]
        gaps = np.hypot(*(pixels[:, None, :] - pixels[None, :, :]).transpose(2, 0, 1))
        assert gaps[~np.eye(len(pixels), dtype=bool)].min() >= size  # no two overlap
    rect = view._input_rect
    assert rect.width() > 0
    seg, ls, _i, _j = view.edges.drawn()
    starts = seg[ls == 1][:, 0]
    assert len(starts) and starts.min() >= rect.right() - 1e-9


def test_the_window_tells_each_phase_as_it_is_stepped(qtbot, window):
    view = window.views["network"]
    qtbot.waitUntil(lambda: view.snapshot is not None)
    seen = []
    for phase in phases_for(2):
        window.activateWindow()
        qtbot.keyClick(window, QtCore.Qt.Key.Key_Period)
        qtbot.waitUntil(lambda p=phase: window.latest.phase == p, timeout=10_000)
        qtbot.waitUntil(lambda: view._drawn is window.latest, timeout=10_000)
        seen.append(view.narration.text())
        assert view.highlight.isVisible() and view.computing.toPlainText().startswith("computing")
    assert len(set(seen)) == 8  # forward 1, 2, cost, δ², δ¹, ∂C/∂W², ∂C/∂W¹, update
    assert "ΔW" in view.narration.text() and "Δwᵢⱼ" in view.edge_legend.text
    step = window.latest.weights[0] - window.latest.weights_before[0]
    i, j, values, _ = lit(view, 1)
    np.testing.assert_allclose(values, step[i, j], rtol=1e-6)
    assert not any("^" in t or "_{" in t for t in seen)


def test_missing_colour_marks_nodes_not_reached(qtbot):
    view = shown(qtbot, NetworkView())
    view.show_snapshot(snapshot_at(PhaseKind.FORWARD, 2))
    view.animate(0.1)
    grey = np.array(pg.mkColor(colors.MISSING).getRgb(), np.uint8)
    assert (brush_rgba(view._columns[1]) == grey).all()


def test_at_full_speed_the_edges_show_the_weights_being_learnt(qtbot):
    view = shown(qtbot, NetworkView())
    update = snapshot_at(PhaseKind.UPDATE)
    view.show_snapshot(dataclasses.replace(update, running=True))
    assert 1 in view.edges.lit  # one update after other phases: played, ΔW lit
    view.show_snapshot(dataclasses.replace(update, running=True))  # update after update
    assert view.plan is None and not view.edges.lit and not view.highlight.isVisible()
    assert "full speed" in view.narration.text() and "edges wᵢⱼ/max" in view.edge_legend.text
    shown_ = view.edges.shown(2)
    np.testing.assert_array_equal(shown_.values, update.weights[1][shown_.i, shown_.j])


def test_another_example_while_a_phase_plays_keeps_its_wave(qtbot):
    view = shown(qtbot, NetworkView())
    delta = snapshot_at(PhaseKind.DELTA, 1)
    view.show_snapshot(dataclasses.replace(snapshot_at(PhaseKind.DELTA, 2), running=True))
    view.show_snapshot(dataclasses.replace(delta, running=True))  # played at a slow pace
    view.animate(0.5)
    view.set_example(None)  # drawn again, for the batch mean
    assert view.plan is not None and "full speed" not in view.narration.text()
    i, j, values, _ = lit(view, 2)
    mean = delta.delta[1].mean(axis=0)
    np.testing.assert_allclose(values, delta.weights[1][i, j] * mean[i], rtol=1e-6)


def test_no_phase_re_lays_out_the_view(qtbot):
    """Legends, rule and narration keep their sizes: a text of another length would
    change the view's minimum width and resize (redraw) everything around it."""
    from snapshots import make_snapshots

    view = shown(qtbot, NetworkView())
    hints, canvases = set(), set()
    for sizes in ((784, 30, 10), (784, 40, 30, 20, 10)):
        for snapshot in make_snapshots(sizes=sizes):
            view.show_snapshot(snapshot)
            QtWidgets.QApplication.processEvents()
            hints.add(view.minimumSizeHint().width())
            canvases.add((view.canvas.width(), view.canvas.height()))
    assert len(hints) == 1 and len(canvases) == 1, (hints, canvases)
