"""A SnapshotView that redraws at most every ``throttle_ms`` while training runs.

The inspector panels show numbers to be read (and typeset formulas that cost ~0.1 s), so
while the session trains at full speed they redraw a few times a second instead of every
frame; when stepping (``snapshot.running`` False) they draw at once.
"""

from __future__ import annotations

from pyqtgraph.Qt import QtCore, QtWidgets

from bpviz.session.snapshot import Snapshot
from bpviz.ui.views._base import SnapshotView


class ThrottledView(SnapshotView):
    """``show_snapshot`` draws now when paused, else at most once per ``throttle_ms``."""

    throttle_ms = 200

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self._timer = QtCore.QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(self.throttle_ms)
        self._timer.timeout.connect(self.redraw)

    def show_snapshot(self, snapshot: Snapshot) -> None:
        """Draw ``snapshot`` now, or within ``throttle_ms`` while training runs."""
        if snapshot.running and self._drawn is not None and self.isVisible():
            self._snapshot = snapshot
            if not self._timer.isActive():
                self._timer.start()
            return
        super().show_snapshot(snapshot)
