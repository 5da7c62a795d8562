"""The real main window, offscreen: run, pause, step, η, settings, bad input, closing."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractSlider, QAbstractSpinBox, QMessageBox, QToolButton

from bpviz.notation import unicode_math
from bpviz.session.snapshot import PhaseKind, phases_for
from bpviz.ui import settings as store
from bpviz.ui.app import build_window

SAMPLE = "sample"  # the embedded sample: small, always present


def wait_snapshot(qtbot, w, condition, timeout=10_000):
    """Repaint until the newest snapshot drawn satisfies ``condition``."""
    qtbot.waitUntil(lambda: w.latest is not None and condition(w.latest), timeout=timeout)
    return w.latest


def image_of(widget) -> np.ndarray:
    """What ``widget`` shows, as an (h, w, 4) array."""
    image = widget.grab().toImage()
    return np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), -1).copy()


def messages(w) -> list[QMessageBox]:
    return [box for box in w.findChildren(QMessageBox) if box.isVisible()]


def test_window_opens_with_every_view_and_tooltips(window):
    assert set(window.docks) >= {"network", "delta", "gradients", "loss", "io"}
    for key, dock in window.docks.items():
        assert dock.isVisible(), key
        assert hasattr(window.views[key], "show_snapshot")
    bar = window.findChild(type(window.addToolBar("probe")), "toolbar_training")
    controls = bar.findChildren(QToolButton) + bar.findChildren(QAbstractSlider)
    controls += bar.findChildren(QAbstractSpinBox)
    assert len(controls) >= 8
    for control in controls:
        if control.isVisible() and control.objectName() != "qt_toolbar_ext_button":
            tip = control.toolTip() or control.parent().toolTip()
            if isinstance(control, QToolButton) and control.defaultAction():
                tip = control.defaultAction().toolTip()
            assert tip.strip(), control
    assert window.width() <= 1366 and window.height() <= 768


def test_run_advances_steps_and_views_change_pause_stops_both(qtbot, window):
    first = wait_snapshot(qtbot, window, lambda s: True)
    before = image_of(window.views["network"])
    window.act.run.trigger()
    wait_snapshot(qtbot, window, lambda s: s.running and s.step >= first.step + 20)
    assert window.worker.running and window.act.run.isChecked()
    # the status bar refreshes at most 4 times a second while running
    qtbot.waitUntil(lambda: window.status.labels["step"].text() != f"step {first.step:,}")
    qtbot.waitUntil(lambda: not np.array_equal(image_of(window.views["network"]), before))
    for key in ("loss", "gradients"):
        # every view keeps drawing while training runs
        shown = image_of(window.views[key])
        qtbot.waitUntil(lambda k=key, s=shown: not np.array_equal(image_of(window.views[k]), s))

    window.act.run.trigger()
    assert window.worker.wait_idle(timeout=5.0)
    assert not window.worker.running and not window.act.run.isChecked()
    # the last published snapshot and the rate-limited redraws (edges ≤ 4 Hz) land first;
    # a loaded machine may take a while: wait until two looks 300 ms apart agree
    qtbot.waitUntil(lambda: window.latest.step == window.worker.latest().step)
    keys = ("network", "loss")
    images = {key: image_of(window.views[key]) for key in keys}

    def settled() -> bool:
        qtbot.wait(300)
        now = {key: image_of(window.views[key]) for key in keys}
        same = all(np.array_equal(now[key], images[key]) for key in keys)
        images.update(now)
        return same

    qtbot.waitUntil(settled, timeout=10_000)
    paused, text = window.latest, window.status.labels["step"].text()
    qtbot.wait(400)
    assert window.worker.latest().step == paused.step
    assert window.latest.step == paused.step
    assert window.status.labels["step"].text() == text
    for key, image in images.items():
        assert np.array_equal(image_of(window.views[key]), image), key


def test_step_phase_and_step_batch_follow_the_session(qtbot, window):
    start = wait_snapshot(qtbot, window, lambda s: True)
    phases = phases_for(start.config.n_layers)
    assert start.phase is None
    for index, phase in enumerate(phases[:-1]):
        window.act.step_phase.trigger()
        shot = wait_snapshot(qtbot, window, lambda s, i=index: s.phase_index == i)
        assert shot.phase == phase
        assert shot.step == start.step
        assert window.status.labels["phase"].text() == f"phase: {unicode_math(phase.label)}"
    assert window.latest.phase.kind is PhaseKind.GRADIENT
    window.act.step_phase.trigger()  # the update completes the mini-batch
    done = wait_snapshot(qtbot, window, lambda s: s.step == start.step + 1)
    assert done.phase.kind is PhaseKind.UPDATE
    assert not np.array_equal(done.weights[0], start.weights[0])

    window.act.step_batch.trigger()
    after = wait_snapshot(qtbot, window, lambda s: s.step == start.step + 2)
    assert after.phase.kind is PhaseKind.UPDATE
    assert window.status.labels["step"].text() == f"step {after.step:,}"
    window.act.step_phase.trigger()
    mid = wait_snapshot(qtbot, window, lambda s: s.phase_index == 0)
    window.act.step_batch.trigger()  # finishes the mini-batch begun by the phase step
    wait_snapshot(qtbot, window, lambda s: s.step == mid.step + 1)
    assert window.latest.phase.kind is PhaseKind.UPDATE


def test_keyboard_shortcuts_step(qtbot, window):
    start = wait_snapshot(qtbot, window, lambda s: True)
    window.activateWindow()
    qtbot.keyClick(window, Qt.Key.Key_Period)
    wait_snapshot(qtbot, window, lambda s: s.phase_index == 0)
    qtbot.keyClick(window, Qt.Key.Key_Right)
    wait_snapshot(qtbot, window, lambda s: s.step == start.step + 1)


def type_eta(qtbot, window, text: str) -> None:
    spin = window.eta.spin
    spin.setFocus()
    spin.selectAll()
    qtbot.keyClicks(spin.lineEdit(), text)
    qtbot.keyClick(spin.lineEdit(), Qt.Key.Key_Return)


def test_eta_control_changes_the_eta_the_session_uses(qtbot, window):
    start = wait_snapshot(qtbot, window, lambda s: True)
    assert start.eta == window.config.eta
    type_eta(qtbot, window, "0.125")
    window.act.step_batch.trigger()
    shot = wait_snapshot(qtbot, window, lambda s: s.step == start.step + 1)
    assert shot.eta == 0.125
    assert shot.history.eta_changes[-1][1] == 0.125
    # the update used η = 0.125: W ← W − η ∂C/∂W
    expected = shot.weights_before[-1] - 0.125 * shot.grad_w[-1]
    np.testing.assert_allclose(shot.weights[-1], expected, rtol=1e-5, atol=1e-6)
    assert not messages(window)


@pytest.mark.parametrize("text", ["0", "-2", "1e9"])
def test_bad_eta_shows_a_message_and_changes_nothing(qtbot, window, text):
    start = wait_snapshot(qtbot, window, lambda s: True)
    type_eta(qtbot, window, text)
    qtbot.waitUntil(lambda: len(messages(window)) == 1)
    box = messages(window)[0]
    assert "η" in box.text()
    assert "Traceback" not in box.text()
    assert window.eta.spin.value() == start.eta
    window.act.step_batch.trigger()
    assert wait_snapshot(qtbot, window, lambda s: s.step == start.step + 1).eta == start.eta


def test_folder_without_mnist_shows_a_message_and_keeps_training_data(qtbot, window, tmp_path):
    (tmp_path / "notes.txt").write_text("no digits here")
    dataset = window.dataset
    assert not window.controller.set_data_source(str(tmp_path))
    qtbot.waitUntil(lambda: len(messages(window)) == 1)
    assert str(tmp_path) in messages(window)[0].text() or "MNIST" in messages(window)[0].text()
    assert window.dataset is dataset


def test_settings_persist_across_a_restart(qtbot, settings_path):
    first = build_window(SAMPLE, store.open_settings(settings_path))
    qtbot.addWidget(first)
    first.show()
    qtbot.waitExposed(first)
    assert first.controller.set_eta(0.5)
    first.pace.set_pace(10)
    first.controller.set_pace(10)
    first.batch.spin.setValue(25)
    first.docks["loss"].hide()
    first.close()

    second = build_window(None, store.open_settings(settings_path))
    qtbot.addWidget(second)
    second.show()
    qtbot.waitExposed(second)
    try:
        assert second.eta.spin.value() == 0.5
        assert second.pace.pace() == 10
        assert second.config.batch_size == 25
        assert not second.docks["loss"].isVisible()
        assert second.docks["network"].isVisible()
        assert second.data_choice == SAMPLE
        shot = wait_snapshot(qtbot, second, lambda s: True)
        assert shot.eta == 0.5
        assert shot.config.batch_size == 25
    finally:
        second.close()


def test_closing_while_running_stops_the_worker(qtbot, settings_path):
    w = build_window(SAMPLE, store.open_settings(settings_path))
    qtbot.addWidget(w)
    w.show()
    w.act.run.trigger()
    wait_snapshot(qtbot, w, lambda s: s.step > 5)
    w.close()
    assert not w.worker.running
    assert not w.worker.alive  # the training process has ended, not been left behind
    assert w.worker._process.exitcode == 0  # it stopped by itself: no terminate()


def test_views_behind_a_tab_wait_while_running_and_catch_up_when_raised(qtbot, window):
    hidden = window.views["equations"]  # tabbed behind "Input and output"
    assert window.views["io"].visibleRegion().isEmpty() is False
    assert hidden.visibleRegion().isEmpty()
    window.act.run.trigger()
    wait_snapshot(qtbot, window, lambda s: s.running and s.step > 30)
    assert window.views["network"].snapshot is window.latest
    # not drawn while it cannot be seen: it still has a snapshot from before the run
    assert hidden.snapshot is None or not hidden.snapshot.running
    window.docks["equations"].raise_()
    qtbot.waitUntil(lambda: hidden.snapshot is not None and hidden.snapshot.step > 30)
    window.act.run.trigger()
    assert window.worker.wait_idle(timeout=5.0)
