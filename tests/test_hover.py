"""The one live tooltip: it shows the text for the point under a resting pointer and
follows new values without the pointer moving."""

from __future__ import annotations

from pyqtgraph.Qt import QtCore, QtWidgets

from bpviz.ui.views._hover import LiveTip, html_lines


def test_tip_follows_values_while_pointer_rests(qtbot):
    widget = QtWidgets.QWidget()
    widget.resize(200, 100)
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    value = {"v": 1.5}

    def text_at(pos: QtCore.QPointF) -> str | None:
        return f"left {value['v']}" if pos.x() < 100 else None

    tip = LiveTip(widget, text_at)
    qtbot.mouseMove(widget, QtCore.QPoint(20, 50))
    qtbot.waitUntil(lambda: tip.text == "left 1.5")
    value["v"] = 2.5
    tip.refresh()  # what a view does after drawing a new snapshot
    assert tip.text == "left 2.5"
    qtbot.mouseMove(widget, QtCore.QPoint(150, 50))
    qtbot.waitUntil(lambda: tip.text is None)
    value["v"] = 9.0
    tip.refresh()
    assert tip.text is None  # nothing under the pointer: no tip comes back
    assert tip.hover(QtCore.QPointF(10, 10)) == "left 9.0"


def test_html_lines_escapes_and_keeps_lines():
    text = html_lines("a < b", "δ = 1")
    assert "a &lt; b<br>δ = 1" in text
