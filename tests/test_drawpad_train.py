""" "Train on it": one extra update on the user's own digit, applied to the session."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from viewtools import stroke

from bpviz.data import Dataset, load_sample
from bpviz.runtime.commands import TrainOn
from bpviz.session.probe import network_of
from bpviz.session.session import Session
from bpviz.session.snapshot import SessionConfig
from bpviz.ui import settings as store
from bpviz.ui.app import build_window

LEFT = Qt.MouseButton.LeftButton


def digit(index: int = 5) -> tuple[np.ndarray, int]:
    data = load_sample()
    return Dataset.to_float(data.test_images[index : index + 1]), int(data.test_labels[index])


def test_session_train_on_applies_exactly_one_engine_step() -> None:
    session = Session(load_sample(), SessionConfig(seed=2))
    session.step_batch()
    x, label = digit()
    twin = session.network.copy()
    step, losses = session.step, session.snapshot().history.loss_mean.copy()
    loss = session.train_on(x, np.array([label]))
    expected = twin.step(x, np.array([label]), session.eta)
    np.testing.assert_array_equal(session.network.parameters, twin.parameters)
    assert loss == expected.loss
    snapshot = session.snapshot()
    assert session.step == step  # not a step of the epoch, nor in the loss history
    np.testing.assert_array_equal(snapshot.history.loss_mean, losses)
    assert snapshot.phase is None and snapshot.message is None  # not an error to report
    np.testing.assert_array_equal(snapshot.weights[0], twin.weights[0])


def test_train_on_finishes_a_mini_batch_under_way_first() -> None:
    session = Session(load_sample(), SessionConfig(seed=2))
    session.step_phase()
    session.step_phase()  # forward l=1, l=2: a mini-batch is under way
    reference = Session(load_sample(), SessionConfig(seed=2))
    reference.step_batch()
    x, label = digit()
    twin = reference.network.copy()
    twin.step(x, np.array([label]), reference.eta)
    session.train_on(x, np.array([label]))
    assert session.step == 1
    np.testing.assert_array_equal(session.network.parameters, twin.parameters)


def test_a_diverging_extra_step_is_undone() -> None:
    session = Session(load_sample(), SessionConfig(seed=2))
    before = session.network.parameters.copy()
    x, label = digit()
    session.eta = 1e300
    with pytest.raises(ValueError, match="diverged"):
        session.train_on(x * 1e3, np.array([label]))
    np.testing.assert_array_equal(session.network.parameters, before)


@pytest.mark.parametrize("in_process", [True, False], ids=["thread", "process"])
def test_train_on_it_button_updates_the_session(qtbot, tmp_path, in_process: bool) -> None:
    w = build_window("sample", store.open_settings(tmp_path / "s.ini"), in_process=in_process)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    try:
        w.docks["drawpad"].show()
        w.docks["drawpad"].raise_()
        pad = w.views["drawpad"]
        qtbot.waitExposed(pad)
        qtbot.waitUntil(lambda: w.latest is not None and pad.snapshot is not None)
        before = w.worker.latest()
        stroke(qtbot, pad.canvas, (140, 40), (141, 240))
        qtbot.waitUntil(lambda: pad.train_button.isEnabled() and not pad.pending)
        pad.target.setCurrentIndex(1)
        with qtbot.waitSignal(pad.train_requested) as request:
            qtbot.mouseClick(pad.train_button, LEFT)
        x, label = request.args
        assert label == 1
        # what should come out: one engine step from the live parameters, on a copy
        expected = network_of(before)
        expected.step(x[None, :], np.array([1]), before.eta)
        worker = w.worker
        qtbot.waitUntil(
            lambda: not np.array_equal(worker.latest().weights[0], before.weights[0]),
            timeout=10_000,
        )
        after = w.worker.latest()
        assert after.step == before.step
        for mine, theirs in zip(after.weights, expected.weights, strict=True):
            np.testing.assert_array_equal(mine, theirs)
        assert w.pinned is None
        assert "Trained one step" in pad.note.text()
    finally:
        w.close()


def test_worker_checks_the_examples_in_the_callers_thread() -> None:
    from bpviz.runtime.worker import Worker

    worker = Worker(Session(load_sample(), SessionConfig(seed=2)))
    x, label = digit()
    with pytest.raises(ValueError, match="shape"):
        worker.train_on(x[:, :100], [label])
    with pytest.raises(ValueError, match="labels"):
        worker.train_on(x, [10])
    with pytest.raises(ValueError, match="labels"):
        worker.train_on(x, [1.5])
    with pytest.raises(ValueError, match="finite"):
        worker.train_on(np.full_like(x, np.nan), [label])
    assert worker.submitted[TrainOn] == 0
