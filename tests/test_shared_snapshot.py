"""Snapshots through shared memory: real sessions, real blocks in /dev/shm, real processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from dataclasses import fields, is_dataclass, replace
from multiprocessing.shared_memory import SharedMemory
from pathlib import Path

import numpy as np
import pytest

from bpviz.data import load_sample
from bpviz.runtime.remote import RemoteWorker
from bpviz.runtime.shared_snapshot import SMALL, Packed, SharedReader, SharedWriter, block_name
from bpviz.session.session import Session
from bpviz.session.snapshot import SessionConfig

WIDE = (784, 512, 256, 10)
SHM = Path("/dev/shm")
ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.skipif(not SHM.is_dir(), reason="needs POSIX shared memory in /dev/shm")


@pytest.fixture(scope="module")
def dataset():
    return load_sample()


def arrays(value, path="snapshot"):
    """(path, array) of every array in a snapshot: fields, tuples, nested dataclasses."""
    if isinstance(value, np.ndarray):
        yield path, value
    elif isinstance(value, tuple):
        for k, item in enumerate(value):
            yield from arrays(item, f"{path}[{k}]")
    elif is_dataclass(value) and not isinstance(value, type):
        for field in fields(value):
            yield from arrays(getattr(value, field.name), f"{path}.{field.name}")


def assert_same_snapshot(got, expected):
    """Every array equal in dtype, shape and values, and every other field equal."""
    got_arrays, expected_arrays = dict(arrays(got)), dict(arrays(expected))
    assert got_arrays.keys() == expected_arrays.keys()
    for path, array in expected_arrays.items():
        other = got_arrays[path]
        assert other.dtype == array.dtype and other.shape == array.shape, path
        assert np.array_equal(other, array, equal_nan=array.dtype.kind == "f"), path
    for field in fields(expected):
        value = getattr(expected, field.name)
        if not any(True for _ in arrays(value)):
            assert getattr(got, field.name) == value, field.name


def same_objects(snapshot):
    """Pairs of paths whose arrays are the same object."""
    seen, pairs = {}, set()
    for path, array in arrays(snapshot):
        if id(array) in seen:
            pairs.add((seen[id(array)], path))
        seen.setdefault(id(array), path)
    return pairs


def snapshots_of(session):
    """Real snapshots at interesting moments: before a batch, mid-batch, after an update,
    and after an epoch with its evaluation and a watched weight."""
    session.add_watch(1, 2, 3)
    yield session.snapshot()
    for _ in range(3):
        session.step_phase()
        yield session.snapshot()
    session.step_batch()
    yield session.snapshot()
    session.run(session.batches_per_epoch + 5, trace_last=True)
    assert session.snapshot().history.epochs.count, "an epoch should have been evaluated"
    yield session.snapshot()


def blocks(prefix):
    return sorted(p.name for p in SHM.iterdir() if p.name.startswith(prefix))


def our_blocks():
    """This process's RemoteWorkers' blocks in /dev/shm."""
    return blocks(f"bpviz_{os.getpid()}_")


@pytest.fixture
def shm():
    """(prefix, writer, reader) of this process's blocks; none is left afterwards."""
    prefix = f"bpviz_test_{os.getpid()}_"
    writer, reader = SharedWriter(prefix), SharedReader(prefix)
    yield prefix, writer, reader
    reader.close()
    writer.close()
    assert blocks(prefix) == []


@pytest.mark.parametrize("sizes", [(784, 30, 10), WIDE])
def test_round_trip_of_real_snapshots(shm, dataset, sizes):
    prefix, writer, reader = shm
    for snapshot in snapshots_of(Session(dataset, SessionConfig(sizes=sizes, seed=1))):
        packed = writer.pack(snapshot)
        # the message holds the small arrays' bytes and the structure, not the big ones
        unique = {id(a): a for _, a in arrays(snapshot)}.values()
        small = sum(a.nbytes for a in unique if a.nbytes < SMALL)
        assert isinstance(packed, Packed) and len(packed.data) < small + 8192
        assert sum(a.nbytes for a in unique) > 100_000
        got = reader.unpack(packed)
        assert_same_snapshot(got, snapshot)
        assert all(not a.flags.writeable for _, a in arrays(got))
        assert same_objects(got) == same_objects(snapshot)
        assert (got.weights_before is got.weights) == (snapshot.weights_before is snapshot.weights)
        # the copies share no memory with the block: scribble over it, nothing changes
        block = SharedMemory(block_name(prefix, packed.number))
        block.buf[:] = b"\xff" * block.size
        block.close()
        assert_same_snapshot(got, snapshot)
    assert len(blocks(prefix)) == 2  # two slots, used alternately


def test_a_bigger_snapshot_gets_a_bigger_block_and_the_old_one_goes(shm, dataset):
    prefix, writer, reader = shm
    small = Session(dataset, SessionConfig(seed=2)).snapshot()
    wide = Session(dataset, SessionConfig(sizes=WIDE, seed=2)).snapshot()
    first = [writer.pack(small), writer.pack(small)]
    assert {p.slot for p in first} == {0, 1}
    kept = reader.unpack(first[0])
    grown = writer.pack(wide)  # slot 0 again, too small: a new block replaces it
    assert grown.slot == 0 and grown.number > max(p.number for p in first)
    assert block_name(prefix, first[0].number) not in blocks(prefix)
    assert_same_snapshot(reader.unpack(grown), wide)
    assert_same_snapshot(reader.unpack(first[1]), small)  # slot 1 untouched
    assert_same_snapshot(kept, small)
    # every page of the block is reserved, its headroom too (no SIGBUS on a full tmpfs)
    path = f"/dev/shm/{block_name(prefix, grown.number).lstrip('/')}"
    size = os.stat(path).st_size
    assert size > wide.weights[0].nbytes and os.stat(path).st_blocks * 512 >= size


def test_an_array_of_another_dtype_travels_pickled_and_read_only(shm, dataset):
    _, writer, reader = shm
    snapshot = Session(dataset, SessionConfig(seed=3)).snapshot()
    odd = replace(snapshot, x=snapshot.x.astype(np.float16))  # not in the whitelist
    packed = writer.pack(odd)
    assert packed.inline and len(packed.data) > odd.x.nbytes
    got = reader.unpack(packed)
    assert_same_snapshot(got, odd)
    assert all(not a.flags.writeable for _, a in arrays(got))


def session_snapshot(session):
    """Runs in the child: the session's own snapshot, pickled back."""
    return session.snapshot()


def test_a_remote_worker_delivers_what_the_session_computes(dataset):
    before = our_blocks()
    worker = RemoteWorker(dataset, SessionConfig(seed=4))
    try:
        assert len(our_blocks()) > len(before)  # the snapshots do travel in shared memory
        worker.add_watch(2, 1, 7)
        worker.run()
        deadline = time.monotonic() + 20
        while worker.latest().step < 2 * worker.latest().batches_per_epoch:
            assert time.monotonic() < deadline, "training too slow"
            time.sleep(0.02)
        worker.pause()
        assert worker.wait_idle(10.0)
        shot = worker.latest()
        truth = worker.with_session(session_snapshot)
        assert shot.history.epochs.count and shot.history.watches
        assert_same_snapshot(shot, truth)
        assert all(not a.flags.writeable for _, a in arrays(shot))

        worker.reset(SessionConfig(sizes=WIDE, seed=5))  # bigger blocks from now on
        worker.step_batch()
        assert worker.wait_idle(10.0)
        shot = worker.latest()
        assert shot.config.sizes == WIDE and shot.step == 1
        assert_same_snapshot(shot, worker.with_session(session_snapshot))
        assert len(our_blocks()) - len(before) <= 2  # replaced blocks were unlinked
    finally:
        worker.stop()
    assert our_blocks() == before


def test_stop_after_the_child_was_killed_leaves_no_block(dataset):
    before = our_blocks()
    worker = RemoteWorker(dataset, SessionConfig(sizes=WIDE))
    worker.run()
    deadline = time.monotonic() + 20
    while worker.latest().step < 20:
        assert time.monotonic() < deadline, "training too slow"
        time.sleep(0.01)
    assert our_blocks() != before
    os.kill(worker._process.pid, signal.SIGKILL)
    worker._process.join(5)
    worker.stop()
    assert our_blocks() == before


def test_pickled_snapshots_when_shared_memory_is_off(dataset):
    before = our_blocks()
    worker = RemoteWorker(dataset, SessionConfig(seed=6), shared_memory=False)
    try:
        worker.step_batch()
        assert worker.wait_idle(10.0)
        assert our_blocks() == before
        shot = worker.latest()
        assert shot.step == 1 and all(not a.flags.writeable for _, a in arrays(shot))
        assert_same_snapshot(shot, worker.with_session(session_snapshot))
    finally:
        worker.stop()


def run_script(body: str) -> subprocess.CompletedProcess:
    """``body`` in a fresh Python (its own resource tracker, which speaks at exit)."""
    code = textwrap.dedent(
        """
        import os, resource, signal, sys, time
        from bpviz.data import load_sample
        from bpviz.runtime.remote import RemoteWorker
        from bpviz.session.snapshot import SessionConfig
        dataset = load_sample()
        """
    ) + textwrap.dedent(body)
    env = dict(os.environ, PYTHONWARNINGS="default")
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT, env=env
    )


def test_no_resource_tracker_warning_after_a_normal_stop_or_a_kill():
    result = run_script(
        """
        for kill in (False, True):
            worker = RemoteWorker(dataset)
            worker.run()
            while worker.latest().step < 20:
                time.sleep(0.01)
            worker.reset(SessionConfig(sizes=(784, 512, 256, 10)))  # grow the blocks
            worker.step_batch()
            worker.wait_idle(10.0)
            assert worker.latest().config.sizes[1] == 512
            if kill:
                os.kill(worker._process.pid, signal.SIGKILL)
                worker._process.join(5)
            worker.stop()
        print("done")
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "done"
    assert "leaked" not in result.stderr and "Traceback" not in result.stderr, result.stderr


def test_falls_back_to_pickling_when_no_block_can_be_created():
    """The child inherits a 64 KiB file-size limit (and SIGXFSZ ignored): the OS refuses
    to size a block (EFBIG); the child says so once and pickles."""
    result = run_script(
        """
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
        resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 16, hard))
        worker = RemoteWorker(dataset, SessionConfig(seed=7))
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        for _ in range(3):
            worker.step_batch()
        worker.wait_idle(10.0)
        shot = worker.latest()
        assert shot.step == 3 and not shot.weights[0].flags.writeable
        expected = shot.weights_before[0] - shot.eta * shot.grad_w[0]
        assert abs(shot.weights[0] - expected).max() < 1e-6
        assert not [p for p in os.listdir("/dev/shm") if p.startswith(f"bpviz_{os.getpid()}_")]
        worker.stop()
        print("done")
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "done"
    assert result.stderr.count("no shared memory") == 1, result.stderr
    assert "File too large" in result.stderr
