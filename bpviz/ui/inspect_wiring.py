"""How the inspector panels join the main window: one selection shared by every view.

A weight w_ij^l is selected by clicking a heatmap cell (``weight_clicked``), an edge of
the network view (``edge_clicked``) or the inspector's form (``selection_changed``); the
selection then goes to every view that has ``set_selection(l, i, j)``, so it is
highlighted wherever that weight appears. Pinning goes to the worker's watch list; the
action "Check gradient" (key g) runs the inspector's numeric check.
"""

from __future__ import annotations

import contextlib

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QAction, QKeySequence

from bpviz.ui.inspection import Selection

SOURCES = (
    ("gradients", "weight_clicked"),
    ("network", "edge_clicked"),
    ("contraction", "weight_clicked"),
)
PANELS = ("inspector", "equations", "contraction")


def select(window, l: int, i: int, j: int | None) -> None:
    """Select w_ij^l (j None or −1: the bias b_i^l) in every view that can show it;
    ValueError when the network on screen has no such parameter."""
    j = None if j is None or j < 0 else j
    # the network on screen (window.config is what the next reset will use)
    shown = window.latest.config.sizes if window.latest is not None else window.config.sizes
    Selection(l, i, j).check(shown)
    window.selection = (l, i, j)
    for widget in window.views.values():
        if hasattr(widget, "set_selection"):
            widget.set_selection(l, i, j)


def _select_quietly(window, l: int, i: int, j: int) -> None:
    """A click from a view drawn before a reset may name a parameter that no longer
    exists: ignore it rather than raise inside a slot."""
    with contextlib.suppress(ValueError):
        select(window, l, i, j)


def show_panels(window) -> None:
    """Raise the equation panel, then the inspector (in front when they share tabs)."""
    for key in ("equations", "inspector"):
        dock = window.docks.get(key)
        if dock is not None:
            dock.show()
            dock.raise_()


def _pin(window, l: int, i: int, j: int, pinned: bool) -> None:
    if pinned:
        window.worker.add_watch(l, i, j)
    else:
        window.worker.remove_watch(l, i, j)


def connect(window) -> None:
    """Wire the selection sources, the pin button and the g action (after the docks exist)."""
    window.selection = None
    for key, signal in SOURCES:
        view = window.views.get(key)
        if view is not None and hasattr(view, signal):
            getattr(view, signal).connect(lambda l, i, j: _select_quietly(window, l, i, j))
    inspector = window.views.get("inspector")
    if inspector is None:
        return
    app = QCoreApplication.instance()
    if app is not None:  # a layer check still running must end before the process does
        app.aboutToQuit.connect(inspector.wait_for_checks)
    inspector.selection_changed.connect(lambda l, i, j: _select_quietly(window, l, i, j))
    inspector.pin_requested.connect(lambda l, i, j, pinned: _pin(window, l, i, j, pinned))
    inspector.check_shortcut.setKey(QKeySequence())  # the window-wide action below has g
    check = QAction("Check the selected gradient numerically", window)
    check.setShortcut(QKeySequence("G"))
    check.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    check.setToolTip(
        "Central finite difference of C over the mini-batch in float64, against backprop (g)"
    )
    check.triggered.connect(lambda: _check(window))
    layer = QAction("Check this layer numerically", window)
    layer.setToolTip("Central differences for ~100 sampled weights and biases of the selected Wˡ")
    layer.triggered.connect(lambda: _check_layer(window))  # not triggered's `checked`
    menu = window.menu("&Inspect")
    menu.addAction(check)
    menu.addAction(layer)
    window.addAction(check)
    window.check_action = check


def _check(window) -> None:
    show_panels(window)
    window.views["inspector"].check_selected()


def _check_layer(window) -> None:
    show_panels(window)
    window.views["inspector"].check_layer()
