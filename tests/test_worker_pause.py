"""Pausing a run lands on a whole mini-batch: the paused snapshot holds its full trace
(x, a, δ, ∂C/∂W and the update), consistent with the parameters, never phase "ready"."""

from __future__ import annotations

import numpy as np
import pytest
from test_session import config_for, make_dataset

from bpviz.engine import Network
from bpviz.runtime.worker import Worker
from bpviz.session.session import Session
from bpviz.session.snapshot import PhaseKind


@pytest.fixture(scope="module")
def data():
    return make_dataset(n_train=400, n_test=50)


@pytest.mark.parametrize("pace", [None, 5000.0], ids=["full speed", "fast pace"])
def test_pause_shows_the_last_minibatch_in_full(qtbot, data, pace):
    worker = Worker(Session(data, config_for()))
    worker.start()
    try:
        worker.set_pace(pace)
        worker.run()
        qtbot.waitUntil(lambda: worker.latest().running and worker.latest().step > 200)
        worker.pause()
        assert worker.wait_idle(5.0)
        snap = worker.latest()
    finally:
        worker.stop()
    assert not snap.running and snap.phase.kind is PhaseKind.UPDATE
    assert snap.step == worker.session.step == worker.session.history.loss.n
    for values in (snap.z, snap.a, snap.dC_da, snap.delta, snap.grad_w, snap.grad_b):
        assert all(v is not None for v in values)
    # the trace is the mini-batch that took weights_before to weights, bit for bit
    twin = Network(snap.config.sizes, seed=snap.config.seed)
    twin.set_parameters(snap.weights_before, snap.biases_before)
    twin.apply_deltas(snap.delta, snap.a, snap.eta)
    for mine, theirs in zip(snap.weights + snap.biases, twin.weights + twin.biases, strict=True):
        assert np.array_equal(mine, theirs)
    assert snap.loss == worker.session.history.loss.last  # the loss of that mini-batch


def test_pause_while_paused_changes_nothing(data):
    worker = Worker(Session(data, config_for()))
    worker.start()
    try:
        worker.step_phase()
        assert worker.wait_idle(5.0)
        before = worker.latest()
        worker.pause()
        assert worker.wait_idle(5.0)
        after = worker.latest()
    finally:
        worker.stop()
    assert after.phase == before.phase and after.step == before.step == 0
