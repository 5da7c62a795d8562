"""An animated pace on the worker itself (no window): one phase at a time, each published
and taken by ``latest()`` before the next runs, so a slow reader still sees every phase
of every mini-batch in order; a pause stops on a phase, consistent with the session."""

from __future__ import annotations

import time

from test_session import config_for, make_dataset

from bpviz.runtime.worker import Worker
from bpviz.session.session import Session
from bpviz.session.snapshot import phases_for


def read_slowly(worker: Worker, seconds: float, every: float) -> list:
    """The snapshots ``latest()`` returns, looked at every ``every`` seconds."""
    seen, end = [], time.perf_counter() + seconds
    while time.perf_counter() < end:
        snapshot = worker.latest()
        if not seen or snapshot is not seen[-1]:
            seen.append(snapshot)
        time.sleep(every)
    return seen


def test_a_slow_reader_sees_every_phase_in_order():
    worker = Worker(Session(make_dataset(n_train=200, n_test=20), config_for()))
    worker.start()
    try:
        worker.set_pace(20.0, every_phase=True)  # 20 × 8 phases a second: 6 ms each
        worker.run()
        seen = read_slowly(worker, 1.2, every=0.05)  # one look per 50 ms: 8× too slow
        worker.pause()
        assert worker.wait_idle(5.0)
        paused = worker.latest()
    finally:
        worker.stop()
    n = len(phases_for(seen[-1].config.n_layers))
    # (Run on a fresh session may publish its ready state, phase None, running)
    running = [s for s in seen if s.running and s.phase is not None]
    assert len(running) >= 2 * n
    indices = [s.phase_index for s in running]
    assert indices == [(indices[0] + k) % n for k in range(len(indices))]  # none skipped
    # paused on a phase of the mini-batch under way, as stepping by hand leaves it
    assert not paused.running and paused.phase is not None
    assert paused.phase_index in ((indices[-1] + k) % n for k in (0, 1))


def test_a_whole_minibatch_pace_publishes_only_updates():
    worker = Worker(Session(make_dataset(n_train=200, n_test=20), config_for()))
    worker.start()
    try:
        worker.set_pace(50.0)
        worker.run()
        seen = read_slowly(worker, 0.6, every=0.005)
        worker.pause()
        assert worker.wait_idle(5.0)
    finally:
        worker.stop()
    assert {s.phase.kind.value for s in seen if s.running and s.phase} == {"update"}
