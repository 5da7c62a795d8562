"""Saves while other threads command the worker (issue 15, item 7): real threads, real files.

``Worker`` commands may come from any thread. A save (``with_session``) must capture one
consistent state whatever the others send meanwhile: every file written reopens, and its
counters, history lengths and η agree with each other.
"""

from __future__ import annotations

import itertools
import random
import threading
import time

import numpy as np
from test_session import config_for, make_dataset

from bpviz.files import checkpoint
from bpviz.runtime.worker import Worker
from bpviz.session.session import Session

ETAS = (0.5, 1.0, 2.0, 3.0)
BACKLOG = 40  # commands a hammering thread lets wait before it waits itself
HANG = 120.0  # seconds after which a save counts as hung (it takes milliseconds)


def backlog(worker: Worker) -> int:
    """Commands queued and not yet applied (the worker's public counters)."""
    return sum(worker.submitted.values()) - sum(worker.applied.values())


def hammer(worker: Worker, seed: int, stop: threading.Event, errors: list) -> None:
    """Random run/pause/step/η commands until ``stop`` (a thread of its own)."""
    r = random.Random(seed)
    try:
        while not stop.is_set():
            name = r.choice(["run", "pause", "step_batch", "step_phase", "eta", "run"])
            if name == "eta":
                worker.set_eta(r.choice(ETAS))
            else:
                getattr(worker, name)()
            time.sleep(r.random() * 0.002)
            while backlog(worker) > BACKLOG and not stop.is_set():
                time.sleep(0.001)  # a busy GUI, not a flood that outruns the worker for ever
    except Exception as error:  # reported by the test, not lost in the thread
        errors.append(error)


def check_file(path, data) -> Session:
    """Reopen ``path`` into a fresh session and check that its parts agree."""
    session = Session(data, config_for((12, 6, 4), batch_size=4))
    checkpoint.open_session(path, session)  # raises CheckpointError if inconsistent
    history = session.history
    assert history.steps == session.step == history.loss.n
    assert len(history.epochs) == session.epoch
    assert session.step >= session.epoch * session.batches_per_epoch + session.batch_in_epoch
    changes = history.eta_changes
    assert changes[-1][1] == session.eta, "the η saved is not the last η recorded"
    assert all(a[0] <= b[0] for a, b in itertools.pairwise(changes))
    assert changes[-1][0] <= session.step + 1
    assert np.all(np.isfinite(session.network.parameters))
    return session


def save_many(worker: Worker, folder, count: int, paths: list, errors: list) -> None:
    """``count`` saves in a row (a thread of its own, so that a hang is seen, not waited on)."""
    try:
        for n in range(count):
            path = folder / f"s{n}.npz"
            assert worker.with_session(checkpoint.save_session_to, str(path)) == str(path)
            paths.append(path)
    except Exception as error:
        errors.append(error)


def test_saves_while_four_threads_hammer_the_worker_all_reopen(tmp_path):
    data = make_dataset(n_train=80, n_test=20)  # 20 mini-batches an epoch: epoch ends often
    worker = Worker(Session(data, config_for((12, 6, 4), batch_size=4)), publish_hz=500.0)
    worker.start()
    stop, errors, paths = threading.Event(), [], []
    threads = [
        threading.Thread(target=hammer, args=(worker, seed, stop, errors), name=f"hammer{seed}")
        for seed in range(4)
    ]
    saver = threading.Thread(target=save_many, args=(worker, tmp_path, 120, paths, errors))
    try:
        for t in threads:
            t.start()
        saver.start()
        saver.join(HANG)  # generous: 120 saves take a second or two
        hung = saver.is_alive()
    finally:
        stop.set()
        for t in threads:
            t.join(10.0)
        worker.pause()  # lets a save stuck waiting for an idle worker finish
        saver.join(30.0)
        worker.stop()
    assert not hung, f"saves waited forever while other threads commanded ({len(paths)} done)"
    assert not errors, errors
    bad = []
    steps = set()
    for path in paths:
        try:
            steps.add(check_file(path, data).step)
        except Exception as error:
            bad.append(f"{path.name}: {type(error).__name__}: {error}")
    assert not bad, f"{len(bad)} of {len(paths)} files are inconsistent:\n" + "\n".join(bad[:5])
    assert len(steps) > 10, "training hardly moved between the saves: the test proved nothing"


def test_a_save_from_another_thread_sees_one_state_between_commands(tmp_path):
    """While one thread steps phase by phase, saves from a second thread each land
    between two commands: the phase saved is replayed on opening to the same numbers."""
    data = make_dataset(n_train=80, n_test=20)
    worker = Worker(Session(data, config_for((12, 6, 4), batch_size=4)))
    worker.start()
    stop, errors = threading.Event(), []

    def stepper() -> None:
        try:
            while not stop.is_set():
                worker.step_phase()
                worker.set_eta(random.choice(ETAS))
                time.sleep(random.random() * 0.002)
        except Exception as error:
            errors.append(error)

    thread = threading.Thread(target=stepper, name="stepper")
    saved = []
    try:
        thread.start()
        for n in range(60):
            path = tmp_path / f"p{n}.npz"
            shot = worker.with_session(lambda s, p: (checkpoint.save_session_to(s, p),
                                                     s.snapshot()), str(path))[1]  # fmt: skip
            saved.append((path, shot))
    finally:
        stop.set()
        thread.join(10.0)
        worker.stop()
    assert not errors, errors
    for path, shot in saved:
        session = check_file(path, data)
        again = session.snapshot()
        # a mini-batch whose update has run is saved as complete (no phase under way)
        index = -1 if shot.phase_index == len(session.phases) - 1 else shot.phase_index
        assert (again.step, again.phase_index, again.eta) == (shot.step, index, shot.eta)
        for mine, theirs in zip(again.weights, shot.weights, strict=True):
            np.testing.assert_array_equal(mine, theirs)
