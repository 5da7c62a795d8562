"""The one rate limiter between a snapshot and the pixels.

While the session trains at full speed a new snapshot arrives every frame (the window's
``FRAME_MS``); some drawings cost more than a frame (two heatmaps of 400,000 values, the
loss band of thousands of buckets, hundreds of edges, typeset formulas), so they are
redrawn at most ``hz`` times a second. The invariant: **the latest request is always
drawn eventually** — a request within the interval arms a single-shot timer for the
interval's end instead of being dropped, and the drawing then reads whatever is newest.

Rates in use (the measured trade-offs, as parameters): the loss plot 5 Hz, the gradient
heatmaps 15 Hz, the network's edges 4 Hz, the panels of numbers 5 Hz, the equations 1 Hz.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from pyqtgraph.Qt import QtCore


class Throttle(QtCore.QObject):
    """Calls ``draw()`` at most ``hz`` times a second (``hz`` None: at every request).

    ``request()`` draws at once when the last draw is at least ``1 / hz`` ago, else arms
    a timer for the moment it will be (one timer however many requests come meanwhile);
    ``flush()`` draws at once (a panel of numbers shows each step now); ``cancel()``
    forgets a pending draw. ``draw`` reads the newest state itself: the throttle holds no
    snapshot. ``count`` counts the draws (tests, diagnostics).
    """

    def __init__(self, draw: Callable[[], None], hz: float | None, parent: QtCore.QObject) -> None:
        super().__init__(parent)
        self._draw = draw
        self.hz = hz
        self.count = 0
        self._last = -float("inf")
        self._timer = QtCore.QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.flush)

    @property
    def pending(self) -> bool:
        """A draw is armed for the end of the interval."""
        return self._timer.isActive()

    def request(self) -> None:
        """Draw now if the interval has passed, else once when it has."""
        wait = self._last + 1.0 / self.hz - time.perf_counter() if self.hz else 0.0
        if wait <= 0:
            self.flush()
        elif not self._timer.isActive():
            self._timer.start(max(1, math.ceil(1000 * wait)))

    def flush(self) -> None:
        """Draw now (and drop the armed timer)."""
        self._timer.stop()
        self._last = time.perf_counter()
        self.count += 1
        self._draw()

    def cancel(self) -> None:
        """Forget the armed draw, if any."""
        self._timer.stop()
