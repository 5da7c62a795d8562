"""The one controller: every request from the toolbar, the menus, the keys and the views.

Each method turns a user's request into a change of the ``WindowModel`` and, where the
training needs to know, one call to the worker; bad input is refused through
``bpviz.session.limits`` and said in the window (status bar and a message), leaving the
model as it was. The controls follow the model's events (``controls_wiring.reflect``),
not the snapshots. The one thing learnt from snapshots is a run that stopped by itself
(divergence): ``follow(snapshot)``, called by the window for each snapshot it draws.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QDialog, QFileDialog

from bpviz.data import DataError, resolve_source
from bpviz.data import download_mnist as fetch_mnist
from bpviz.session import limits
from bpviz.session.snapshot import SessionConfig, Snapshot
from bpviz.ui import help as help_page
from bpviz.ui import pacing, toy_data
from bpviz.ui import session_menus as files
from bpviz.ui import settings as store
from bpviz.ui.dialogs import DownloadDialog, NetworkDialog, show_message
from bpviz.ui.inspection import Selection
from bpviz.ui.model import WindowModel

if TYPE_CHECKING:
    from bpviz.ui.window_api import Window


class Controller:
    """Requests on ``window`` (see the module doc); ``model`` is what they change."""

    def __init__(self, window: Window, model: WindowModel) -> None:
        self.window = window
        self.model = model
        self._run_serial = -1  # the worker's publication count when Run was pressed
        self._message: str | None = None  # the last worker message said
        self._slow_pace = pacing.DEFAULT  # the pace F (full speed) goes back to
        self.download: DownloadDialog | None = None
        self.help_dialog: help_page.HelpDialog | None = None
        self.toy: toy_data.ToyOptions | None = None  # the toy set in use (None: images)
        self.mnist_config: SessionConfig | None = None  # to come back to from a toy set
        self.toy_dialog: toy_data.ToyDialog | None = None

    def _say(self, text: str, ms: int = 8000) -> None:
        self.window.statusBar().showMessage(text, ms)

    # --- running ---

    def toggle_run(self, on: bool) -> None:
        """The Run/Pause button (Space) was toggled."""
        if on:
            self.run()
        else:
            self.pause()

    def run(self) -> None:
        """Start continuous training (the Run/Pause button says so at once); the views
        show the session again if an example was shown."""
        self.model.set_probe(None)
        if self.window.statusBar().currentMessage() == pacing.welcome(self.model.pace):
            self.window.statusBar().clearMessage()  # it said Space starts it: done
        self._resume()

    def _resume(self) -> None:
        """Training runs, and the model (the Run button) says so; what is shown stays."""
        self._run_serial = self.window.worker.serial
        self.model.set_running(True)
        self.window.worker.run()

    @contextlib.contextmanager
    def running_on(self) -> Iterator[None]:
        """Around a quick look at the session (save, export), which leaves the worker
        paused: training that ran, or that the user asked to run, runs on after it."""
        running = bool(self.window.worker.running) or self.model.running
        try:
            yield
        finally:
            if running:
                self._resume()

    def pause(self) -> None:
        self.model.set_running(False)
        self.window.worker.pause()

    def step_batch(self) -> None:
        """One mini-batch (the worker pauses first if running), shown live."""
        self.model.set_probe(None)
        self.model.set_running(False)
        self.window.worker.step_batch()

    def step_phase(self) -> None:
        """One phase of backpropagation (the worker pauses first if running), shown live."""
        self.model.set_probe(None)
        self.model.set_running(False)
        self.window.worker.step_phase()

    def stopped(self) -> None:
        """Training stopped without being asked (its process died): Run says so."""
        self.model.set_running(False)

    def follow(self, snapshot: Snapshot) -> None:
        """What the window learns from a snapshot it draws: the worker's messages
        (divergence), and a run that stopped by itself with one."""
        worker = self.window.worker
        stopped_by_itself = (
            self.model.running
            and snapshot.message
            and not worker.running
            and worker.serial > self._run_serial
        )
        if stopped_by_itself:
            self.model.set_running(False)
        if snapshot.message and snapshot.message != self._message:
            self._say(snapshot.message, 15000)
            if not snapshot.running:
                show_message(self.window, "Training stopped", snapshot.message)
        self._message = snapshot.message

    def reset(self, config: SessionConfig | None = None) -> None:
        """Start again from fresh parameters with ``config`` (default: the model's)."""
        previous = self.model.config
        if config is not None:
            self.apply_config(config)
        self.model.set_running(False)
        try:
            self.window.worker.reset(config=self.model.config)
        except ValueError as exc:  # e.g. a batch size larger than the data now chosen
            self.apply_config(previous)
            self._say(f"Not reset: {exc}")
            show_message(self.window, "Reset", f"Could not reset: {exc}")
            return
        self.model.set_probe(None)  # an example shown was computed on the old network
        self._say(f"Reset: network {'-'.join(map(str, self.model.config.sizes))}", 4000)

    def edit_network(self) -> None:
        """The network & cost dialog; accepting resets with the new configuration."""
        dialog = NetworkDialog(self.model.config, self.window)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.reset(dialog.config())

    # --- settings ---

    def apply_config(self, config: SessionConfig) -> None:
        """Remember ``config`` for the next reset (and in the settings)."""
        self.model.set_config(config)
        store.save_config(self.window.settings, config)

    def set_eta(self, eta: float | str) -> bool:
        """Use ``eta`` (a number, or text as typed) from the next update on; when
        ``bpviz.session.limits`` refuses it, say why and show the η in force."""
        w = self.window
        if w.closed:
            return False
        try:
            eta = limits.parse_eta(eta) if isinstance(eta, str) else limits.check_eta(eta)
            eta = w.worker.set_eta(eta)  # acknowledged with the η accepted
        except ValueError as exc:
            w.eta.set_eta(self.model.eta)  # the field shows the η in force again
            self._say(f"η not changed: {exc}")
            show_message(w, "Learning rate η", str(exc))
            return False
        self.apply_config(replace(self.model.config, eta=eta))
        w.eta.set_eta(eta)  # as the rule wrote it (also when η was already in force)
        return True

    def set_pace(self, pace: float | None, *, remember: bool = True) -> None:
        """Train at ``pace`` mini-batches per second (None: full speed), every phase
        shown if ``pacing.is_animated(pace)``; ``remember``: the pace for the next launch
        too (``--pace`` is for one run). ValueError if ``pacing.check_pace`` refuses it."""
        pace = pacing.check_pace(pace)
        if pace is not None:
            self._slow_pace = pace
        bar = self.window.statusBar()
        if bar.currentMessage() == pacing.welcome(self.model.pace):
            bar.showMessage(pacing.welcome(pace), 0)  # the first launch's words follow
        self.model.set_pace(pace)
        self.send_pace(self.window.worker)
        if remember:
            store.save_pace(self.window.settings, pace)

    def choose_pace(self, pace: float | None) -> None:
        """The pace control or the Full speed key (Ctrl+F): use ``pace`` and say what it does."""
        self.set_pace(pace)
        self._say(f"Pace: {pacing.describe(pace, self.model.config.n_layers)}", 6000)

    def toggle_full_speed(self, on: bool) -> None:
        """Full speed (Ctrl+F) on, or back to the slower pace used before (else the default)."""
        self.choose_pace(None if on else self._slow_pace)

    def send_pace(self, worker) -> None:
        """Tell ``worker`` the model's pace (a new training process needs it too)."""
        pace = self.model.pace
        worker.set_pace(pace, pacing.is_animated(pace))

    def n_train(self) -> int:
        """The number of training examples of the data the window trains on."""
        return int(self.window.dataset.train_images.shape[0])

    def set_batch_size(self, m: int | str) -> bool:
        """Remember the batch size m (a number, or text as typed) for the next reset; when
        ``limits.check_batch_size`` refuses it, say why and show the batch size in force."""
        if isinstance(m, str):
            with contextlib.suppress(ValueError):  # else check_batch_size says what is wrong
                m = int(m.replace(",", "").strip())  # "4,000" as the status bar writes it
        try:
            m = limits.check_batch_size(m, self.n_train())
        except ValueError as exc:
            self.window.batch.set_batch_size(self.model.batch_size)
            self._say(f"Batch size not changed: {exc}")
            show_message(self.window, "Batch size", str(exc))
            return False
        self.apply_config(replace(self.model.config, batch_size=m))
        self.window.batch.set_batch_size(m)
        self._say(f"Batch size m = {m:,} applies on Reset (Ctrl+R)", 5000)
        return True

    # --- data ---

    def set_data_source(self, choice: str | None) -> bool:
        """Train on ``choice`` (None: best available; see ``bpviz.data.resolve_source``)."""
        w = self.window
        if choice in toy_data.TOY_TITLES:
            return self.set_toy_data(choice)
        try:
            dataset, description = resolve_source(choice)
            toy_data.switch_data(self, dataset, description, choice)
        except (DataError, ValueError) as exc:
            show_message(w, "Data source", str(exc))
            return False
        if self.toy is not None:
            toy_data.show_plane(self, False)
        self.toy = None
        store.save_data_choice(w.settings, choice)
        self._say(f"Data: {description}", 5000)
        return True

    def set_toy_data(self, name: str, **options) -> bool:
        """Train on toy set ``name`` (``options``: noise, seed, n_train, n_test, as typed
        or numbers; default the set's) with its own network, η and batch size 1."""
        try:
            chosen = toy_data.ToyOptions.checked(name, **options)
        except ValueError as exc:
            show_message(self.window, "Toy 2-D data", str(exc))
            return False
        return toy_data.use_toy(self, chosen)

    def opened_on(self, choice: str | None, stored: SessionConfig) -> None:
        """The window opened on data ``choice`` with ``stored`` the saved configuration:
        a toy set's settings are its defaults; a saved MNIST network is come back to."""
        if choice in toy_data.TOY_TITLES:
            self.toy = toy_data.ToyOptions.checked(choice)
            QTimer.singleShot(0, lambda: toy_data.show_plane(self, True))
            if not toy_data.is_toy(stored):
                self.mnist_config = stored

    def toy_settings(self) -> toy_data.ToyDialog:
        """The Toy data settings dialog (set, noise, seed, split); OK trains on them."""
        current = self.toy or toy_data.ToyOptions.checked("moons")
        dialog = self.toy_dialog = toy_data.ToyDialog(current, self.window)
        dialog.chosen.connect(lambda options: toy_data.use_toy(self, options))
        dialog.open()
        return dialog

    def export_worked_example(self, path: str | None = None) -> str | None:
        """One training step with every number, as .md, .tex or .json (by the suffix)."""
        return toy_data.export_worked_example(self, path)

    def choose_folder(self) -> bool:
        """Ask for a folder of MNIST IDX files and train on it."""
        folder = QFileDialog.getExistingDirectory(self.window, "Folder with MNIST IDX files")
        return bool(folder) and self.set_data_source(folder)

    def download_mnist(self, download=None) -> DownloadDialog:
        """Download the full MNIST with a cancellable progress dialog, then train on it.

        ``download(progress=…, cancel=…) -> folder`` defaults to ``bpviz.data.download_mnist``
        (the official mirrors, into the user's data folder)."""
        w = self.window
        dialog = DownloadDialog(download or fetch_mnist, w)
        dialog.succeeded.connect(lambda path: self.set_data_source(str(path)))
        dialog.failed.connect(
            lambda text: (
                self._say("Download cancelled", 5000)
                if text == "cancelled"
                else show_message(w, "Download full MNIST", f"The download failed: {text}")
            )
        )
        self.download = dialog
        dialog.start()
        return dialog

    # --- files (bpviz/ui/session_menus.py does the work) ---

    def export_snapshot(self, folder: str | None = None):
        return files.export_snapshot(self.window, folder)

    def save_session(self, path: str | None = None) -> str | None:
        return files.save_session(self.window, path)

    def open_session(self, path: str | None = None) -> bool:
        """Open a saved session; the model takes its configuration and η."""
        opened = files.open_session(self.window, path)
        if opened is None:
            return False
        self.model.set_probe(None)  # another session: show it
        config, eta = opened
        self.apply_config(replace(config, eta=eta))
        self.window.eta.set_eta(eta)
        self.window.batch.set_batch_size(config.batch_size)
        return True

    # --- one example: shown (a probe), or trained on ---

    def show_probe(self, snapshot: Snapshot) -> None:
        """Show ``snapshot`` (one example's pass, ``bpviz.session.probe``) in every view
        instead of the session's, until ``go_live`` (Run, Step, Reset, new data or a
        session opened also go live)."""
        self.model.set_probe(snapshot)

    def go_live(self) -> None:
        """Show the training session again."""
        self.model.set_probe(None)

    def train_on(self, x: np.ndarray, label: int) -> bool:
        """One update W ← W − η ∂C/∂W on the example x ``(n_0,)`` alone, labelled
        ``label`` (the drawing pad's "train on it"), shown live; False, with the reason in
        the status bar, if the worker refuses it (a shape or label that does not fit, an
        update that diverged, a stopped worker)."""
        self.go_live()
        try:
            self.window.worker.train_on(np.asarray(x)[None, :], np.array([label]))
        except (ValueError, RuntimeError) as error:  # RemoteError is a RuntimeError
            self._say(f"Could not train on it: {error}")
            return False
        return True

    # --- selection and pins ---

    def select(self, l: int, i: int, j: int | None) -> None:
        """Select wᵢⱼˡ (j None or −1: the bias bᵢˡ) in every view that can show it;
        ValueError when the network on screen has no such parameter."""
        j = None if j is None or j < 0 else j
        latest = self.window.latest  # the network on screen (the model's is the next one)
        shown = latest.config.sizes if latest is not None else self.model.config.sizes
        Selection(l, i, j).check(shown)
        self.model.select((l, i, j))

    def select_quietly(self, l: int, i: int, j: int) -> None:
        """A click from a view drawn before a reset may name a parameter that no longer
        exists: ignore it rather than raise inside a slot."""
        with contextlib.suppress(ValueError):
            self.select(l, i, j)

    def pin(self, l: int, i: int, j: int, pinned: bool) -> None:
        """Watch (or stop watching) wᵢⱼˡ every step."""
        self.model.pin(l, i, j, pinned)
        if pinned:
            self.window.worker.add_watch(l, i, j)
        else:
            self.window.worker.remove_watch(l, i, j)

    def show_panels(self) -> None:
        """Raise the equation panel, then the inspector (in front when they share tabs)."""
        for key in ("equations", "inspector"):
            dock = self.window.docks[key]
            dock.show()
            dock.raise_()

    def check_gradient(self) -> None:
        """The numeric check of the selected weight's gradient (key g)."""
        self.show_panels()
        self.window.views["inspector"].check_selected()

    def check_layer(self) -> None:
        """The numeric check of ~100 sampled parameters of the selected layer."""
        self.show_panels()
        self.window.views["inspector"].check_layer()

    # --- recording, help ---

    def start_recording(self, key: str | None = None, path: str | None = None) -> bool:
        """Record the window (``key`` None) or one view into ``path`` (asked when None)."""
        return files.start_recording(self.window, key, path)

    def stop_recording(self) -> None:
        self.window.recorder.stop()

    def show_help(self) -> help_page.HelpDialog:
        """Open the help page (again, freshly generated, if it is open already)."""
        self.help_dialog = help_page.show_help(self.window, self.help_dialog)
        return self.help_dialog
