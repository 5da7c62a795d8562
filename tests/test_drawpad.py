"""The drawing pad, driven by real mouse events: strokes, MNIST-style input, live a^L."""

from __future__ import annotations

import numpy as np
import pytest
from pyqtgraph.Qt import QtCore
from test_evaluation_support import trained

from bpviz.data.preprocess import center_of_mass, mnist_style
from bpviz.ui.views.drawpad import DrawPad

LEFT = QtCore.Qt.MouseButton.LeftButton


@pytest.fixture
def pad(qtbot):
    widget = DrawPad()
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    widget.show_snapshot(trained()[2])
    return widget


def draw(qtbot, pad: DrawPad, points: list[tuple[int, int]]) -> None:
    """Press at the first point, move through the others with the button held, release."""
    canvas = pad.canvas
    qtbot.mousePress(canvas, LEFT, pos=QtCore.QPoint(*points[0]))
    for point in points[1:]:
        qtbot.mouseMove(canvas, QtCore.QPoint(*point))
    qtbot.mouseRelease(canvas, LEFT, pos=QtCore.QPoint(*points[-1]))
    qtbot.waitUntil(lambda: not pad.pending)  # the live pass has seen the whole stroke


def test_a_stroke_drawn_off_centre_is_scaled_into_20_and_centred_by_mass(qtbot, pad) -> None:
    pad.smoothing.setValue(0.0)
    pad.thickness.setValue(2.0)  # 20 canvas pixels
    draw(qtbot, pad, [(50, 40), (50, 80), (52, 120), (55, 140)])  # top-left, vertical
    qtbot.waitUntil(lambda: pad.x is not None)
    ink = pad.canvas.array()
    rows = np.flatnonzero(ink.any(axis=1))
    cols = np.flatnonzero(ink.any(axis=0))
    # The ink is where the mouse went: a 20-pixel-wide pen around x ≈ 50, y 40 … 140.
    assert 25 <= rows[0] <= 32 and 148 <= rows[-1] <= 152
    assert 38 <= cols[0] <= 42 and 63 <= cols[-1] <= 67
    image = pad.x.reshape(28, 28)
    assert center_of_mass(image) == pytest.approx((14.0, 14.0), abs=1e-3)
    tall = np.flatnonzero(image.sum(axis=1) > 1e-9)
    assert tall.size in (20, 21)  # the long side fills the 20-pixel box
    wide = np.flatnonzero(image.sum(axis=0) > 1e-9)
    assert wide.size <= 8  # aspect kept: about 20 · (27 / 123) ≈ 4.4 pixels wide
    np.testing.assert_allclose(pad.x, mnist_style(ink, sigma=0.0).reshape(-1))


def test_forward_pass_updates_live_as_you_draw(qtbot, pad) -> None:
    net = trained()[0]
    draw(qtbot, pad, [(140, 40), (140, 240)])  # a "1"
    qtbot.waitUntil(lambda: pad.outputs is not None)
    first = pad.outputs.copy()
    expected = net.forward(pad.x[None, :].astype(np.float32)).a[-1][0]
    np.testing.assert_allclose(first, expected, rtol=1e-6)
    np.testing.assert_allclose(pad.bars.opts["height"], first)
    draw(qtbot, pad, [(80, 60), (200, 60)])  # a bar across the top: now a "7"-ish shape
    qtbot.waitUntil(lambda: not np.array_equal(pad.outputs, first))
    guess = int(np.argmax(pad.outputs))
    assert f"<b>{guess}</b>" in pad.prediction.text()


def test_thicker_pen_draws_more_ink_and_clear_erases(qtbot, pad) -> None:
    pad.thickness.setValue(1.0)
    draw(qtbot, pad, [(100, 100), (180, 180)])
    thin = pad.canvas.array().sum()
    pad.canvas.clear()
    assert pad.canvas.array().sum() == 0
    pad.thickness.setValue(4.0)
    draw(qtbot, pad, [(100, 100), (180, 180)])
    assert pad.canvas.array().sum() > 3 * thin
    qtbot.waitUntil(pad.backprop_button.isEnabled)
    pad.canvas.clear()
    qtbot.waitUntil(lambda: pad.x is None)
    assert not pad.backprop_button.isEnabled() and not pad.train_button.isEnabled()


def test_backprop_this_emits_the_input_and_the_chosen_target(qtbot, pad) -> None:
    draw(qtbot, pad, [(140, 40), (140, 240)])
    qtbot.waitUntil(pad.backprop_button.isEnabled)
    pad.target.setCurrentIndex(4)
    with qtbot.waitSignal(pad.backprop_requested) as request:
        qtbot.mouseClick(pad.backprop_button, LEFT)
    x, label, text = request.args
    np.testing.assert_array_equal(x, pad.x)
    assert label == 4 and "target 4" in text
    assert not pad.train_button.isEnabled()  # until the window says it can train
    pad.set_train_available(True)
    with qtbot.waitSignal(pad.train_requested) as request:
        qtbot.mouseClick(pad.train_button, LEFT)
    assert request.args[1] == 4


def test_the_answer_follows_new_parameters_from_training(qtbot, pad) -> None:
    draw(qtbot, pad, [(140, 40), (140, 240)])
    qtbot.waitUntil(lambda: pad.outputs is not None)
    first = pad.outputs.copy()
    net = trained(2)[0]  # the same network, trained one epoch more
    pad.show_snapshot(trained(2)[2])
    expected = net.forward(pad.x[None, :].astype(np.float32)).a[-1][0]
    qtbot.waitUntil(lambda: np.allclose(pad.outputs, expected, rtol=1e-6))
    assert not np.allclose(first, expected)
