"""A SnapshotView of numbers to read: redrawn at most 5 times a second while training runs.

The inspector panels show numbers to be read (and typeset formulas that cost ~0.1 s), so
while the session trains at full speed they redraw a few times a second instead of every
frame; when stepping (``snapshot.running`` False) they draw at once. The limiting is the
``SnapshotView``'s own (``bpviz.ui.throttle.Throttle``), here at a lower rate.
"""

from __future__ import annotations

from bpviz.ui.views._base import SnapshotView


class ThrottledView(SnapshotView):
    """A ``SnapshotView`` at ``max_hz`` = 5 (a subclass may choose another rate) that
    draws a paused session's snapshot at once."""

    max_hz = 5.0
    paused_at_once = True
