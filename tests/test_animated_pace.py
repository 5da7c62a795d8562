"""The animated mini-batch on the real window, driven with real keys: at an animated pace
the window shows every phase of each mini-batch in the algorithm's order; its frame clock
hands the views a rising progress; a first launch opens at the animated pace and says
that Space starts it; full speed is one key away; the pace is remembered; ``--pace``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QSlider

from bpviz.session.snapshot import phases_for
from bpviz.ui import pacing
from bpviz.ui import settings as store
from bpviz.ui.app import build_parser, build_window

ROOT = Path(__file__).resolve().parents[1]
WAIT = 10_000  # ms: generous, the machine is shared


def open_window(qtbot, settings_path, **kwargs):
    window = build_window("sample", store.open_settings(settings_path), **kwargs)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    activate(qtbot, window)
    return window


def activate(qtbot, window) -> None:
    """Make ``window`` the active window, so that its keys reach it (offscreen nothing
    else activates it)."""
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)


def choose_stop(qtbot, window, pace) -> None:
    """Move the pace slider to ``pace`` with the keyboard: Home, then ↑ a stop at a time
    (→ is Step mini-batch)."""
    slider = window.pace.findChild(QSlider)
    slider.setFocus()
    qtbot.keyClick(slider, Qt.Key.Key_Home)
    for _ in range(pacing.STOPS.index(pace)):
        qtbot.keyClick(slider, Qt.Key.Key_Up)
    assert window.pace.pace() == pace
    activate(qtbot, window)


def record_shown(window) -> list:
    """Every snapshot the window hands its views, in order (``refresh``)."""
    shown: list = []
    window.snapshot_shown.connect(shown.append)
    return shown


def whole_minibatches(shown) -> list[list[int]]:
    """The phase indices drawn while running, cut into mini-batches at each forward 1."""
    batches: list[list[int]] = []
    for snapshot in shown:
        if not snapshot.running or snapshot.phase is None:
            continue
        if snapshot.phase_index == 0:
            batches.append([])
        if batches:
            batches[-1].append(snapshot.phase_index)
    return batches[:-1]  # the last may still be under way


@pytest.mark.parametrize("in_process", [False, True], ids=["child process", "thread"])
def test_an_animated_pace_shows_every_phase_in_order(qtbot, settings_path, in_process):
    window = open_window(qtbot, settings_path, in_process=in_process)
    try:
        choose_stop(qtbot, window, pacing.ANIMATED_MAX)  # the fastest animated stop
        assert pacing.is_animated(window.model.pace)
        shown = record_shown(window)
        qtbot.keyClick(window, Qt.Key.Key_Space)
        qtbot.waitUntil(lambda: len(whole_minibatches(shown)) >= 2, timeout=20_000)
        qtbot.keyClick(window, Qt.Key.Key_Space)
        n = len(phases_for(window.latest.config.n_layers))
        for batch in whole_minibatches(shown):
            assert batch == list(range(n))  # forward 1 … L, cost, δᴸ … δ¹, ∂C/∂W…, update
        steps = [s.step for s in shown if s.running and s.phase_index == n - 1]
        assert steps == sorted(set(steps))  # one update after another, none skipped
    finally:
        window.close()


def test_the_status_bar_names_each_phase_as_it_plays(qtbot, window):
    """The status bar's phase follows the phase on screen (it is rate-limited for the
    numbers of a fast run, not for the phases of an animated one)."""
    from bpviz.notation import unicode_math

    choose_stop(qtbot, window, pacing.ANIMATED_MAX)
    said: list[tuple[str, str]] = []
    label = window.status.labels["phase"]
    window.snapshot_shown.connect(
        lambda s: s.running and s.phase and said.append((unicode_math(s.phase.label), label.text()))
    )
    qtbot.keyClick(window, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: len(said) >= 12, timeout=20_000)
    qtbot.keyClick(window, Qt.Key.Key_Space)
    assert all(text == f"phase: {phase}" for phase, text in said), said


def test_a_faster_pace_shows_the_end_of_each_minibatch(qtbot, window):
    choose_stop(qtbot, window, 20)
    assert not pacing.is_animated(window.model.pace)
    shown = record_shown(window)
    qtbot.keyClick(window, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: sum(s.running for s in shown) >= 5, timeout=20_000)
    qtbot.keyClick(window, Qt.Key.Key_Space)
    running = [s for s in shown if s.running and s.phase is not None]  # (Run: "ready")
    assert {s.phase.kind.value for s in running} == {"update"}


def test_pausing_mid_minibatch_stops_on_a_phase_and_dot_goes_on(qtbot, window):
    choose_stop(qtbot, window, pacing.ANIMATED_MAX)
    qtbot.keyClick(window, Qt.Key.Key_Space)
    qtbot.waitUntil(
        lambda: (
            window.latest is not None and window.latest.running and window.latest.phase_index >= 2
        ),
        timeout=WAIT,
    )
    qtbot.keyClick(window, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: not window.worker.running, timeout=WAIT)
    assert window.worker.wait_idle(5.0)
    window.refresh()
    paused = window.latest
    assert paused.phase is not None  # the mini-batch under way, as after . steps
    n = len(phases_for(paused.config.n_layers))
    qtbot.keyClick(window, Qt.Key.Key_Period)
    qtbot.waitUntil(
        lambda: window.latest.phase_index == (paused.phase_index + 1) % n, timeout=10_000
    )


def test_the_frame_clock_animates_each_phase_with_rising_progress(qtbot, window):
    view = window.views["network"]
    calls: list[tuple[str, float | int]] = []
    base_show, base_animate = view.show_snapshot, view.animate

    def show(snapshot):
        calls.append(("show", snapshot.phase_index))
        base_show(snapshot)

    def animate(progress):
        calls.append(("animate", progress))
        base_animate(progress)

    view.show_snapshot, view.animate = show, animate  # record what the real window calls
    activate(qtbot, window)
    qtbot.keyClick(window, Qt.Key.Key_Period)  # forward 1, played over STEP_SECONDS
    qtbot.waitUntil(lambda: ("show", 0) in calls)
    qtbot.waitUntil(lambda: calls[-1] == ("animate", 1.0), timeout=5000)
    start = calls.index(("show", 0))
    assert calls[start + 1][0] == "animate" and calls[start + 1][1] < 0.5  # same turn
    progress = [p for kind, p in calls[start + 1 :] if kind == "animate"]
    assert progress == sorted(progress) and progress[-1] == 1.0
    assert len(progress) >= 5  # several frames in 0.4 s, not a jump
    assert not window.phase_clock.active  # stops once the phase has played


def test_a_first_launch_opens_at_the_animated_pace_and_says_space_starts_it(qtbot, tmp_path):
    window = open_window(qtbot, tmp_path / "fresh.ini")
    try:
        assert window.pace.pace() == pacing.DEFAULT and pacing.is_animated(window.pace.pace())
        message = window.statusBar().currentMessage()
        assert "Space" in message and pacing.label(pacing.DEFAULT) in message
        qtbot.keyClick(window, Qt.Key.Key_Space)
        qtbot.waitUntil(lambda: window.latest is not None and window.latest.running)
        assert window.statusBar().currentMessage() == ""  # said; done
        qtbot.keyClick(window, Qt.Key.Key_Space)
    finally:
        window.close()
    again = open_window(qtbot, tmp_path / "fresh.ini")
    try:
        assert "Space" not in again.statusBar().currentMessage()  # no longer a newcomer
    finally:
        again.close()


def test_full_speed_is_one_key_away_and_the_pace_is_remembered(qtbot, tmp_path):
    settings_path = tmp_path / "fresh.ini"  # a first launch: the animated default
    first = open_window(qtbot, settings_path)
    try:
        qtbot.keyClick(first, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
        assert first.model.pace is None and first.pace.pace() is None
        assert first.act.full_speed.isChecked()
        assert "Ctrl+F" in [k.toString() for k in first.act.full_speed.shortcuts()]
    finally:
        first.close()
    second = open_window(qtbot, settings_path)
    try:
        assert second.pace.pace() is None and second.act.full_speed.isChecked()
        # back to a pace where every phase is seen
        qtbot.keyClick(second, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
        assert second.pace.pace() == pacing.DEFAULT
        choose_stop(qtbot, second, 0.5)
    finally:
        second.close()
    third = open_window(qtbot, settings_path)
    try:
        assert third.pace.pace() == 0.5
    finally:
        third.close()


def test_the_help_keys_list_shows_the_full_speed_key(qtbot, window):
    from bpviz.ui.help import shortcuts

    assert any(keys == "Ctrl+F" and name == "Full speed" for keys, name, _ in shortcuts(window))


@pytest.mark.parametrize(
    ("text", "pace"), [("1", 1.0), ("0.25", 0.25), ("full", None), ("FULL", None), ("50", 50.0)]
)
def test_pace_option_reads_a_number_or_full(text, pace):
    assert build_parser().parse_args(["--pace", text]).pace == pace


@pytest.mark.parametrize("text", ["0", "-1", "nan", "inf", "fast", ""])
def test_a_bad_pace_option_is_refused_naming_the_flag(text, capsys):
    with pytest.raises(SystemExit) as raised:
        build_parser().parse_args(["--pace", text])
    assert raised.value.code == 2
    assert "--pace" in capsys.readouterr().err


def test_the_pace_option_is_for_this_run_only(tmp_path):
    settings = tmp_path / "s.ini"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    shot = tmp_path / "w.png"
    base = [sys.executable, str(ROOT / "main.py"), "--settings", str(settings), "--data", "sample"]
    for extra in (["--pace", "full"], ["--pace", "0.5", "--screenshot", str(shot)]):
        result = subprocess.run(
            [*base, *extra, "--quit-after", "0.5"], capture_output=True, text=True,
            timeout=120, env=env, cwd=ROOT,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
    assert shot.exists()
    # the first launch's default was remembered; neither --pace replaced it
    assert store.load_pace(store.open_settings(settings)) == pacing.DEFAULT
