"""The toolbar's number fields (η, batch size): typed text is judged by the window, and
the app's shortcuts keep working while a field has the focus.

A field keeps only the keys a number needs while it is edited — digits (and ``.``, ``e``,
signs for η), cursor and editing keys, copy/paste/undo — plus any key the window does not
use. A key that is one of the window's shortcuts and that a number never needs (Space,
``g``, Ctrl+E, Ctrl+R …; → at the end of the text, ← at its start) commits what was typed,
hands the focus back to the window and then acts as the shortcut. Enter commits and hands
the focus back; Escape puts back the value in force and hands the focus back.

The field never decides whether a value is allowed: it emits ``committed(text)`` and the
window answers with ``show_text`` (the value now in force), after saying why when it
refused (``bpviz.session.limits`` is the one rule).
"""

from __future__ import annotations

import math

from PySide6.QtCore import QKeyCombination, Qt, Signal
from PySide6.QtGui import QAction, QFocusEvent, QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import QLineEdit, QWidget

# Keys a text field needs whatever it holds.
_EDITING_KEYS = {
    Qt.Key.Key_Backspace,
    Qt.Key.Key_Delete,
    Qt.Key.Key_Home,
    Qt.Key.Key_End,
    Qt.Key.Key_Up,
    Qt.Key.Key_Down,
    Qt.Key.Key_Return,
    Qt.Key.Key_Enter,
    Qt.Key.Key_Escape,
    Qt.Key.Key_Tab,
    Qt.Key.Key_Backtab,
}
_EDITING_SEQUENCES = (
    QKeySequence.StandardKey.Copy,
    QKeySequence.StandardKey.Cut,
    QKeySequence.StandardKey.Paste,
    QKeySequence.StandardKey.Undo,
    QKeySequence.StandardKey.Redo,
    QKeySequence.StandardKey.SelectAll,
)
_COMMAND_MODIFIERS = (
    Qt.KeyboardModifier.ControlModifier
    | Qt.KeyboardModifier.AltModifier
    | Qt.KeyboardModifier.MetaModifier
)


def window_shortcut(widget: QWidget, event: QKeyEvent) -> bool:
    """Whether ``event``'s key is the shortcut of an enabled action of ``widget``'s window."""
    modifiers = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
    sequence = QKeySequence(QKeyCombination(modifiers, Qt.Key(event.key())))
    window = widget.window()
    for action in window.findChildren(QAction):
        if action.isEnabled() and any(s == sequence for s in action.shortcuts()):
            return True
    return any(s.isEnabled() and s.key() == sequence for s in window.findChildren(QShortcut))


class NumberField(QLineEdit):
    """A one-line field for a number; see the module doc for its keys.

    ``committed(text)`` is emitted with the text typed when the user commits a change
    (Enter, focus moving elsewhere, an app shortcut, ↑/↓). ``show_text`` shows the value in
    force; Escape returns to it.
    """

    committed = Signal(str)
    number_chars = "0123456789"  # printable keys a number of this field may contain

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._shown = ""

    def show_text(self, text: str) -> None:
        """Show ``text`` as the value in force (no signal)."""
        self._shown = text
        self.setText(text)

    def edited(self) -> bool:
        """Whether the text differs from the value in force."""
        return self.text() != self._shown

    def lineEdit(self) -> QLineEdit:
        """The editor itself (as ``QAbstractSpinBox.lineEdit()``)."""
        return self

    def commit(self) -> None:
        """Emit ``committed`` when the text was changed; the window answers with show_text."""
        if self.edited():
            self.committed.emit(self.text().strip())

    def hand_back(self) -> None:
        """Give the keyboard focus back to the window, so its shortcuts reach it."""
        if self.hasFocus():
            self.window().setFocus(Qt.FocusReason.OtherFocusReason)

    def step(self, steps: int) -> str | None:
        """The text ↑ (``steps`` = 1) or ↓ (−1) would commit; None: nothing to step."""
        return None

    def _needs(self, event: QKeyEvent) -> bool:
        """Whether the field itself needs ``event`` (else a window shortcut may take it)."""
        key = event.key()
        command = bool(event.modifiers() & _COMMAND_MODIFIERS)
        if not command and event.text() and event.text() in self.number_chars:
            return True
        if key in _EDITING_KEYS or any(event.matches(s) for s in _EDITING_SEQUENCES):
            return True
        if key in (Qt.Key.Key_Left, Qt.Key.Key_Right):
            # moving the cursor inside the text is the field's; past its ends, the window's
            at_end = self.cursorPosition() == (0 if key == Qt.Key.Key_Left else len(self.text()))
            return command or self.hasSelectedText() or not at_end
        return False

    def event(self, event) -> bool:
        if (
            event.type() == event.Type.ShortcutOverride
            and not self._needs(event)
            and window_shortcut(self, event)
        ):
            self.commit()
            self.hand_back()
            event.ignore()  # not overridden: the window's shortcut acts
            return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.commit()
            self.hand_back()
        elif key == Qt.Key.Key_Escape:
            self.setText(self._shown)
            self.hand_back()
        elif key in (Qt.Key.Key_Up, Qt.Key.Key_Down):
            text = self.step(1 if key == Qt.Key.Key_Up else -1)
            if text is not None:
                self.setText(text)
                self.commit()
        else:
            super().keyPressEvent(event)

    def focusOutEvent(self, event: QFocusEvent) -> None:
        super().focusOutEvent(event)
        if event.reason() != Qt.FocusReason.PopupFocusReason:  # not for its context menu
            self.commit()


class EtaField(NumberField):
    """η as typed: any text (``0.5``, ``1e-3``, ``abc``), judged by the window. ↑/↓
    multiply or divide η by 10^0.1, keeping three significant digits."""

    number_chars = "0123456789.eE+-"

    def value(self) -> float:
        """The number in the field (NaN when the text is not one)."""
        try:
            return float(self.text())
        except ValueError:
            return math.nan

    def step(self, steps: int) -> str | None:
        try:
            value = float(self._shown)
        except ValueError:
            return None
        if not (value > 0 and math.isfinite(value)):
            return None
        return f"{float(f'{value * 10 ** (0.1 * steps):.3g}'):g}"


class BatchField(NumberField):
    """The mini-batch size as typed; ↑/↓ step by one within 1 … ``maximum``."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._maximum = 1

    def set_maximum(self, maximum: int) -> None:
        """The largest size ↑ steps to (the number of training examples)."""
        self._maximum = max(1, int(maximum))

    def maximum(self) -> int:
        """The largest size ↑ steps to."""
        return self._maximum

    def value(self) -> int:
        """The batch size in force."""
        return int(self._shown)

    def setValue(self, m: int) -> None:
        """Type ``m`` and commit it, as a user would."""
        self.setText(str(m))
        self.commit()

    def step(self, steps: int) -> str | None:
        try:
            value = int(self._shown)
        except ValueError:
            return None
        return str(min(max(value + steps, 1), self._maximum))
