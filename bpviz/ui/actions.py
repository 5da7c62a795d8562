"""One way to make a menu or toolbar action, with its tooltip in the paper's terms."""

from __future__ import annotations

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QWidget


def make_action(parent: QWidget, text: str, tip: str, slot, shortcut: str = "") -> QAction:
    """A QAction of ``parent`` that calls ``slot``, with ``tip`` as tooltip and status tip."""
    act = QAction(text, parent)
    act.setStatusTip(tip)
    act.setToolTip(tip)
    if shortcut:
        act.setShortcut(QKeySequence(shortcut))
    act.triggered.connect(slot)
    return act
