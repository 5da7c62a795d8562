"""The window's other controls: pace, η slider, batch size, network dialog, layout."""

from __future__ import annotations

import time

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QSlider

from bpviz.session import limits
from bpviz.ui import settings as store
from bpviz.ui.dialogs import NetworkDialog, parse_hidden


def test_pace_limits_the_steps_per_second(qtbot, window):
    window.pace.set_pace(5)
    window.controller.set_pace(5)
    start = window.worker.latest().step
    window.act.run.trigger()
    t0 = time.monotonic()
    qtbot.wait(1500)
    window.act.run.trigger()
    window.worker.wait_idle(5.0)
    rate = (window.worker.latest().step - start) / (time.monotonic() - t0)
    assert 2 <= rate <= 8  # 5 steps/s, with start-up and timer slack


def test_eta_slider_applies_a_log_scale_eta_live(qtbot, window):
    slider = window.eta.findChild(QSlider)
    slider.setValue(slider.maximum() // 2)  # the middle of 10^-4 … 10^2
    qtbot.waitUntil(lambda: window.config.eta == 0.1, timeout=3000)
    window.act.step_batch.trigger()
    window.worker.wait_idle(5.0)
    assert window.worker.latest().eta == 0.1
    assert window.eta.spin.value() == 0.1


def test_batch_size_applies_on_reset(qtbot, window):
    window.batch.spin.setValue(32)
    window.act.step_batch.trigger()
    window.worker.wait_idle(5.0)
    assert window.worker.latest().x.shape[0] == 10  # not before the reset
    window.act.reset.trigger()
    window.act.step_batch.trigger()
    window.worker.wait_idle(5.0)
    shot = window.worker.latest()
    assert shot.step == 1 and shot.x.shape[0] == 32 and shot.config.batch_size == 32


def test_network_dialog_resets_with_the_new_network(qtbot, window):
    dialog = NetworkDialog(window.config, window)
    dialog.hidden.setText("16, 12")
    dialog.output.setCurrentText("softmax")
    dialog.accept()  # softmax with the quadratic cost is refused, with a reason
    assert "cross-entropy" in dialog.error.text() and dialog.result() != QDialog.DialogCode.Accepted
    dialog.cost.setCurrentText("cross_entropy")
    dialog.accept()
    assert dialog.result() == QDialog.DialogCode.Accepted
    window.controller.reset(dialog.config())
    window.act.step_batch.trigger()
    window.worker.wait_idle(5.0)
    shot = window.worker.latest()
    assert shot.config.sizes == (784, 16, 12, 10) and shot.config.cost == "cross_entropy"
    assert [w.shape for w in shot.weights] == [(16, 784), (12, 16), (10, 12)]
    assert store.load_config(window.settings).sizes == (784, 16, 12, 10)


def test_network_dialog_is_reached_from_the_toolbar(qtbot, window):
    def close_it():
        dialogs = [d for d in window.findChildren(NetworkDialog) if d.isVisible()]
        assert dialogs
        dialogs[0].reject()

    QTimer.singleShot(200, close_it)
    window.act.network.trigger()  # modal: returns once rejected
    assert window.config.sizes == (784, 30, 10)


@pytest.mark.parametrize("text", ["0", "abc", "30,-1", "1,2,3,4,5,6,7", "99999"])
def test_bad_hidden_sizes_are_refused_with_a_reason(text):
    with pytest.raises(ValueError, match=r"\S"):
        parse_hidden(text)


@pytest.mark.parametrize("typed, hidden", [("30, 5000", (30, 5000)), ("1 2 3 4 5 6 7", (1,) * 7)])
def test_the_network_dialog_refuses_hidden_sizes_by_the_one_rule(qtbot, window, typed, hidden):
    """Typed into the dialog and OK clicked: the reason shown is ``limits.check_hidden``'s,
    word for word (the dialog keeps no rule of its own), and the dialog stays open."""
    dialog = NetworkDialog(window.config, window)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.hidden.selectAll()
    qtbot.keyClicks(dialog.hidden, typed)
    ok = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok)
    qtbot.mouseClick(ok, Qt.MouseButton.LeftButton)
    with pytest.raises(ValueError) as rule:
        limits.check_hidden(hidden)
    assert dialog.error.text() == str(rule.value)
    assert dialog.isVisible() and dialog.result() != QDialog.DialogCode.Accepted


def test_restore_default_layout_brings_back_closed_docks(qtbot, window):
    qtbot.waitUntil(lambda: window.default_state is not None)
    window.docks["delta"].close()
    window.docks["loss"].setFloating(True)
    assert not window.docks["delta"].isVisible()
    window.restoreState(window.default_state)
    assert window.docks["delta"].isVisible() and not window.docks["loss"].isFloating()


def test_space_runs_and_pauses(qtbot, window):
    window.activateWindow()
    qtbot.keyClick(window, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: window.latest is not None and window.latest.step > 10)
    qtbot.keyClick(window, Qt.Key.Key_Space)
    assert window.worker.wait_idle(5.0)
    assert not window.worker.running
