"""The toolbar's controls: run/step actions, pace, the learning rate η and the batch size.

Each control only reports what the user asked for (signals); the window decides what to
do with it, so none of them knows the worker.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TypeVar

from PySide6.QtCore import QEvent, QSignalBlocker, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeyEvent, QKeySequence
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QSlider, QToolBar, QWidget

from bpviz.session.limits import ETA_SLIDER_LOG_MAX, ETA_SLIDER_LOG_MIN
from bpviz.ui import pacing
from bpviz.ui.fields import BatchField, EtaField, NumberField

PACES = pacing.STOPS  # mini-batches per second, slowest first, then full speed (None)
ETA_LOG_MIN, ETA_LOG_MAX = ETA_SLIDER_LOG_MIN, ETA_SLIDER_LOG_MAX  # the slider's log10 η
ETA_SLIDER_STEPS = 600
Field = TypeVar("Field", bound=NumberField)


@dataclass(frozen=True)
class Actions:
    """The commands of the Run menu and toolbar."""

    run: QAction
    step_batch: QAction
    step_phase: QAction
    reset: QAction
    network: QAction
    full_speed: QAction


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
    full_speed = action(
        "Full speed",
        pacing.FULL_SPEED_KEY,
        "Full speed: train as fast as the computer can, showing the end of a mini-batch now "
        "and then; press again to go back to the slower pace chosen before",
    )
    full_speed.setCheckable(True)
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
            "Layer sizes from input to output, the activation σ, the output layer and the cost C "
            "(applied by resetting)",
        ),
        full_speed=full_speed,
    )


def _row(owner: QWidget, title: str, *widgets: QWidget, tip: str | None = None) -> None:
    """Lay out ``owner`` as a toolbar group: the label ``title``, then ``widgets``, in a
    row; ``tip``, when given, is the tooltip of the group and of each widget."""
    layout = QHBoxLayout(owner)
    layout.setContentsMargins(4, 0, 4, 0)
    layout.addWidget(QLabel(title))
    for widget in widgets:
        layout.addWidget(widget)
    if tip is not None:
        for widget in (owner, *widgets):
            widget.setToolTip(tip)


def _sized(field: Field, widest: str) -> Field:
    """``field`` just wide enough for the text ``widest`` (and its frame)."""
    field.setFixedWidth(field.fontMetrics().horizontalAdvance(widest) + 16)
    return field


class ToolbarSlider(QSlider):
    """A toolbar slider (pace, η) that keeps the keys a slider moves by.

    Reached with Tab, it has the focus, and ←/→, ↑/↓, Page Up/Down, Home and End move
    it, as a focused slider does anywhere — the window's shortcut on the same key (→:
    Step mini-batch) waits until the focus leaves; Enter or Escape hands the focus back
    to the window. A click or a drag does not take the focus, so → steps a mini-batch
    again right after the mouse set the pace.
    """

    KEYS = frozenset(
        {
            Qt.Key.Key_Left,
            Qt.Key.Key_Right,
            Qt.Key.Key_Up,
            Qt.Key.Key_Down,
            Qt.Key.Key_PageUp,
            Qt.Key.Key_PageDown,
            Qt.Key.Key_Home,
            Qt.Key.Key_End,
        }
    )

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(Qt.Orientation.Horizontal, parent)
        self.setFocusPolicy(Qt.FocusPolicy.TabFocus)

    def event(self, event: QEvent) -> bool:
        if (
            event.type() == QEvent.Type.ShortcutOverride
            and event.key() in self.KEYS
            and not event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        ):
            event.accept()  # overridden: the key comes to keyPressEvent, not to a shortcut
            return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Escape):
            self.window().setFocus(Qt.FocusReason.OtherFocusReason)
        else:
            super().keyPressEvent(event)


class PaceControl(QWidget):
    """A slider over ``pacing.STOPS``, from ¼ mini-batch/s with every phase shown to full
    speed, and the words for the pace chosen; emits ``pace_changed(mini-batches/s or
    None)``."""

    pace_changed = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._slider = ToolbarSlider()
        self._slider.setRange(0, len(PACES) - 1)
        self._slider.setPageStep(1)
        self._slider.setFixedWidth(110)
        self._label = QLabel()
        width = self._label.fontMetrics().horizontalAdvance
        self._label.setMinimumWidth(max(width(pacing.short_label(p)) for p in PACES) + 4)
        _row(self, "Pace", self._slider, self._label)  # tooltips: _say, by the pace
        self._slider.valueChanged.connect(self._changed)
        self._exact: float | None = None  # a pace between two stops, until the slider moves
        self.set_pace(None)

    def pace(self) -> float | None:
        """Mini-batches per second, or None for full speed."""
        return self._exact if self._exact is not None else PACES[self._slider.value()]

    def set_pace(self, pace: float | None) -> None:
        """Show ``pace`` without emitting: the slider at the nearest stop, the words (and
        ``pace()``) exact until the slider moves (``--pace 3``)."""
        with QSignalBlocker(self._slider):
            self._slider.setValue(PACES.index(pacing.nearest_stop(pace)))
        self._exact = pace if pace not in PACES else None
        self._say(pace)

    def _say(self, pace: float | None) -> None:
        """The label and the tooltips say what ``pace`` does."""
        self._label.setText(pacing.short_label(pace))
        tip = (
            f"Pace: {pacing.describe(pace)}. Up to {pacing.ANIMATED_MAX:g} mini-batches/s "
            f"every phase of each mini-batch is shown; faster, the end of each. "
            f"{pacing.FULL_SPEED_KEY}: full speed"
        )
        for widget in (self, self._slider, self._label):
            widget.setToolTip(tip)

    def _changed(self, index: int) -> None:
        self._exact = None
        self._say(PACES[index])
        self.pace_changed.emit(PACES[index])


class EtaControl(QWidget):
    """η as a log-scale slider (10⁻⁴ … 10², ``limits.ETA_SLIDER_LOG_MIN/MAX``) plus a field
    for any value typed (judged by ``limits.parse_eta`` in the window).

    Emits ``eta_requested(η)`` — a float when the slider settled for a moment, the text as
    typed (str) from the field; ``set_eta`` shows the η in force without emitting.
    """

    eta_requested = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._slider = ToolbarSlider()
        self._slider.setRange(0, ETA_SLIDER_STEPS)
        self._slider.setFixedWidth(140)
        self.spin = _sized(EtaField(), "0.000001")
        tip = (
            "η, the learning rate of the update W ← W − η ∂C/∂W, b ← b − η ∂C/∂b "
            "(log scale). Type a value and press Enter (Escape: keep the current one), "
            "or use ↑/↓. Changes apply to the next update, while training runs"
        )
        _row(self, "η", self._slider, self.spin, tip=tip)
        self._settle = QTimer(self, singleShot=True, interval=120)
        self._settle.timeout.connect(lambda: self.eta_requested.emit(self._slider_eta()))
        self._slider.valueChanged.connect(self._slider_moved)
        self.spin.committed.connect(self.eta_requested.emit)

    def set_eta(self, eta: float) -> None:
        """Show ``eta`` on both the slider and the field, emitting nothing (not while the
        slider settles: the user's newer value is on its way)."""
        if self._settle.isActive():
            return
        with QSignalBlocker(self._slider):
            self.spin.show_text(f"{eta:.6g}")
            if eta > 0 and math.isfinite(eta):
                position = (math.log10(eta) - ETA_LOG_MIN) / (ETA_LOG_MAX - ETA_LOG_MIN)
                self._slider.setValue(round(min(max(position, 0.0), 1.0) * ETA_SLIDER_STEPS))

    def _slider_eta(self) -> float:
        fraction = self._slider.value() / ETA_SLIDER_STEPS
        return float(f"{10 ** (ETA_LOG_MIN + fraction * (ETA_LOG_MAX - ETA_LOG_MIN)):.3g}")

    def _slider_moved(self) -> None:
        self.spin.setText(f"{self._slider_eta():.6g}")  # shown at once, applied once settled
        self._settle.start()


class BatchSizeControl(QWidget):
    """The mini-batch size m (applies on reset); emits ``batch_size_changed(m)`` with the
    text as typed (judged by ``limits.check_batch_size`` in the window)."""

    batch_size_changed = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.spin = _sized(BatchField(), "000000")
        tip = (
            "m, the mini-batch size, 1 … the number of training examples: "
            "∂C/∂Wˡ = (1/m) Σₓ δˣ,ˡ (aˣ,ˡ⁻¹)ᵀ averages the gradient over m examples. "
            "Type it and press Enter (or ↑/↓); applies on Reset (Ctrl+R)"
        )
        _row(self, "Batch", self.spin, tip=tip)
        self.spin.committed.connect(self.batch_size_changed.emit)

    def set_batch_size(self, m: int) -> None:
        """Show ``m`` as the batch size in force, without emitting."""
        self.spin.show_text(str(m))

    def set_maximum(self, n_train: int) -> None:
        """The largest batch size ↑ reaches: the number of training examples."""
        self.spin.set_maximum(n_train)


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
    bar.addAction(actions.full_speed)
    bar.addSeparator()
    bar.addWidget(eta)
    bar.addSeparator()
    bar.addWidget(batch)
    bar.addAction(actions.network)
    return bar
