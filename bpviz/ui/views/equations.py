"""The equation panel: the paper's algorithm (IV.4), typeset, with the live numbers.

Every line of the algorithm is typeset once (LaTeX → SVG by ziamath, drawn by QtSvg); the
lines the current phase computes are highlighted, and beneath them the same equations
are written out for the selected neuron or weight with the numbers the engine used
(bpviz/ui/equation_text.py builds the text; this widget only draws it).
"""

from __future__ import annotations

import html
from functools import lru_cache

import ziamath
from pyqtgraph.Qt import QtCore, QtGui, QtWidgets
from PySide6.QtSvgWidgets import QSvgWidget

from bpviz.session.snapshot import Snapshot
from bpviz.ui import colors
from bpviz.ui.equation_text import (
    Line,
    active_keys,
    algorithm,
    focus_caption,
    split_numbers,
    substituted,
)
from bpviz.ui.inspection import Selection
from bpviz.ui.notation import unicode_math
from bpviz.ui.views._throttle import ThrottledView

ziamath.config.svg2 = False  # SVG 1.1 paths without <symbol>: what QtSvg draws correctly
HIGHLIGHT_CSS = "rgb({}, {}, {})".format(*colors.HIGHLIGHT)
CAPTION = "#8b93a3"
# while training runs, the numbers are re-typeset at most once a second (~0.1 s each time)
THROTTLE_MS = 1000


@lru_cache(maxsize=1024)
def typeset(latex: str, size: float = 17.0, color: str = colors.FOREGROUND) -> bytes:
    """SVG bytes of ``latex`` (cached: the algorithm's lines are typeset once)."""
    return ziamath.Latex(latex, size=size, color=color).svg().encode()


def dark_panel(widget: QtWidgets.QWidget) -> None:
    """Give a panel the views' dark background and light text (formulas are typeset light)."""
    palette = widget.palette()
    for role, color in (
        (QtGui.QPalette.ColorRole.Window, colors.BACKGROUND),
        (QtGui.QPalette.ColorRole.WindowText, colors.FOREGROUND),
        (QtGui.QPalette.ColorRole.Text, colors.FOREGROUND),
        (QtGui.QPalette.ColorRole.Base, "#22252c"),
        (QtGui.QPalette.ColorRole.Button, "#2a2e37"),
        (QtGui.QPalette.ColorRole.ButtonText, colors.FOREGROUND),
    ):
        palette.setColor(role, QtGui.QColor(color))
    widget.setPalette(palette)
    widget.setAutoFillBackground(True)


class MathLabel(QSvgWidget):
    """One typeset formula at its natural size; the plain-text form is the tooltip."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.latex = ""

    def set_latex(self, latex: str, *, size: float = 17.0, color: str = colors.FOREGROUND) -> None:
        """Typeset ``latex`` (no work when unchanged)."""
        key = (latex, size, color)
        if key == getattr(self, "_key", None):
            return
        self._key, self.latex = key, latex
        self.load(QtCore.QByteArray(typeset(latex, size, color)))
        self.setFixedSize(self.renderer().defaultSize())


class _Row(QtWidgets.QFrame):
    """An algorithm line with its caption; highlighted when the phase computes it."""

    def __init__(self, line: Line, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.key = line.key
        self.math = MathLabel(self)
        self.math.set_latex(line.latex)
        self.caption = QtWidgets.QLabel(line.caption)
        self.caption.setWordWrap(True)
        self.caption.setStyleSheet(f"color: {CAPTION};")
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(8, 3, 8, 3)
        layout.setSpacing(1)
        layout.addWidget(self.math)
        layout.addWidget(self.caption)
        self.setToolTip(line.caption)
        self.active = False
        self.set_active(False)

    def set_active(self, active: bool) -> None:
        self.active = active
        border = HIGHLIGHT_CSS if active else "transparent"
        self.setStyleSheet(f"_Row {{ border: 2px solid {border}; border-radius: 4px; }}")
        color = "#{:02x}{:02x}{:02x}".format(*colors.HIGHLIGHT) if active else colors.FOREGROUND
        self.math.set_latex(self.math.latex, color=color)


class EquationView(ThrottledView):
    """The algorithm with the current phase's lines highlighted and substituted.

    ``set_selection(l, i, j)`` chooses the weight w_ij^l (j None or −1: the bias b_i^l)
    whose numbers are written out. ``active_keys`` and ``substitutions`` expose what is
    shown, for tests.
    """

    throttle_ms = THROTTLE_MS

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.selection: Selection | None = None
        self.substitutions: tuple[Line, ...] = ()
        self.active_keys: frozenset[str] = frozenset()
        self._config = None
        self._rows: list[_Row] = []
        self._subs: list[QtWidgets.QWidget] = []

        self.header = QtWidgets.QLabel("No mini-batch yet.")
        self.header.setWordWrap(True)
        self.body = QtWidgets.QWidget()
        self.rows_layout = QtWidgets.QVBoxLayout(self.body)
        self.rows_layout.setContentsMargins(4, 4, 4, 4)
        self.rows_layout.setSpacing(2)
        self.scroll = scroll = QtWidgets.QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.body)
        scroll.setStyleSheet(f"background: {colors.BACKGROUND}; color: {colors.FOREGROUND};")
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.header)
        layout.addWidget(scroll, 1)
        dark_panel(self)

    def set_selection(self, l: int, i: int, j: int | None = None) -> None:
        """Write the equations out for w_ij^l (j None or −1: the bias b_i^l)."""
        self.selection = Selection(l, i, None if j is None or j < 0 else j)
        self.redraw()

    def _build(self, snapshot: Snapshot) -> None:
        while self.rows_layout.count():  # the rows and the stretch of another network
            item = self.rows_layout.takeAt(0)
            if item.widget() is not None:
                item.widget().hide()
                item.widget().deleteLater()
        self._subs = []
        self._rows = [_Row(line, self.body) for line in algorithm(snapshot.config)]
        for row in self._rows:
            self.rows_layout.addWidget(row)
        self.rows_layout.addStretch(1)
        self._config = snapshot.config

    def _render(self, snapshot: Snapshot) -> None:
        if snapshot.config != self._config:
            self._build(snapshot)
        L = snapshot.n_layers
        self.active_keys = active_keys(snapshot.phase, L)
        for row in self._rows:
            row.set_active(row.key in self.active_keys)
        sel = self.selection
        if sel is None or not _fits(sel, snapshot.config.sizes):
            sel = self.selection = Selection(L, 0, 0)
        example = self.example or 0
        self.substitutions = substituted(snapshot, sel, example)
        phase = "reset" if snapshot.phase is None else snapshot.phase.label
        self.header.setText(
            f"<b>Phase: {html_indices(phase)}</b> (step {snapshot.step}) — "
            f"{html_indices(focus_caption(snapshot, sel, example))}"
        )
        self._place_substitutions()
        QtCore.QTimer.singleShot(0, self._scroll_to_active)

    def _scroll_to_active(self) -> None:
        """Keep the highlighted line and its numbers in view (after the layout settled)."""
        active = [row for row in self._rows if row.active]
        for widget in (*self._subs[:1], *active[:1]):
            self.scroll.ensureWidgetVisible(widget, 0, 8)

    def _place_substitutions(self) -> None:
        for widget in self._subs:
            self.rows_layout.removeWidget(widget)
            widget.hide()
            widget.deleteLater()
        self._subs = []
        for line in reversed(self.substitutions):
            row = next(r for r in self._rows if r.key == line.key)
            box = QtWidgets.QFrame(self.body)
            box_layout = QtWidgets.QHBoxLayout(box)
            box_layout.setContentsMargins(28, 0, 8, 4)
            box_layout.setSpacing(3)
            box.latex = line.latex
            # the symbolic part is typeset once (cached); only the numbers are new
            for part in split_numbers(line.latex):
                if part:
                    math = MathLabel(box)
                    math.set_latex(part, size=15.0)
                    math.setToolTip(line.caption)
                    box_layout.addWidget(math, 0, QtCore.Qt.AlignmentFlag.AlignVCenter)
            note = QtWidgets.QLabel(line.caption)
            note.setStyleSheet(f"color: {CAPTION};")
            box_layout.addWidget(note)
            box_layout.addStretch(1)
            self.rows_layout.insertWidget(self.rows_layout.indexOf(row) + 1, box)
            self._subs.append(box)


def html_indices(text: str) -> str:
    """``"w_3,7^2"`` → ``"w₃,₇²"``: a caret label (``Phase.label``, ``Selection.label``) in
    the window's one notation (``bpviz.ui.notation.unicode_math``), HTML-escaped."""
    return html.escape(unicode_math(text), quote=False)


def _fits(sel: Selection, sizes: tuple[int, ...]) -> bool:
    try:
        sel.check(sizes)
    except ValueError:
        return False
    return True
