"""File ▸ Export snapshot… / Save session… / Open session… / Open recent, and the Record menu.

The session lives with the worker (a thread, or a child process with ``RemoteWorker``):
saving and opening run there through ``with_session`` while training is paused, so the
file always holds a consistent state. Opening checks the whole file first; a bad one
(a FIFO or a device is refused before it is read) gives a message and leaves the
session as it was — running, if it was.
"""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QApplication, QFileDialog, QMenu

from bpviz.files import checkpoint
from bpviz.ui import controls_wiring as wiring
from bpviz.ui.actions import make_action
from bpviz.ui.dialogs import show_message
from bpviz.ui.export import ExportError, export_bundle
from bpviz.ui.recorder import Recorder

if TYPE_CHECKING:
    from bpviz.ui.main_window import MainWindow

RECENT_KEY = "session/recent"
RECENT_MAX = 8
EXPORT_DIR_KEY = "export/folder"
SESSION_FILTER = "bpviz session (*.npz)"
RECORD_FILTERS = "Animated GIF (*.gif);;MP4 video (*.mp4);;Numbered PNG frames (*)"


def with_session(worker, fn, *args):
    """``fn(session, *args)`` where the session lives, training paused; its result."""
    return worker.with_session(fn, *args)


def _running(w: MainWindow) -> bool:
    """Training runs (or the Run button says so, or a look just now resumed it)."""
    running = bool(w.worker.running) or w.act.run.isChecked()
    return running or time.monotonic() - getattr(w, "_resumed_at", -1e9) < wiring.GRACE


def _resume(w: MainWindow) -> None:
    """Training goes on after ``with_session`` paused it."""
    w._resumed_at = time.monotonic()
    if w.act.run.isChecked():
        wiring.run(w, True)
    else:
        w.act.run.setChecked(True)  # the Run button follows; it starts the run


def _in_session(w: MainWindow, fn, *args):
    """``with_session`` for a quick look (export, save): training that was running (or
    that the Run button says is running, or that a look just now resumed) goes on."""
    running = _running(w)
    try:
        return with_session(w.worker, fn, *args)
    finally:
        if running:
            _resume(w)


def _say(w: MainWindow, text: str) -> None:
    w.statusBar().showMessage(text, 8000)


# --- export ---


def export_snapshot(w: MainWindow, folder: str | None = None):
    """Write a bundle of what the window shows now into ``folder`` (asked when None)."""
    snapshot = w.pinned or w.worker.latest()
    if snapshot is None:
        show_message(w, "Export snapshot", "There is nothing to export yet.")
        return None
    if folder is None:
        start = w.settings.value(EXPORT_DIR_KEY, str(Path.home()))
        folder = QFileDialog.getExistingDirectory(w, "Export snapshot into folder", start)
        if not folder:
            return None
    try:
        losses = None
        if not w.pinned:  # the loss of every step up to the one shown
            losses = _in_session(w, checkpoint.loss_per_step)
            losses = losses[: snapshot.step]
        report = export_bundle(
            folder,
            snapshot,
            window=w,
            views=w.views,
            data_source=w.dataset.source,
            loss_per_step=losses,
        )
    except (OSError, ExportError, RuntimeError) as error:
        show_message(w, "Export snapshot", f"Could not export: {error}")
        return None
    w.settings.setValue(EXPORT_DIR_KEY, folder)
    _say(w, f"Exported {len(report.files)} files to {report.folder}")
    return report


# --- sessions ---


def recent_files(w: MainWindow) -> list[str]:
    value = w.settings.value(RECENT_KEY, [])
    if isinstance(value, str):
        value = [value]
    return [str(v) for v in value or []]


def _remember(w: MainWindow, path: str) -> None:
    paths = [path, *(p for p in recent_files(w) if p != path)][:RECENT_MAX]
    w.settings.setValue(RECENT_KEY, paths)


def save_session(w: MainWindow, path: str | None = None) -> str | None:
    """Save the session into ``path`` (asked when None); the path, or None."""
    if path is None:
        default = str(Path.home() / f"bpviz-{datetime.now():%Y%m%d-%H%M}.npz")
        path, _ = QFileDialog.getSaveFileName(w, "Save session", default, SESSION_FILTER)
        if not path:
            return None
        if not path.endswith(checkpoint.SUFFIX):
            path += checkpoint.SUFFIX
    try:
        _in_session(w, checkpoint.save_session_to, path)
    except (checkpoint.CheckpointError, OSError, RuntimeError) as error:
        show_message(w, "Save session", f"Could not save the session: {error}")
        return None
    _remember(w, path)
    _say(w, f"Session saved to {path}")
    return path


def open_session(w: MainWindow, path: str | None = None) -> bool:
    """Open the session in ``path`` (asked when None); False, with a message and the
    current session unchanged, if the file cannot be used."""
    if path is None:
        start = str(Path(recent_files(w)[0]).parent) if recent_files(w) else str(Path.home())
        path, _ = QFileDialog.getOpenFileName(w, "Open session", start, SESSION_FILTER)
        if not path:
            return False
    running = _running(w)
    try:
        config, eta = with_session(w.worker, checkpoint.open_session_from, path)
    except (checkpoint.CheckpointError, OSError, RuntimeError) as error:
        if running:  # the file was refused: the session it was running goes on
            _resume(w)
        show_message(w, "Open session", f"Could not open the session.\n\n{error}")
        return False
    w.apply_config(config)
    w.eta.set_eta(eta)
    w.batch.set_batch_size(config.batch_size)
    _remember(w, path)
    _say(w, f"Opened {path}")
    return True


def _fill_recent(w: MainWindow, menu: QMenu) -> None:
    menu.clear()
    paths = recent_files(w)
    for path in paths:
        menu.addAction(Path(path).name, lambda p=path: open_session(w, p)).setToolTip(path)
    if not paths:
        menu.addAction("(none yet)").setEnabled(False)


def build_session_actions(w: MainWindow) -> None:
    """File: Export snapshot…, Save session…, Open session…, Open recent — before Quit."""
    menu = w.menu("&File")
    quit_action = next((a for a in menu.actions() if a.text() == "Quit"), None)
    actions = [
        make_action(w, "Export snapshot…", "PNG of the window and of each view, SVG of each plot, "
                "the snapshot's arrays (state.npz), metrics.csv and snapshot.json",
                lambda: export_snapshot(w), "Ctrl+E"),
        make_action(w, "Save session…", "Parameters, η, step, epoch, data order, history and "
                "watches in one file, to continue later exactly where you stopped",
                lambda: save_session(w), "Ctrl+S"),
        make_action(w, "Open session…", "Continue a saved session (the data source must be the "
                "one it was saved with)", lambda: open_session(w), "Ctrl+O"),
    ]  # fmt: skip
    recent = QMenu("Open recent", w)
    recent.aboutToShow.connect(lambda: _fill_recent(w, recent))
    w.recent_menu = recent
    before = quit_action
    if quit_action is not None:  # insert before the separator above Quit
        index = menu.actions().index(quit_action)
        previous = menu.actions()[index - 1] if index else None
        before = previous if previous is not None and previous.isSeparator() else quit_action
    for act in actions:
        menu.insertAction(before, act)
    menu.insertMenu(before, recent)
    menu.insertSeparator(before)
    w.export_action, w.save_action, w.open_action = actions


# --- recording ---


def start_recording(w: MainWindow, key: str | None = None, path: str | None = None) -> bool:
    """Record the window (``key`` None) or the view ``w.views[key]`` into ``path``."""
    target = w if key is None else w.views[key]
    if path is None:
        default = str(Path.home() / f"bpviz-{datetime.now():%Y%m%d-%H%M%S}.gif")
        path, _ = QFileDialog.getSaveFileName(w, "Record to", default, RECORD_FILTERS)
        if not path:
            return False
    try:
        out = w.recorder.start(target, path, fps=10.0)
    except (OSError, ValueError, RuntimeError) as error:
        show_message(w, "Record", f"Could not start recording: {error}")
        return False
    w.stop_record_action.setEnabled(True)
    _say(w, f"Recording {'the window' if key is None else key} to {out} …")
    return True


def stop_recording(w: MainWindow) -> None:
    w.recorder.stop()
    w.stop_record_action.setEnabled(False)


def _finished(w: MainWindow, path: str, frames: int) -> None:
    w.stop_record_action.setEnabled(False)
    _say(w, f"Recording saved: {path} ({frames} frames)")


def _failed(w: MainWindow, message: str) -> None:
    w.stop_record_action.setEnabled(False)
    show_message(w, "Record", message)


def build_record_menu(w: MainWindow) -> None:
    """Record: the window or one view, as GIF, MP4 or numbered PNGs; Stop."""
    w.recorder = Recorder(w)
    w.recorder.finished.connect(lambda path, n: _finished(w, path, n))
    w.recorder.failed.connect(lambda message: _failed(w, message))
    menu = w.menu("&Record")
    menu.setToolTipsVisible(True)
    menu.addAction(make_action(w, "Record window…", "Capture the whole window, 10 frames a "
                           "second, into a GIF, an MP4 or numbered PNGs",
                           lambda: start_recording(w), "Ctrl+Shift+R"))  # fmt: skip
    views = menu.addMenu("Record view")
    for key, dock in w.docks.items():
        views.addAction(dock.windowTitle(), lambda k=key: start_recording(w, k))
    w.stop_record_action = make_action(w, "Stop recording", "Finish the file",
                                   lambda: stop_recording(w), "Ctrl+Shift+S")  # fmt: skip
    w.stop_record_action.setEnabled(False)
    menu.addAction(w.stop_record_action)
    app = QApplication.instance()
    if app is not None:
        app.aboutToQuit.connect(lambda: _finish_on_quit(w))


def _finish_on_quit(w: MainWindow) -> None:
    """Closing while recording: finish the file rather than leave ffmpeg running."""
    recorder = getattr(w, "recorder", None)
    if recorder is not None and recorder.busy:
        recorder.stop()
        recorder.wait(10_000)
