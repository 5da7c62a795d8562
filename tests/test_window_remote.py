"""RemoteWorker: the window's trainer in a child process, driven like the Worker."""

from __future__ import annotations

import time

import numpy as np
import pytest

from bpviz.data import load_sample
from bpviz.runtime.remote import RemoteError, RemoteWorker
from bpviz.session.snapshot import PhaseKind, SessionConfig, phases_for


def session_step(session) -> int:
    """Runs in the child (must be a module-level function to be sent there)."""
    return session.step


def blas_threads(session) -> list[int]:
    """Runs in the child: the thread count of every BLAS library loaded there."""
    from threadpoolctl import threadpool_info

    return [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]


@pytest.fixture(scope="module")
def dataset():
    return load_sample()


@pytest.fixture
def remote(dataset):
    worker = RemoteWorker(dataset, SessionConfig(seed=3))
    yield worker
    worker.stop()


def newest(worker, condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        shot = worker.latest()
        if shot is not None and condition(shot):
            return shot
        time.sleep(0.01)
    raise AssertionError("no such snapshot in time")


def test_steps_match_the_phases_and_snapshots_are_read_only(remote):
    first = remote.latest()
    assert first.step == 0 and first.phase is None and first.config.seed == 3
    phases = phases_for(first.config.n_layers)
    for index, phase in enumerate(phases):
        remote.step_phase()
        assert remote.wait_idle(5.0)
        shot = remote.latest()  # fresh at once after a call
        assert shot.phase == phase and shot.phase_index == index
    assert remote.latest().step == 1
    assert remote.latest().phase.kind is PhaseKind.UPDATE
    with pytest.raises(ValueError):
        remote.latest().weights[0][0, 0] = 1.0
    assert remote.with_session(session_step) == 1


def test_run_pause_and_the_eta_used(remote):
    remote.set_eta(0.25)
    remote.run()
    newest(remote, lambda s: s.running and s.step > 50)
    remote.pause()
    assert remote.wait_idle(5.0)
    paused = remote.latest()
    assert not remote.running and paused.eta == 0.25
    time.sleep(0.2)
    assert newest(remote, lambda s: True).step == paused.step
    remote.step_batch()
    remote.wait_idle(5.0)
    shot = remote.latest()
    assert shot.step == paused.step + 1
    expected = shot.weights_before[0] - 0.25 * shot.grad_w[0]
    np.testing.assert_allclose(shot.weights[0], expected, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("eta", [0.0, -1.0, float("nan"), 1e12])
def test_bad_eta_raises_here_and_changes_nothing(remote, eta):
    before = remote.latest().eta
    with pytest.raises(ValueError, match="η"):
        remote.set_eta(eta)
    remote.wait_idle(5.0)
    assert remote.latest().eta == before


def test_stop_ends_the_process_even_while_running(dataset):
    worker = RemoteWorker(dataset)
    worker.run()
    newest(worker, lambda s: s.step > 10)
    worker.stop()
    assert not worker.alive and worker._process.exitcode == 0
    worker.stop()  # idempotent
    with pytest.raises(RemoteError):
        worker.step_batch()


def test_a_killed_process_is_reported_not_hung_on(dataset):
    worker = RemoteWorker(dataset)
    last = worker.latest()
    worker._process.kill()
    worker._process.join(5)
    with pytest.raises(RemoteError, match="stopped: it was killed by signal 9"):
        worker.step_batch()
    assert worker.latest() is last
    worker.stop()


def test_the_child_trains_on_one_blas_thread_leaving_the_other_core_to_the_window(remote):
    """Every BLAS library in the child has one thread once it trains: also SciPy's, which
    the engine's gemm loads only then (it ran on two threads, spin-waiting for the
    window's core, and the wide network trained at half speed beside the window)."""
    remote.step_batch()  # the fast path's first step loads SciPy's BLAS
    remote.run()
    newest(remote, lambda shot: shot.step > 20)
    remote.pause()
    threads = remote.with_session(blas_threads)
    assert len(threads) >= 2 and all(n == 1 for n in threads), threads
