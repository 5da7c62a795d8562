"""The window says when training is stuck, why, and what to try.

A banner across the top of the window (like the one ``ChildWatch`` shows when the
training process dies), amber rather than red: nothing is broken, the run just does not
learn. The rule is ``bpviz.session.diagnosis`` (Qt-free); here each snapshot the window
draws feeds the δ scales of its mini-batch to a ``RecentScales`` and asks the rule.

The banner's text is refreshed once per epoch (numbers that change every frame cannot be
read). **Dismiss** hides it for this run and this η; it goes away by itself when the run
leaves chance, and is cleared when the network is reset or changed (a new run: another
configuration, or the step counter going back).
"""

from __future__ import annotations

import time
from html import escape
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QPushButton

from bpviz.notation import unicode_math
from bpviz.session.diagnosis import Diagnosis, RecentScales, diagnose_snapshot
from bpviz.ui.banner import add_banner

if TYPE_CHECKING:
    from bpviz.session.snapshot import SessionConfig, Snapshot
    from bpviz.ui.window_api import Window

# while running, the mini-batches measured at most this often (s): each costs about a
# millisecond of the window's frame, and a few a second judge a run as well
RUNNING_PERIOD = 0.25
BANNER_STYLE = "QLabel { background: #fff3cd; color: #5c4400; padding: 6px; }"


class DiagnosisBanner(QObject):
    """The "training is stuck" banner of ``window`` (see the module doc)."""

    def __init__(self, window: Window) -> None:
        super().__init__(window)
        self.window = window
        self.recent = RecentScales()
        self.diagnosis: Diagnosis | None = None  # what the banner says, while it is shown
        self._run: tuple[SessionConfig, int, float] | None = None  # (config, last step, η)
        self._measured_at = float("-inf")  # when a running snapshot was last measured
        self._dismissed: tuple[SessionConfig, float] | None = None  # (run's config, η)
        self._epochs = -1  # epochs evaluated when the text was last set
        self.dismiss_button = QPushButton("Dismiss")
        self.dismiss_button.setObjectName("bpviz_stuck_dismiss")
        self.dismiss_button.setToolTip(
            "Hide this until the network is reset or changed, or η changes"
        )
        self.dismiss_button.clicked.connect(self.dismiss)
        self.banner, self.label = add_banner(
            window, "Training stuck", "stuck", BANNER_STYLE, self.dismiss_button
        )
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.banner.installEventFilter(self)  # a resized banner refits its text's height
        window.snapshot_shown.connect(self.show_snapshot)

    @property
    def shown(self) -> bool:
        """Whether the banner is up (not hidden, not dismissed)."""
        return not self.banner.isHidden()

    def show_snapshot(self, snapshot: Snapshot) -> None:
        """Measure ``snapshot``'s backward pass and show, update or hide the banner."""
        if snapshot is self.window.model.probe:  # one example's pass, not the run
            return
        now = time.monotonic()
        if snapshot.running and now - self._measured_at < RUNNING_PERIOD:
            return  # at full speed a sample of the mini-batches is enough to judge by
        self._measured_at = now
        if self._run is None or snapshot.config != self._run[0] or snapshot.step < self._run[1]:
            self.clear()  # a new run: reset, another network, a restart
        self._run = (snapshot.config, snapshot.step, snapshot.eta)
        self.recent.add(snapshot)
        diagnosis = diagnose_snapshot(snapshot, self.recent.scales())
        if diagnosis is None:
            self._hide()
            self._dismissed = None  # left chance: should it get stuck again, say so
            return
        if self._dismissed == (snapshot.config, snapshot.eta):
            return
        epochs = snapshot.history.epochs.count if snapshot.history is not None else 0
        if self.diagnosis is None or epochs != self._epochs:
            self._epochs = epochs
            self.diagnosis = diagnosis
            self.label.setText(_html(diagnosis))
            self.label.setToolTip(unicode_math(diagnosis.text))
        self.banner.show()
        self._fit()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.banner and event.type() == QEvent.Type.Resize:
            self._fit()
        return False

    def _fit(self) -> None:
        """As tall as the wrapped text at the banner's width, no taller: a tool bar would
        otherwise share the height out and squeeze the panels below."""
        room = self.banner.width() - self.dismiss_button.sizeHint().width() - 24
        height = self.label.heightForWidth(room) if room > 100 else -1
        if height > 0:  # -1 while there is no text yet (Qt warned of a negative size)
            self.label.setFixedHeight(height)

    def dismiss(self) -> None:
        """Hide the banner for this run and η."""
        if self._run is not None:
            self._dismissed = (self._run[0], self._run[2])
        self._hide()

    def clear(self) -> None:
        """A new run: forget the δ scales measured, hide the banner, re-arm Dismiss."""
        self.recent.clear()
        self._run = self._dismissed = None
        self._hide()

    def _hide(self) -> None:
        self.diagnosis, self._epochs = None, -1
        self.banner.hide()


def _html(diagnosis: Diagnosis) -> str:
    """Title in bold, then why and what to try, each on its own line (Unicode maths)."""
    parts = (diagnosis.title, diagnosis.why, diagnosis.what_to_try)
    title, why, what = (escape(unicode_math(p)) for p in parts)
    return f"<b>{title}</b><br>{why}<br>{what}"
