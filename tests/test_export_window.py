"""File ▸ Export snapshot / Save / Open / Open recent and Record, on the real window."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QImage, QKeySequence
from PySide6.QtWidgets import QApplication, QFileDialog, QLineEdit, QMessageBox

from bpviz.ui import session_menus as sm
from bpviz.ui.export import is_blank
from bpviz.ui.recorder import ffmpeg_exe


def settle(qtbot, w, condition, timeout=15_000):
    qtbot.waitUntil(lambda: w.latest is not None and condition(w.latest), timeout=timeout)
    return w.latest


def messages(w) -> list[QMessageBox]:
    return [box for box in w.findChildren(QMessageBox) if box.isVisible()]


def test_the_menus_offer_export_save_open_recent_and_record(window):
    shortcuts = {a.text(): a.shortcut() for a in window.menu("&File").actions()}
    assert shortcuts["Export snapshot…"] == QKeySequence("Ctrl+E")
    assert shortcuts["Save session…"] == QKeySequence("Ctrl+S")
    assert shortcuts["Open session…"] == QKeySequence("Ctrl+O")
    assert "Open recent" in shortcuts
    texts = [a.text() for a in window.menu("&File").actions()]
    assert texts.index("Open session…") < texts.index("Quit")
    record = [a.text() for a in window.menu("&Record").actions()]
    assert "Record window…" in record and "Stop recording" in record
    assert not window.menus.stop_record_action.isEnabled()


def test_export_snapshot_writes_the_window_and_its_views(qtbot, window, tmp_path):
    for _ in range(3):
        window.worker.step_batch()
    for _ in range(4):
        window.worker.step_phase()  # forward, forward, cost, δ^2
    snap = settle(qtbot, window, lambda s: s.step == 3 and s.phase_index == 3)
    report = window.controller.export_snapshot(str(tmp_path))
    assert report is not None and report.folder.parent == tmp_path
    image = QImage(str(report.folder / "window.png"))
    ratio = window.devicePixelRatioF()
    assert (image.width(), image.height()) == (
        round(window.width() * ratio),
        round(window.height() * ratio),
    )
    assert not is_blank(image)
    assert "network.png" in report.pngs and "network.svg" in report.svgs
    with np.load(report.folder / "state.npz", allow_pickle=False) as npz:
        np.testing.assert_array_equal(npz["delta2"], snap.delta[1])
        np.testing.assert_array_equal(npz["W1"], snap.weights[0])
    rows = (report.folder / "metrics.csv").read_text().splitlines()
    assert sum(row.startswith("loss,") for row in rows) == 3  # every step's loss


def test_save_and_open_a_session_in_the_window(qtbot, window, tmp_path):
    path = str(tmp_path / "s.npz")
    window.worker.set_eta(1.25)
    for _ in range(5):
        window.worker.step_batch()
    saved = settle(qtbot, window, lambda s: s.step == 5)
    assert window.controller.save_session(path) == path
    for _ in range(7):
        window.worker.step_batch()
    settle(qtbot, window, lambda s: s.step == 12)
    window.eta.set_eta(3.0)
    assert window.controller.open_session(path)
    opened = settle(qtbot, window, lambda s: s.step == 5)
    for a, b in zip(opened.weights, saved.weights, strict=True):
        np.testing.assert_array_equal(a, b)
    assert opened.eta == 1.25 and window.eta.spin.value() == pytest.approx(1.25)
    # both go on the same way: one more mini-batch from the saved state
    window.worker.step_batch()
    settle(qtbot, window, lambda s: s.step == 6)
    assert sm.recent_files(window)[0] == path
    window.menus.recent_menu.aboutToShow.emit()
    assert [a.toolTip() for a in window.menus.recent_menu.actions()] == [path]


def test_a_save_while_running_runs_on_with_the_example_shown(qtbot, window, tmp_path):
    """Space, an example shown, Ctrl+S and a name typed into the file dialog: the save
    pauses training for a moment; then it runs on, through the controller — the model
    and the Run button say running, the example stays shown."""
    path = tmp_path / "running.npz"
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    qtbot.keyClick(window, Qt.Key.Key_Space)
    settle(qtbot, window, lambda s: s.step > 3)
    x, label = window.dataset.test_images[0], int(window.dataset.test_labels[0])
    probe = window.explorer.show_example(x, label, "test digit 0")
    assert probe is not None and window.model.probe is probe
    typed = []

    def save_as():
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, QFileDialog):
            QTimer.singleShot(50, save_as)
            return
        dialog.setDirectory(str(tmp_path))  # where the user went to
        name = dialog.findChild(QLineEdit, "fileNameEdit")
        name.selectAll()
        qtbot.keyClicks(name, path.stem)  # the suffix is added on saving
        typed.append(name.text())
        qtbot.keyClick(name, Qt.Key.Key_Return)

    QTimer.singleShot(50, save_as)
    qtbot.keyClick(window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert typed == [path.stem] and path.is_file()
    assert window.model.running and window.act.run.isChecked()
    step = window.worker.latest().step
    qtbot.waitUntil(lambda: window.worker.latest().step > step + 3, timeout=15_000)
    assert window.model.probe is probe  # the example the user looks at stays
    window.activateWindow()  # offscreen, nothing gives the window back its focus
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    qtbot.keyClick(window, Qt.Key.Key_Space)
    assert window.worker.wait_idle(10.0) and not window.model.running


def test_opening_a_bad_file_says_so_and_changes_nothing(qtbot, window, tmp_path):
    for _ in range(2):
        window.worker.step_batch()
    before = settle(qtbot, window, lambda s: s.step == 2)
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"PK\x03\x04 this is not a session")
    assert not window.controller.open_session(str(bad))
    qtbot.waitUntil(lambda: bool(messages(window)))
    assert "bad.npz" in messages(window)[0].text()
    window.worker.step_phase()  # the session is still the one it was
    after = settle(qtbot, window, lambda s: s.phase_index == 0)
    assert after.step == 2
    for a, b in zip(after.weights, before.weights, strict=True):
        np.testing.assert_array_equal(a, b)
    assert sm.recent_files(window) == []


@pytest.mark.skipif(ffmpeg_exe() is None, reason="imageio-ffmpeg not installed")
def test_record_a_view_while_stepping_phases(qtbot, window, tmp_path):
    path = tmp_path / "delta.gif"
    assert window.controller.start_recording("network", str(path))
    assert window.menus.stop_record_action.isEnabled()
    for _ in range(8):
        window.worker.step_phase()
        qtbot.wait(120)
    with qtbot.waitSignal(window.recorder.finished, timeout=60_000):
        window.controller.stop_recording()
    assert path.is_file() and not window.menus.stop_record_action.isEnabled()
    first = QImage(str(path))
    view = window.views["network"]
    # the view's size, rounded down to even numbers for the encoder
    assert (first.width(), first.height()) == (view.width() // 2 * 2, view.height() // 2 * 2)
    assert not is_blank(first)


def test_export_and_save_while_running_do_not_stop_training(qtbot, window, tmp_path):
    import json

    window.controller.run()  # as the Run button does
    settle(qtbot, window, lambda s: s.step > 50)
    report = window.controller.export_snapshot(str(tmp_path))
    step = json.loads((report.folder / "snapshot.json").read_text(encoding="utf-8"))["step"]
    rows = (report.folder / "metrics.csv").read_text().splitlines()
    assert sum(row.startswith("loss,") for row in rows) == step  # up to the step shown
    going = settle(qtbot, window, lambda s: s.running and s.step > step + 200)
    assert window.controller.save_session(str(tmp_path / "run.npz"))
    settle(qtbot, window, lambda s: s.running and s.step > going.step + 200)
    assert window.act.run.isChecked()
    window.controller.pause()
