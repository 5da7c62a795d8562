"""The Input plane panel in the real window: the decision field is the engine's forward
pass on the grid with the snapshot's parameters, the thumbnails each hidden neuron's
aᵢ over the plane, the text under them aᵢ / δᵢ of the selected example; MNIST: a sentence."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from bpviz.engine.network import Network
from bpviz.session.plane import plane_extent, plane_grid
from bpviz.session.snapshot import PhaseKind
from bpviz.ui.views.glass import number


@pytest.fixture
def spiral(qtbot, window_on):
    w = window_on("spiral")
    qtbot.waitUntil(lambda: w.latest is not None and w.latest.config.sizes == (2, 8, 8, 2),
                    timeout=20_000)  # fmt: skip
    return w


def press_until(qtbot, window, done, presses=20):
    for _ in range(presses):
        if window.latest.phase is not None and done(window.latest.phase):
            return window.latest
        before = window.latest
        qtbot.keyClick(window, Qt.Key.Key_Period)
        qtbot.waitUntil(lambda b=before: window.latest is not b, timeout=10_000)
    raise AssertionError("phase never reached")


def test_the_decision_field_is_the_networks_output_on_the_grid(qtbot, spiral):
    view = spiral.views["plane"]
    assert spiral.docks["plane"].isVisible() and view.canvas.isVisible()
    # train a mini-batch or two with the → key, so the field is not the initial one
    for _ in range(3):
        before = spiral.latest
        qtbot.keyClick(spiral, Qt.Key.Key_Right)
        qtbot.waitUntil(lambda b=before: spiral.latest is not b and spiral.latest.step > b.step,
                        timeout=10_000)  # fmt: skip
    shown = spiral.latest
    qtbot.waitUntil(lambda: view._drawn is shown, timeout=10_000)
    data = spiral.dataset
    extent = plane_extent([data.train_images, data.test_images])
    grid = plane_grid(extent)
    assert view.extent == pytest.approx(extent) and grid.shape == (96 * 96, 2)
    x0, x1, y0, y1 = extent
    assert grid[0] == pytest.approx([x0 + (x1 - x0) / 192, y0 + (y1 - y0) / 192])
    net = Network.like(shown.config)  # independently: a fresh engine network
    net.set_parameters(shown.weights, shown.biases)
    expected = net.forward(grid)
    np.testing.assert_array_equal(view.field, expected.a[-1])
    for l in (1, 2):
        np.testing.assert_array_equal(view.hidden_a[l - 1], expected.a[l])
    # the image shown is that field: where class 1's output wins, the pixel is redder
    rgba = view.image.image
    wins = (expected.a[-1][:, 1] > expected.a[-1][:, 0]).reshape(96, 96)
    assert np.all((rgba[..., 0] > rgba[..., 2]) == wins)
    assert len(view._thumb_images) == 16  # each hidden neuron of 2-8-8-2
    assert view.train_points.data.shape[0] == data.train_images.shape[0]
    assert view.test_points.data.shape[0] == data.test_images.shape[0]


def test_thumbnails_say_a_forward_and_delta_backward_for_the_selected_example(qtbot, spiral):
    view = spiral.views["plane"]
    shown = press_until(qtbot, spiral, lambda p: p.kind is PhaseKind.FORWARD and p.layer == 2)
    qtbot.waitUntil(lambda: view._drawn is shown, timeout=10_000)
    k = view.example
    for i in range(8):
        assert view.thumb_text[(2, i)] == f"a{chr(0x2080 + i)}² {number(shown.a[2][k, i])}"
    shown = press_until(qtbot, spiral, lambda p: p.kind is PhaseKind.DELTA and p.layer == 1)
    qtbot.waitUntil(lambda: view._drawn is shown, timeout=10_000)
    for l in (1, 2):
        for i in range(8):
            text = view.thumb_text[(l, i)]
            assert text.startswith("δ") and text.endswith(number(shown.delta[l - 1][k, i]))
            assert view._thumb_labels[(l, i)].text == text
    x = shown.x[k]
    assert view.chosen.data["x"][0] == pytest.approx(x[0])  # the example is ringed


def test_on_mnist_the_plane_says_why_it_is_empty(qtbot, window):
    qtbot.waitUntil(lambda: window.latest is not None, timeout=20_000)
    dock, view = window.docks["plane"], window.views["plane"]
    dock.show()
    dock.raise_()
    qtbot.waitUntil(lambda: view._drawn is not None, timeout=10_000)
    assert view.message.isVisible() and not view.canvas.isVisible()
    assert "2 inputs" in view.message.text() and "784 pixels" in view.message.text()


def test_hovering_the_plane_and_a_thumbnail_gives_the_values_there(qtbot, spiral):
    from viewtools import _viewport_point, hover

    from bpviz.notation import subscript, superscript

    view = spiral.views["plane"]
    shown = spiral.latest
    qtbot.waitUntil(lambda: view._drawn is shown and view.field is not None, timeout=10_000)
    x0, x1, y0, y1 = view.extent
    n, vb = 96, view.plot.getViewBox()
    x, y = x0 + 70.5 * (x1 - x0) / n, y0 + 30.5 * (y1 - y0) / n
    hover(view.canvas, vb, x, y)
    qtbot.waitUntil(lambda: view.tip.text is not None, timeout=5_000)
    # the grid point under the pixel the pointer is on (a pixel is coarser than a cell)
    pixel = _viewport_point(view.canvas, vb, x, y)
    under = vb.mapSceneToView(view.canvas.mapToScene(pixel))
    k = view._cell(under.x(), under.y())
    assert ", ".join(number(v) for v in view.field[k]) in view.tip.text
    image = view._thumb_images[(2, 3)]
    hover(view.canvas, image, 70.5, 30.5)
    name = f"a{subscript(3)}{superscript(2)}"
    qtbot.waitUntil(lambda: view.tip.text is not None and name in view.tip.text, timeout=5_000)
    local = image.mapFromScene(
        view.canvas.mapToScene(_viewport_point(view.canvas, image, 70.5, 30.5))
    )
    k = int(local.y()) * n + int(local.x())
    assert number(view.hidden_a[1][k, 3]) in view.tip.text
    assert f"({number(view.grid[k][0])}, {number(view.grid[k][1])})" in view.tip.text
