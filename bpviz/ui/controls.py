"""The toolbar's controls: run/step actions, pace, the learning rate η and the batch size.

Each control only reports what the user asked for (signals); the window decides what to
do with it, so none of them knows the worker.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from PySide6.QtCore import QSignalBlocker, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence, QValidator
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QSlider,
    QSpinBox,
    QToolBar,
    QWidget,
)

# Pace: steps per second from 1 to 1000, then full speed (None).
PACES: tuple[float | None, ...] = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, None)
ETA_LOG_MIN, ETA_LOG_MAX = -4.0, 2.0  # the slider spans η = 10^-4 … 10^2
ETA_SLIDER_STEPS = 600


def pace_label(pace: float | None) -> str:
    """``"full speed"`` or ``"5 steps/s"``."""
    if pace is None:
        return "full speed"
    return f"{pace:g} step/s" if pace == 1 else f"{pace:g} steps/s"


@dataclass(frozen=True)
class Actions:
    """The commands of the Run menu and toolbar."""

    run: QAction
    step_batch: QAction
    step_phase: QAction
    reset: QAction
    network: QAction


def make_actions(parent: QWidget) -> Actions:
    """Create the run/step/reset/settings actions with their shortcuts and tooltips."""

    def action(text: str, shortcut: str, tip: str) -> QAction:
        act = QAction(text, parent)
        act.setShortcut(QKeySequence(shortcut))
        act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        act.setToolTip(f"{tip} ({QKeySequence(shortcut).toString()})" if shortcut else tip)
        act.setStatusTip(tip)
        return act

    run = action(
        "Run",
        "Space",
        "Run / pause: repeat forward pass, backward pass (δᴸ … δ¹) and update "
        "W ← W − η ∂C/∂W on one mini-batch after another",
    )
    run.setCheckable(True)
    return Actions(
        run=run,
        step_batch=action(
            "Step mini-batch",
            "Right",
            "Finish the current mini-batch: every remaining phase up to and including "
            "the update W ← W − η ∂C/∂W",
        ),
        step_phase=action(
            "Step phase",
            ".",
            "One phase of backpropagation: forward zˡ = Wˡ aˡ⁻¹ + bˡ, the cost C, "
            "one δˡ, one ∂C/∂Wˡ = δˡ (aˡ⁻¹)ᵀ, or the update",
        ),
        reset=action(
            "Reset",
            "Ctrl+R",
            "Start again from freshly initialised Wˡ and bˡ, with the batch size, "
            "network and cost settings now chosen",
        ),
        network=action(
            "Network && cost…",
            "",
            "Layer sizes (input, hidden, output), activation σ, output layer and cost C "
            "(applied by resetting)",
        ),
    )


class PaceControl(QWidget):
    """A slider from 1 step/s to full speed; emits ``pace_changed(steps/s or None)``."""

    pace_changed = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._slider = QSlider(Qt.Orientation.Horizontal)
        self._slider.setRange(0, len(PACES) - 1)
        self._slider.setPageStep(1)
        self._slider.setFixedWidth(110)
        self._label = QLabel()
        self._label.setMinimumWidth(self._label.fontMetrics().horizontalAdvance("1000 steps/s"))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 0)
        layout.addWidget(QLabel("Pace"))
        layout.addWidget(self._slider)
        layout.addWidget(self._label)
        self.setToolTip(
            "How many mini-batches (steps of gradient descent) to train per second: "
            "slow it down to watch each update, or run at full speed"
        )
        self._slider.valueChanged.connect(self._changed)
        self.set_pace(None)

    def pace(self) -> float | None:
        """Steps per second, or None for full speed."""
        return PACES[self._slider.value()]

    def set_pace(self, pace: float | None) -> None:
        """Show ``pace`` (snapped to the nearest stop) without emitting."""
        if pace is None:
            index = len(PACES) - 1
        else:
            index = min(range(len(PACES) - 1), key=lambda k: abs(math.log(PACES[k] / pace)))
        with QSignalBlocker(self._slider):
            self._slider.setValue(index)
        self._label.setText(pace_label(PACES[index]))

    def _changed(self, index: int) -> None:
        self._label.setText(pace_label(PACES[index]))
        self.pace_changed.emit(PACES[index])


class EtaSpinBox(QDoubleSpinBox):
    """A spin box that takes any number as typed (1e-3, 0, −2, 1e9); the window judges it.

    The arrows multiply or divide η by 10^0.1, keeping three significant digits.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setRange(-1e12, 1e12)
        self.setDecimals(12)
        self.setKeyboardTracking(False)
        self.setCorrectionMode(QDoubleSpinBox.CorrectionMode.CorrectToPreviousValue)

    def textFromValue(self, value: float) -> str:
        return f"{value:.6g}"

    def valueFromText(self, text: str) -> float:
        return float(text.strip())

    def validate(self, text: str, pos: int) -> object:
        stripped = text.strip()
        try:
            float(stripped)
        except ValueError:
            allowed = set("0123456789.eE+-")
            state = (
                QValidator.State.Intermediate
                if all(c in allowed for c in stripped)
                else QValidator.State.Invalid
            )
            return state, text, pos
        return QValidator.State.Acceptable, text, pos

    def stepBy(self, steps: int) -> None:
        value = self.value()
        if value > 0:
            self.setValue(float(f"{value * 10 ** (0.1 * steps):.3g}"))
            self.editingFinished.emit()


class EtaControl(QWidget):
    """η as a log-scale slider (10^-4 … 10^2) plus an exact spin box.

    Emits ``eta_requested(η)`` when the user sets a value (typed, or the slider settled
    for a moment); ``set_eta`` shows the η in use without emitting.
    """

    eta_requested = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._slider = QSlider(Qt.Orientation.Horizontal)
        self._slider.setRange(0, ETA_SLIDER_STEPS)
        self._slider.setFixedWidth(140)
        self.spin = EtaSpinBox()
        self.spin.setMinimumWidth(self.spin.fontMetrics().horizontalAdvance("0.000001") + 30)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 0)
        layout.addWidget(QLabel("η"))
        layout.addWidget(self._slider)
        layout.addWidget(self.spin)
        tip = (
            "η, the learning rate of the update W ← W − η ∂C/∂W, b ← b − η ∂C/∂b "
            "(log scale). Changes apply to the next update, while training runs"
        )
        for widget in (self, self._slider, self.spin):
            widget.setToolTip(tip)
        self._settle = QTimer(self, singleShot=True, interval=120)
        self._settle.timeout.connect(lambda: self.eta_requested.emit(self._slider_eta()))
        self._slider.valueChanged.connect(self._slider_moved)
        self.spin.editingFinished.connect(self._typed)
        self._current = float("nan")  # the η shown by set_eta

    def set_eta(self, eta: float) -> None:
        """Show ``eta`` on both the slider and the spin box, emitting nothing."""
        self._current = eta
        with QSignalBlocker(self._slider), QSignalBlocker(self.spin):
            self.spin.setValue(eta)
            if eta > 0 and math.isfinite(eta):
                position = (math.log10(eta) - ETA_LOG_MIN) / (ETA_LOG_MAX - ETA_LOG_MIN)
                self._slider.setValue(round(min(max(position, 0.0), 1.0) * ETA_SLIDER_STEPS))

    def _typed(self) -> None:
        if self.spin.value() != self._current:  # editing ends on focus loss too
            self.eta_requested.emit(self.spin.value())

    def _slider_eta(self) -> float:
        fraction = self._slider.value() / ETA_SLIDER_STEPS
        return float(f"{10 ** (ETA_LOG_MIN + fraction * (ETA_LOG_MAX - ETA_LOG_MIN)):.3g}")

    def _slider_moved(self) -> None:
        with QSignalBlocker(self.spin):
            self.spin.setValue(self._slider_eta())
        self._settle.start()


class BatchSizeControl(QWidget):
    """The mini-batch size m (applies on reset); emits ``batch_size_changed(m)``."""

    batch_size_changed = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.spin = QSpinBox()
        self.spin.setRange(1, 10_000)
        self.spin.setKeyboardTracking(False)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 0)
        layout.addWidget(QLabel("Batch"))
        layout.addWidget(self.spin)
        tip = (
            "m, the mini-batch size: ∂C/∂Wˡ = (1/m) Σₓ δˡ(x) aˡ⁻¹(x)ᵀ averages "
            "the gradient over m examples. Applies on Reset (Ctrl+R)"
        )
        for widget in (self, self.spin):
            widget.setToolTip(tip)
        self.spin.valueChanged.connect(self.batch_size_changed)

    def set_batch_size(self, m: int) -> None:
        """Show ``m`` without emitting."""
        with QSignalBlocker(self.spin):
            self.spin.setValue(m)


def build_toolbar(
    parent: QWidget, actions: Actions, pace: QWidget, eta: QWidget, batch: QWidget
) -> QToolBar:
    """The main toolbar: run/step/reset, pace, η, batch size, network settings."""
    bar = QToolBar("Training", parent)
    bar.setObjectName("toolbar_training")
    bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
    for act in (actions.run, actions.step_batch, actions.step_phase, actions.reset):
        bar.addAction(act)
    for widget in (pace, eta, batch):
        widget.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Preferred)
    bar.addSeparator()
    bar.addWidget(pace)
    bar.addSeparator()
    bar.addWidget(eta)
    bar.addSeparator()
    bar.addWidget(batch)
    bar.addAction(actions.network)
    return bar
