"""One notation: the window, its dialogs and its About box write δ¹, aᴸ, Wˡ, w₃,₅² and
123,748, never caret text (``δ^1``, ``W^{l+1}``, ``n_{L-1}``, ``w_ij``)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox
from uitexts import bare_numbers, caret_texts, widget_texts

from bpviz.notation import number, subscript, superscript, unicode_math


@pytest.mark.parametrize(
    ("caret", "unicode"),
    [
        ("δ^2", "δ²"),
        ("∂C/∂W^1", "∂C/∂W¹"),
        ("w_3,7^2", "w₃,₇²"),
        ("w_3,17^2", "w₃,₁₇²"),
        ("b_3^2", "b₃²"),
        ("(a^{l-1})^T", "(aˡ⁻¹)ᵀ"),
        ("W^{l+1}", "Wˡ⁺¹"),
        ("a^L_p", "aᴸₚ"),
        ("w_ij^l", "wᵢⱼˡ"),
        ("forward l=1", "forward l=1"),
    ],
)
def test_unicode_math_writes_the_one_notation(caret, unicode):
    assert unicode_math(caret) == unicode


def test_what_has_no_unicode_form_stays_visible_to_the_scan():
    assert unicode_math("n_{L-1}") == "n_{L-1}"  # no subscript capital L: rewrite the text
    with pytest.raises(ValueError):
        subscript("L")
    assert superscript(12) == "¹²" and subscript("3,5") == "₃,₅"
    assert number(123748) == "123,748"


def _step_phases(qtbot, window, n):
    window.activateWindow()
    for _ in range(n):
        qtbot.keyClick(window, Qt.Key.Key_Period)
    qtbot.waitUntil(
        lambda: window.latest is not None and window.latest.phase is not None
        and window.worker.latest().phase == window.latest.phase
        and window.latest.step == 0 and window.latest.grad_w[-1] is not None,
        timeout=30_000,
    )  # fmt: skip


def _show_every_tab(qtbot, window):
    for dock in window.docks.values():  # bring each tabbed dock to the front once
        dock.show()
        dock.raise_()
        qtbot.wait(50)
        window.refresh()


def test_the_window_shows_no_caret_notation_after_stepping_into_the_backward_pass(qtbot, window):
    _step_phases(qtbot, window, 7)  # forward, cost, δ², δ¹, ∂C/∂W² …
    window.controller.select(2, 3, 5)
    _show_every_tab(qtbot, window)
    qtbot.waitUntil(lambda: "phase: " in window.status.labels["phase"].text())
    phase = window.status.labels["phase"].text()
    assert "^" not in phase and any(c in phase for c in "¹²"), phase
    found = caret_texts(window)
    assert not found, "\n".join(f"{where}: {text}" for where, text in found)
    assert not bare_numbers(window), bare_numbers(window)
    # the equations panel names the phase and the weight in the same notation
    header = window.views["equations"].header.text()
    assert "w₃,₅²" in header and "^" not in header, header


def test_dialogs_and_about_box_show_no_caret_notation(qtbot, window):
    seen: dict[str, list] = {}

    def scan_modal() -> None:
        dialog = QApplication.activeModalWidget()
        if dialog is None:
            QTimer.singleShot(50, scan_modal)
            return
        seen["network"] = widget_texts(dialog)
        seen["network_caret"] = caret_texts(dialog)
        dialog.reject()

    QTimer.singleShot(50, scan_modal)
    window.act.network.trigger()  # the Network & cost dialog (modal)
    assert seen["network"], "the network dialog did not open"
    assert not seen["network_caret"], seen["network_caret"]

    about = next(a for a in window.findChildren(type(window.act.run)) if a.text() == "About bpviz")
    about.trigger()
    box = next(b for b in window.findChildren(QMessageBox) if b.windowTitle() == "About bpviz")
    assert "δᴸ" in box.text() and not caret_texts(box), caret_texts(box)
    box.close()

    window.menus.help_action.trigger()
    page = window.controller.help_dialog
    qtbot.waitExposed(page)
    text = page.browser.toPlainText()
    assert "^" not in text and "_{" not in text
    page.close()


def test_typeset_indices_use_the_same_comma_style_as_the_window():
    from test_inspector import CONFIGS, engine_snapshots

    from bpviz.ui.equation_text import substituted
    from bpviz.ui.inspection import Selection

    snaps, _ = engine_snapshots(CONFIGS[0])
    update = snaps[-1]  # the update phase writes the selected weight out
    (line,) = substituted(update, Selection(2, 3, 5))
    assert r"w_{3,5}^{2}" in line.latex, line.latex
    assert unicode_math(Selection(2, 3, 5).label()) == "w₃,₅²"


def test_step_counts_are_written_with_thousands_separators(qtbot):
    from dataclasses import replace

    from test_inspector import CONFIGS, engine_snapshots

    from bpviz.ui.views.equations import EquationView
    from bpviz.ui.views.inspector import InspectorView

    snaps, _ = engine_snapshots(CONFIGS[0])
    late = replace(snaps[-1], step=123748)
    for view, text in (
        (EquationView(), lambda v: v.header.text()),
        (InspectorView(), lambda v: v.values.text()),
    ):
        qtbot.addWidget(view)
        view.show()
        view.show_snapshot(late)
        qtbot.waitUntil(lambda v=view, t=text: "123,748" in t(v), timeout=5000)
        assert "123748" not in text(view)
