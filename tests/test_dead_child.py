"""The window and its training process (issue 15, item 9): a real child, really killed.

SIGKILL → the window says so in a banner and restarts from the last snapshot's
parameters; SIGSTOP → a call fails within seconds with a clear error instead of
hanging; closing the window leaves no training process behind.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt

from bpviz.data import load_sample
from bpviz.runtime.remote import (
    STOPPED_TIMEOUT,
    RemoteError,
    RemoteTimeoutError,
    RemoteWorker,
)
from bpviz.session.snapshot import SessionConfig


def gone(pid: int) -> bool:
    """True once no process ``pid`` exists (not even a zombie)."""
    return not Path(f"/proc/{pid}").exists()


def press(qtbot, w, key) -> None:
    w.activateWindow()
    qtbot.keyClick(w, key)


def test_a_killed_child_is_shown_and_restart_continues_from_its_parameters(qtbot, window, capsys):
    w = window
    for _ in range(3):
        press(qtbot, w, Qt.Key.Key_Right)  # Step mini-batch, as a person would
    qtbot.waitUntil(lambda: w.latest is not None and w.latest.step == 3, timeout=20_000)
    last = w.latest
    old_pid = w.worker.pid
    assert not w.child_watch.banner.isVisible()

    os.kill(old_pid, signal.SIGKILL)
    qtbot.waitUntil(w.child_watch.banner.isVisible, timeout=10_000)
    text = w.child_watch.label.text()
    assert "training process stopped" in text and "killed by signal 9" in text
    assert "step 3" in text and "start again at 0" in text
    assert "killed by signal 9" in w.statusBar().currentMessage()

    press(qtbot, w, Qt.Key.Key_Space)  # Run, on a dead process: said in the window
    press(qtbot, w, Qt.Key.Key_Right)
    qtbot.wait(300)
    assert "RemoteError" not in capsys.readouterr().err
    assert w.child_watch.banner.isVisible() and not w.act.run.isChecked()

    qtbot.mouseClick(w.child_watch.restart_button, Qt.MouseButton.LeftButton)
    assert not w.child_watch.banner.isVisible()
    assert w.worker.alive and w.worker.pid != old_pid
    assert "Restarted from the parameters of step 3" in w.statusBar().currentMessage()
    qtbot.waitUntil(lambda: gone(old_pid), timeout=5000)
    first = w.worker.latest()
    assert first.step == 0 and first.eta == last.eta and first.config.sizes == last.config.sizes
    for mine, theirs in zip(first.weights + first.biases, last.weights + last.biases, strict=True):
        np.testing.assert_array_equal(mine, theirs)

    press(qtbot, w, Qt.Key.Key_Right)  # training continues from those parameters
    qtbot.waitUntil(lambda: w.latest is not None and w.latest.step == 1, timeout=20_000)
    for mine, theirs in zip(w.latest.weights_before, last.weights, strict=True):
        np.testing.assert_array_equal(mine, theirs)
    assert not np.array_equal(w.latest.weights[0], last.weights[0])

    new_pid = w.worker.pid
    w.close()
    qtbot.waitUntil(lambda: gone(new_pid), timeout=10_000)


def test_a_stopped_child_gives_a_clear_error_within_seconds_and_is_killed_on_stop():
    worker = RemoteWorker(load_sample(), SessionConfig(seed=1))
    pid = worker.pid
    try:
        worker.step_batch()
        os.kill(pid, signal.SIGSTOP)
        started = time.monotonic()
        with pytest.raises(RemoteTimeoutError, match="stopped"):
            worker.step_batch()
        waited = time.monotonic() - started
        assert waited < STOPPED_TIMEOUT + 10  # the bound promised, with room for a slow machine
        assert "does not answer" in worker.failure
        with pytest.raises(RemoteError, match="does not answer"):  # at once from now on
            worker.run()
        assert worker.latest() is not None  # the last snapshot stays readable
    finally:
        worker.stop()
    assert gone(pid) or Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"


def test_closing_the_window_on_a_stopped_child_leaves_no_process(qtbot, window):
    w = window
    pid = w.worker.pid
    os.kill(pid, signal.SIGSTOP)
    press(qtbot, w, Qt.Key.Key_Right)  # blocks at most the stopped-child timeout
    qtbot.waitUntil(w.child_watch.banner.isVisible, timeout=20_000)
    assert "does not answer" in w.child_watch.label.text()
    w.close()
    qtbot.waitUntil(lambda: gone(pid), timeout=10_000)


ORPHAN_SCRIPT = """
import sys, time
from bpviz.data import load_sample
from bpviz.runtime.remote import RemoteWorker


def busy(session, seconds):  # runs in the child: a call stuck on something for long
    time.sleep(seconds)


if __name__ == "__main__":
    worker = RemoteWorker(load_sample())
    print(worker._process.pid, flush=True)  # (the old code had no .pid)
    worker.with_session(busy, 600)
"""


def test_a_window_process_that_dies_takes_its_busy_training_process_with_it(tmp_path):
    script = tmp_path / "window_that_dies.py"
    script.write_text(ORPHAN_SCRIPT)
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, env=env)
    try:
        child = int(parent.stdout.readline())
        time.sleep(0.5)  # the child is in its long call, not reading the pipe
        assert not gone(child)
    finally:
        parent.kill()
        parent.wait(10)
    deadline = time.monotonic() + 10
    while not gone(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    if not gone(child):
        os.kill(child, signal.SIGKILL)  # do not leave it behind, even when failing
        pytest.fail("the training process outlived the window's process")
