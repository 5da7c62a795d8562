"""The one colour legend of the views that are not pyqtgraph layouts: a colour bar with the
quantity's name and its range, ``name  −m ▕██████▏ +m`` (signed, ``colors.DIVERGING``) or
``name  0 ▕██████▏ m`` (unsigned, ``colors.SEQUENTIAL``).

The view that colours something gives its legend the level it coloured with (the same
``StickyLevel`` value, every frame), so the bar never says another scale than the one
drawn. The pyqtgraph layouts (the gradient heatmaps, the δ bars) draw the same thing as a
vertical bar beside or inside their plots (``pg.ColorBarItem``, ``strip_brush``).
"""

from __future__ import annotations

import numpy as np
from pyqtgraph.Qt import QtCore, QtGui, QtWidgets

from bpviz.ui import colors

BAR_WIDTH = 90  # pixels of the colour bar itself
BAR_HEIGHT = 10


def level_text(level: float | None, signed: bool) -> tuple[str, str]:
    """The two ends a legend writes: ``("−0.05", "+0.05")`` or ``("0", "1")``; ``—``
    while nothing was computed (no level yet)."""
    if level is None:
        return ("−—", "+—") if signed else ("0", "—")
    if signed:
        return f"−{level:.3g}", f"+{level:.3g}"
    return "0", f"{level:.3g}"


def lut_image(lut: np.ndarray) -> QtGui.QImage:
    """A 1-pixel-high image of ``lut`` ``(N, 4)`` uint8, left = its first entry."""
    row = np.ascontiguousarray(lut[None, :, :4].astype(np.uint8))
    rgba = QtGui.QImage.Format.Format_RGBA8888
    image = QtGui.QImage(row.data, row.shape[1], 1, 4 * row.shape[1], rgba)
    return image.copy()  # own the pixels (``row`` goes away)


def gradient(
    lut: np.ndarray, start: QtCore.QPointF, stop: QtCore.QPointF, alpha: float = 1.0
) -> QtGui.QLinearGradient:
    """``lut`` as a linear gradient from ``start`` (its first entry) to ``stop`` (its last),
    its colours' opacity times ``alpha``."""
    grad = QtGui.QLinearGradient(start, stop)
    grad.setStops(lut_stops(lut, alpha))
    return grad


_STOPS: dict[tuple[bytes, float], list[tuple[float, QtGui.QColor]]] = {}


def lut_stops(lut: np.ndarray, alpha: float = 1.0) -> list[tuple[float, QtGui.QColor]]:
    """33 stops sampling ``lut`` ``(N, 4)`` evenly (its first and last entry included),
    opacity times ``alpha``: made once per map and alpha (a level changes only where a
    gradient starts and stops, and the δ view's cells change level often)."""
    key = (lut.tobytes(), float(alpha))
    stops = _STOPS.get(key)
    if stops is None:
        n = len(lut)
        at = [*range(0, n - 1, max(1, n // 32)), n - 1]
        stops = []
        for k in at:
            color = QtGui.QColor(*(int(c) for c in lut[k]))
            color.setAlphaF(color.alphaF() * alpha)
            stops.append((k / (n - 1), color))
        _STOPS[key] = stops
    return stops


class ColorLegend(QtWidgets.QWidget):
    """A horizontal colour bar with the quantity's name and its range.

    ``signed``: the map is ``colors.DIVERGING`` over (−level, +level), else
    ``colors.SEQUENTIAL`` over (0, level). ``set_level`` after every colouring; ``text``
    is what it says (tests and the tooltip read it).
    """

    def __init__(self, name: str, signed: bool, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.signed = signed
        self.lut = colors.DIVERGING_LUT if signed else colors.SEQUENTIAL_LUT
        self.cmap = colors.DIVERGING if signed else colors.SEQUENTIAL
        self._image = lut_image(self.lut)
        self.name = name
        self.level: float | None = None
        self.setSizePolicy(QtWidgets.QSizePolicy.Policy.Fixed, QtWidgets.QSizePolicy.Policy.Fixed)
        self._update_tip()

    @property
    def text(self) -> str:
        """``"δ² −0.05 … +0.05"``: the name and the two ends."""
        lo, hi = level_text(self.level, self.signed)
        return f"{self.name} {lo} … {hi}"

    def set_name(self, name: str) -> None:
        """Name the quantity coloured (Unicode math, e.g. ``δᵢ² aⱼ¹``)."""
        if name != self.name:
            self.name = name
            self._changed()

    def set_level(self, level: float | None) -> None:
        """The level the view coloured with: ±level (signed) or 0 … level."""
        level = None if level is None else float(level)
        if level != self.level:
            self.level = level
            self._changed()

    def _changed(self) -> None:
        self._update_tip()
        self.updateGeometry()
        self.update()

    def _update_tip(self) -> None:
        kind = "diverging: blue < 0 < red" if self.signed else "sequential: dark 0 → bright"
        self.setToolTip(f"colour of {self.name}: {kind}, {self.text.split(' ', 1)[1]}")

    def _parts(self) -> tuple[str, str, str]:
        lo, hi = level_text(self.level, self.signed)
        return self.name, lo, hi

    def sizeHint(self) -> QtCore.QSize:
        fm = self.fontMetrics()
        name, lo, hi = self._parts()
        width = sum(fm.horizontalAdvance(t) for t in (name, lo, hi)) + BAR_WIDTH + 4 * 6
        return QtCore.QSize(width, max(fm.height(), BAR_HEIGHT) + 2)

    def minimumSizeHint(self) -> QtCore.QSize:
        return self.sizeHint()

    def paintEvent(self, event) -> None:
        painter = QtGui.QPainter(self)
        fm = self.fontMetrics()
        name, lo, hi = self._parts()
        ink = self.palette().color(QtGui.QPalette.ColorRole.WindowText)
        painter.setPen(ink)
        h = self.height()
        base = (h + fm.ascent() - fm.descent()) // 2
        x = 0
        for text, bar_after in ((name, False), (lo, True), (hi, False)):
            painter.drawText(x, base, text)
            x += fm.horizontalAdvance(text) + 6
            if bar_after:
                rect = QtCore.QRect(x, (h - BAR_HEIGHT) // 2, BAR_WIDTH, BAR_HEIGHT)
                painter.drawImage(rect, self._image)
                painter.setPen(QtGui.QColor(colors.MISSING))
                painter.drawRect(rect.adjusted(0, 0, -1, -1))
                painter.setPen(ink)
                x += BAR_WIDTH + 6
        painter.end()
