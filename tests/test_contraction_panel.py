"""The tensor-contraction panel in the real window: readable for every network the
network dialog allows (labels and matrices never overlap, a wide layer shows a stated
block of rows), and it follows Reset (through the dialog, typed into) and Open session."""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QDialogButtonBox

from bpviz.session import limits
from bpviz.ui.dialogs import NetworkDialog
from bpviz.ui.views.contraction import MAX_ROWS

# The dialog's extremes: one neuron, the widest layer, the most hidden layers, and the
# networks of the issue.
NETWORKS = [
    (784, 30, 10),
    (784, 512, 256, 10),
    (784, 1, 10),
    (784, limits.MAX_WIDTH, 10),
    (784, *[17] * limits.MAX_HIDDEN_LAYERS, 10),
]


@pytest.fixture
def panel(window, qtbot):
    """The window at 1366×768 with the contraction panel in front."""
    window.resize(1366, 768)
    window.docks["contraction"].raise_()
    view = window.views["contraction"]
    qtbot.waitUntil(view.isVisible)
    return view


def reset_and_step(qtbot, window, sizes) -> None:
    window.controller.reset(replace(window.config, sizes=sizes))
    window.act.step_batch.trigger()
    qtbot.waitUntil(lambda: shown(window, sizes, step=1), timeout=60_000)


def shown(window, sizes, step=None) -> bool:
    """Whether the window has drawn a snapshot of the network ``sizes`` (at ``step``)."""
    window.refresh()
    latest = window.latest
    return (
        latest is not None
        and latest.config.sizes == sizes
        and (step is None or latest.step == step)
    )


def assert_readable(view) -> None:
    """No two things drawn overlap; every label fits its box; nothing is cut at the right."""
    canvas = view.canvas
    layout = canvas.layout_for(canvas.width())
    assert layout is not None
    fm = canvas.fontMetrics()
    boxes = [*layout.labels, *layout.slices, layout.result_label, layout.result]
    for a, b in itertools.combinations(boxes, 2):
        assert not a.intersects(b), (a, b)
    for text, box in zip(canvas.labels, layout.labels, strict=True):
        assert fm.horizontalAdvance(text) <= box.width() + 1, text
        assert box.height() >= fm.height()
    assert all(box.right() <= canvas.width() for box in boxes), (canvas.width(), boxes)
    assert len(layout.slices) <= MAX_ROWS


@pytest.mark.parametrize("sizes", NETWORKS, ids=lambda s: "-".join(map(str, s[:3])) + "…")
def test_readable_for_every_network_the_dialog_allows(qtbot, window, panel, sizes):
    reset_and_step(qtbot, window, sizes)
    L = len(sizes) - 1
    for l in range(1, L + 1):
        n = sizes[l]
        i, j = (n * 2) // 3, sizes[l - 1] // 2
        window.controller.select(l, i, j)
        qtbot.waitUntil(lambda l=l: panel.layer == l and panel.result is not None)
        assert_readable(panel)
        assert i in panel.rows and len(panel.rows) == min(n, MAX_ROWS)
        if n > MAX_ROWS:
            said = f"rows {panel.rows.start}–{panel.rows.stop - 1} of {n:,} shown"
            assert said in panel.caption.text()
        # what is drawn is the engine's: those rows of δˡ (aˡ⁻¹)ᵀ for example 0
        shot = window.latest
        rows = np.arange(panel.rows.start, panel.rows.stop)
        expected = np.outer(shot.delta[l - 1][0, rows], shot.a[l - 1][0])
        np.testing.assert_allclose(panel.result, expected, rtol=1e-4, atol=1e-9)
        assert f"W^{{{l}}}" in panel.formula.latex


def coloured_pixels(widget) -> int:
    """How many pixels of ``widget`` on screen are neither background nor text grey."""
    image = widget.grab().toImage().convertToFormat(widget.grab().toImage().Format.Format_RGB32)
    pixels = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), -1, 4)[..., :3]
    spread = pixels.max(axis=2).astype(int) - pixels.min(axis=2).astype(int)
    return int((spread > 60).sum())


def test_follows_reset_through_the_network_dialog(qtbot, window, panel):
    reset_and_step(qtbot, window, (784, 30, 10))
    window.controller.select(1, 3, 5)
    qtbot.waitUntil(lambda: panel.layer == 1 and panel.result is not None)
    assert panel.result.shape == (16, 784) and coloured_pixels(panel.canvas) > 0

    def fill_in_the_dialog():
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, NetworkDialog):
            QTimer.singleShot(50, fill_in_the_dialog)
            return
        qtbot.mouseClick(dialog.hidden, Qt.MouseButton.LeftButton)
        qtbot.keyClick(dialog.hidden, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
        qtbot.keyClicks(dialog.hidden, "512")
        ok = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok)
        qtbot.mouseClick(ok, Qt.MouseButton.LeftButton)

    QTimer.singleShot(50, fill_in_the_dialog)
    window.act.network.trigger()
    qtbot.waitUntil(lambda: shown(window, (784, 512, 10)), timeout=30_000)
    # the new network's layer 1 (512 × 784): its equation, no values from the old one
    qtbot.waitUntil(lambda: panel.snapshot is window.latest)
    assert panel.layer == 1 and panel.result is None
    assert "rows 0–15 of 512 shown" in panel.caption.text()
    assert "W^{1}" in panel.formula.latex
    assert coloured_pixels(panel.canvas) == 0  # nothing of the old network is drawn
    window.act.step_batch.trigger()
    qtbot.waitUntil(lambda: panel.result is not None, timeout=30_000)
    assert panel.result.shape == (16, 784)
    assert_readable(panel)


def test_follows_open_session(qtbot, window, panel, tmp_path):
    reset_and_step(qtbot, window, (784, 16, 10))
    path = window.controller.save_session(str(tmp_path / "small.npz"))
    assert path
    reset_and_step(qtbot, window, (784, 30, 10))
    qtbot.waitUntil(lambda: panel.result is not None and panel.result.shape == (10, 30))
    assert window.controller.open_session(path)
    qtbot.waitUntil(lambda: shown(window, (784, 16, 10)), timeout=30_000)
    qtbot.waitUntil(lambda: panel.snapshot is window.latest)
    assert panel.result is None or panel.result.shape == (10, 16)
    assert "\\partial W^{2}" in panel.formula.latex and "16" in panel.caption.text()
    window.act.step_batch.trigger()
    qtbot.waitUntil(lambda: panel.result is not None and panel.result.shape == (10, 16))
    assert_readable(panel)
