"""η is refused by one rule, ``bpviz.session.limits``, at every door: the window's field
(typed with real keys), its slider, the Worker, the RemoteWorker and the Session — each
with the same sentence."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox, QSlider

from bpviz.data import load_sample
from bpviz.runtime.remote import RemoteWorker
from bpviz.runtime.worker import Worker
from bpviz.session import limits
from bpviz.session.session import Session
from bpviz.session.snapshot import SessionConfig

BAD = ["nan", "inf", "-inf", "abc", "1e9", "0", "-1", ""]
BAD_NUMBERS = [float(t) for t in BAD if t not in ("abc", "")]
ROOT = Path(__file__).resolve().parents[1]


def rule_says(text_or_number) -> str:
    """What the one rule says about ``text_or_number`` (typed text, or a number)."""
    with pytest.raises(ValueError) as info:
        if isinstance(text_or_number, str):
            limits.parse_eta(text_or_number)
        else:
            limits.check_eta(text_or_number)
    return str(info.value)


def messages(w) -> list[QMessageBox]:
    return [box for box in w.findChildren(QMessageBox) if box.isVisible()]


def type_into_eta(qtbot, window, text: str) -> None:
    """Click into the η field, select what is there, type ``text`` and press Enter."""
    field = window.eta.spin
    window.activateWindow()
    qtbot.mouseClick(field, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(field.hasFocus)
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    if text:
        qtbot.keyClicks(QApplication.focusWidget(), text)
    else:
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Backspace)
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)


@pytest.mark.parametrize("text", BAD)
def test_typed_bad_eta_is_refused_in_the_window_with_the_rules_sentence(qtbot, window, text):
    in_force = window.config.eta
    type_into_eta(qtbot, window, text)
    qtbot.waitUntil(lambda: len(messages(window)) == 1, timeout=3000)
    said = rule_says(text)
    assert messages(window)[0].text() == said
    assert said in window.statusBar().currentMessage()
    assert window.eta.spin.text() == f"{in_force:.6g}"  # the η in force, not what was typed
    assert window.config.eta == in_force
    window.act.step_batch.trigger()
    window.worker.wait_idle(5.0)
    assert window.worker.latest().eta == in_force


def test_largest_eta_the_rule_allows_is_taken_from_the_field(qtbot, window):
    type_into_eta(qtbot, window, f"{limits.ETA_MAX:g}")
    qtbot.waitUntil(lambda: window.config.eta == limits.ETA_MAX, timeout=3000)
    assert not messages(window)


def test_the_slider_spans_the_limits_log_range(qtbot, window):
    slider = window.eta.findChild(QSlider)
    for position, exponent in (
        (slider.maximum(), limits.ETA_SLIDER_LOG_MAX),
        (slider.minimum(), limits.ETA_SLIDER_LOG_MIN),
    ):
        slider.setValue(position)
        qtbot.waitUntil(lambda e=exponent: window.config.eta == pytest.approx(10**e), timeout=3000)
    assert not messages(window)


@pytest.fixture(scope="module")
def dataset():
    return load_sample()


@pytest.mark.parametrize("eta", [*BAD_NUMBERS, "abc", True, None])
def test_worker_and_session_refuse_with_the_same_sentence(dataset, eta):
    with pytest.raises(ValueError) as by_rule:
        limits.check_eta(eta)  # values from code: no text parsing, "abc" is not a number
    said = str(by_rule.value)
    session = Session(dataset, SessionConfig(seed=1))
    with pytest.raises(ValueError) as by_session:
        session.set_eta(eta)
    worker = Worker(Session(dataset, SessionConfig(seed=1)))
    try:
        with pytest.raises(ValueError) as by_worker:
            worker.set_eta(eta)
    finally:
        worker.stop()
    assert str(by_session.value) == str(by_worker.value) == said


def test_remote_worker_refuses_with_the_same_sentence(dataset):
    remote = RemoteWorker(dataset, SessionConfig(seed=1))
    try:
        for eta in BAD_NUMBERS:
            with pytest.raises(ValueError) as info:
                remote.set_eta(eta)
            assert str(info.value) == rule_says(eta)
        remote.set_eta(limits.ETA_MAX)  # the bound itself is allowed
        remote.step_batch()
        remote.wait_idle(10.0)
        assert remote.latest().eta == limits.ETA_MAX
    finally:
        remote.stop()


def test_typed_and_api_refusals_of_a_number_read_the_same(qtbot, window, dataset):
    """The window's message for "1e9" is the Worker's and the Session's for 1e9."""
    type_into_eta(qtbot, window, "1e9")
    qtbot.waitUntil(lambda: len(messages(window)) == 1, timeout=3000)
    with pytest.raises(ValueError) as info:
        Session(dataset, SessionConfig(seed=1)).set_eta(1e9)
    assert messages(window)[0].text() == str(info.value)


def test_no_second_copy_of_the_eta_policy():
    """Only limits.py defines the η policy (ETA_MAX, check_eta); the engine's check_eta
    guards its arithmetic only (finite, ≥ 0) and has no upper bound."""
    homes = []
    for path in (ROOT / "bpviz").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and node.name in ("check_eta", "parse_eta"):
                homes.append(path.relative_to(ROOT).as_posix())
            targets = node.targets if isinstance(node, ast.Assign) else []
            if any(isinstance(t, ast.Name) and t.id == "ETA_MAX" for t in targets):
                homes.append(path.relative_to(ROOT).as_posix())
    assert sorted(set(homes)) == ["bpviz/engine/validation.py", "bpviz/session/limits.py"]
    from bpviz.engine.validation import check_eta as engine_check

    assert engine_check(0.0) == 0.0 and engine_check(1e30) == 1e30  # no policy in the engine
    with pytest.raises(ValueError):
        engine_check(float("nan"))
