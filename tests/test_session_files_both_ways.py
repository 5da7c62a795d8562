"""One session file format: ``train --save`` files open in the window (File ▸ Open
session), the window's files continue in ``train --resume``, and resuming is bit for bit
the run that never stopped."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QFileDialog

from bpviz.data import load_sample
from bpviz.files.checkpoint import open_session, read_checkpoint
from bpviz.files.codecs import dataset_fingerprint, encode_history
from bpviz.files.container import write_checkpoint
from bpviz.session.session import Session
from bpviz.session.snapshot import SessionConfig


def train(*args: str) -> list[dict]:
    result = subprocess.run(
        [sys.executable, "-m", "bpviz", "train", "--data", "sample", "--json", *args],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    reports = [json.loads(line) for line in result.stdout.splitlines()]
    for report in reports:
        report.pop("seconds")
    return reports


def opened(path) -> Session:
    """A headless session on the sample with ``path`` opened in it."""
    session = Session(load_sample())
    open_session(path, session)
    return session


def choose_file_in_dialog(qtbot, path: str) -> None:
    """When the file dialog comes up, choose ``path`` in it and click its Open/Save
    button. (Typed text would go through the dialog's completer popup, which the
    offscreen platform cannot hand the keyboard back from.)"""

    def answer() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, QFileDialog):
            QTimer.singleShot(50, answer)
            return
        dialog.selectFile(path)
        accept = dialog.findChild(QDialogButtonBox).buttons()[0]  # Open / Save
        qtbot.mouseClick(accept, Qt.MouseButton.LeftButton)

    QTimer.singleShot(0, answer)


def file_menu_action(window, text: str):
    (action,) = [a for a in window.menu("&File").actions() if a.text() == text]
    return action


def settle(qtbot, window, condition, timeout=20_000):
    qtbot.waitUntil(lambda: window.latest is not None and condition(window.latest), timeout=timeout)
    return window.latest


def test_a_file_saved_by_train_opens_in_the_window_with_the_trained_network(
    qtbot, window, tmp_path
):
    saved = tmp_path / "class.npz"
    reports = train("--epochs", "2", "--seed", "4", "--eta", "2.5", "--save", str(saved))
    headless = opened(saved)

    choose_file_in_dialog(qtbot, str(saved))
    file_menu_action(window, "Open session…").trigger()

    shown = settle(qtbot, window, lambda s: s.step == reports[-1]["steps"])
    for a, b in zip(shown.weights, headless.network.weights, strict=True):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(shown.biases, headless.network.biases, strict=True):
        np.testing.assert_array_equal(a, b)
    assert shown.config.seed == 4 and shown.eta == 2.5 and shown.epoch == 2
    assert shown.history.epochs.count == 2  # both epochs' held-out results came along
    assert shown.last_eval.test_accuracy == reports[-1]["test_accuracy"]
    assert shown.last_eval.confusion.tolist() == reports[-1]["confusion"]
    assert "Opened" in window.statusBar().currentMessage()
    assert window.eta.spin.value() == 2.5


def test_a_file_saved_by_the_window_continues_in_train_resume(qtbot, window, tmp_path):
    saved = tmp_path / "lesson.npz"
    for _ in range(5):  # five mini-batches, then three phases of the sixth
        window.worker.step_batch()
    settle(qtbot, window, lambda s: s.step == 5)
    for _ in range(3):
        window.worker.step_phase()
    at = settle(qtbot, window, lambda s: s.step == 5 and s.phase_index == 2)

    choose_file_in_dialog(qtbot, str(saved))
    file_menu_action(window, "Save session…").trigger()
    qtbot.waitUntil(saved.exists, timeout=20_000)

    after = tmp_path / "after.npz"
    (report,) = train("--resume", str(saved), "--epochs", "1", "--save", str(after))
    assert report["epoch"] == 1 and report["steps"] == 400

    # the same as never stopping: a session of the window's configuration, 400 steps
    straight = Session(load_sample(), at.config)
    straight.run(400)
    resumed = opened(after)
    np.testing.assert_array_equal(resumed.network.parameters, straight.network.parameters)
    np.testing.assert_array_equal(resumed.history.loss.values, straight.history.loss.values)
    assert report["test_accuracy"] == straight.last_eval.test_accuracy


def test_resume_is_bit_for_bit_the_run_that_never_stopped(tmp_path):
    whole, half, rest = tmp_path / "whole.npz", tmp_path / "half.npz", tmp_path / "rest.npz"
    flags = ("--seed", "6", "--batch-size", "7", "--hidden", "relu", "--eta", "0.5")
    straight = train("--epochs", "2", *flags, "--save", str(whole))
    first = train("--epochs", "1", *flags, "--save", str(half))
    second = train("--resume", str(half), "--epochs", "1", "--save", str(rest))
    assert first + second == straight  # every number, ``seconds`` aside
    a, b = read_checkpoint(whole), read_checkpoint(rest)
    assert set(a.arrays) == set(b.arrays)
    for name in a.arrays:
        np.testing.assert_array_equal(a.arrays[name], b.arrays[name], err_msg=name)


def old_train_file(path, session: Session, epoch: int) -> None:
    """A file as ``train --save`` wrote it before it trained through a Session."""
    c = session.config
    history, arrays = encode_history(session.history)
    run = {"layers": ",".join(map(str, c.sizes)), "hidden": c.hidden, "output": c.output,
           "cost": None, "init": c.init, "seed": c.seed, "batch_size": c.batch_size,
           "eta": c.eta, "data": "sample"}  # fmt: skip
    meta = {"kind": "train", "run": run, "epoch": epoch, "steps": session.step,
            "data_fingerprint": dataset_fingerprint(session.dataset),
            "data_description": "embedded MNIST sample", "history": history}  # fmt: skip
    write_checkpoint(path, meta, {**arrays, "parameters": session.network.parameters})


def test_files_of_the_former_train_format_open_in_both(qtbot, window, tmp_path):
    old = tmp_path / "old.npz"
    config = SessionConfig(seed=8, eta=2.0)
    session = Session(load_sample(), config)
    session.run(session.batches_per_epoch)
    old_train_file(old, session, epoch=1)

    straight = train("--epochs", "2", "--seed", "8", "--eta", "2.0")
    assert train("--resume", str(old), "--epochs", "1") == straight[1:]

    choose_file_in_dialog(qtbot, str(old))
    file_menu_action(window, "Open session…").trigger()
    shown = settle(qtbot, window, lambda s: s.step == 400)
    for a, b in zip(shown.weights, session.network.weights, strict=True):
        np.testing.assert_array_equal(a, b)
    assert shown.config.seed == 8 and shown.history.epochs.count == 1
