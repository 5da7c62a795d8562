"""The equation panel: the paper's algorithm (IV.4), typeset, with the live numbers.

Every line of the algorithm is typeset once (LaTeX → SVG by ziamath, drawn by QtSvg); the
lines the current phase computes are highlighted, and beneath them the same equations
are written out for the selected neuron or weight with the numbers the engine used
(bpviz/ui/equation_text.py builds the text; this widget only draws it).
"""

from __future__ import annotations

import html
from functools import lru_cache

from pyqtgraph.Qt import QtCore, QtGui, QtWidgets
from PySide6.QtSvgWidgets import QSvgWidget

from bpviz.notation import unicode_math
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
from bpviz.ui.views._throttle import ThrottledView

HIGHLIGHT_CSS = "rgb({}, {}, {})".format(*colors.HIGHLIGHT)
CAPTION = "#8b93a3"
# while training runs, the numbers are re-typeset at most once a second (~0.1 s each time)
THROTTLE_MS = 1000


@lru_cache(maxsize=1024)
def typeset(latex: str, size: float = 17.0, color: str = colors.FOREGROUND) -> bytes:
    """SVG bytes of ``latex`` (cached: the algorithm's lines are typeset once)."""
    import ziamath  # ~0.3 s to import: after the window's first frame, when first typeset

    ziamath.config.svg2 = False  # SVG 1.1 paths without <symbol>: what QtSvg draws correctly
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
        self.natural = QtCore.QSize(0, 0)  # the typeset size, before any scaling
        self.scale = 1.0

    def set_latex(self, latex: str, *, size: float = 17.0, color: str = colors.FOREGROUND) -> None:
        """Typeset ``latex`` (no work when unchanged)."""
        key = (latex, size, color)
        if key == getattr(self, "_key", None):
            return
        self._key, self.latex = key, latex
        self.load(QtCore.QByteArray(typeset(latex, size, color)))
        self.natural = self.renderer().defaultSize()
        self.set_scale(self.scale)

    def set_scale(self, scale: float) -> None:
        """Draw at ``scale`` × the typeset size (≤ 1 shrinks a formula to fit a panel)."""
        self.scale = scale
        self.setFixedSize(
            max(1, round(self.natural.width() * scale)),
            max(1, round(self.natural.height() * scale)),
        )


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

    max_hz = 1000 / THROTTLE_MS

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
        # formulas shrink to the panel's width instead (fit_width): a sideways-scrolled
        # panel cut the left edge of every line
        scroll.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
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
            f"<b>Phase: {html_indices(phase)}</b> (step {snapshot.step:,}) — "
            f"{html_indices(focus_caption(snapshot, sel, example))}"
        )
        self._place_substitutions()
        self.fit_width()
        QtCore.QTimer.singleShot(0, self._scroll_to_active)

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:
        super().resizeEvent(event)
        self.fit_width()

    def fit_width(self) -> None:
        """Shrink every formula wider than the panel (never enlarge): an algorithm line
        to the row's width, a substituted line's parts together to the box's width."""
        room = self.scroll.viewport().width() - 2 * self.rows_layout.contentsMargins().left()
        for row in self._rows:
            margins = row.layout().contentsMargins()
            width = room - margins.left() - margins.right() - 4  # the 2 px highlight frame
            row.math.set_scale(min(1.0, width / max(row.math.natural.width(), 1)))
            row.caption.setMaximumWidth(max(width, 50))
        for box in self._subs:
            parts = box.findChildren(MathLabel)
            margins = box.layout().contentsMargins()
            width = room - margins.left() - margins.right()
            beside = width - box.parts.spacing() * max(len(parts) - 1, 0)
            natural = sum(part.natural.width() for part in parts)
            stack = natural > beside  # symbolic part above, numbers below
            box.parts.setDirection(
                QtWidgets.QBoxLayout.Direction.TopToBottom
                if stack
                else QtWidgets.QBoxLayout.Direction.LeftToRight
            )
            for part in parts:
                part.set_scale(min(1.0, width / max(part.natural.width(), 1)) if stack else 1.0)

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
            box_layout = QtWidgets.QVBoxLayout(box)
            box_layout.setContentsMargins(28, 0, 8, 4)
            box_layout.setSpacing(0)
            # the parts side by side, or one under the other when they do not fit
            box.parts = QtWidgets.QBoxLayout(QtWidgets.QBoxLayout.Direction.LeftToRight)
            box.parts.setSpacing(3)
            box.latex = line.latex
            # the symbolic part is typeset once (cached); only the numbers are new
            for part in split_numbers(line.latex):
                if part:
                    math = MathLabel(box)
                    math.set_latex(part, size=15.0)
                    math.setToolTip(line.caption)
                    box.parts.addWidget(math, 0, QtCore.Qt.AlignmentFlag.AlignVCenter)
            box.parts.addStretch(1)
            note = QtWidgets.QLabel(line.caption)
            note.setStyleSheet(f"color: {CAPTION};")
            note.setWordWrap(True)
            box_layout.addLayout(box.parts)
            box_layout.addWidget(note)
            self.rows_layout.insertWidget(self.rows_layout.indexOf(row) + 1, box)
            self._subs.append(box)


def html_indices(text: str) -> str:
    """``"w_3,7^2"`` → ``"w₃,₇²"``: a caret label (``Phase.label``, ``Selection.label``) in
    the window's one notation (``bpviz.notation.unicode_math``), HTML-escaped."""
    return html.escape(unicode_math(text), quote=False)


def _fits(sel: Selection, sizes: tuple[int, ...]) -> bool:
    try:
        sel.check(sizes)
    except ValueError:
        return False
    return True
