"""The inspector panels in the real main window: one selection everywhere, pin, g, --inspect."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QImage

from bpviz.session.snapshot import PhaseKind
from bpviz.ui.inspection import Selection

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def window(window):
    """conftest's window; its inspector's numeric checks end before it closes."""
    yield window
    window.views["inspector"].wait_for_checks()


def step_to(qtbot, w, kind, layer=None):
    """Step phases until the window has drawn the snapshot after Phase(kind, layer)."""
    for _ in range(40):
        s = w.latest
        phase = None if s is None else s.phase
        if phase is not None and phase.kind is kind and phase.layer == layer:
            return s
        w.worker.step_phase()
        assert w.worker.wait_idle(timeout=10.0)
        qtbot.waitUntil(lambda: w.refresh() or w.latest is w.worker.latest(), timeout=10_000)
    raise AssertionError(f"never reached {kind} {layer}")


def panels(w):
    return [w.views[k] for k in ("inspector", "equations", "contraction")]


def test_clicks_in_the_views_select_the_weight_in_every_panel(qtbot, window):
    step_to(qtbot, window, PhaseKind.DELTA, 1)
    window.views["gradients"].weight_clicked.emit(2, 3, 5)
    assert window.selection == (2, 3, 5)
    for panel in panels(window):
        assert tuple(panel.selection if isinstance(panel.selection, tuple) else
                     panel.selection.entry) == (2, 3, 5)  # fmt: skip
    # highlighted where the weight appears: the heatmap switches to W² and outlines it,
    # the network view marks neuron 3 of layer 2
    gradients, network = window.views["gradients"], window.views["network"]

    def outlined() -> bool:
        # a view under load may not have drawn its first snapshot yet (it then cannot
        # know layer 2 exists): click again until it has
        gradients.weight_clicked.emit(2, 3, 5)
        return gradients.layer == 2 and gradients.heatmap.marker.isVisible()

    qtbot.waitUntil(outlined, timeout=10_000)
    assert gradients.heatmap.marker.rect() == QRectF(5, 3, 1, 1)
    xs, _ = network.selected_node.getData()
    assert list(xs) == [2.0]
    window.views["network"].edge_clicked.emit(1, 7, 400)
    assert window.views["inspector"].selection == Selection(1, 7, 400)
    assert window.views["equations"].selection == Selection(1, 7, 400)
    inspector = window.views["inspector"]
    inspector.bias_box.setChecked(True)  # the form selects too
    assert window.selection == (1, 7, None)
    assert window.views["equations"].selection == Selection(1, 7, None)


def test_g_checks_the_selected_weight_without_touching_training(qtbot, window):
    snap = step_to(qtbot, window, PhaseKind.GRADIENT, 1)
    window.views["gradients"].weight_clicked.emit(1, 12, 300)
    window.activateWindow()
    window.views["network"].setFocus()
    qtbot.keyClick(window.views["network"], Qt.Key.Key_G)
    check = window.views["inspector"].last_check
    assert check is not None and check.result.worst_entry == (1, 12, 300)
    assert check.result.worst_relative_error < 1e-6
    assert check.live == float(snap.grad_w[0][12, 300])
    after = step_to(qtbot, window, PhaseKind.UPDATE)
    assert after.step == snap.step + 1 and after.loss == snap.loss


def test_pin_puts_the_weight_on_the_sessions_watch_list(qtbot, window):
    step_to(qtbot, window, PhaseKind.COST)
    window.views["gradients"].weight_clicked.emit(2, 4, 9)
    inspector = window.views["inspector"]
    inspector.pin_button.click()
    for _ in range(3):
        window.worker.step_batch()
    qtbot.waitUntil(
        lambda: window.refresh() or (
            window.latest.history is not None
            and any((w.l, w.i, w.j) == (2, 4, 9) for w in window.latest.history.watches)
            and len(window.latest.history.watches[0].w.step) >= 2
        ),
        timeout=10_000,
    )  # fmt: skip
    window.docks["inspector"].raise_()
    inspector.tabs.setCurrentIndex(1)

    def drawn() -> bool:
        xs = inspector.w_curve.getData()[0]
        return xs is not None and len(xs) >= 2

    qtbot.waitUntil(drawn, timeout=5000)
    assert inspector.pin_button.isChecked()


def test_inspect_option_opens_with_the_weight_selected_and_saves_a_screenshot(tmp_path):
    shot = tmp_path / "inspect.png"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    args = ["--settings", str(tmp_path / "s.ini"), "--data", "sample", "--inspect", "2,3,5"]
    result = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), *args, "--step-phases", "6", "--screenshot",
         str(shot)],
        capture_output=True, text=True, timeout=120, env=env, cwd=ROOT,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert not QImage(str(shot)).isNull()
    bad = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), *args[:4], "--inspect", "2,x,5"],
        capture_output=True, text=True, timeout=60, env=env, cwd=ROOT,
    )  # fmt: skip
    assert bad.returncode == 2 and "L,I,J" in bad.stderr and "Traceback" not in bad.stderr


def test_a_stale_click_is_ignored_and_a_bad_inspect_is_a_clear_error(qtbot, window):

    step_to(qtbot, window, PhaseKind.FORWARD, 1)
    window.views["gradients"].weight_clicked.emit(2, 3, 5)
    window.views["gradients"].weight_clicked.emit(2, 99, 5)  # no neuron 99 in layer 2
    assert window.selection == (2, 3, 5)
    with pytest.raises(ValueError, match="i = 99"):
        window.controller.select(2, 99, 5)


def test_inspect_option_selects_in_the_window(qtbot, window):
    from bpviz.ui.app import apply_script, build_parser

    args = build_parser().parse_args(["--inspect", "2,3,b", "--step-phases", "4"])
    apply_script(window, args)
    assert window.selection == (2, 3, None)
    assert window.views["inspector"].selection == Selection(2, 3, None)
    assert window.views["inspector"].bias_box.isChecked()
    qtbot.waitUntil(lambda: window.refresh() or window.latest is window.worker.latest())
    assert window.latest.phase.kind is PhaseKind.DELTA  # 4 phases: f1, f2, cost, δ²
    equations = window.views["equations"]
    equations.redraw()
    assert equations.selection == Selection(2, 3, None)
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--inspect", "two,3,5"])
