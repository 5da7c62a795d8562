"""File ▸ Open session in the real window with files that must be refused: a FIFO, a
device, a damaged file — chosen in the real file dialog, while training runs in the
window's real training process. The window says why, training goes on, nothing hangs."""

from __future__ import annotations

import os
import stat

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QFileDialog, QLineEdit, QMessageBox


def messages(w) -> list[QMessageBox]:
    return [box for box in w.findChildren(QMessageBox) if box.isVisible()]


def choose_in_dialog(qtbot, path: str) -> None:
    """When the file dialog opens, type ``path`` into its name field and press Enter (again,
    if the name completer's popup took the first one), until the dialog closes."""
    seen: list[QFileDialog] = []

    def answer() -> None:
        dialog = next((d for d in QApplication.topLevelWidgets() if isinstance(d, QFileDialog)
                       and d.isVisible()), None)  # fmt: skip
        if dialog is None:
            if not seen:  # not open yet
                QTimer.singleShot(50, answer)
            return
        seen.append(dialog)
        field = dialog.findChild(QLineEdit, "fileNameEdit")
        if field.text() != path:
            field.clear()
            qtbot.keyClicks(field, path)
        qtbot.keyClick(field, Qt.Key.Key_Return)
        QTimer.singleShot(200, answer)

    QTimer.singleShot(50, answer)


def running_on(qtbot, w, beyond: int) -> int:
    """Wait until the window shows training running past step ``beyond``; that step."""
    qtbot.waitUntil(
        lambda: w.latest is not None and w.latest.running and w.latest.step > beyond,
        timeout=30_000,
    )
    return w.latest.step


def still_running(qtbot, w) -> None:
    """Training goes on: seen a while after the refusal (snapshots from before it, and
    the Run button's grace period, say nothing), the step still advances."""
    qtbot.wait(1500)
    assert w.act.run.isChecked()
    running_on(qtbot, w, w.latest.step + 20)


def open_with_ctrl_o(qtbot, w, path: str) -> None:
    choose_in_dialog(qtbot, path)
    w.activateWindow()
    qtbot.keyClick(w, Qt.Key.Key_O, Qt.KeyboardModifier.ControlModifier)


@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_a_fifo_or_device_chosen_while_running_is_refused_and_training_goes_on(
    qtbot, window, tmp_path, kind
):
    path = tmp_path / f"{kind}.npz"
    if kind == "fifo":
        os.mkfifo(path)
        words = "it is a named pipe (FIFO)"
    else:  # a device node of our own, with /dev/zero's numbers
        os.mknod(path, stat.S_IFCHR | 0o600, os.stat("/dev/zero").st_rdev)
        words = "it is a device"
    qtbot.keyClick(window, Qt.Key.Key_Space)  # Run
    running_on(qtbot, window, 0)
    open_with_ctrl_o(qtbot, window, str(path))
    qtbot.waitUntil(lambda: bool(messages(window)), timeout=30_000)
    text = messages(window)[0].text()
    assert words in text and str(path) in text
    still_running(qtbot, window)  # in the same training process
    assert getattr(window.worker, "alive", True)
    assert stat.S_IFMT(os.stat(path).st_mode) == (stat.S_IFIFO if kind == "fifo" else stat.S_IFCHR)


def test_a_refused_open_does_not_pause_a_running_session(qtbot, window, tmp_path):
    bad = tmp_path / "damaged.npz"
    bad.write_bytes(b"PK\x03\x04" + bytes(200))
    qtbot.keyClick(window, Qt.Key.Key_Space)  # Run
    running_on(qtbot, window, 10)
    open_with_ctrl_o(qtbot, window, str(bad))
    qtbot.waitUntil(lambda: bool(messages(window)), timeout=30_000)
    assert "damaged.npz" in messages(window)[0].text()
    still_running(qtbot, window)
