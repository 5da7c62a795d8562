"""Help is the last menu, and its page lists every key the window answers to and says
what each view and colour means."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence, QShortcut

from bpviz.ui.main_window import DOCKS

NATIVE = QKeySequence.SequenceFormat.NativeText


def _open_help(qtbot, window):
    window.activateWindow()
    qtbot.keyClick(window, Qt.Key.Key_F1)  # as a person asks for help
    qtbot.waitUntil(lambda: window.controller.help_dialog is not None)
    page = window.controller.help_dialog
    qtbot.waitExposed(page)
    return page


def test_help_is_the_last_menu(window):
    titles = [a.text() for a in window.menuBar().actions() if a.menu() is not None]
    assert titles[-1] == "&Help", titles
    assert len(titles) >= 6 and "&Inspect" in titles  # menus added later go before it
    later = window.menu("&Later")
    titles = [a.text() for a in window.menuBar().actions()]
    assert titles[-1] == "&Help" and later.title() in titles


def test_the_keys_page_lists_every_shortcut_the_window_defines(qtbot, window):
    keys = set()
    for action in window.findChildren(QAction):
        keys |= {k.toString(NATIVE) for k in action.shortcuts() if not k.isEmpty()}
    for shortcut in window.findChildren(QShortcut):
        if not shortcut.key().isEmpty():
            keys.add(shortcut.key().toString(NATIVE))
    assert {"Space", ".", "Right", "Ctrl+R", "F1"} <= keys, keys

    page = _open_help(qtbot, window)
    text = page.browser.toPlainText()
    table = page.browser.document().toHtml()
    for key in sorted(keys):
        assert f"<b>{key}</b>" in table or f">{key}<" in table, f"{key!r} missing"
    # each key comes with the command it runs
    assert "Step phase" in text and "Run" in text and "Reset" in text


def test_the_page_says_what_each_view_and_colour_means(qtbot, window):
    page = _open_help(qtbot, window)
    text = page.browser.toPlainText()
    for spec in DOCKS:
        assert window.docks[spec.key].windowTitle() in text, spec.key
    for words in ("blue negative", "red positive", "Yellow", "Grey: not computed yet"):
        assert words in text, words
    assert page.browser.verticalScrollBar().maximum() > 0 or page.height() > 400


def test_a_shortcut_added_later_appears_on_the_page(qtbot, window):
    """Generated from the live actions: it cannot drift from what the keys do."""
    extra = QAction("Do something new", window)
    extra.setShortcut(QKeySequence("Ctrl+Shift+J"))
    extra.setStatusTip("A command another panel added")
    window.addAction(extra)
    page = _open_help(qtbot, window)
    text = page.browser.toPlainText()
    assert "Ctrl+Shift+J" in text and "Do something new" in text
