"""The main window: docks built from one list, the toolbar, menus, and the frame timer.

Everything the window holds is made in ``__init__``: the ``WindowModel`` (what it is set
to, without Qt), the ``Controller`` that every control, menu and view calls, the docks
(``bpviz/ui/docks.py``: adding a panel is one ``DockSpec``), the menus (all built by
``bpviz/ui/menus.py``) and the toolbar. Each frame draws the worker's newest snapshot
(or the probe an example pinned) in the views that can be seen.
"""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QGuiApplication, QShowEvent
from PySide6.QtWidgets import QDockWidget, QMainWindow, QMenu, QWidget

from bpviz.data.dataset import Dataset
from bpviz.session.snapshot import SessionConfig, Snapshot
from bpviz.ui import controls_wiring, inspect_wiring, pacing
from bpviz.ui import settings as store
from bpviz.ui.child_watch import ChildWatch
from bpviz.ui.controller import Controller
from bpviz.ui.controls import BatchSizeControl, EtaControl, PaceControl, build_toolbar, make_actions
from bpviz.ui.controls_status import TrainingStatus
from bpviz.ui.diagnosis_banner import DiagnosisBanner
from bpviz.ui.dialogs import show_message
from bpviz.ui.docks import CLASS_NAMED, DOCKS, DRAWS_SNAPSHOTS, SELECTING, DockSpec
from bpviz.ui.menus import HELP, build_menus
from bpviz.ui.model import WindowModel
from bpviz.ui.recorder import Recorder
from bpviz.ui.session_menus import finish_on_quit, recording_finished
from bpviz.ui.views._base import SnapshotView
from bpviz.ui.views.explore import Explorer

__all__ = ["DOCKS", "DockSpec", "MainWindow", "on_screen"]

FRAME_MARGIN = (24, 56)  # room for the window manager's frame and title bar, in pixels
MAX_SIZE = (2400, 1400)  # on a very large screen, a window one can still take in
FALLBACK_SIZE = (1340, 700)  # no screen known (should not happen)
# status fields a message may cover, least needed first (the phase and step stay longest)
STATUS_YIELD = ("rate", "accuracy", "source", "epoch", "loss", "eta", "step", "phase")
STATUS_PAD = 12  # pixels around each field and the message
FRAME_MS = 20  # at most 50 repaints a second: enough to watch, cheap on the GIL
ANIMATE_FRAME_MS = 12  # while a phase plays (animated pace, a . step): ≥ 50 frames/s, with room
HURRY_MS, HURRY_S = 4, 0.12  # after a step key: look for its phase every 4 ms for 0.12 s


def on_screen(widget: QWidget) -> bool:
    """Whether any of ``widget`` can be seen: not hidden, not behind another dock's tab
    (Qt 6 keeps such tabs "visible"), not in a minimised window."""
    return widget.isVisible() and not widget.visibleRegion().isEmpty()


class MainWindow(QMainWindow):
    """Docks, toolbar and menus. ``worker`` trains; each frame draws ``worker.latest()``
    (or the model's probe); ``model`` is what the window is set to, ``controller`` what
    every control calls."""

    snapshot_shown = Signal(object)  # after every repaint, with the snapshot drawn

    def __init__(
        self, worker, config: SessionConfig, dataset: Dataset, source: str, settings: QSettings
    ) -> None:
        super().__init__()
        self.setObjectName("bpviz_main")
        self.setWindowTitle("bpviz — backpropagation, live")
        self.setDockNestingEnabled(True)
        self.worker = worker
        self.settings = settings
        self.dataset = dataset  # what the worker trains on
        self.model = WindowModel(config, store.load_data_choice(settings))
        self.controller = Controller(self, self.model)
        self.frames = 0  # repaints so far (benchmarks read it)
        self.animation_frames = 0  # frame-clock ticks that called the views' animate()
        self.phase_clock = pacing.PhaseClock()  # how far the phase on screen has played
        self._hurry_until = 0.0  # a step was asked: its phase is drawn as soon as it comes
        self._animated_at = 0.0  # when the views were last handed a progress
        self.latest: Snapshot | None = None
        self.views: dict[str, QWidget] = {}
        self.docks: dict[str, QDockWidget] = {}
        self._menus: dict[str, QMenu] = {}
        self.closed = False
        self.script_status = 0  # the exit status of a scripted run (bpviz/ui/app.py)

        self.act = make_actions(self)
        self.pace = PaceControl()
        self.eta = EtaControl()
        self.batch = BatchSizeControl()
        self.addToolBar(build_toolbar(self, self.act, self.pace, self.eta, self.batch))
        self.status = TrainingStatus(self.statusBar())
        self.statusBar().messageChanged.connect(self._make_room)
        self.status.set_source(source)
        self.recorder = Recorder(self)
        self.explorer = Explorer(self)  # shows one example's pass (evaluation, drawing pad)
        for spec in DOCKS:
            self.add_dock(spec)
        self.set_class_names(dataset.class_names)
        self.menus = build_menus(self, self.controller)
        controls_wiring.connect(self, self.controller)
        for act in (self.act.step_phase, self.act.step_batch):
            act.triggered.connect(self._hurry)
        inspect_wiring.connect(self, self.controller)
        self.model.events.connect(self._model_changed)
        self.recorder.finished.connect(lambda path, n: recording_finished(self, path, n))
        self.recorder.failed.connect(lambda message: self._recording_failed(message))
        self.eta.set_eta(config.eta)
        self.batch.set_batch_size(config.batch_size)
        first_launch = not store.has_pace(settings)
        self.pace.set_pace(store.load_pace(settings))  # a first launch: pacing.DEFAULT
        self.controller.set_pace(self.pace.pace())
        controls_wiring.reflect(self, "pace", self.model.pace)  # None emits no change
        self.child_watch = ChildWatch(self, self.controller)  # says when the training process dies
        self.stuck = DiagnosisBanner(self)  # says when training is stuck, why, what to try

        self.fit_screen()
        self.arrange_default()  # again once shown, when the docks have real sizes
        self.default_state: QByteArray | None = None  # set once shown (docks need a size)
        geometry, self._saved_state = store.load_layout(settings)
        if geometry is not None:
            self.restoreGeometry(geometry)
        if self._saved_state is not None:
            self.restoreState(self._saved_state)
        self._timer = QTimer(self, interval=FRAME_MS)
        self._timer.timeout.connect(lambda: self.refresh(later=True))
        self._timer.start()
        if first_launch:  # a newcomer: say at once that Space starts it
            self.statusBar().showMessage(pacing.welcome(self.model.pace), 0)
        app = QGuiApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(lambda: finish_on_quit(self))
        # the keyboard starts with the window (its keys: Space, →, . …), not with the first
        # control Tab reaches — the pace slider, whose own keys include →
        self.setFocus(Qt.FocusReason.OtherFocusReason)

    # --- what the model holds, as the window's (read-only) ---

    @property
    def config(self) -> SessionConfig:
        """The configuration the next reset uses (η and m in force)."""
        return self.model.config

    @property
    def data_choice(self) -> str | None:
        return self.model.data_choice

    @property
    def selection(self) -> tuple[int, int, int | None] | None:
        """The selected parameter (l, i, j), j None for the bias; or None."""
        return self.model.selection

    @property
    def pinned(self) -> Snapshot | None:
        """The probe snapshot shown instead of the worker's (an example), or None."""
        return self.model.probe

    def _model_changed(self, name: str, value: Any) -> None:
        if name == "selection" and value is not None:
            for widget in self.views.values():
                if isinstance(widget, SELECTING):
                    widget.set_selection(*value)
        elif name == "probe":
            self.refresh()

    def _recording_failed(self, message: str) -> None:
        show_message(self, "Record", message)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self.default_state is None:
            QTimer.singleShot(0, self._first_layout)

    def _first_layout(self) -> None:
        self.arrange_default()
        self.default_state = self.saveState()
        if self._saved_state is not None:
            self.restoreState(self._saved_state)

    def fit_screen(self) -> None:
        """Size the window to the screen it is on (its available area less room for the
        window frame), centred; a saved geometry, restored after this, wins."""
        screen = self.screen() or QGuiApplication.primaryScreen()
        if screen is None:
            self.resize(*FALLBACK_SIZE)
            return
        area = screen.availableGeometry()
        width = min(area.width() - FRAME_MARGIN[0], MAX_SIZE[0])
        height = min(area.height() - FRAME_MARGIN[1], MAX_SIZE[1])
        self.resize(width, height)
        self.move(area.center().x() - self.width() // 2, area.top() + FRAME_MARGIN[1] // 4)

    def arrange_default(self) -> None:
        """Network | Input and output on top, δ | ∂C/∂W | loss below, in proportion to
        the window: the network view gets the largest share of the width and the top
        row the larger share of the height."""
        horizontal, vertical = Qt.Orientation.Horizontal, Qt.Orientation.Vertical
        top = [self.docks[k] for k in ("network", "io")]
        bottom = [self.docks[k] for k in ("delta", "gradients", "loss")]
        width, height = self.width(), self.height()
        self.resizeDocks(top, [round(0.56 * width), round(0.44 * width)], horizontal)
        self.resizeDocks([top[0], bottom[0]], [round(0.55 * height), round(0.45 * height)],
                         vertical)  # fmt: skip
        self.resizeDocks(bottom, [round(0.3 * width), round(0.39 * width), round(0.31 * width)],
                         horizontal)  # fmt: skip

    def _make_room(self, message: str) -> None:
        """Hide status fields (least needed first) while ``message`` would not fit beside
        them, so a message is never cut mid-word; all come back when it is cleared."""
        bar, labels = self.statusBar(), self.status.labels
        for label in labels.values():
            label.setVisible(True)
        bar.setToolTip(message)  # the whole text, should even the bare bar be too narrow
        if not message:
            return
        need = bar.fontMetrics().horizontalAdvance(message) + STATUS_PAD
        for key in (k for k in STATUS_YIELD if k in labels):
            shown = [lb for lb in labels.values() if not lb.isHidden()]
            used = sum(max(lb.sizeHint().width(), lb.minimumWidth()) for lb in shown)
            if bar.width() - used - STATUS_PAD * len(shown) >= need:
                break
            labels[key].hide()

    def add_dock(self, spec: DockSpec) -> QDockWidget:
        """Create ``spec``'s widget in a dock (tabbed with ``spec.tab_with`` if given)."""
        widget = spec.make(self)
        dock = QDockWidget(spec.title, self)
        dock.setObjectName(f"dock_{spec.key}")
        dock.setWidget(widget)
        dock.setToolTip(spec.tooltip)
        dock.toggleViewAction().setStatusTip(f"Show or hide: {spec.tooltip}")
        if spec.tab_with in self.docks:
            self.tabifyDockWidget(self.docks[spec.tab_with], dock)
            self.docks[spec.tab_with].raise_()  # the first of a tab group stays in front
        else:
            self.addDockWidget(spec.area, dock)
        if isinstance(widget, SnapshotView):
            widget.example_changed.connect(self.select_example)
        if isinstance(widget, DRAWS_SNAPSHOTS):  # a tab brought to the front catches up
            dock.visibilityChanged.connect(lambda shown: shown and self._catch_up(widget))
        self.views[spec.key] = widget
        self.docks[spec.key] = dock
        return dock

    def menu(self, title: str) -> QMenu:
        """The top-level menu called ``title`` (e.g. ``"&File"``), created on first use;
        Help stays the last menu (a menu made after it goes before it)."""
        if title not in self._menus:
            bar, help_menu = self.menuBar(), self._menus.get(HELP)
            # made here with the window as parent: a menu made by bar.addMenu(title) can
            # be deleted when a wrapper of it from QAction.menu() is collected (PySide6)
            self._menus[title] = menu = QMenu(title, self)
            if help_menu is None:
                bar.addMenu(menu)
            else:
                bar.insertMenu(help_menu.menuAction(), menu)
        return self._menus[title]

    def refresh(self, *, later: bool = False) -> bool:
        """One frame: draw the newest snapshot in every visible view (paused, in every
        view: ``later``, as the frame clock asks, those out of sight once this frame is
        painted), and move the phase that plays (``animate``); False if nothing was new."""
        snapshot = self.model.probe or self.worker.latest()
        if snapshot is None or snapshot is self.latest:
            self.animate()
            return False
        previous, self.latest = self.latest, snapshot
        behind = []  # paused (or the first frame): views out of sight, drawn after the paint
        for widget in self.views.values():  # while running, only what can be seen
            if not isinstance(widget, DRAWS_SNAPSHOTS):
                continue
            if on_screen(widget):
                widget.show_snapshot(snapshot)
            elif not snapshot.running or self.frames == 0:
                behind.append(widget)
        if behind and later:  # (typesetting the equations takes 0.1-0.5 s: not before)
            QTimer.singleShot(0, self, lambda: self._draw_behind(behind, snapshot))
        elif behind:
            self._draw_behind(behind, snapshot)
        self._play(previous, snapshot)
        self.animate(new=True)  # the first call in the same turn as show_snapshot
        self.status.show_snapshot(snapshot)
        self.controller.follow(snapshot)
        self.frames += 1
        self.snapshot_shown.emit(snapshot)
        return True

    def _play(self, previous: Snapshot | None, snapshot: Snapshot) -> None:
        """Start the phase clock for a phase that just appeared: over the phase's share
        of a mini-batch at an animated pace (``pacing.phase_seconds``), over
        ``pacing.STEP_SECONDS`` for a phase stepped by hand; not at all at a faster pace,
        for a probe, or for the same phase published again (a pause)."""
        same = previous is not None and (previous.step, previous.phase_index) == (
            snapshot.step, snapshot.phase_index)  # fmt: skip
        if snapshot.phase is None or snapshot is self.model.probe or same:
            if not same:
                self.phase_clock.stop()
            return
        if snapshot.running:
            seconds = pacing.phase_seconds(self.model.pace, snapshot.config.n_layers)
        else:
            seconds = pacing.STEP_SECONDS
        if seconds is None:
            self.phase_clock.stop()
        else:
            self.phase_clock.start(time.perf_counter(), seconds)

    def _hurry(self) -> None:
        """A step key was pressed: poll for its phase every ``HURRY_MS`` for a moment, so
        it is on screen within a few milliseconds of being computed, not a frame later."""
        self._hurry_until = time.perf_counter() + HURRY_S
        self.animate()  # sets the interval

    def animate(self, new: bool = False) -> None:
        """Hand every view on screen the progress (0 → 1) of the phase that plays, each
        frame until it reaches 1 (``new``: the phase was just drawn); frames come every
        ``ANIMATE_FRAME_MS`` meanwhile (and while running at an animated pace), every
        ``FRAME_MS`` otherwise."""
        clock, now = self.phase_clock, time.perf_counter()
        due = new or now - self._animated_at >= 0.8 * ANIMATE_FRAME_MS / 1000
        if clock.active and due:  # (not faster than a frame while hurrying)
            self._animated_at = now
            progress = clock.progress(now)
            for widget in self.views.values():
                if isinstance(widget, SnapshotView) and on_screen(widget):
                    widget.animate(progress)
            self.animation_frames += 1
            if progress >= 1.0:
                clock.stop()
        fast = clock.active or (self.model.running and pacing.is_animated(self.model.pace))
        interval = ANIMATE_FRAME_MS if fast else FRAME_MS
        if now < self._hurry_until:
            interval = HURRY_MS
        timer = getattr(self, "_timer", None)  # None: a refresh while the window is made
        if timer is not None and timer.interval() != interval:
            timer.setInterval(interval)

    def _draw_behind(self, widgets: list[SnapshotView], snapshot: Snapshot) -> None:
        """Views out of sight get the paused snapshot too (stepping feeds every view),
        once the frame that shows it is painted; unless a newer one came meanwhile."""
        if snapshot is self.latest and not self.closed:
            for widget in widgets:
                widget.show_snapshot(snapshot)

    def _catch_up(self, widget: SnapshotView) -> None:
        if self.latest is not None:
            widget.show_snapshot(self.latest)

    def select_example(self, index: int) -> None:
        """Show example ``index`` of the mini-batch (−1: batch mean) in every view."""
        for widget in self.views.values():
            if isinstance(widget, SnapshotView):
                widget.set_example(index)

    def set_class_names(self, names: tuple[str, ...]) -> None:
        """Label output neurons with the data set's class names."""
        for widget in self.views.values():
            if isinstance(widget, CLASS_NAMED):
                widget.set_class_names(names)

    def apply_config(self, config: SessionConfig) -> None:
        """Remember ``config`` for the next reset (and in the settings)."""
        self.controller.apply_config(config)

    def use_dataset(self, dataset: Dataset, description: str) -> None:
        """Train on ``dataset`` from now on (the worker has it already): the batch size's
        maximum, the class names and the status bar follow."""
        self.dataset = dataset
        self.batch.set_maximum(int(dataset.train_images.shape[0]))
        self.set_class_names(dataset.class_names)
        self.status.set_source(description)

    def use_worker(self, worker) -> None:
        """Train with ``worker`` from now on (a restarted training process); its first
        snapshot is drawn afresh."""
        self.worker = worker
        self.latest = None

    def set_script_status(self, status: int) -> None:
        """The exit status a scripted run ends with (``bpviz --screenshot …``)."""
        self.script_status = status

    def shutdown(self) -> None:
        """Stop painting, the worker and any download; safe to call twice."""
        if self.closed:
            return
        self.closed = True
        self._timer.stop()
        self.child_watch.close()
        if self.controller.download is not None:
            self.controller.download.shutdown()
        self.worker.stop()

    def closeEvent(self, event: QCloseEvent) -> None:
        store.save_layout(self.settings, self.saveGeometry(), self.saveState())
        self.settings.sync()
        self.shutdown()
        super().closeEvent(event)
