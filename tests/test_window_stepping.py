"""Stepping, pausing and checking by hand in the real window, with real keys and clicks:
every view shows what the phase computed, at its own level, from the first frame that
has it; the Run/Pause button says what training does; Check this layer runs."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtWidgets import QApplication, QSlider, QToolBar
from viewtools import stroke

from bpviz.session.limits import ETA_MAX
from bpviz.session.snapshot import PhaseKind
from bpviz.ui import colors, pacing


def drawn(qtbot, window, condition, timeout=10_000):
    """Wait until the window has drawn a snapshot satisfying ``condition``; that snapshot."""
    qtbot.waitUntil(lambda: window.latest is not None and condition(window.latest), timeout=timeout)
    return window.latest


def settled(qtbot, view, snapshot) -> None:
    """Wait until ``view`` has drawn ``snapshot`` (some views are rate-limited)."""
    qtbot.waitUntil(lambda: view._drawn is snapshot, timeout=10_000)


def level_of(values: np.ndarray) -> float:
    """The auto level a frame showing ``values`` must have: max |·| rounded up."""
    return colors.nice_level(colors.symmetric_level(values))


def strongest_colour(canvas, item) -> float:
    """How far along the diverging map (0: the zero colour, 1: either end) the strongest
    colour ``item`` (an ImageItem) shows on screen is: ≥ 0.8 when the level is max |·|
    rounded up; a few hundredths on a uniform panel whose level is far too wide."""
    QApplication.processEvents()  # let pending range and layout changes apply
    scene = item.mapRectToScene(item.boundingRect())
    rect = canvas.mapFromScene(scene).boundingRect() & canvas.viewport().rect()
    image = canvas.viewport().grab(QRect(rect.topLeft() + QPoint(1, 1), rect.size())).toImage()
    image = image.convertToFormat(image.Format.Format_RGBA8888)
    pixels = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), -1, 4)
    shown = np.unique(pixels[..., :3].reshape(-1, 3), axis=0).astype(float)
    lut = colors.DIVERGING_LUT[:, :3].astype(float)
    index = np.argmin(((shown[:, None, :] - lut[None]) ** 2).sum(axis=2), axis=1)
    half = (len(lut) - 1) / 2
    return float(np.abs(index - half).max() / half)


def assert_gradient_shown(qtbot, window, snapshot, layer: int) -> None:
    """The gradient dock shows ∂C/∂W^layer of ``snapshot`` (and the W¹ tiles, when
    computed), each at the level of its own values, visibly not uniform."""
    view = window.views["gradients"]
    settled(qtbot, view, snapshot)
    grad = snapshot.grad_w[layer - 1]
    assert view.layer == layer
    assert view.heatmap.image.isVisible() and not view.heatmap.note.isVisible()
    np.testing.assert_array_equal(view.heatmap.image.image, grad)
    level = level_of(grad)
    assert view.heatmap.bar.levels() == (-level, level)
    assert view.status.text() == f"±{level:.3g} auto"
    assert strongest_colour(view.canvas, view.heatmap.image) > 0.75  # not a uniform panel
    if snapshot.grad_w[0] is not None:
        level1 = level_of(snapshot.grad_w[0])
        assert view.tiles.image.isVisible() and view.tiles.bar.levels() == (-level1, level1)
        assert strongest_colour(view.canvas, view.tiles.image) > 0.75


def assert_delta_scales(window, snapshot) -> None:
    """Every signed cell of the δ view is scaled to its own values (its ±limit)."""
    view = window.views["delta"]
    example = view.example or 0
    for l in range(1, snapshot.n_layers + 1):
        dC_da, _, delta = view.cells(l)
        for cell, values in ((dC_da, snapshot.dC_da), (delta, snapshot.delta)):
            if values[l - 1] is not None:
                assert cell.limit == level_of(values[l - 1][example]), (l, cell.title)
                assert cell._range == (-cell.limit, cell.limit)


def step_phases_by_key(qtbot, window, count: int, first: int = 0):
    """Press "." ``count`` times, each time waiting until the phase is drawn."""
    window.activateWindow()
    shot = None
    for k in range(first, first + count):
        qtbot.keyClick(window, Qt.Key.Key_Period)
        shot = drawn(qtbot, window, lambda s, k=k: s.phase_index == k)
        if shot.phase.kind is PhaseKind.GRADIENT:  # the dock follows the layer computed
            assert_gradient_shown(qtbot, window, shot, shot.phase.layer)
    return shot


def test_seven_phase_steps_by_key_show_every_gradient_at_its_level(qtbot, window):
    drawn(qtbot, window, lambda s: s.phase is None)
    shot = step_phases_by_key(qtbot, window, 7)  # forward ×2, cost, δ², δ¹, ∂C/∂W², ∂C/∂W¹
    assert shot.phase.kind is PhaseKind.GRADIENT and shot.phase.layer == 1
    assert_gradient_shown(qtbot, window, shot, 1)
    settled(qtbot, window.views["delta"], shot)
    assert_delta_scales(window, shot)


def test_step_minibatch_by_key_shows_the_gradient_at_its_level(qtbot, window):
    start = drawn(qtbot, window, lambda s: True)
    window.activateWindow()
    for k in (1, 2, 3):
        qtbot.keyClick(window, Qt.Key.Key_Right)
        shot = drawn(qtbot, window, lambda s, k=k: s.step == start.step + k)
        assert_gradient_shown(qtbot, window, shot, 1)
        settled(qtbot, window.views["delta"], shot)
        assert_delta_scales(window, shot)


def test_the_gradient_dock_follows_the_phase_until_a_layer_is_chosen(qtbot, window):
    drawn(qtbot, window, lambda s: True)
    view = window.views["gradients"]
    shot = step_phases_by_key(qtbot, window, 6)  # up to ∂C/∂W²
    assert view.layer == 2 and view.follow_box.isChecked()
    # the user picks W¹ by hand: the dock stays there, and says so
    view.layer_box.setFocus()
    qtbot.keyClick(view.layer_box, Qt.Key.Key_Up)  # the combo box's own key: W² → W¹
    assert view.layer == 1 and not view.follow_box.isChecked()
    qtbot.waitUntil(lambda: "(chosen)" in view.heatmap.plot.titleLabel.text)
    assert view.heatmap.note.isVisible()  # ∂C/∂W¹ is not computed yet at phase ∂C/∂W²
    window.activateWindow()
    qtbot.keyClick(window, Qt.Key.Key_Period)  # ∂C/∂W¹
    shot = drawn(qtbot, window, lambda s: s.phase_index == 6)
    settled(qtbot, view, shot)
    assert view.layer == 1
    view.layer_box.setFocus()
    qtbot.keyClick(view.layer_box, Qt.Key.Key_Down)  # W² by hand, during phase ∂C/∂W¹
    qtbot.waitUntil(lambda: view.layer == 2)
    window.activateWindow()
    for k in range(5):  # update, then forward … ∂C/∂W² of the next mini-batch
        qtbot.keyClick(window, Qt.Key.Key_Period)
        shot = drawn(qtbot, window, lambda s, k=k: s.phase_index == (7 + k) % 8)
    settled(qtbot, view, shot)
    assert view.layer == 2  # still the chosen one
    # back to following: the next phase computing ∂C/∂W¹ brings layer 1
    qtbot.mouseClick(view.follow_box, Qt.MouseButton.LeftButton, pos=QPoint(5, 5))
    assert view.follow and "(chosen)" not in view.heatmap.plot.titleLabel.text
    window.activateWindow()
    for k in range(3):  # ∂C/∂W² … of the next mini-batch: the dock follows
        qtbot.keyClick(window, Qt.Key.Key_Period)
        shot = drawn(qtbot, window, lambda s, k=k: s.phase_index == 4 + k)
    assert shot.phase.kind is PhaseKind.GRADIENT and shot.phase.layer == 1
    assert_gradient_shown(qtbot, window, shot, 1)


def test_backprop_this_then_stepping_shows_each_gradient_at_its_level(qtbot, window):
    drawn(qtbot, window, lambda s: s.phase is None)
    window.docks["drawpad"].show()
    window.docks["drawpad"].raise_()
    pad = window.views["drawpad"]
    qtbot.waitExposed(pad)
    qtbot.waitUntil(lambda: pad.snapshot is not None)
    stroke(qtbot, pad.canvas, (140, 40), (141, 240))
    qtbot.waitUntil(lambda: pad.backprop_button.isEnabled() and not pad.pending)
    qtbot.mouseClick(pad.backprop_button, Qt.MouseButton.LeftButton)
    probed = drawn(qtbot, window, lambda s: s is window.pinned)  # your digit's backprop
    assert_gradient_shown(qtbot, window, probed, 1)
    qtbot.mouseClick(window.explorer.back, Qt.MouseButton.LeftButton)  # back to live
    drawn(qtbot, window, lambda s: window.pinned is None and s.phase is None)
    shot = step_phases_by_key(qtbot, window, 7)
    assert_gradient_shown(qtbot, window, shot, 1)


def run_button(window):
    bar = window.findChild(QToolBar, "toolbar_training")
    return bar.widgetForAction(window.act.run)


def test_run_pause_button_follows_clicks_and_space_at_once(qtbot, window):
    start = drawn(qtbot, window, lambda s: True)
    button = run_button(window)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert button.text() == "Pause" and window.act.run.isChecked()
    drawn(qtbot, window, lambda s: s.running and s.step > start.step + 10)
    assert button.text() == "Pause"
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert button.text() == "Run" and not window.act.run.isChecked()
    paused = drawn(qtbot, window, lambda s: not s.running)
    qtbot.wait(800)  # frames after the pause: the button still says what training does
    assert button.text() == "Run" and not window.act.run.isChecked()
    assert window.worker.latest().step == paused.step  # and training is stopped

    window.activateWindow()
    qtbot.keyClick(window, Qt.Key.Key_Space)
    assert button.text() == "Pause" and window.act.run.isChecked()
    drawn(qtbot, window, lambda s: s.running and s.step > paused.step + 10)
    qtbot.keyClick(window, Qt.Key.Key_Space)
    assert button.text() == "Run" and not window.act.run.isChecked()
    drawn(qtbot, window, lambda s: not s.running)
    qtbot.wait(800)
    assert button.text() == "Run" and not window.act.run.isChecked()


def test_at_a_slow_pace_each_step_is_shown_at_its_level(qtbot, window):
    drawn(qtbot, window, lambda s: s.phase is None)
    slider = window.pace.findChild(QSlider)
    slider.setFocus()
    qtbot.keyClick(slider, Qt.Key.Key_Home)  # the slowest pace: every phase shown
    qtbot.keyClick(slider, Qt.Key.Key_Up)  # the next: still every phase, 2 s a mini-batch
    assert pacing.is_animated(window.pace.pace())
    button = run_button(window)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)

    def gradient_1(s) -> bool:
        phase = s.phase
        return s.running and phase is not None and (phase.kind, phase.layer) == ("gradient", 1)

    first = drawn(qtbot, window, gradient_1)
    assert_gradient_shown(qtbot, window, first, 1)  # the first frame with ∂C/∂W¹
    second = drawn(qtbot, window, lambda s: gradient_1(s) and s.step > first.step)
    assert_gradient_shown(qtbot, window, second, 1)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    drawn(qtbot, window, lambda s: not s.running)


def test_a_paused_window_shows_the_last_minibatch_in_full(qtbot, window):
    drawn(qtbot, window, lambda s: True)
    window.activateWindow()
    qtbot.keyClick(window, Qt.Key.Key_Space)
    running = drawn(qtbot, window, lambda s: s.running and s.step > 50)
    qtbot.keyClick(window, Qt.Key.Key_Space)
    paused = drawn(qtbot, window, lambda s: not s.running)
    assert paused.step > running.step
    assert paused.phase is not None and paused.phase.kind is PhaseKind.UPDATE
    assert window.status.labels["phase"].text() == "phase: update"
    assert all(d is not None for d in paused.delta) and all(g is not None for g in paused.grad_w)
    delta = window.views["delta"]
    settled(qtbot, delta, paused)
    for l in range(1, paused.n_layers + 1):
        assert all(cell.values is not None for cell in delta.cells(l) if cell.signed)
    assert_delta_scales(window, paused)
    assert_gradient_shown(qtbot, window, paused, 1)
    # stepping on from there: the next phase starts a new mini-batch, drawn as computed
    shot = step_phases_by_key(qtbot, window, 7)
    assert_gradient_shown(qtbot, window, shot, 1)


def test_run_pause_button_follows_a_run_that_stops_by_itself(qtbot, window):
    drawn(qtbot, window, lambda s: True)
    diverging = dict(hidden="leaky_relu", output="softmax", cost="cross_entropy", eta=ETA_MAX)
    window.controller.reset(replace(window.config, **diverging))
    drawn(qtbot, window, lambda s: s.config.cost == "cross_entropy")
    button = run_button(window)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert button.text() == "Pause"
    stopped = drawn(qtbot, window, lambda s: s.message is not None and "diverged" in s.message)
    assert not stopped.running
    qtbot.waitUntil(lambda: button.text() == "Run" and not window.act.run.isChecked())


def test_check_this_layer_runs_shows_it_is_running_and_its_result(qtbot, window, capfd):
    drawn(qtbot, window, lambda s: True)
    window.activateWindow()
    qtbot.keyClick(window, Qt.Key.Key_Right)
    drawn(qtbot, window, lambda s: s.step == 1)
    window.docks["inspector"].raise_()
    inspector = window.views["inspector"]
    qtbot.waitUntil(lambda: inspector._snapshot is not None and inspector._snapshot.step == 1)
    qtbot.mouseClick(inspector.layer_button, Qt.MouseButton.LeftButton)
    assert not inspector.layer_button.isEnabled()
    assert "Checking" in inspector.check_label.text()
    assert "layer 1" in inspector.check_label.text()
    qtbot.waitUntil(lambda: inspector.layer_button.isEnabled(), timeout=30_000)
    text = inspector.check_label.text()
    assert "entries of layer 1" in text and "relative error" in text and "agrees" in text
    checked = inspector.last_check.result.checked
    assert checked == len(inspector.last_check.entries) > 50
    assert f"{checked} entries" in text

    # the Inspect menu's action does the same, for the selected layer
    inspector.layer_spin.setValue(2)
    action = next(a for a in window.menu("&Inspect").actions() if "layer" in a.text())
    action.trigger()
    assert "Checking" in inspector.check_label.text() and "layer 2" in inspector.check_label.text()
    qtbot.waitUntil(lambda: inspector.layer_button.isEnabled(), timeout=30_000)
    assert "entries of layer 2" in inspector.check_label.text()
    assert "TypeError" not in capfd.readouterr().err
