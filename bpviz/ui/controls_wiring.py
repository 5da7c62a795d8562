"""How the toolbar joins the controller and the model: requests go to the controller,
and the controls follow the model's events (``reflect``), never the snapshots.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QSignalBlocker

if TYPE_CHECKING:
    from bpviz.ui.controller import Controller
    from bpviz.ui.window_api import Window


def connect(w: Window, c: Controller) -> None:
    """Tie the toolbar's actions and controls to the controller, and the controls to the
    model's events."""
    w.act.run.toggled.connect(c.toggle_run)
    w.act.step_batch.triggered.connect(lambda: c.step_batch())
    w.act.step_phase.triggered.connect(lambda: c.step_phase())
    w.act.reset.triggered.connect(lambda: c.reset())
    w.act.network.triggered.connect(lambda: c.edit_network())
    w.eta.eta_requested.connect(c.set_eta)
    w.pace.pace_changed.connect(c.choose_pace)
    w.act.full_speed.toggled.connect(c.toggle_full_speed)
    w.batch.batch_size_changed.connect(c.set_batch_size)
    w.batch.set_maximum(c.n_train())
    w.model.events.connect(lambda name, value: reflect(w, name, value))


def reflect(w: Window, name: str, value: Any) -> None:
    """Show the model's change ``name`` = ``value`` in the toolbar (without emitting)."""
    if name == "running":
        show_running(w, value)
    elif name == "eta":
        w.eta.set_eta(value)
    elif name == "batch_size":
        w.batch.set_batch_size(value)
    elif name == "pace":
        if w.pace.pace() != value:
            w.pace.set_pace(value)
        if w.act.full_speed.isChecked() != (value is None):
            with QSignalBlocker(w.act.full_speed):
                w.act.full_speed.setChecked(value is None)


def show_running(w: Window, running: bool) -> None:
    """The Run/Pause button says whether training runs."""
    if w.act.run.isChecked() != running:
        with QSignalBlocker(w.act.run):
            w.act.run.setChecked(running)
    text = "Pause" if running else "Run"
    if w.act.run.text() != text:  # setText relays out the toolbar: only on a change
        w.act.run.setText(text)
