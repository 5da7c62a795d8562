"""Wiring of the evaluation panel and the drawing pad into the main window.

One ``Explorer`` per window turns "show me this example" (a thumbnail, a mistake, your
drawing) into a probe snapshot — one forward and backward pass on that example alone,
on a copy of the current parameters (``bpviz.session.probe.probe``) — and pins it: every
view shows it (a^l, δ^l, ∂C/∂W^l and the update −η ∂C/∂W^l it would make) until the user
goes back to live (the status-bar button, Run, Step or Reset). The training session is
not changed; "train on it" asks the worker to apply one update on the drawing.

The probe is the window model's ``probe``: while it is set, the window draws it instead
of the worker's latest snapshot.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from pyqtgraph.Qt import QtCore, QtWidgets

from bpviz.runtime.commands import TrainingWorker
from bpviz.session.probe import after_update, probe
from bpviz.session.snapshot import Snapshot
from bpviz.ui.views.drawpad import DrawPad
from bpviz.ui.views.evaluation import EvaluationPanel

if TYPE_CHECKING:
    from bpviz.ui.window_api import Window


class Explorer(QtCore.QObject):
    """Pins probe snapshots in ``window`` and offers the way back to live."""

    pinned_changed = QtCore.Signal(object)  # the probe Snapshot, or None when live again

    def __init__(self, window: Window) -> None:
        super().__init__(window)
        self.window = window
        self.back = QtWidgets.QPushButton()
        self.back.setToolTip(
            "The views show one example's forward and backward pass, computed on a copy of "
            "the parameters (nothing was trained). Click to show the training session again."
        )
        self.back.setStyleSheet("QPushButton { color: #101010; background: #ffd60a; }")
        self.back.clicked.connect(self.back_to_live)
        self.back.hide()
        window.statusBar().addPermanentWidget(self.back)
        actions = window.act
        for action in (actions.step_batch, actions.step_phase, actions.reset):
            action.triggered.connect(self.back_to_live)
        actions.run.toggled.connect(lambda on: on and self.back_to_live())
        # Other ways the session starts afresh (new data, network settings) end the probe too.
        self._watch = QtCore.QTimer(self, interval=500)
        self._watch.timeout.connect(self._check_session)

    def _check_session(self) -> None:
        pinned, live = self.pinned, self.live()
        if pinned is None or live is None:
            self._watch.stop()
        elif live.config != pinned.config or live.step < pinned.step:
            self.back_to_live()

    @property
    def pinned(self):
        """The probe snapshot the views show, or None (live)."""
        return self.window.model.probe

    def live(self):
        """The session's newest snapshot (not the pinned probe)."""
        latest = self.window.worker.latest()
        return latest if latest is not None else self.window.latest

    def show_example(self, x: np.ndarray, label: int, text: str) -> Snapshot | None:
        """Run one forward + backward pass on x ``(n_0,)`` with target ``label`` and show
        it in every view until the user goes back to live; returns the probe snapshot."""
        base = self.live()
        if base is None:
            return None
        try:
            snapshot = probe(base, np.asarray(x)[None, :], [label])
        except ValueError as error:  # diverged parameters or a mismatched input size
            self.window.statusBar().showMessage(f"Cannot show this example: {error}", 8000)
            return None
        self._watch.start()
        self.back.setText(f"Showing {text} (nothing trained) — back to live")
        self.back.show()
        self.window.model.set_probe(snapshot)  # the window draws it at once
        self.pinned_changed.emit(snapshot)
        self.back.setToolTip(f"{text}: {describe_update(snapshot)}. Click to show training again.")
        return snapshot

    def back_to_live(self) -> None:
        """Show the training session again."""
        if self.pinned is None:
            return
        self._watch.stop()
        self.back.hide()
        self.window.model.set_probe(None)  # the window draws the session's at once
        self.pinned_changed.emit(None)

    def train_on(self, x: np.ndarray, label: int) -> bool:
        """Ask the worker for one update W ← W − η ∂C/∂W on x alone and show the session
        live again; False (and a message) if it cannot."""
        self.back_to_live()
        try:
            self.window.worker.train_on(np.asarray(x)[None, :], np.array([label]))
        except (ValueError, RuntimeError, AttributeError) as error:  # incl. a stopped worker
            self.window.statusBar().showMessage(f"Could not train on it: {error}", 8000)
            return False
        return True


def describe_update(probed: Snapshot, names: tuple[str, ...] | None = None) -> str:
    """One line: the probe's cost C and a^L at the target, now and after the update
    −η ∂C/∂W it would make (computed on a copy)."""
    label = int(probed.labels[0])
    name = names[label] if names else str(label)
    a_after, loss_after = after_update(probed)
    return (
        f"C = {probed.loss:.4g}, aᴸ of {name} = {probed.a[-1][0, label]:.3f}; after the update "
        f"−η ∂C/∂W (η = {probed.eta:g}) on it: C = {loss_after:.4g}, "
        f"aᴸ of {name} = {a_after[0, label]:.3f}"
    )


def evaluation_dock(window: Window) -> EvaluationPanel:
    """The evaluation panel for ``window``: evaluates on ``window.dataset``."""
    panel = EvaluationPanel(data_source=lambda: window.dataset)
    explorer = window.explorer

    def show(x: np.ndarray, label: int, text: str) -> None:
        probed = explorer.show_example(x, label, text)
        panel.set_note("" if probed is None else f"{text} — {describe_update(probed)}")

    panel.example_chosen.connect(show)
    return panel


def drawpad_dock(window: Window) -> DrawPad:
    """The drawing pad for ``window``; "train on it" only if the worker can."""
    pad = DrawPad()
    explorer = window.explorer

    def backprop(x: np.ndarray, label: int, text: str) -> None:
        probed = explorer.show_example(x, label, text)
        pad.set_note("" if probed is None else describe_update(probed, pad.class_names))

    pad.backprop_requested.connect(backprop)

    def train(x: np.ndarray, label: int) -> None:
        if explorer.train_on(x, label):
            eta = explorer.live().eta
            pad.set_note(f"Trained one step W ← W − η ∂C/∂W (η = {eta:g}) on it as "
                         f"{pad.class_names[label]}: watch its bars move")  # fmt: skip

    pad.train_requested.connect(train)
    pad.set_train_available(isinstance(window.worker, TrainingWorker))
    return pad
