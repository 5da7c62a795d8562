"""What the Worker publishes and how it fails (issue 15, items 11 and 13.6): snapshots after
Open session are read-only and share nothing with the session; a refused Open leaves a
running worker running; an error inside the worker is logged with its traceback; a huge
η is refused with the usual message. Real threads, real session files."""

from __future__ import annotations

import logging
from dataclasses import fields, is_dataclass

import numpy as np
import pytest
from test_session import config_for, make_dataset
from test_worker import FlakySession

from bpviz.files import checkpoint
from bpviz.runtime.worker import Worker
from bpviz.session.session import Session


@pytest.fixture(scope="module")
def data():
    return make_dataset(n_train=400, n_test=50)


def arrays_in(tree) -> list[np.ndarray]:
    """Every array in a snapshot (tuples and dataclasses walked)."""
    out, stack, seen = [], [tree], set()
    while stack:
        value = stack.pop()
        if id(value) in seen:
            continue
        seen.add(id(value))
        if isinstance(value, np.ndarray):
            out.append(value)
        elif isinstance(value, tuple):
            stack.extend(value)
        elif is_dataclass(value) and not isinstance(value, type):
            stack.extend(getattr(value, f.name) for f in fields(value))
    return out


def session_arrays(session: Session) -> list[np.ndarray]:
    """The arrays the session goes on writing to: parameters, histories, epoch metrics."""
    history = session.history
    out = [session.network.parameters, history.loss._data]
    for watch in history.watches.values():
        out += [watch.w._data, watch.grad._data]
    for metrics in history.epochs:
        out += [metrics.confusion, metrics.per_class_accuracy]
    return out


def saved_session(tmp_path, data) -> str:
    source = Session(data, config_for(batch_size=8))  # 50 mini-batches an epoch
    source.add_watch(1, 2, 3)
    source.run(130)  # two epochs evaluated, half of a third
    path = tmp_path / "two-epochs.npz"
    checkpoint.save_session(path, source)
    return str(path)


def test_after_open_session_every_published_array_is_read_only_and_private(tmp_path, data):
    path = saved_session(tmp_path, data)
    worker = Worker(Session(data, config_for(batch_size=8)))
    worker.start()
    try:
        worker.with_session(checkpoint.open_session_from, path)
        snap = worker.latest()
        assert snap.step == 130 and snap.last_eval is not None
        published = arrays_in(snap)
        kept = [a.copy() for a in published]
        for a in published:
            assert not a.flags.writeable, f"a writable array {a.shape} {a.dtype} was published"
            if a.size:
                with pytest.raises(ValueError):
                    a.flat[0] = 0
        assert worker.wait_idle(5.0)
        for a in published:
            for b in session_arrays(worker.session):
                assert not np.shares_memory(a, b), "a published array views the session's"
        for _ in range(60):  # the next epoch ends: the session records and writes on
            worker.step_batch()
        assert worker.wait_idle(5.0)
        assert worker.latest().history.epochs.count == 3
    finally:
        worker.stop()
    for a, k in zip(published, kept, strict=True):
        assert np.array_equal(a, k, equal_nan=True)


def test_a_refused_open_leaves_a_running_worker_running(qtbot, tmp_path, data):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"PK\x03\x04 not a session")
    worker = Worker(Session(data, config_for(batch_size=8)))
    worker.start()
    try:
        worker.run()
        qtbot.waitUntil(lambda: worker.latest().running, timeout=5000)
        with pytest.raises(checkpoint.CheckpointError):
            worker.with_session(checkpoint.open_session_from, str(bad))
        assert worker.running
        step = worker.latest().step
        qtbot.waitUntil(lambda: worker.latest().step > step, timeout=5000)
        assert worker.latest().running
        good = saved_session(tmp_path, data)  # an accepted one pauses: the session changed
        worker.with_session(checkpoint.open_session_from, good)
        assert not worker.running and worker.latest().step == 130
    finally:
        worker.stop()


def test_an_error_in_the_worker_is_logged_with_its_traceback(caplog, data):
    worker = Worker(FlakySession(data, config_for()))
    worker.start()
    try:
        with caplog.at_level(logging.ERROR, logger="bpviz.runtime.worker"):
            worker.step_batch()
            worker.step_batch()
            assert worker.wait_idle(2.0)
    finally:
        worker.stop()
    records = [r for r in caplog.records if r.name == "bpviz.runtime.worker"]
    assert len(records) == 1 and "step_batch" in records[0].getMessage()
    assert records[0].exc_info and "boom in step_batch" in str(records[0].exc_info[1])
    assert "boom in step_batch" in worker.latest().message


@pytest.mark.parametrize("eta", [10**400, -(10**400), float("inf")])
def test_a_huge_eta_is_refused_with_the_usual_message(data, eta):
    worker = Worker(Session(data, config_for()))
    with pytest.raises(ValueError, match="η"):
        worker.set_eta(eta)
    worker.stop()
