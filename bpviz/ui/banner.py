"""A banner across the top of the main window: a sentence and one button, on a tool bar
row of its own, hidden until there is something to say. The training process lost
(``child_watch``, red) and training stuck (``diagnosis_banner``, amber) use it."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QMainWindow, QPushButton, QSizePolicy, QToolBar


def add_banner(
    window: QMainWindow, title: str, name: str, style: str, button: QPushButton
) -> tuple[QToolBar, QLabel]:
    """Add a hidden banner to ``window``: the tool bar ``bpviz_{name}_banner`` (``title``,
    fixed in place) holding a wrapping label ``bpviz_{name}_message`` drawn with the
    style sheet ``style``, then ``button``. The tool bar and the label."""
    bar = QToolBar(title, window)
    bar.setObjectName(f"bpviz_{name}_banner")
    bar.setMovable(False)
    bar.setFloatable(False)
    label = QLabel()
    label.setObjectName(f"bpviz_{name}_message")
    label.setWordWrap(True)
    label.setStyleSheet(style)
    label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
    bar.addWidget(label)
    bar.addWidget(button)
    window.addToolBarBreak(Qt.ToolBarArea.TopToolBarArea)
    window.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)
    bar.hide()
    return bar, label
