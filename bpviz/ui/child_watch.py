"""The window notices when its training process dies or stops answering, and says so.

``RemoteWorker.failure`` turns non-None when the child was killed, crashed, or gave no
reply in time (it is given up then: no call waits forever). ``ChildWatch`` looks four
times a second and, as soon as a failure is known, shows a banner across the top of the
window with the sentence ("The training process stopped: it was killed by signal 9
(SIGKILL).") and a button **Restart from the last snapshot**. A ``RemoteError`` raised by
any action (a click on Run while the child is gone) is caught on its way to
``sys.excepthook`` and shown in the same banner, not printed on stderr.

What "the last state it has" is: the newest snapshot the window received — the
parameters Wˡ, bˡ after the last update, the configuration and η. A snapshot holds
neither the loss of every step nor every epoch's confusion matrix, so the restart is a new
run from those parameters (step 0, empty history); the banner and the status bar say so.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QPushButton

from bpviz.runtime.child_process import resume_from_parameters
from bpviz.runtime.remote import RemoteError, RemoteWorker
from bpviz.ui.banner import add_banner

if TYPE_CHECKING:
    from bpviz.session.snapshot import Snapshot
    from bpviz.ui.controller import Controller
    from bpviz.ui.window_api import Window

CHECK_MS = 250  # how often the window looks at its training process
BANNER_STYLE = "QLabel { background: #fde2e1; color: #7a1010; padding: 6px; }"


class ChildWatch(QObject):
    """The banner and the restart for ``window`` (see the module doc)."""

    def __init__(self, window: Window, controller: Controller) -> None:
        super().__init__(window)
        self.window = window
        self.controller = controller
        self.failure: str | None = None  # what the banner says, while it is shown
        self.restart_button = QPushButton("Restart from the last snapshot")
        self.restart_button.setObjectName("bpviz_restart")
        self.restart_button.setToolTip(
            "Start a new training process from the parameters Wˡ, bˡ, the network and η of "
            "the last snapshot shown (step counter and history start again at 0)"
        )
        self.restart_button.clicked.connect(self.restart)
        self.banner, self.label = add_banner(
            window, "Training process", "child", BANNER_STYLE, self.restart_button
        )
        self._timer = QTimer(self, interval=CHECK_MS)
        self._timer.timeout.connect(self.check)
        self._timer.start()
        self._previous_hook = sys.excepthook
        sys.excepthook = self._excepthook

    def check(self) -> str | None:
        """Show the banner if the training process is lost; its sentence, or None."""
        failure = self.window.worker.failure
        if failure and self.failure is None:
            self.report(failure)
        return self.failure

    def report(self, failure: str) -> None:
        """Say ``failure`` in the banner and the status bar; offer the restart."""
        w = self.window
        self.failure = failure
        snapshot = self._last_snapshot()
        offer = (
            f" You can restart from the last snapshot (step {snapshot.step:,}, η = "
            f"{snapshot.eta:g}): its parameters, network and η; the step counter and the "
            "history start again at 0."
            if snapshot is not None
            else ""
        )
        self.label.setText(failure + offer)
        self.restart_button.setEnabled(snapshot is not None)
        self.banner.show()
        w.statusBar().showMessage(failure, 0)
        self._show_paused()

    def _show_paused(self) -> None:
        """Nothing trains any more: the Run button says so."""
        self.controller.stopped()

    def restart(self) -> bool:
        """A new training process from the last snapshot's parameters; False (with the
        reason in the banner) if it cannot start."""
        w = self.window
        snapshot = self._last_snapshot()
        if snapshot is None:
            return False
        old = w.worker
        config = replace(snapshot.config, eta=snapshot.eta)
        try:
            old.stop()  # kills a stopped child; nothing is left behind
        except Exception as error:  # the old process is gone either way: say, go on
            w.statusBar().showMessage(f"Stopping the old training process: {error}", 8000)
        try:
            new = RemoteWorker(
                getattr(old, "dataset", w.dataset),
                config,
                publish_hz=getattr(old, "publish_hz", 60.0),
            )
        except RemoteError as error:
            self.label.setText(f"{self.failure} Restarting failed: {error}")
            return False
        try:
            new.with_session(resume_from_parameters, snapshot.weights, snapshot.biases)
            self.controller.send_pace(new)  # the pace in force, animated or not
        except (RemoteError, ValueError) as error:
            new.stop()
            self.label.setText(f"{self.failure} Restarting failed: {error}")
            return False
        w.use_worker(new)  # it draws the new process's first snapshot
        self.controller.go_live()  # an example shown was of the old process's session
        self.failure = None
        self.banner.hide()
        self.controller.apply_config(config)
        w.statusBar().showMessage(
            f"Restarted from the parameters of step {snapshot.step:,} (η = {snapshot.eta:g}); "
            "the step counter and the history start again at 0 — the rest was lost with "
            "the old training process.",
            15000,
        )
        return True

    def close(self) -> None:
        """Stop looking; give ``sys.excepthook`` back (idempotent)."""
        self._timer.stop()
        if sys.excepthook == self._excepthook:
            sys.excepthook = self._previous_hook

    def _last_snapshot(self) -> Snapshot | None:
        w = self.window
        return w.latest or w.worker.latest()

    def _excepthook(self, kind, value, tb) -> None:
        """A RemoteError from any action goes to the banner; anything else onwards."""
        if isinstance(value, RemoteError) and not self.window.closed:
            self.check()
            if self.failure is None:  # e.g. a timeout the worker has not recorded
                self.report(str(value))
            self._show_paused()  # the click that failed may have checked Run
            return
        self._previous_hook(kind, value, tb)
