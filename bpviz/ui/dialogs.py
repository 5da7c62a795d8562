"""Dialogs: messages, the network & cost settings, and the MNIST download progress."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TypeVar

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
from bpviz.session import limits
from bpviz.session.snapshot import SessionConfig

logger = logging.getLogger(__name__)
Field = TypeVar("Field", bound=QWidget)

HIDDEN = ("sigmoid", "tanh", "relu", "leaky_relu")
OUTPUTS = ("sigmoid", "softmax")
COSTS = ("quadratic", "cross_entropy")
INITS = ("scaled", "normal")


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
    """``"512, 256"`` → ``(512, 256)``, allowed by ``limits.check_hidden`` (the one rule);
    raises ValueError with a message a user can act on."""
    parts = [p for p in text.replace(";", ",").replace(" ", ",").split(",") if p]
    try:
        sizes = tuple(int(p) for p in parts)
    except ValueError:
        raise ValueError(f"hidden layer sizes must be whole numbers, got {text!r}") from None
    return limits.check_hidden(sizes)


class SettingsForm:
    """A dialog laid out as a settings form: the sentence ``intro``, the labelled fields
    (``field`` adds one), a red line ``error`` for the reason a value is refused, and OK
    (reading ``ok_text``) / Cancel wired to the dialog's ``accept`` / ``reject``."""

    def __init__(self, dialog: QDialog, intro: str, ok_text: str) -> None:
        self.error = QLabel()
        self.error.setStyleSheet("color: #c0392b")
        self.error.setWordWrap(True)
        self._rows = QFormLayout()
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText(ok_text)
        buttons.accepted.connect(dialog.accept)
        buttons.rejected.connect(dialog.reject)
        layout = QVBoxLayout(dialog)
        layout.addWidget(QLabel(intro))
        layout.addLayout(self._rows)
        layout.addWidget(self.error)
        layout.addWidget(buttons)

    def field(self, label: str, widget: Field, tip: str) -> Field:
        """``widget`` on the next row after ``label``, with ``tip`` as its tooltip."""
        widget.setToolTip(tip)
        self._rows.addRow(label, widget)
        return widget


def combo(items: tuple[str, ...], current: str) -> QComboBox:
    """A drop-down of ``items`` showing ``current``."""
    box = QComboBox()
    box.addItems(items)
    box.setCurrentText(current)
    return box


class NetworkDialog(QDialog):
    """Edit the layer sizes, σ, output layer, cost C, initialisation and seed.

    n_0 and n_L come from the data (784 pixels, 10 classes); only the hidden layers are
    typed. ``config()`` gives the new configuration after ``accept``.
    """

    def __init__(self, config: SessionConfig, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Network and cost")
        self._base = config
        form = SettingsForm(
            self, "Applying starts training again from new Wˡ, bˡ.", "Reset with these"
        )
        self.hidden = form.field(
            "Hidden layers",
            QLineEdit(", ".join(map(str, config.sizes[1:-1]))),
            "Hidden layer widths from the input side, comma-separated (e.g. 30, or 512, 256); "
            "the input (pixels) and output (classes) sizes come from the data",
        )
        self.activation = form.field(
            "Hidden σ", combo(HIDDEN, config.hidden), "σ, the hidden activation a = σ(z)"
        )
        self.output = form.field(
            "Output", combo(OUTPUTS, config.output), "Output layer aᴸ: sigmoid σ(zᴸ), or softmax"
        )
        self.cost = form.field(
            "Cost C",
            combo(COSTS, config.cost),
            "C: quadratic ½‖aᴸ − y‖² (∂C/∂aᴸ = aᴸ − y), or cross-entropy",
        )
        self.init = form.field(
            "Initial W",
            combo(INITS, config.init),
            "Initial Wˡ: scaled N(0, 1/nₗ₋₁) or standard N(0, 1)",
        )
        self.seed = form.field(
            "Seed", QSpinBox(), "Random seed of the initial Wˡ, bˡ and of the mini-batch order"
        )
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setValue(config.seed)
        self.error = form.error
        self._config = config

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
