"""The toolbar's sliders (pace, η) with the keyboard and the mouse, as a user drives them:
reached with Tab, the arrow keys move the slider, not the window's → (Step mini-batch);
after a click or a drag the focus stays with the window, so → steps again."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication, QSlider

from bpviz.ui.controls import PACES


def activate(qtbot, window) -> None:
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)


def focused(window):
    return QApplication.focusWidget() or window


def tab_to(qtbot, window, widget, most: int = 200) -> None:
    """Press Tab until ``widget`` has the keyboard focus, as a keyboard user would."""
    for _ in range(most):
        if widget.hasFocus():
            return
        qtbot.keyClick(focused(window), Qt.Key.Key_Tab)
    raise AssertionError(f"Tab never reached {widget}")


def settled(qtbot, window):
    qtbot.waitUntil(lambda: window.worker.latest() is not None)
    assert window.worker.wait_idle(10.0)
    return window.worker.latest()


def slider_of(window, control: str) -> QSlider:
    return getattr(window, control).findChild(QSlider)


def test_at_launch_the_keys_are_the_windows(qtbot, window):
    """No control has the keyboard when the window opens: → steps a mini-batch (the pace
    slider, first in the Tab order, would otherwise take it)."""
    slider = slider_of(window, "pace")
    start = settled(qtbot, window)
    activate(qtbot, window)
    assert focused(window) is window
    before = slider.value()
    qtbot.keyClick(focused(window), Qt.Key.Key_Right)
    qtbot.waitUntil(lambda: window.worker.latest().step == start.step + 1, timeout=10_000)
    assert slider.value() == before


@pytest.mark.parametrize("control", ["pace", "eta"])
def test_arrow_keys_move_a_focused_slider_and_do_not_step(qtbot, window, control):
    slider = slider_of(window, control)
    slider.setValue(slider.maximum() // 2)  # room both ways
    start = settled(qtbot, window)
    activate(qtbot, window)
    tab_to(qtbot, window, slider)
    value = slider.value()
    qtbot.keyClick(focused(window), Qt.Key.Key_Right)
    assert slider.value() == value + 1
    qtbot.keyClick(focused(window), Qt.Key.Key_Right)
    qtbot.keyClick(focused(window), Qt.Key.Key_Left)
    assert slider.value() == value + 1 and slider.hasFocus()
    if control == "pace":
        qtbot.waitUntil(lambda: window.model.pace == PACES[value + 1], timeout=5000)
    else:
        qtbot.waitUntil(lambda: window.eta.spin.text() != f"{start.eta:.6g}", timeout=5000)
    assert window.worker.wait_idle(10.0)
    assert window.worker.latest().step == start.step  # → moved the slider, stepped nothing
    # Escape gives the keys back: → is Step mini-batch again
    qtbot.keyClick(focused(window), Qt.Key.Key_Escape)
    assert not slider.hasFocus()
    qtbot.keyClick(focused(window), Qt.Key.Key_Right)
    qtbot.waitUntil(lambda: window.worker.latest().step == start.step + 1, timeout=10_000)
    assert slider.value() == value + 1


def test_after_a_click_on_the_pace_slider_right_steps_a_mini_batch(qtbot, window):
    slider = slider_of(window, "pace")
    start = settled(qtbot, window)
    activate(qtbot, window)
    before = slider.value()
    qtbot.mouseClick(slider, Qt.MouseButton.LeftButton, pos=QPoint(4, slider.height() // 2))
    assert slider.value() != before  # the click moved it toward the slow end
    assert window.model.pace == PACES[slider.value()] and not slider.hasFocus()
    qtbot.keyClick(focused(window), Qt.Key.Key_Right)
    qtbot.waitUntil(lambda: window.worker.latest().step == start.step + 1, timeout=10_000)
    assert slider.value() != before
