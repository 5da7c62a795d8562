"""Toy 2-D data in the real window: Data ▸ Toy 2-D through the menus, its network and
batch size 1, the settings dialog's refusals, back to MNIST, File ▸ Export worked example
equal to the CLI's, ``main.py --data moons``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from bpviz.data.toy import DEFAULTS

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def toy_window(window_on):
    return window_on("xor")


def click_menu(qtbot, menu, text):
    """Open ``menu`` on screen and click its entry ``text`` with the mouse; the entry's
    submenu (if it has one), shown."""
    if not menu.isVisible():
        menu.popup(menu.parentWidget().mapToGlobal(menu.parentWidget().rect().center()))
        qtbot.waitUntil(menu.isVisible)
    (action,) = [a for a in menu.actions() if a.text() == text]
    qtbot.mouseMove(menu, menu.actionGeometry(action).center())
    qtbot.mouseClick(menu, Qt.MouseButton.LeftButton, pos=menu.actionGeometry(action).center())
    return action.menu()


def network_of(qtbot, window, sizes):
    qtbot.waitUntil(
        lambda: window.latest is not None and window.latest.config.sizes == sizes,
        timeout=20_000,
    )
    return window.latest


def test_data_toy_xor_through_the_menu_switches_data_and_network_and_back(qtbot, window):
    network_of(qtbot, window, (784, 30, 10))
    data = window.menu("&Data")
    toy = click_menu(qtbot, data, "Toy 2-D")
    qtbot.waitUntil(toy.isVisible)
    click_menu(qtbot, toy, "XOR")
    shown = network_of(qtbot, window, DEFAULTS["xor"].layers(2))
    assert window.dataset.n_inputs == 2 and "XOR" in window.dataset.source
    assert shown.config.batch_size == 1 and window.batch.spin.text() == "1"
    assert shown.config.eta == DEFAULTS["xor"].eta and shown.config.hidden == "tanh"
    assert window.model.data_choice == "xor" and window.menus.toy_actions["xor"].isChecked()
    assert window.docks["plane"].isVisible() and not window.views["plane"].message.isVisible()
    # MNIST again: the MNIST network (784-30-10, sigmoid, its η and batch size)
    click_menu(qtbot, data, "Embedded sample")
    back = network_of(qtbot, window, (784, 30, 10))
    assert back.config.hidden == "sigmoid" and back.config.batch_size == 10
    assert window.views["plane"].message.isVisible()  # the plane says why it is empty


def test_toy_settings_refuse_bad_values_in_the_window_then_apply(qtbot, toy_window):
    w = toy_window
    network_of(qtbot, w, (2, 4, 2))
    w.menus.toy_settings_action.trigger()
    dialog = w.controller.toy_dialog
    qtbot.waitExposed(dialog)
    dialog.data.setCurrentIndex(dialog.data.findData("moons"))
    for field, typed, words in (
        (dialog.noise, "lots", "noise must be a number"),
        (dialog.noise, "-1", "noise must be a finite number from 0"),
        (dialog.n_train, "1", "at least 2 training points"),
        (dialog.seed, "-3", "seed must be a whole number"),
    ):
        old = field.text()
        field.selectAll()
        qtbot.keyClicks(field, typed)
        qtbot.keyClick(field, Qt.Key.Key_Return)  # OK is the default button
        assert dialog.isVisible() and words in dialog.error.text()
        field.setText(old)
    dialog.noise.selectAll()
    qtbot.keyClicks(dialog.noise, "0.2")
    dialog.seed.selectAll()
    qtbot.keyClicks(dialog.seed, "7")
    qtbot.keyClick(dialog.noise, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not dialog.isVisible())
    network_of(qtbot, w, (2, 8, 2))
    assert "two moons, noise 0.2, seed 7" in w.dataset.source


def test_export_worked_example_writes_what_the_cli_writes(qtbot, toy_window, tmp_path):
    from bpviz.ui.toy_data import worked_argv

    w = toy_window
    network_of(qtbot, w, (2, 4, 2))
    for suffix, fmt in ((".md", "md"), (".json", "json"), (".tex", "tex")):
        path = tmp_path / f"step{suffix}"
        assert w.controller.export_worked_example(str(path)) == str(path)
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        cli = subprocess.run(
            [sys.executable, "-m", "bpviz", "worked-example", *worked_argv(w.config, "xor", fmt)],
            capture_output=True, text=True, env=env, cwd=ROOT, timeout=120, check=True,
        )  # fmt: skip
        assert path.read_text(encoding="utf-8") == cli.stdout
    assert "--layers 2,4,2" in " ".join(worked_argv(w.config, "xor", "md"))
    assert w.controller.export_worked_example(str(tmp_path / "step.txt")) is None
    box = [b for b in w.findChildren(QMessageBox) if b.objectName() == "bpviz_message"][-1]
    assert ".md, .tex or .json" in box.text()


def test_export_worked_example_on_mnist_says_why_not(qtbot, window, tmp_path):
    network_of(qtbot, window, (784, 30, 10))
    assert window.controller.export_worked_example(str(tmp_path / "x.md")) is None
    box = [b for b in window.findChildren(QMessageBox) if b.objectName() == "bpviz_message"][-1]
    assert "Toy 2-D" in box.text() and not (tmp_path / "x.md").exists()


def test_every_dock_draws_toy_data_without_an_error(qtbot, toy_window):
    """Every panel brought to the front while phases are stepped with the `.` key."""
    w = toy_window
    errors = []
    hook, sys.excepthook = sys.excepthook, lambda *e: errors.append(e)
    try:
        network_of(qtbot, w, (2, 4, 2))
        for _ in range(8):  # 3L + 2 phases of 2-4-2
            qtbot.keyClick(w, Qt.Key.Key_Period)
            for dock in w.docks.values():
                dock.raise_()
                QApplication.processEvents()
        qtbot.waitUntil(lambda: w.latest.phase is not None and w.latest.phase.kind == "update",
                        timeout=20_000)  # fmt: skip
        for dock in w.docks.values():
            dock.raise_()
            QApplication.processEvents()
    finally:
        sys.excepthook = hook
    assert errors == []
    assert not w.views["gradients"].tiles_box.isEnabled()  # no 28×28 tiles of a point
    assert "not an image" in w.views["io"].caption.text()


def test_main_py_data_moons_opens_the_window(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HOME": str(tmp_path),
           "XDG_CONFIG_HOME": str(tmp_path / "config")}  # fmt: skip
    shot = tmp_path / "moons.png"
    done = subprocess.run(
        [sys.executable, "main.py", "--data", "moons", "--settings", str(tmp_path / "s.ini"),
         "--step-phases", "3", "--screenshot", str(shot)],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert shot.stat().st_size > 10_000


def test_equations_inspector_gradient_check_and_delta_view_work_on_toy_data(qtbot, toy_window):
    """The same panels as on MNIST, unchanged: a click on an edge of the glass-box
    network selects w₁,₀² everywhere; g checks it numerically; δ bars are the snapshot's."""
    from viewtools import click

    from bpviz.session.snapshot import PhaseKind

    w = toy_window
    network_of(qtbot, w, (2, 4, 2))
    network = w.views["network"]
    for _ in range(7):  # forward 1, 2, cost, δ², δ¹, ∂C/∂W², ∂C/∂W¹
        index = w.latest.phase_index
        qtbot.keyClick(w, Qt.Key.Key_Period)
        qtbot.waitUntil(lambda i=index: w.latest.phase_index == i + 1, timeout=10_000)
    shown = w.latest
    assert shown.phase.kind is PhaseKind.GRADIENT and shown.phase.layer == 1
    qtbot.waitUntil(lambda: network._drawn is shown, timeout=10_000)
    (x1, y1), (x2, y2) = network.node_positions(1)[0], network.node_positions(2)[1]
    click(network.canvas, network.vb, 0.75 * x1 + 0.25 * x2, 0.75 * y1 + 0.25 * y2)  # w₁,₀²
    qtbot.waitUntil(lambda: w.selection == (2, 1, 0), timeout=5_000)
    w.activateWindow()
    network.setFocus()
    qtbot.keyClick(network, Qt.Key.Key_G)
    inspector, equations, delta = w.views["inspector"], w.views["equations"], w.views["delta"]
    qtbot.waitUntil(lambda: inspector.last_check is not None, timeout=10_000)
    check = inspector.last_check
    assert check.result.worst_entry == (2, 1, 0) and check.result.worst_relative_error < 1e-4
    assert check.live == float(shown.grad_w[1][1, 0])
    inspector.wait_for_checks()
    for dock in ("equations", "delta"):
        w.docks[dock].show()
        w.docks[dock].raise_()
    qtbot.waitUntil(lambda: equations._drawn is shown and delta._drawn is shown, timeout=10_000)
    assert equations.selection.entry == (2, 1, 0) and equations.substitutions
    assert "Traceback" not in " ".join(map(str, equations.substitutions))


def test_bpviz_data_naming_a_toy_set_opens_on_its_network(qtbot, settings_path, monkeypatch):
    from bpviz.ui import settings as store
    from bpviz.ui.app import build_window

    monkeypatch.setenv("BPVIZ_DATA", "circles")
    w = build_window(None, store.open_settings(settings_path))
    qtbot.addWidget(w)
    try:
        assert w.config.sizes == (2, 8, 2) and w.config.batch_size == 1
        assert w.controller.toy is not None and w.controller.toy.name == "circles"
    finally:
        w.close()


def test_a_batch_size_larger_than_the_toy_set_does_not_block_switching(qtbot, window):
    """m = 1,000 on MNIST, then XOR (400 points): the window switches, with m = 1."""
    network_of(qtbot, window, (784, 30, 10))
    field = window.batch.spin
    field.selectAll()
    qtbot.keyClicks(field, "1000")
    qtbot.keyClick(field, Qt.Key.Key_Return)
    window.act.reset.trigger()
    qtbot.waitUntil(lambda: window.latest.config.batch_size == 1000, timeout=20_000)
    assert window.menus.toy_actions["xor"].isEnabled()
    window.menus.toy_actions["xor"].trigger()
    shown = network_of(qtbot, window, (2, 4, 2))
    assert shown.config.batch_size == 1
    assert not [b for b in window.findChildren(QMessageBox) if b.isVisible()]
