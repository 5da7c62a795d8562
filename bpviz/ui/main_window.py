"""The main window: docks built from one list, the toolbar, menus, and the frame timer.

Adding a panel: append a ``DockSpec`` to ``DOCKS`` (its ``make(window)`` returns the
widget, and may connect to views made before it via ``window.views[key]``). A widget with
``show_snapshot(snapshot)`` is fed every new snapshot; while training runs, only when
on screen (not behind another tab), plus the latest when its tab comes to the front.
One with ``set_example(i)``/``example_changed`` or ``set_class_names`` joins those too.

Adding a menu action: a builder in ``bpviz/ui/menus.py`` (``MENU_BUILDERS``)
or ``window.menu("&File").addAction(...)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QGuiApplication, QShowEvent
from PySide6.QtWidgets import QDockWidget, QMainWindow, QMenu, QWidget

from bpviz.data.dataset import Dataset
from bpviz.session.snapshot import SessionConfig, Snapshot
from bpviz.ui import controls_wiring as wiring
from bpviz.ui import inspect_wiring
from bpviz.ui import settings as store
from bpviz.ui.child_watch import ChildWatch
from bpviz.ui.controls import BatchSizeControl, EtaControl, PaceControl, build_toolbar, make_actions
from bpviz.ui.controls_status import TrainingStatus
from bpviz.ui.menus import HELP, build_menus
from bpviz.ui.views import explore

LEFT = Qt.DockWidgetArea.LeftDockWidgetArea
RIGHT = Qt.DockWidgetArea.RightDockWidgetArea
BOTTOM = Qt.DockWidgetArea.BottomDockWidgetArea
FRAME_MARGIN = (24, 56)  # room for the window manager's frame and title bar, in pixels
MAX_SIZE = (2400, 1400)  # on a very large screen, a window one can still take in
FALLBACK_SIZE = (1340, 700)  # no screen known (should not happen)
# status fields a message may cover, least needed first (the phase and step stay longest)
STATUS_YIELD = ("rate", "accuracy", "source", "epoch", "loss", "eta", "step", "phase")
STATUS_PAD = 12  # pixels around each field and the message
FRAME_MS = 25  # at most 40 repaints a second: enough to watch, cheap on the GIL


@dataclass(frozen=True)
class DockSpec:
    """One dockable panel: ``key`` names it in the saved layout; ``tab_with`` shares tabs."""

    key: str
    title: str
    make: Callable[[MainWindow], QWidget]
    area: Qt.DockWidgetArea
    tab_with: str | None = None
    tooltip: str = ""


def _view(module: str, name: str) -> Callable[[MainWindow], QWidget]:
    def make(window: MainWindow) -> QWidget:
        cls = getattr(__import__(f"bpviz.ui.views.{module}", fromlist=[name]), name)
        return cls()

    return make


DOCKS: list[DockSpec] = [
    DockSpec("network", "Network", _view("network", "NetworkView"), LEFT,
             tooltip="aˡ forward, δˡ backward, edges coloured by Wˡ"),
    DockSpec("io", "Input and output", _view("io", "InputOutputView"), RIGHT,
             tooltip="The mini-batch x, the selected digit, aᴸ against y"),
    DockSpec("delta", "δ and its factors", _view("delta", "DeltaView"), BOTTOM,
             tooltip="δˡ = (Wˡ⁺¹)ᵀ δˡ⁺¹ ⊙ σ'(zˡ) with ∂C/∂aˡ and σ'(zˡ)"),
    DockSpec("gradients", "Gradients ∂C/∂W", _view("gradient", "GradientView"), BOTTOM,
             tooltip="∂C/∂Wˡ = δˡ (aˡ⁻¹)ᵀ, Wˡ or ΔWˡ as heatmaps"),
    DockSpec("loss", "Loss and accuracy", _view("loss", "LossView"), BOTTOM,
             tooltip="C per mini-batch, smoothed, and test accuracy per epoch"),
    DockSpec("equations", "Equations, live", _view("equations", "EquationView"), RIGHT,
             tab_with="io", tooltip="The paper's algorithm (IV.4): the phase's line "
             "highlighted, with the selected weight's numbers written out"),
    DockSpec("inspector", "Inspect wᵢⱼ", _view("inspector", "InspectorView"), RIGHT,
             tab_with="io", tooltip="One weight in the mini-batch: aⱼ, δᵢ, ∂C/∂wᵢⱼ, "
             "Δw, each example's share; numeric gradient check (g); pin to watch"),
    DockSpec("contraction", "Tensor contraction", _view("contraction", "ContractionView"),
             RIGHT, tab_with="io", tooltip="IV.2: ∂aˡ/∂Wˡ as a stack of matrices, "
             "contracted with ∂C/∂aˡ into ∂C/∂Wˡ"),
    DockSpec("evaluation", "Evaluation", explore.evaluation_dock, LEFT, tab_with="network",
             tooltip="Held-out accuracy, confusion matrix, worst mistakes; click to inspect"),
    DockSpec("drawpad", "Draw a digit", explore.drawpad_dock, LEFT, tab_with="network",
             tooltip="Your own digit through the network, and one backprop step on it"),
]  # fmt: skip
# Tab groups keep the default layout within 1366×768: the tall panels (drawing pad,
# inspector) share the top row; the bottom row stays short (δ, ∂C/∂W, loss).


def on_screen(widget: QWidget) -> bool:
    """Whether any of ``widget`` can be seen: not hidden, not behind another dock's tab
    (Qt 6 keeps such tabs "visible"), not in a minimised window."""
    return widget.isVisible() and not widget.visibleRegion().isEmpty()


class MainWindow(QMainWindow):
    """Docks and wiring. ``worker`` trains; the window polls ``worker.latest()``."""

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
        self.config = config  # what the next reset uses
        self.dataset = dataset  # what the worker trains on
        self.data_choice = store.load_data_choice(settings)
        self.frames = 0  # repaints so far (benchmarks read it)
        self.latest: Snapshot | None = None
        self.pinned: Snapshot | None = None  # shown instead of the worker's (views/explore.py)
        self.views: dict[str, QWidget] = {}
        self.docks: dict[str, QDockWidget] = {}
        self._menus: dict[str, QMenu] = {}
        self.closed = False
        self.download = None

        self.act = make_actions(self)
        self.pace = PaceControl()
        self.eta = EtaControl()
        self.batch = BatchSizeControl()
        self.addToolBar(build_toolbar(self, self.act, self.pace, self.eta, self.batch))
        self.status = TrainingStatus(self.statusBar())
        self.statusBar().messageChanged.connect(self._make_room)
        self.status.set_source(source)
        for spec in DOCKS:
            self.add_dock(spec)
        self.set_class_names(dataset.class_names)
        build_menus(self)
        wiring.connect(self)
        inspect_wiring.connect(self)
        self.eta.set_eta(config.eta)
        self.batch.set_batch_size(config.batch_size)
        self.pace.set_pace(store.load_pace(settings))
        self.worker.set_pace(self.pace.pace())
        self.child_watch = ChildWatch(self)  # says when the training process dies

        self.fit_screen()
        self.arrange_default()  # again once shown, when the docks have real sizes
        self.default_state: QByteArray | None = None  # set once shown (docks need a size)
        geometry, self._saved_state = store.load_layout(settings)
        if geometry is not None:
            self.restoreGeometry(geometry)
        if self._saved_state is not None:
            self.restoreState(self._saved_state)
        self._timer = QTimer(self, interval=FRAME_MS)
        self._timer.timeout.connect(self.refresh)
        self._timer.start()

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
        if hasattr(widget, "example_changed"):
            widget.example_changed.connect(self.select_example)
        if hasattr(widget, "show_snapshot"):  # a tab brought to the front catches up
            dock.visibilityChanged.connect(lambda shown: shown and self._catch_up(widget))
        self.views[spec.key] = widget
        self.docks[spec.key] = dock
        return dock

    def menu(self, title: str) -> QMenu:
        """The top-level menu called ``title`` (e.g. ``"&File"``), created on first use;
        Help stays the last menu (a menu made after it goes before it)."""
        if title not in self._menus:
            bar, help_menu = self.menuBar(), self._menus.get(HELP)
            if help_menu is None:
                self._menus[title] = bar.addMenu(title)
            else:
                self._menus[title] = menu = QMenu(title, self)
                bar.insertMenu(help_menu.menuAction(), menu)
        return self._menus[title]

    def refresh(self) -> bool:
        """Draw the newest snapshot in every visible view; False when nothing was new."""
        snapshot = self.pinned or self.worker.latest()
        if snapshot is None or snapshot is self.latest:
            return False
        self.latest = snapshot
        for widget in self.views.values():  # while running, only what can be seen
            if hasattr(widget, "show_snapshot") and (on_screen(widget) or not snapshot.running):
                widget.show_snapshot(snapshot)
        self.status.show_snapshot(snapshot)
        wiring.sync(self, snapshot)
        self.frames += 1
        self.snapshot_shown.emit(snapshot)
        return True

    def _catch_up(self, widget: QWidget) -> None:
        if self.latest is not None:
            widget.show_snapshot(self.latest)

    def select_example(self, index: int) -> None:
        """Show example ``index`` of the mini-batch (−1: batch mean) in every view."""
        for widget in self.views.values():
            if hasattr(widget, "set_example"):
                widget.set_example(index)

    def set_class_names(self, names: tuple[str, ...]) -> None:
        """Label output neurons with the data set's class names."""
        for widget in self.views.values():
            if hasattr(widget, "set_class_names"):
                widget.set_class_names(names)

    def apply_config(self, config: SessionConfig) -> None:
        """Remember ``config`` for the next reset (and in the settings)."""
        self.config = config
        store.save_config(self.settings, config)

    def set_batch_size(self, m: int) -> None:
        """The batch size for the next reset."""
        self.apply_config(replace(self.config, batch_size=m))

    def shutdown(self) -> None:
        """Stop painting, the worker and any download; safe to call twice."""
        if self.closed:
            return
        self.closed = True
        self._timer.stop()
        self.child_watch.close()
        if self.download is not None:
            self.download.shutdown()
        self.worker.stop()

    def closeEvent(self, event: QCloseEvent) -> None:
        store.save_layout(self.settings, self.saveGeometry(), self.saveState())
        store.save_pace(self.settings, self.pace.pace())
        self.settings.sync()
        self.shutdown()
        super().closeEvent(event)
