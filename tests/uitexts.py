"""Every piece of text a window shows a person: widget texts, tooltips, status tips, tab
titles, combo items, actions and menus, and the text items drawn in pyqtgraph scenes."""

from __future__ import annotations

import re

from PySide6.QtWidgets import (
    QAbstractButton,
    QComboBox,
    QDockWidget,
    QGraphicsSimpleTextItem,
    QGraphicsTextItem,
    QGraphicsView,
    QGroupBox,
    QLabel,
    QMenu,
    QMessageBox,
    QTabBar,
    QWidget,
)

# caret notation: x^2, x^{l+1}, n_{L-1}, and a one-letter symbol with an index, w_ij, n_0
CARET = re.compile(r"\^|_\{|(?<![A-Za-z])[A-Za-zδσ]_[A-Za-z0-9]")
# a count of five or more digits without thousands separators (123748, not 123,748)
BARE_NUMBER = re.compile(r"(?<![\d.,])\d{5,}(?![\d])")


def _plain(text: str) -> str:
    """Rich text without its tags and entities (``<sub>`` is markup, not notation)."""
    text = re.sub(r"<[^>]*>", "", text)
    return text.replace("&nbsp;", " ").replace("&lt;", "<").replace("&gt;", ">")


def widget_texts(root: QWidget) -> list[tuple[str, str]]:
    """(where, text) for ``root`` and every widget and action under it."""
    out: list[tuple[str, str]] = []

    def add(where: str, text: str | None) -> None:
        if text:
            out.append((where, _plain(text)))

    for widget in [root, *root.findChildren(QWidget)]:
        name = f"{type(widget).__name__}({widget.objectName()})"
        add(f"{name}.toolTip", widget.toolTip())
        add(f"{name}.statusTip", widget.statusTip())
        add(f"{name}.windowTitle", widget.windowTitle())
        if isinstance(widget, (QLabel, QAbstractButton)):
            add(f"{name}.text", widget.text())
        if isinstance(widget, QMessageBox):
            add(f"{name}.informativeText", widget.informativeText())
        if isinstance(widget, QGroupBox):
            add(f"{name}.title", widget.title())
        if isinstance(widget, QMenu):
            add(f"{name}.title", widget.title())
        if isinstance(widget, QDockWidget):
            add(f"{name}.title", widget.windowTitle())
        if isinstance(widget, QTabBar):
            for k in range(widget.count()):
                add(f"{name}.tab{k}", widget.tabText(k))
                add(f"{name}.tabToolTip{k}", widget.tabToolTip(k))
        if isinstance(widget, QComboBox):
            for k in range(widget.count()):
                add(f"{name}.item{k}", widget.itemText(k))
        for action in widget.actions():
            add(f"{name}.action.text", action.text())
            add(f"{name}.action.toolTip", action.toolTip())
            add(f"{name}.action.statusTip", action.statusTip())
        if isinstance(widget, QGraphicsView) and widget.scene() is not None:
            for item in widget.scene().items():
                if isinstance(item, QGraphicsTextItem):
                    add(f"{name}.scene", item.toPlainText())
                elif isinstance(item, QGraphicsSimpleTextItem):
                    add(f"{name}.scene", item.text())
    return out


def caret_texts(root: QWidget) -> list[tuple[str, str]]:
    """The texts under ``root`` written in caret notation."""
    return [(where, text) for where, text in widget_texts(root) if CARET.search(text)]


def bare_numbers(root: QWidget) -> list[tuple[str, str]]:
    """The texts under ``root`` with a large count written without separators."""
    return [(where, text) for where, text in widget_texts(root) if BARE_NUMBER.search(text)]
