"""Hover anything and read its value: one live tooltip shared by every view.

A view gives ``LiveTip`` a function from a point in a widget (``QPointF``, that widget's
own coordinates) to the text for what lies there (or None: nothing there). While the
pointer rests over the widget the tip is shown, and ``refresh()`` — which a view calls
after drawing a new snapshot — recomputes it, so the numbers follow the training while
the pointer stays still. Text is plain or rich (Qt's tooltip renders a little HTML, e.g.
``<b>δ₃²</b> = …<br>``).
"""

from __future__ import annotations

import html
import inspect
import weakref
from collections.abc import Callable

from pyqtgraph.Qt import QtCore, QtWidgets

TextAt = Callable[[QtCore.QPointF], str | None]


class LiveTip(QtCore.QObject):
    """The tooltip for whatever is under a resting pointer over ``widget``, kept current.

    ``text_at(pos)`` gets the pointer's position in ``widget`` coordinates. For a
    ``pyqtgraph`` ``GraphicsView`` map it with ``widget.mapToScene(pos.toPoint())`` and
    then the item's ``mapFromScene``. Mouse tracking is turned on for ``widget``.
    """

    def __init__(self, widget: QtWidgets.QWidget, text_at: TextAt) -> None:
        super().__init__(widget)
        self._widget = widget
        # a view's own method is held weakly: the view holds its tip, and a tip holding
        # the view back would make a cycle Python's collector may break while Qt still
        # sends the tip the dying widgets' events
        if inspect.ismethod(text_at):
            method = weakref.WeakMethod(text_at)

            def text_at(pos: QtCore.QPointF) -> str | None:
                bound = method()
                return bound(pos) if bound is not None else None

        self._text_at = text_at
        self._pos: QtCore.QPointF | None = None
        self._shown: str | None = None
        target = widget.viewport() if isinstance(widget, QtWidgets.QAbstractScrollArea) else widget
        target.setMouseTracking(True)
        widget.setMouseTracking(True)
        target.installEventFilter(self)
        self._target = target

    @property
    def text(self) -> str | None:
        """The text shown now (None when no tip is up)."""
        return self._shown

    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:
        kind = event.type()
        if kind == QtCore.QEvent.Type.MouseMove:
            self._pos = self._to_widget(event.position())
            self._show()
        elif kind == QtCore.QEvent.Type.ToolTip:
            self._pos = self._to_widget(QtCore.QPointF(event.pos()))
            self._show()
            return True  # ours replaces the widget's static tooltip here
        elif kind in (QtCore.QEvent.Type.Leave, QtCore.QEvent.Type.Hide):
            self.hide()
        return False

    def hover(self, pos: QtCore.QPointF) -> str | None:
        """Show the tip for ``pos`` (widget coordinates) as if the pointer rested there;
        the text shown (tests and keyboard users use this)."""
        self._pos = QtCore.QPointF(pos)
        self._show()
        return self._shown

    def refresh(self) -> None:
        """Recompute the tip at the resting pointer (after the view drew new values)."""
        if self._pos is not None and self._shown is not None:
            self._show()

    def hide(self) -> None:
        """Take the tip down and forget the pointer."""
        self._pos = None
        # a Hide event may come while the widget is being destroyed, after our
        # attributes went: nothing to take down then
        if getattr(self, "_shown", None) is not None:
            QtWidgets.QToolTip.hideText()
        self._shown = None

    def _to_widget(self, pos: QtCore.QPointF) -> QtCore.QPointF:
        if self._target is self._widget:
            return QtCore.QPointF(pos)
        return QtCore.QPointF(self._target.mapTo(self._widget, pos.toPoint()))

    def _show(self) -> None:
        if self._pos is None:
            return
        text = self._text_at(self._pos)
        if not text:
            if self._shown is not None:
                QtWidgets.QToolTip.hideText()
            self._shown = None
            return
        if text != self._shown:
            at = self._widget.mapToGlobal(self._pos.toPoint()) + QtCore.QPoint(14, 18)
            QtWidgets.QToolTip.showText(at, text, self._widget)
        self._shown = text


def html_lines(*lines: str) -> str:
    """Plain-text lines as one rich-text tooltip, a line each, never wrapped inside a line
    (a plain tooltip would wrap long equations at the screen's whim)."""
    return "<p style='white-space:pre'>" + "<br>".join(html.escape(line) for line in lines) + "</p>"
