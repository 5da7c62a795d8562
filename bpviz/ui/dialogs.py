"""Dialogs: messages, the network & cost settings, and the MNIST download progress."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressDialog,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from bpviz.runtime.threads import start_thread
from bpviz.session.snapshot import SessionConfig

logger = logging.getLogger(__name__)

HIDDEN = ("sigmoid", "tanh", "relu", "leaky_relu")
OUTPUTS = ("sigmoid", "softmax")
COSTS = ("quadratic", "cross_entropy")
INITS = ("scaled", "normal")
MAX_WIDTH = 4096
MAX_HIDDEN_LAYERS = 6


def show_message(parent: QWidget, title: str, text: str, *, error: bool = True) -> QMessageBox:
    """A window-modal message that does not block the event loop (training keeps painting)."""
    box = QMessageBox(
        QMessageBox.Icon.Warning if error else QMessageBox.Icon.Information,
        title,
        text,
        QMessageBox.StandardButton.Ok,
        parent,
    )
    box.setObjectName("bpviz_message")
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()
    return box


def parse_hidden(text: str) -> tuple[int, ...]:
    """``"512, 256"`` → ``(512, 256)``; raises ValueError with a message a user can act on."""
    parts = [p for p in text.replace(";", ",").replace(" ", ",").split(",") if p]
    try:
        sizes = tuple(int(p) for p in parts)
    except ValueError:
        raise ValueError(f"hidden layer sizes must be whole numbers, got {text!r}") from None
    if len(sizes) > MAX_HIDDEN_LAYERS:
        raise ValueError(f"at most {MAX_HIDDEN_LAYERS} hidden layers, got {len(sizes)}")
    if any(not 1 <= n <= MAX_WIDTH for n in sizes):
        raise ValueError(f"each hidden layer needs 1 … {MAX_WIDTH} neurons, got {text!r}")
    return sizes


class NetworkDialog(QDialog):
    """Edit the layer sizes, σ, output layer, cost C, initialisation and seed.

    n_0 and n_L come from the data (784 pixels, 10 classes); only the hidden layers are
    typed. ``config()`` gives the new configuration after ``accept``.
    """

    def __init__(self, config: SessionConfig, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Network and cost")
        self._base = config
        self.hidden = QLineEdit(", ".join(map(str, config.sizes[1:-1])))
        self.hidden.setToolTip(
            "Hidden layer widths from the input side, comma-separated (e.g. 30, or 512, 256); "
            "the input (pixels) and output (classes) sizes come from the data"
        )
        self.activation = self._combo(HIDDEN, config.hidden, "σ, the hidden activation a = σ(z)")
        self.output = self._combo(
            OUTPUTS, config.output, "Output layer aᴸ: sigmoid σ(zᴸ), or softmax"
        )
        self.cost = self._combo(
            COSTS,
            config.cost,
            "C: quadratic ½‖aᴸ − y‖² (∂C/∂aᴸ = aᴸ − y), or cross-entropy",
        )
        self.init = self._combo(
            INITS, config.init, "Initial Wˡ: scaled N(0, 1/nₗ₋₁) or standard N(0, 1)"
        )
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setValue(config.seed)
        self.seed.setToolTip("Random seed of the initial Wˡ, bˡ and of the mini-batch order")
        self.error = QLabel()
        self.error.setStyleSheet("color: #c0392b")
        self.error.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Hidden layers", self.hidden)
        form.addRow("Hidden σ", self.activation)
        form.addRow("Output", self.output)
        form.addRow("Cost C", self.cost)
        form.addRow("Initial W", self.init)
        form.addRow("Seed", self.seed)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Reset with these")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Applying starts training again from new Wˡ, bˡ."))
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self._config = config

    @staticmethod
    def _combo(items: tuple[str, ...], current: str, tip: str) -> QComboBox:
        combo = QComboBox()
        combo.addItems(items)
        combo.setCurrentText(current)
        combo.setToolTip(tip)
        return combo

    def config(self) -> SessionConfig:
        """The configuration as accepted."""
        return self._config

    def accept(self) -> None:
        try:
            hidden = parse_hidden(self.hidden.text())
        except ValueError as exc:
            self.error.setText(str(exc))
            return
        if self.output.currentText() == "softmax" and self.cost.currentText() != "cross_entropy":
            self.error.setText("a softmax output goes with the cross-entropy cost")
            return
        sizes = (self._base.sizes[0], *hidden, self._base.sizes[-1])
        self._config = replace(
            self._base,
            sizes=sizes,
            hidden=self.activation.currentText(),
            output=self.output.currentText(),
            cost=self.cost.currentText(),
            init=self.init.currentText(),
            seed=self.seed.value(),
        )
        super().accept()


class DownloadDialog(QProgressDialog):
    """Runs ``download(progress=…, cancel=…)`` on a plain thread and shows its progress.

    The thread only writes a (filename, done, total) tuple; a timer reads it, so no Qt
    object is touched off the GUI thread. Emits ``succeeded(result)`` or ``failed(text)``
    (``failed("cancelled")`` after Cancel).
    """

    succeeded = Signal(object)
    failed = Signal(str)

    def __init__(self, download: Callable[..., object], parent: QWidget | None = None) -> None:
        super().__init__("Connecting…", "Cancel", 0, 0, parent)
        self.setWindowTitle("Download full MNIST")
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.setMinimumDuration(0)
        self.setAutoClose(False)
        self.setAutoReset(False)
        self._cancel = threading.Event()
        self._progress: tuple[str, int, int] | None = None
        self.shown: tuple[str, int, int] | None = None  # the progress last displayed
        self._outcome: tuple[bool, object] | None = None
        self._download = download
        self._thread: threading.Thread | None = None
        self._timer = QTimer(self, interval=100)
        self._timer.timeout.connect(self._poll)
        self.canceled.connect(self.cancel_download)

    def start(self) -> None:
        """Start downloading and show the dialog."""
        self._thread = start_thread("bpviz-download", self._run, self._download, daemon=True)
        self._timer.start()
        self.show()

    def cancel_download(self) -> None:
        """Ask the download to stop; the dialog reports "cancelled" once its thread ends."""
        if self._outcome is None:
            self._cancel.set()
            self.setLabelText("Cancelling…")

    def shutdown(self, timeout: float = 5.0) -> None:
        """Cancel and wait for the thread (the window is closing)."""
        self._timer.stop()
        self.cancel_download()
        if self._thread is not None and self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self, download: Callable[..., object]) -> None:
        try:
            result = download(progress=self._on_progress, cancel=self._cancel)
            self._outcome = (True, result)
        except Exception as exc:  # reported in the window; the traceback goes to the log
            logger.info("download failed", exc_info=True)
            self._outcome = (False, str(exc) or type(exc).__name__)

    def _on_progress(self, filename: str, done: int, total: int) -> None:
        self._progress = (filename, done, total)

    def _poll(self) -> None:
        if self._progress is not None:
            name, done, total = self.shown = self._progress
            if total > 0:
                self.setMaximum(1000)
                self.setValue(int(1000 * min(done / total, 1.0)))
            self.setLabelText(f"{Path(name).name}: {done / 1e6:.1f} of {total / 1e6:.1f} MB")
        if self._outcome is None and self._thread is not None and self._thread.is_alive():
            return
        self._timer.stop()
        ok, value = self._outcome or (False, "the download stopped unexpectedly")
        cancelled = self._cancel.is_set()
        self.canceled.disconnect(self.cancel_download)
        self.close()
        if ok:
            self.succeeded.emit(value)
        elif cancelled:
            self.failed.emit("cancelled")
        else:
            self.failed.emit(str(value))
