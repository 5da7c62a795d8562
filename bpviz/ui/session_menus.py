"""What File ▸ Export snapshot… / Save session… / Open session… / Open recent and the
Record menu do (``bpviz/ui/menus.py`` builds the menus; the controller calls these).

The session lives with the worker (a thread, or a child process with ``RemoteWorker``):
saving and opening run there through ``with_session`` while training is paused, so the
file always holds a consistent state. Opening checks the whole file first; a bad one
(a FIFO or a device is refused before it is read) gives a message and leaves the
session as it was — running, if it was.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QFileDialog, QMenu

from bpviz.files import checkpoint
from bpviz.session.snapshot import SessionConfig
from bpviz.ui.dialogs import show_message
from bpviz.ui.export import ExportError, export_bundle

if TYPE_CHECKING:
    from bpviz.ui.window_api import Window

RECENT_KEY = "session/recent"
RECENT_MAX = 8
EXPORT_DIR_KEY = "export/folder"
SESSION_FILTER = "bpviz session (*.npz)"
RECORD_FILTERS = "Animated GIF (*.gif);;MP4 video (*.mp4);;Numbered PNG frames (*)"


def with_session(worker, fn, *args):
    """``fn(session, *args)`` where the session lives, training paused; its result."""
    return worker.with_session(fn, *args)


def _in_session(w: Window, fn, *args):
    """``with_session`` for a quick look (export, save): training that ran, or that the
    user asked to run, goes on afterwards (``Controller.running_on``, the one door)."""
    with w.controller.running_on():
        return with_session(w.worker, fn, *args)


def _say(w: Window, text: str) -> None:
    w.statusBar().showMessage(text, 8000)


# --- export ---


def export_snapshot(w: Window, folder: str | None = None):
    """Write a bundle of what the window shows now into ``folder`` (asked when None)."""
    snapshot = w.model.probe or w.worker.latest()
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
        if not w.model.probe:  # the loss of every step up to the one shown
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


def recent_files(w: Window) -> list[str]:
    value = w.settings.value(RECENT_KEY, [])
    if isinstance(value, str):
        value = [value]
    return [str(v) for v in value or []]


def _remember(w: Window, path: str) -> None:
    paths = [path, *(p for p in recent_files(w) if p != path)][:RECENT_MAX]
    w.settings.setValue(RECENT_KEY, paths)


def save_session(w: Window, path: str | None = None) -> str | None:
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


def open_session(w: Window, path: str | None = None) -> tuple[SessionConfig, float] | None:
    """Open the session in ``path`` (asked when None): its configuration and η; None,
    with a message and the current session unchanged, if the file cannot be used."""
    if path is None:
        start = str(Path(recent_files(w)[0]).parent) if recent_files(w) else str(Path.home())
        path, _ = QFileDialog.getOpenFileName(w, "Open session", start, SESSION_FILTER)
        if not path:
            return None
    try:
        config, eta = with_session(w.worker, checkpoint.open_session_from, path)
    except (checkpoint.CheckpointError, OSError, RuntimeError) as error:
        show_message(w, "Open session", f"Could not open the session.\n\n{error}")
        return None
    _remember(w, path)
    _say(w, f"Opened {path}")
    return config, eta


def fill_recent(w: Window, menu: QMenu, open_path) -> None:
    """The Open recent submenu: one entry per remembered file, ``open_path(path)``."""
    menu.clear()
    paths = recent_files(w)
    for path in paths:
        menu.addAction(Path(path).name, lambda p=path: open_path(p)).setToolTip(path)
    if not paths:
        menu.addAction("(none yet)").setEnabled(False)


# --- recording ---


def start_recording(w: Window, key: str | None = None, path: str | None = None) -> bool:
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
    _say(w, f"Recording {'the window' if key is None else key} to {out} …")
    return True


def recording_finished(w: Window, path: str, frames: int) -> None:
    _say(w, f"Recording saved: {path} ({frames} frames)")


def finish_on_quit(w: Window) -> None:
    """Closing while recording: finish the file rather than leave ffmpeg running."""
    if w.recorder.busy:
        w.recorder.stop()
        w.recorder.wait(10_000)
