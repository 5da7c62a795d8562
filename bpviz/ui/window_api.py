"""What the controller, the menus and the wiring modules see of the main window.

``MainWindow`` (``bpviz/ui/main_window.py``) satisfies ``Window``; the modules that act
on the window are typed by this protocol instead of importing ``main_window``, so no
import runs back up to it (``tests/test_architecture_ui.py`` checks there is no circle).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from PySide6.QtCore import QByteArray, QSettings
    from PySide6.QtGui import QAction
    from PySide6.QtWidgets import QDockWidget, QMenu, QStatusBar, QWidget

    from bpviz.data.dataset import Dataset
    from bpviz.session.snapshot import SessionConfig, Snapshot
    from bpviz.ui.controls import Actions, BatchSizeControl, EtaControl, PaceControl
    from bpviz.ui.controls_status import TrainingStatus
    from bpviz.ui.model import WindowModel
    from bpviz.ui.recorder import Recorder


class Window(Protocol):
    """The main window as its helpers use it (a ``QMainWindow``)."""

    model: WindowModel
    worker: Any  # a Worker or a RemoteWorker (bpviz.runtime)
    settings: QSettings
    dataset: Dataset
    latest: Snapshot | None
    closed: bool
    act: Actions
    eta: EtaControl
    batch: BatchSizeControl
    pace: PaceControl
    status: TrainingStatus
    views: dict[str, QWidget]
    docks: dict[str, QDockWidget]
    default_state: QByteArray | None
    recorder: Recorder
    explorer: Any  # the Explorer of bpviz/ui/views/explore.py (it imports this module)
    snapshot_shown: Any  # Signal(object): after every repaint, with the snapshot drawn
    controller: Any  # the Controller of bpviz/ui/controller.py (it imports this module)

    @property
    def config(self) -> SessionConfig: ...

    def statusBar(self) -> QStatusBar: ...

    def menu(self, title: str) -> QMenu: ...

    def refresh(self) -> bool: ...

    def set_class_names(self, names: tuple[str, ...]) -> None: ...

    def apply_config(self, config: SessionConfig) -> None: ...

    def use_worker(self, worker: Any) -> None: ...

    def use_dataset(self, dataset: Dataset, description: str) -> None: ...

    def restoreState(self, state: QByteArray) -> bool: ...

    def addAction(self, action: QAction) -> None: ...

    def close(self) -> bool: ...

    def set_script_status(self, status: int) -> None: ...
