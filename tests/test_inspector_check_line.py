"""The inspector's gradient-check line speaks of the selected parameter only: selecting
another weight (in the panel's form, by keyboard; or by a click in a view) clears it."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication


def test_selecting_another_weight_clears_the_check_line(qtbot, window):
    inspector = window.views["inspector"]
    window.docks["inspector"].raise_()
    qtbot.waitUntil(inspector.isVisible)
    window.act.step_batch.trigger()
    window.worker.wait_idle(5.0)
    qtbot.waitUntil(lambda: inspector.snapshot is not None and inspector.snapshot.step == 1)
    first = inspector.selection
    qtbot.mouseClick(inspector.check_button, Qt.MouseButton.LeftButton)
    old = f"w<sub>{first.i},{first.j}</sub><sup>{first.l}</sup>"
    line = inspector.check_label.text
    assert old in line() and "finite difference" in line()

    # j = first.j + 7, typed into the inspector's form as a user would
    window.activateWindow()
    qtbot.mouseClick(inspector.j_spin, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(inspector.j_spin.hasFocus)
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(QApplication.focusWidget(), str(first.j + 7))
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: inspector.selection.j == first.j + 7)
    new = f"w<sub>{first.i},{first.j + 7}</sub><sup>{first.l}</sup>"
    text = inspector.check_label.text()
    assert old not in text and "finite difference" not in text
    assert new in text and inspector.last_check is None

    qtbot.mouseClick(inspector.check_button, Qt.MouseButton.LeftButton)
    assert new in line() and "finite difference" in line()
    assert inspector.last_check.result.worst_entry == (first.l, first.i, first.j + 7)

    # a click in the gradient view selects too: the line follows
    window.views["gradients"].weight_clicked.emit(2, 1, 4)
    qtbot.waitUntil(lambda: inspector.selection.entry == (2, 1, 4))
    assert "finite difference" not in inspector.check_label.text()
    assert "w<sub>1,4</sub><sup>2</sup>" in inspector.check_label.text()
