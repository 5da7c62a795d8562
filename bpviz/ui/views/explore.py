"""Wiring of the evaluation panel and the drawing pad into the main window.

One ``Explorer`` per window turns "show me this example" (a thumbnail, a mistake, your
drawing) into a probe snapshot — one forward and backward pass on that example alone,
on a copy of the current parameters (``bpviz.session.probe.probe``) — and pins it: every
view shows it (a^l, δ^l, ∂C/∂W^l and the update −η ∂C/∂W^l it would make) until the user
goes back to live (the status-bar button, Run, Step or Reset; new data or an opened
session too). The training session is not changed; "train on it" asks the controller
for one update on the drawing.

The probe is the window model's ``probe``, set and cleared through the controller
(``show_probe``, ``go_live``); the Explorer follows the model's events, so the way back
disappears however the views went live.
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
        window.model.events.connect(self._model_changed)

    def _model_changed(self, name: str, value: object) -> None:
        if name == "probe" and value is None and not self.back.isHidden():
            self.back.hide()  # live again, whoever asked (Run, Step, Reset, new data …)
            self.pinned_changed.emit(None)

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
        self.back.setText(f"Showing {text} (nothing trained) — back to live")
        self.back.show()
        self.window.controller.show_probe(snapshot)  # the window draws it at once
        self.pinned_changed.emit(snapshot)
        self.back.setToolTip(f"{text}: {describe_update(snapshot)}. Click to show training again.")
        return snapshot

    def back_to_live(self) -> None:
        """Show the training session again (the window draws it at once)."""
        self.window.controller.go_live()


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
        if window.controller.train_on(x, label):
            eta = explorer.live().eta
            pad.set_note(f"Trained one step W ← W − η ∂C/∂W (η = {eta:g}) on it as "
                         f"{pad.class_names[label]}: watch its bars move")  # fmt: skip

    pad.train_requested.connect(train)
    pad.set_train_available(isinstance(window.worker, TrainingWorker))
    return pad
