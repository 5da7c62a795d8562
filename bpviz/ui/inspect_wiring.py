"""How the inspector panels join the controller: one selection shared by every view.

A weight wᵢⱼˡ is selected by clicking a heatmap cell (``weight_clicked``), an edge of
the network view (``edge_clicked``) or the inspector's form (``selection_changed``); each
goes to ``Controller.select``, and the model's selection then goes to every view that
highlights it (``bpviz.ui.docks.SELECTING``). Pinning goes to ``Controller.pin``; the
Inspect menu (``bpviz/ui/menus.py``) holds "Check gradient" (key g).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QKeySequence

from bpviz.ui.views.contraction import ContractionView
from bpviz.ui.views.gradient import GradientView
from bpviz.ui.views.inspector import InspectorView
from bpviz.ui.views.network import NetworkView

if TYPE_CHECKING:
    from bpviz.ui.controller import Controller
    from bpviz.ui.window_api import Window


def connect(window: Window, c: Controller) -> None:
    """Wire the selection sources and the pin button (after the docks exist)."""
    views = window.views
    for view in views.values():
        if isinstance(view, (GradientView, ContractionView)):
            view.weight_clicked.connect(c.select_quietly)
        elif isinstance(view, NetworkView):
            view.edge_clicked.connect(c.select_quietly)
    inspector = views["inspector"]
    assert isinstance(inspector, InspectorView)
    app = QCoreApplication.instance()
    if app is not None:  # a layer check still running must end before the process does
        app.aboutToQuit.connect(inspector.wait_for_checks)
    inspector.selection_changed.connect(c.select_quietly)
    inspector.pin_requested.connect(c.pin)
    inspector.check_shortcut.setKey(QKeySequence())  # the window-wide action has g
