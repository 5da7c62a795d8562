"""The glass box in the real window: on a network of ≤ 8 neurons a layer the network view
writes the snapshot's own numbers (z, a, b, δ on the nodes; w and w·δ on the edges) as
the phases are stepped with the `.` key, and no two labels overlap at 1366×768."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QRectF, Qt
from viewtools import click

from bpviz.session.snapshot import PhaseKind
from bpviz.ui import colors
from bpviz.ui.views.glass import number, parse


@pytest.fixture
def moons(qtbot, settings_path):
    from bpviz.ui import settings as store
    from bpviz.ui.app import build_window

    w = build_window("moons", store.open_settings(settings_path))
    qtbot.addWidget(w)
    w.resize(1366, 740)
    w.show()
    qtbot.waitExposed(w)
    qtbot.waitUntil(lambda: w.latest is not None and w.latest.config.sizes == (2, 8, 2),
                    timeout=20_000)  # fmt: skip
    yield w
    w.close()


def step_to(qtbot, window, kind, layer):
    """Press `.` until the window shows phase (kind, layer); that snapshot, drawn."""
    view = window.views["network"]
    for _ in range(12):
        shown = window.latest
        if shown.phase is not None and (shown.phase.kind, shown.phase.layer) == (kind, layer):
            qtbot.waitUntil(lambda s=shown: view._drawn is s, timeout=10_000)
            return shown
        serial = window.latest
        qtbot.keyClick(window, Qt.Key.Key_Period)
        qtbot.waitUntil(lambda s=serial: window.latest is not s, timeout=10_000)
    raise AssertionError(f"never reached {kind} {layer}")


def visible_rects(overlay):
    items = [overlay.summary, *overlay._nodes.values(), *overlay._edges.values()]
    return [
        (item.toPlainText(), item.mapRectToScene(item.boundingRect()))
        for item in items
        if item.isVisible()
    ]


def assert_no_overlap(overlay, view=None):
    rects = visible_rects(overlay)
    if view is not None:  # nor the view's own labels: the phase's equation, the cost C
        rects += [
            (item.toPlainText(), item.sceneBoundingRect())
            for item in (view.computing, view.cost_label)
            if item.isVisible()
        ]
    for k, (text_a, a) in enumerate(rects):
        for text_b, b in rects[k + 1 :]:
            inter = QRectF(a).intersected(b)
            assert inter.width() < 1 or inter.height() < 1, (text_a, text_b)


def test_the_numbers_written_are_the_snapshots_forward_then_backward(qtbot, moons):
    view = moons.views["network"]
    overlay = view.glass
    shown = step_to(qtbot, moons, PhaseKind.FORWARD, 1)
    example = view.example  # example 0 of the mini-batch of 1
    printed = overlay.printed
    z, a = shown.z[0][example], shown.a[1][example]
    for i in range(8):
        assert printed[("z", 1, i)] == number(z[i]) and printed[("a", 1, i)] == number(a[i])
        assert printed[("b", 1, i)] == number(shown.biases[0][i])
        assert parse(printed[("a", 1, i)]) == pytest.approx(a[i], rel=5e-3)
        text = overlay.item((1, i)).toPlainText()  # what is on screen
        assert f"z {number(z[i])}" in text and f"a {number(a[i])}" in text
    for j in range(2):
        assert printed[("x", 0, j)] == number(shown.x[example][j])
    assert ("z", 2, 0) not in printed  # not computed yet: a dot, no number
    assert "z ·" in overlay.item((2, 0)).toPlainText()
    for (l, i, j), item in overlay._edges.items():
        assert printed[("w", l, i, j)] == number(shown.weights[l - 1][i, j])
        if item.isVisible():
            assert item.toPlainText() == number(shown.weights[l - 1][i, j])
    assert_no_overlap(overlay)

    shown = step_to(qtbot, moons, PhaseKind.DELTA, 1)  # δ¹ = (W²)ᵀδ² ⊙ σ′(z¹)
    printed = overlay.printed
    d1, d2 = shown.delta[0][example], shown.delta[1][example]
    for i in range(8):
        assert printed[("delta", 1, i)] == number(d1[i])
        assert f"δ {number(d1[i])}" in overlay.item((1, i)).toPlainText()
    written = 0
    for (l, i, j), item in overlay._edges.items():
        if l == 2:  # δ² flows back through W²: each edge carries w_ij δ_i
            product = shown.weights[1][i, j] * d2[i]
            assert printed[("wdelta", 2, i, j)] == number(product)
            if item.isVisible():
                assert item.toPlainText() == number(product)
                assert item.color.getRgb()[:3] == colors.HIGHLIGHT  # yellow: w·δ
                written += 1
    assert written >= 1 and overlay.edges_written >= 1
    assert_no_overlap(overlay, view)


def test_clicking_an_edge_writes_its_neurons_edges_first(qtbot, moons):
    view = moons.views["network"]
    step_to(qtbot, moons, PhaseKind.FORWARD, 2)
    (x1, y1), (x2, y2) = view.node_positions(1)[5], view.node_positions(2)[0]
    # edge w₀,₅²: from neuron 5 of layer 1 to output 0, a quarter of the way along
    click(view.canvas, view.vb, 0.75 * x1 + 0.25 * x2, 0.75 * y1 + 0.25 * y2)
    qtbot.waitUntil(lambda: moons.selection == (2, 0, 5), timeout=5_000)
    assert view.glass.selected == (2, 0)
    own = [item for (l, i, j), item in view.glass._edges.items() if (l, i) == (2, 0)]
    assert sum(item.isVisible() for item in own) >= 3  # its edges come first
    assert_no_overlap(view.glass)


def test_a_wide_network_writes_no_numbers(qtbot, window):
    qtbot.waitUntil(lambda: window.latest is not None, timeout=20_000)
    view = window.views["network"]
    qtbot.waitUntil(lambda: view._drawn is not None, timeout=10_000)
    assert not view.glass.visible
    assert not any(item.isVisible() for item in view.glass._nodes.values())
    assert np.all([not i.isVisible() for i in view.glass._edges.values()])


def test_a_toy_network_too_wide_for_numbers_keeps_its_input_nodes(qtbot, moons):
    from dataclasses import replace

    view = moons.views["network"]
    moons.controller.reset(replace(moons.config, sizes=(2, 16, 2)))
    qtbot.waitUntil(lambda: moons.latest.config.sizes == (2, 16, 2), timeout=20_000)
    qtbot.waitUntil(lambda: view._drawn is moons.latest, timeout=10_000)
    assert not view.glass.visible
    assert not any(item.isVisible() for item in view.glass._nodes.values())
    assert len(view.glass._inputs.data) == 2  # x₁, x₂ still drawn as discs
