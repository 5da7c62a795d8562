"""What the controls do: each user request becomes one worker call, bad input a message.

Functions take the ``MainWindow``; ``connect`` ties the toolbar to them and ``sync``
keeps the controls in step with what the worker reports.
"""

from __future__ import annotations

import contextlib
from dataclasses import replace
from typing import TYPE_CHECKING

from PySide6.QtCore import QSignalBlocker, QTimer
from PySide6.QtWidgets import QDialog, QFileDialog

from bpviz.session import limits
from bpviz.session.snapshot import Snapshot
from bpviz.ui import settings as store
from bpviz.ui.dialogs import DownloadDialog, NetworkDialog, show_message

if TYPE_CHECKING:
    from bpviz.ui.main_window import MainWindow


def connect(w: MainWindow) -> None:
    """Tie the toolbar's actions and controls to the functions below."""
    w.act.run.toggled.connect(lambda on: run(w, on))
    w.act.step_batch.triggered.connect(lambda: step(w, w.worker.step_batch))
    w.act.step_phase.triggered.connect(lambda: step(w, w.worker.step_phase))
    w.act.reset.triggered.connect(lambda: reset(w))
    w.act.network.triggered.connect(lambda: edit_network(w))
    w.eta.eta_requested.connect(lambda eta: set_eta(w, eta))
    w.pace.pace_changed.connect(lambda pace: set_pace(w, pace))
    w.batch.batch_size_changed.connect(lambda m: set_batch_size(w, m))
    w.batch.set_maximum(n_train(w))


def run(w: MainWindow, on: bool) -> None:
    """Start or pause continuous training (the Run/Pause button says so at once)."""
    _commanded(w, on)
    if on:
        w.worker.run()
    else:
        w.worker.pause()


def step(w: MainWindow, command) -> None:
    """Do one step (a mini-batch or a phase); the worker pauses first if running."""
    _commanded(w, False)
    command()


def reset(w: MainWindow, config=None) -> None:
    """Start again from fresh parameters with ``config`` (default: the window's)."""
    previous = w.config
    if config is not None:
        w.apply_config(config)
    _commanded(w, False)
    try:
        w.worker.reset(config=w.config)
    except ValueError as exc:  # e.g. a batch size larger than the data now chosen
        w.apply_config(previous)
        w.statusBar().showMessage(f"Not reset: {exc}", 8000)
        show_message(w, "Reset", f"Could not reset: {exc}")
        return
    w.statusBar().showMessage(f"Reset: network {'-'.join(map(str, w.config.sizes))}", 4000)


def set_eta(w: MainWindow, eta: float | str) -> bool:
    """Use ``eta`` (a number, or text as typed) from the next update on; when
    ``bpviz.session.limits`` refuses it, say why in the window and show the η in force."""
    if w.closed:
        return False
    try:
        eta = limits.parse_eta(eta) if isinstance(eta, str) else limits.check_eta(eta)
        eta = w.worker.set_eta(eta)  # acknowledged with the η accepted
    except ValueError as exc:
        w.eta.set_eta(w.config.eta)
        w.statusBar().showMessage(f"η not changed: {exc}", 8000)
        show_message(w, "Learning rate η", str(exc))
        return False
    w.eta.set_eta(eta)
    w.apply_config(replace(w.config, eta=eta))
    return True


def set_pace(w: MainWindow, pace: float | None) -> None:
    """Train at ``pace`` steps per second (None: full speed)."""
    w.worker.set_pace(pace)
    store.save_pace(w.settings, pace)


def set_batch_size(w: MainWindow, m: int | str) -> bool:
    """Remember the batch size m (a number, or text as typed) for the next reset; when
    ``limits.check_batch_size`` refuses it, say why and show the batch size in force."""
    if isinstance(m, str):
        with contextlib.suppress(ValueError):  # else check_batch_size says what is wrong
            m = int(m.replace(",", "").strip())  # "4,000" as the status bar writes it
    try:
        m = limits.check_batch_size(m, n_train(w))
    except ValueError as exc:
        w.batch.set_batch_size(w.config.batch_size)
        w.statusBar().showMessage(f"Batch size not changed: {exc}", 8000)
        show_message(w, "Batch size", str(exc))
        return False
    w.batch.set_batch_size(m)
    w.apply_config(replace(w.config, batch_size=m))
    w.statusBar().showMessage(f"Batch size m = {m:,} applies on Reset (Ctrl+R)", 5000)
    return True


def n_train(w: MainWindow) -> int:
    """The number of training examples of the data the window trains on."""
    return int(w.dataset.train_images.shape[0])


def edit_network(w: MainWindow) -> None:
    """The network & cost dialog; accepting resets with the new configuration."""
    dialog = NetworkDialog(w.config, w)
    if dialog.exec() == QDialog.DialogCode.Accepted:
        reset(w, dialog.config())


def set_data_source(w: MainWindow, choice: str | None) -> bool:
    """Train on ``choice`` (None: best available; see ``bpviz.data.resolve_source``)."""
    from bpviz.data import DataError, resolve_source

    try:
        dataset, description = resolve_source(choice)
    except DataError as exc:
        show_message(w, "Data source", str(exc))
        return False
    w.worker.set_dataset(dataset)
    w.dataset = dataset
    w.batch.set_maximum(n_train(w))
    w.set_class_names(dataset.class_names)
    sizes = (dataset.n_inputs, *w.config.sizes[1:-1], dataset.n_classes)
    w.apply_config(replace(w.config, sizes=sizes))
    w.data_choice = choice
    store.save_data_choice(w.settings, choice)
    w.status.set_source(description)
    w.statusBar().showMessage(f"Data: {description}", 5000)
    return True


def choose_folder(w: MainWindow) -> bool:
    """Ask for a folder of MNIST IDX files and train on it."""
    folder = QFileDialog.getExistingDirectory(w, "Folder with MNIST IDX files")
    return bool(folder) and set_data_source(w, folder)


def download_mnist(w: MainWindow, download=None) -> DownloadDialog:
    """Download the full MNIST with a cancellable progress dialog, then train on it.

    ``download(progress=…, cancel=…) -> folder`` defaults to ``bpviz.data.download_mnist``
    (the official mirrors, into the user's data folder).
    """
    if download is None:
        from bpviz.data import download_mnist as download

    dialog = DownloadDialog(download, w)
    dialog.succeeded.connect(lambda path: set_data_source(w, str(path)))
    dialog.failed.connect(
        lambda text: (
            w.statusBar().showMessage("Download cancelled", 5000)
            if text == "cancelled"
            else show_message(w, "Download full MNIST", f"The download failed: {text}")
        )
    )
    w.download = dialog
    dialog.start()
    return dialog


GRACE = 0.5  # seconds: what session_menus counts as "just resumed"
ACK_SECONDS = 5.0  # a commanded run state the worker never reported gives way after this


def _commanded(w: MainWindow, running: bool) -> None:
    """The user asked to run or to stop: the Run/Pause button shows it now, and keeps
    showing it until the worker reports that state (snapshots published before the
    command was applied still say the old one), then follows the worker again."""
    command = w._commanded_run = (running, w.worker.serial)
    _show_running(w, running)
    QTimer.singleShot(int(ACK_SECONDS * 1000), w, lambda: _give_way(w, command))


def _give_way(w: MainWindow, command) -> None:
    """Follow the worker if ``command`` is still waiting for it (it never answered)."""
    if getattr(w, "_commanded_run", None) is command and not w.closed:
        w._commanded_run = None
        _show_running(w, bool(w.worker.running))


def _acknowledged(w: MainWindow, snapshot: Snapshot) -> bool:
    """Whether the worker has answered the last run/pause command (or none is pending);
    ``snapshot`` is the one just drawn."""
    command = getattr(w, "_commanded_run", None)
    if command is None:
        return True
    running, serial = command
    now = bool(w.worker.running)
    # a run that stopped by itself at once (diverged) reports a message, never running
    stopped = running and not now and snapshot.message and w.worker.serial > serial
    if now == running or stopped:
        w._commanded_run = None
        return True
    return False


def _show_running(w: MainWindow, running: bool) -> None:
    if w.act.run.isChecked() != running:
        with QSignalBlocker(w.act.run):
            w.act.run.setChecked(running)
    text = "Pause" if running else "Run"
    if w.act.run.text() != text:  # setText relays out the toolbar: only on a change
        w.act.run.setText(text)


def sync(w: MainWindow, snapshot: Snapshot) -> None:
    """Follow the worker: run state (it may stop by itself, or be paused by a save),
    η set elsewhere, and its messages (divergence)."""
    if _acknowledged(w, snapshot):
        _show_running(w, bool(w.worker.running))
    previous = getattr(w, "_synced", None)
    if previous is not None and snapshot.eta != previous.eta and not w.eta.spin.hasFocus():
        w.eta.set_eta(snapshot.eta)
    if snapshot.message and (previous is None or snapshot.message != previous.message):
        w.statusBar().showMessage(snapshot.message, 15000)
        if not snapshot.running:
            show_message(w, "Training stopped", snapshot.message)
    w._synced = snapshot
