"""Drawing the views without a screen, for ``python -m bpviz train --snapshot-every N --out DIR``.

``OffscreenBoard`` lays every view of ``bpviz.ui.views`` out in one widget (a stand-in
for the main window, without a worker); ``OffscreenExporter`` starts Qt on the offscreen
platform when there is no display, feeds snapshots to the board and writes bundles with
``bpviz.ui.export.export_bundle``. Only the trainer's export flags import this module.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np

BOARD_SIZE = (1600, 1000)


def ensure_app():
    """The running QApplication, or a new one (offscreen when there is no display)."""
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import qInstallMessageHandler
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        app = QApplication(["bpviz-export"])
        qInstallMessageHandler(_quiet_offscreen)
    return app


def _quiet_offscreen(kind, context, message: str) -> None:
    """Drop the offscreen plugin's "does not support propagateSizeHints()" notice, which
    says nothing to a user of the trainer; pass every other message on to stderr."""
    if "propagateSizeHints" in message:
        return
    print(message, file=sys.stderr)


def board_class():
    """The ``OffscreenBoard`` class (defined on first use, so importing this module loads no Qt)."""
    from PySide6.QtWidgets import QGridLayout, QWidget

    from bpviz.ui import views as view_module

    class OffscreenBoard(QWidget):
        """Every view in a grid, fed the same snapshot: ``views`` maps names to widgets."""

        def __init__(self, size: tuple[int, int] = BOARD_SIZE) -> None:
            super().__init__()
            self.setWindowTitle("bpviz")
            self.resize(*size)
            grid = QGridLayout(self)
            self.views: dict[str, QWidget] = {}
            names = sorted(view_module.__all__, key=lambda n: (n != "NetworkView", n))
            for k, class_name in enumerate(names):
                view = getattr(view_module, class_name)()
                key = class_name.removesuffix("View").lower()
                self.views[key] = view
                grid.addWidget(view, k // 2, k % 2)

        def show_snapshot(self, snapshot) -> None:
            for view in self.views.values():
                view.show_snapshot(snapshot)

    return OffscreenBoard


class OffscreenExporter:
    """Writes an export bundle per snapshot, drawing the views offscreen."""

    def __init__(self, out_dir: str | Path, data_source: str = "", svg: bool = True) -> None:
        self.out_dir = Path(out_dir)
        self.data_source = data_source
        self.svg = svg
        self.app = ensure_app()
        self.board = board_class()()
        self.board.show()
        self.app.processEvents()

    def export(self, snapshot, loss_per_step: np.ndarray | None = None):
        """Draw ``snapshot`` on every view and write its bundle; the BundleReport."""
        from bpviz.ui.export import export_bundle

        self.board.show_snapshot(snapshot)
        self.app.processEvents()
        return export_bundle(
            self.out_dir,
            snapshot,
            window=self.board,
            data_source=self.data_source,
            loss_per_step=loss_per_step,
            svg=self.svg,
        )

    def close(self) -> None:
        """Destroy the board (the QApplication stays for the process)."""
        from PySide6.QtCore import QCoreApplication, QEvent

        self.board.close()
        self.board.deleteLater()
        # Delete it now: left to the interpreter's exit, the teardown order can crash.
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
