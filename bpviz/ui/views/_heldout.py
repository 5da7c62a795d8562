"""The evaluation panel's own held-out evaluation, on a thread of its own.

The panel draws the session's epoch-end evaluation; before the first epoch ends, for a
session file's last epoch (saved without predictions) and on "Evaluate now" it asks this
object to evaluate a snapshot's parameters instead — never on the GUI thread. One
evaluation runs at a time; a request meanwhile waits its turn (the newest one only).
"""

from __future__ import annotations

import contextlib
import threading

from pyqtgraph.Qt import QtCore

from bpviz.data.dataset import Dataset
from bpviz.engine.network import Network
from bpviz.runtime.threads import start_thread
from bpviz.session.evaluation import HeldOutEvaluation, held_out
from bpviz.session.probe import network_of
from bpviz.session.snapshot import Snapshot


class HeldOutThread(QtCore.QObject):
    """``start(snapshot, data)`` evaluates on the thread ``bpviz-evaluate``; ``done(data,
    outcome)`` arrives on the GUI thread with a ``HeldOutEvaluation``, or a sentence
    saying why there is none (a diverged network)."""

    done = QtCore.Signal(object, object)
    _finished = QtCore.Signal(object, object)  # emitted by the thread, queued to this one

    def __init__(self, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self._thread: threading.Thread | None = None
        self._next: tuple[Snapshot, Dataset] | None = None
        self._net: Network | None = None  # reused: only one evaluation runs at a time
        self._finished.connect(self._on_finished)

    @property
    def busy(self) -> bool:
        """An evaluation is running or waiting."""
        return self._next is not None or (self._thread is not None and self._thread.is_alive())

    def start(self, snapshot: Snapshot, data: Dataset) -> None:
        """Evaluate ``snapshot``'s parameters on ``data``'s held-out split (after the one
        running, if any)."""
        if self._thread is not None and self._thread.is_alive():
            self._next = (snapshot, data)
            return
        self._thread = start_thread("bpviz-evaluate", self._run, snapshot, data, daemon=True)

    def wait(self, timeout: float = 30.0) -> None:
        """Join the running evaluation (tests; closing the window)."""
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self, snapshot: Snapshot, data: Dataset) -> None:
        try:
            self._net = network_of(snapshot, self._net)
            fields = dict(epoch=snapshot.epoch, step=snapshot.step, seconds=0.0)
            outcome: HeldOutEvaluation | str = held_out(
                self._net, data, train_loss=float("nan"), **fields
            )
        except ValueError as error:  # e.g. a diverged network (parameters not finite)
            outcome = f"Cannot evaluate: {error}"
        with contextlib.suppress(RuntimeError):  # the panel was deleted meanwhile
            self._finished.emit(data, outcome)

    def _on_finished(self, data: Dataset, outcome: HeldOutEvaluation | str) -> None:
        if self._next is not None:
            snapshot, following = self._next
            self._next = None
            self._thread = start_thread(
                "bpviz-evaluate", self._run, snapshot, following, daemon=True
            )
        self.done.emit(data, outcome)
