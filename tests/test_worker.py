"""The worker thread driven for real (pytest-qt's waitUntil polls, as the GUI's timer does):
run, pause, steps, η, publishing, errors, divergence, stop, and a stress of random commands."""

from __future__ import annotations

import random
import threading
import time

import numpy as np
import pytest
from snapshots import FlakySession
from test_session import config_for, make_dataset, params
from test_session_divergence import DIVERGING

from bpviz.engine import Network
from bpviz.runtime.commands import StepBatch
from bpviz.runtime.worker import Worker
from bpviz.session.session import Session
from bpviz.session.snapshot import PhaseKind, phases_for


@pytest.fixture(scope="module")
def data():
    return make_dataset(n_train=400, n_test=50)


@pytest.fixture
def worker(data):
    w = Worker(Session(data, config_for()))
    w.start()
    yield w
    w.stop()


def test_run_advances_and_pause_stops(qtbot, worker):
    worker.run()
    qtbot.waitUntil(lambda: worker.latest().running and worker.latest().step >= 100, timeout=5000)
    assert worker.running
    worker.pause()
    assert worker.wait_idle(2.0)
    assert not worker.running
    snap, serial = worker.latest(), worker.serial
    assert not snap.running and snap.step == worker.session.step > 100
    time.sleep(0.1)
    assert worker.serial == serial and worker.session.step == snap.step


def test_step_batch_is_exactly_one_minibatch_and_each_step_publishes(worker):
    serial = worker.serial
    for k in range(1, 4):
        worker.step_batch()
        assert worker.wait_idle(2.0)
        snap = worker.latest()
        assert snap.step == k and snap.phase.kind is PhaseKind.UPDATE
    assert worker.serial == serial + 3


def test_stepping_phases_until_the_update_is_exactly_one_minibatch(worker):
    phases = phases_for(2)
    seen = []
    for _ in phases:
        worker.step_phase()
        assert worker.wait_idle(2.0)
        seen.append(worker.latest())
    assert tuple(s.phase for s in seen) == phases
    assert [s.step for s in seen] == [0] * (len(phases) - 1) + [1]
    worker.run()  # a step command while running pauses first, then steps
    worker.step_phase()
    assert worker.wait_idle(2.0)
    snap = worker.latest()
    assert not snap.running and snap.phase == phases[0] and snap.step == worker.session.step


def test_eta_change_is_used_by_the_next_update(worker):
    worker.step_batch()
    worker.set_eta(0.5)
    worker.step_batch()
    assert worker.wait_idle(2.0)
    snap = worker.latest()
    assert snap.eta == 0.5 and snap.history.eta_changes == ((1, 3.0), (2, 0.5))
    twin = Network(snap.config.sizes, seed=snap.config.seed)
    twin.set_parameters(snap.weights_before, snap.biases_before)
    twin.apply_deltas(snap.delta, snap.a, 0.5)
    for mine, theirs in zip(snap.weights + snap.biases, twin.weights + twin.biases, strict=True):
        assert np.array_equal(mine, theirs)
    worker.run()
    time.sleep(0.05)
    worker.set_eta(0.125)  # while running: from the next mini-batch on
    worker.pause()
    assert worker.wait_idle(2.0)
    last_change = worker.latest().history.eta_changes[-1]
    assert last_change[1] == 0.125 and 2 < last_change[0] <= worker.session.step + 1


@pytest.mark.parametrize("bad", [0.0, -2.0, float("nan"), float("inf"), 1e12])
def test_invalid_eta_is_refused_in_the_callers_thread(worker, bad):
    with pytest.raises(ValueError, match="η"):
        worker.set_eta(bad)
    assert worker.wait_idle(1.0)
    assert worker.latest().eta == 3.0 and not worker.submitted


def test_publishing_is_latest_wins_and_rate_limited_while_running(data):
    worker = Worker(Session(data, config_for()), publish_hz=20.0)
    worker.start()
    try:
        worker.run()
        time.sleep(0.1)
        serial, step = worker.serial, worker.latest().step
        time.sleep(1.0)
        published = worker.serial - serial
        stepped = worker.latest().step - step
    finally:
        worker.stop()
    assert 5 <= published <= 22  # ≤ 20 a second (+ the edges of the window)
    assert stepped > 5 * published  # training is not held to the publishing rate


def test_published_snapshots_are_read_only_and_never_change(qtbot, worker):
    worker.run()  # publishes its state at once (phase None), then a trace per publication
    qtbot.waitUntil(lambda: worker.latest().phase is not None, timeout=5000)
    snap = worker.latest()
    arrays = [snap.x, *snap.weights, *snap.a[1:], *snap.delta, snap.history.loss_mean]
    kept = [a.copy() for a in arrays]
    time.sleep(0.2)
    worker.pause()
    assert worker.wait_idle(2.0)
    assert worker.latest().step > snap.step
    for a, k in zip(arrays, kept, strict=True):
        assert not a.flags.writeable and np.array_equal(a, k)


def test_an_error_in_the_worker_becomes_a_message_and_it_serves_on(data):
    worker = Worker(FlakySession(data, config_for()))
    worker.start()
    try:
        worker.step_batch()
        worker.step_batch()
        assert worker.wait_idle(2.0)
        assert "boom in step_batch" in worker.latest().message
        worker.step_batch()
        worker.step_phase()
        assert worker.wait_idle(2.0)
        snap = worker.latest()
        assert snap.step == 2 and snap.phase.kind is PhaseKind.FORWARD
        assert worker.applied[StepBatch] == 3
    finally:
        worker.stop()


def test_divergence_pauses_the_worker_with_a_message_and_finite_weights(qtbot):
    data = make_dataset(n_train=400, n_test=20, n_inputs=784, n_classes=10)
    worker = Worker(Session(data, config_for((784, 30, 10), batch_size=10, **DIVERGING)))
    worker.start()
    try:
        worker.run()
        qtbot.waitUntil(lambda: worker.latest().message is not None, timeout=5000)
        assert worker.wait_idle(2.0)
        snap = worker.latest()
        assert not snap.running and "η = 10000" in snap.message
        assert all(np.isfinite(w).all() for w in snap.weights + snap.biases)
    finally:
        worker.stop()


def test_stop_is_prompt_idempotent_and_final(worker):
    worker.run()
    time.sleep(0.05)
    start = time.perf_counter()
    worker.stop()
    assert time.perf_counter() - start < 1.0
    assert not any(t.name == "bpviz-worker" for t in threading.enumerate())
    worker.stop()
    with pytest.raises(RuntimeError, match="stopped"):
        worker.run()


def test_the_worker_gives_the_numbers_the_session_gives(data):
    direct = Session(data, config_for(seed=7))
    worker = Worker(Session(data, config_for(seed=7)))
    worker.start()
    try:
        for target in (direct, worker):
            for _ in range(5):
                target.step_batch()
            for _ in range(4):
                target.step_phase()
            target.set_eta(0.75)
            target.step_batch()
            target.add_watch(2, 1, 3)
            for _ in range(7):
                target.step_batch()
        assert worker.wait_idle(2.0)
    finally:
        worker.stop()
    assert np.array_equal(params(worker.session), params(direct))
    assert np.array_equal(worker.session.history.loss.values, direct.history.loss.values)
    assert worker.latest().step == direct.step == 13


def test_thousands_of_random_commands_lose_nothing(data):
    worker = Worker(Session(data, config_for((12, 6, 4), batch_size=4)), publish_hz=200.0)
    worker.start()
    rng = random.Random(1)

    def commands(seed: int, count: int) -> None:
        r = random.Random(seed)
        for _ in range(count):
            name = r.choice(["run", "pause", "step_batch", "step_phase", "eta", "reset", "pace"])
            if name == "eta":
                worker.set_eta(r.choice([0.5, 1.0, 3.0]))
            elif name == "reset":
                worker.reset(config_for((12, 6, 4), batch_size=r.choice([2, 4])), new_seed=True)
            elif name == "pace":
                worker.set_pace(r.choice([None, 500.0, 5000.0]))
            else:
                getattr(worker, name)()
            if r.random() < 0.05:
                time.sleep(0.001)

    try:
        others = [threading.Thread(target=commands, args=(s, 1500)) for s in (2, 3)]
        for t in others:
            t.start()
        commands(rng.randrange(100), 1000)
        for t in others:
            t.join()
        worker.pause()
        assert worker.wait_idle(10.0), "the worker did not settle: deadlock or lost command"
        assert worker.applied == worker.submitted
        assert sum(worker.applied.values()) == 4001
        session, snap = worker.session, worker.latest()
        assert snap.step == session.step == session.history.loss.n
        assert session.step == session.epoch * session.batches_per_epoch + session.batch_in_epoch
        assert snap.message is None and not snap.running
    finally:
        worker.stop()


def test_a_pace_lets_a_person_watch_every_step(data):
    worker = Worker(Session(data, config_for()), publish_hz=60.0)
    worker.start()
    try:
        worker.set_pace(20.0)
        worker.run()
        time.sleep(0.1)
        serial, step = worker.serial, worker.latest().step
        time.sleep(1.0)
        steps = worker.latest().step - step
        published = worker.serial - serial
        worker.set_pace(None)  # full speed from the next stretch on
        time.sleep(0.2)
        worker.pause()
        assert worker.wait_idle(2.0)
        fast = worker.latest().step - step - steps
    finally:
        worker.stop()
    assert 10 <= steps <= 25  # about 20 a second
    assert published >= steps - 1  # slower than the publishing rate: every step is shown
    assert fast > 5 * steps


def test_epoch_evaluations_while_running_give_the_headless_numbers(qtbot, data):
    worker = Worker(Session(data, config_for(batch_size=8)))  # 50 mini-batches an epoch
    worker.start()
    try:
        worker.run()
        qtbot.waitUntil(lambda: worker.latest().history.epochs.count >= 3, timeout=10_000)
        worker.pause()
        assert worker.wait_idle(5.0)
        snap = worker.latest()
    finally:
        worker.stop()
    headless = Session(data, config_for(batch_size=8))
    headless.run(snap.step)
    epochs = snap.history.epochs
    assert list(epochs.epoch) == list(range(epochs.count))
    assert snap.last_eval.epoch == epochs.count - 1 and snap.last_eval.step == epochs.step[-1]
    theirs = headless.history.epochs[: epochs.count]
    assert list(epochs.step) == [m.step for m in theirs]
    assert list(epochs.test_loss.mean) == [m.test_loss for m in theirs]
    assert list(epochs.train_loss.mean) == [m.train_loss for m in theirs]
    assert np.array_equal(snap.last_eval.confusion, theirs[-1].confusion)


def test_a_reset_drops_the_evaluation_of_the_run_before(data):
    worker = Worker(Session(data, config_for(batch_size=8)))
    worker.start()
    try:
        for _ in range(50):  # the last one ends epoch 0: it is evaluated
            worker.step_batch()
        worker.reset()
        assert worker.wait_idle(5.0)
        snap = worker.latest()
        assert snap.step == 0 and snap.history.epochs.count == 0 and snap.last_eval is None
    finally:
        worker.stop()


def test_set_dataset_takes_effect_with_its_reset(data):
    worker = Worker(Session(data, config_for()))
    worker.start()
    try:
        worker.step_batch()
        other = make_dataset(n_train=60, n_inputs=20, n_classes=3, seed=5)
        worker.set_dataset(other)
        worker.add_watch(1, 7, 19)  # checked against the network the queue leads to
        worker.step_batch()
        assert worker.wait_idle(2.0)
        snap = worker.latest()
        assert snap.config.sizes == (20, 8, 3) and snap.step == 1 and snap.x.shape == (8, 20)
        assert worker.session.dataset is other and snap.batches_per_epoch == 7
        with pytest.raises(ValueError, match="no weight"):
            worker.add_watch(1, 0, 20)
    finally:
        worker.stop()


def test_commands_after_with_session_build_on_the_session_it_left(worker):
    """A session file opened through ``with_session`` may bring another configuration;
    later commands (a plain reset) must start from it, not from the worker's old copy."""
    opened = config_for(sizes=(12, 5, 4), seed=11)
    assert worker.with_session(lambda s, c: s.reset(c) or s.config.sizes, opened) == (12, 5, 4)
    worker.step_batch()
    worker.reset()  # no config: "the current one"
    assert worker.wait_idle(5.0)
    snap = worker.latest()
    assert snap.step == 0
    assert snap.config.sizes == (12, 5, 4) and snap.config.seed == 11
    assert np.array_equal(snap.weights[0], Network((12, 5, 4), seed=11).weights[0])
