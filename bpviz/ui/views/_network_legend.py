"""A small colour bar for the network view's header: the map, its ends and the quantity.

(The network view's own legend; the other views' legends are ``colors``' business.)
``set_scale(name, lo, hi)`` repaints only when the text changes, so a frame that keeps
the scale costs nothing.
"""

from __future__ import annotations

import pyqtgraph as pg
from pyqtgraph.Qt import QtCore, QtGui, QtWidgets

BAR = QtCore.QSize(56, 10)
_STOPS: dict[int, list] = {}


def level_text(value: float) -> str:
    """A legend end: ``0.032``, ``1.2e-05``, ``1``."""
    if value == 0:
        return "0"
    text = f"{value:.2g}"
    return text.replace("-", "−")


class ColourLegend(QtWidgets.QWidget):
    """``name lo ▬▬▬ hi`` for the colour map ``cmap`` (a ``pg.ColorMap``)."""

    def __init__(
        self, cmap: pg.ColorMap, widest: str, parent: QtWidgets.QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._gradient = QtGui.QLinearGradient(0, 0, BAR.width(), 0)
        self.set_map(cmap)
        self.name, self.lo, self.hi = "", "", ""
        self.setFixedHeight(max(self.fontMetrics().height() + 2, BAR.height() + 4))
        # One size for every text it will show (``widest``: the longest): a legend that
        # changed size with its text would re-lay out the view around it every phase. A
        # narrow view gets less, the name cut short (the tooltip has it all).
        self._hint = QtCore.QSize(
            self.fontMetrics().horizontalAdvance(widest) + BAR.width() + 18, self.height()
        )
        self.setSizePolicy(
            QtWidgets.QSizePolicy.Policy.Preferred, QtWidgets.QSizePolicy.Policy.Fixed
        )

    def sizeHint(self) -> QtCore.QSize:
        return self._hint

    def minimumSizeHint(self) -> QtCore.QSize:
        return QtCore.QSize(BAR.width() + 70, self.height())

    def set_map(self, cmap: pg.ColorMap) -> None:
        """Draw ``cmap`` (DIVERGING or SEQUENTIAL)."""
        self.cmap = cmap
        if id(cmap) not in _STOPS:  # 17 stops look smooth in 56 px; built once per map
            at = [k / 16 for k in range(17)]
            _STOPS[id(cmap)] = [(p, QtGui.QColor(*cmap.map(p, mode="byte"))) for p in at]
        self._gradient.setStops(_STOPS[id(cmap)])
        self.update()

    def set_scale(self, name: str, lo: float, hi: float) -> None:
        """The quantity ``name`` coloured from ``lo`` to ``hi``."""
        lo_text, hi_text = level_text(lo), level_text(hi)
        if (name, lo_text, hi_text) == (self.name, self.lo, self.hi):
            return
        self.name, self.lo, self.hi = name, lo_text, hi_text
        self.setToolTip(f"colour of {name}: {lo_text} (left) … {hi_text} (right)")
        self.update()

    @property
    def text(self) -> str:
        """What the legend says, e.g. ``"edges wᵢⱼ²δᵢ² −0.5 … 0.5"``."""
        return f"{self.name} {self.lo} … {self.hi}"

    def paintEvent(self, event) -> None:
        p = QtGui.QPainter(self)
        metrics = self.fontMetrics()
        p.setPen(self.palette().color(QtGui.QPalette.ColorRole.WindowText))
        h = self.height()
        base = (h + metrics.ascent() - metrics.descent()) // 2
        x = 0
        room = (
            self.width()
            - BAR.width()
            - 18
            - sum(metrics.horizontalAdvance(t) for t in (self.lo, self.hi))
        )
        name = metrics.elidedText(self.name, QtCore.Qt.TextElideMode.ElideRight, room)
        p.drawText(x, base, name)
        x += metrics.horizontalAdvance(name) + 6
        p.drawText(x, base, self.lo)
        x += metrics.horizontalAdvance(self.lo) + 4
        bar = QtCore.QRect(x, (h - BAR.height()) // 2, BAR.width(), BAR.height())
        self._gradient.setStart(bar.left(), 0)
        self._gradient.setFinalStop(bar.right(), 0)
        p.fillRect(bar, QtGui.QBrush(self._gradient))
        x = bar.right() + 4
        p.drawText(x, base, self.hi)
        p.end()


class ElidedLabel(QtWidgets.QLabel):
    """One line that ends in "…" when the view is too narrow for it (a label that never
    grows to two lines and pushes the plot below it down); ``full_text`` and the tooltip
    hold it all."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.full_text = ""
        self.setSizePolicy(
            QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Preferred
        )
        self.setMinimumWidth(1)  # not the text's width: the view's own must not change

    def set_full_text(self, text: str) -> None:
        """Show ``text``, cut to the label's width."""
        if text != self.full_text:
            self.full_text = text
            self.setToolTip(text)
            self._elide()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        shown = self.fontMetrics().elidedText(
            self.full_text, QtCore.Qt.TextElideMode.ElideRight, max(self.width(), 0)
        )
        if shown != self.text():
            self.setText(shown)
