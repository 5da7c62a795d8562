"""Saving a session never replaces what is not a regular file, writes through symlinks,
and cleans up after a save that was killed half-way — with real links, device nodes,
FIFOs, sockets and a real process killed with SIGKILL."""

from __future__ import annotations

import os
import re
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from bpviz.data.sample import load_sample
from bpviz.files import checkpoint
from bpviz.session.session import Session
from bpviz.session.snapshot import SessionConfig

CheckpointError, open_session = checkpoint.CheckpointError, checkpoint.open_session
read_checkpoint, save_session = checkpoint.read_checkpoint, checkpoint.save_session
write_checkpoint = checkpoint.write_checkpoint

ROOT = Path(__file__).parent.parent
CONFIG = SessionConfig(sizes=(784, 12, 10), seed=5, batch_size=10, eta=3.0)


@pytest.fixture(scope="module")
def sample():
    return load_sample()


def session_at(sample, steps: int) -> Session:
    session = Session(sample, CONFIG)
    session.run(steps)
    return session


def test_a_save_goes_through_symlinks_to_their_target(sample, tmp_path):
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "target.npz"
    save_session(target, session_at(sample, 3))
    link = tmp_path / "link.npz"
    link.symlink_to(Path("real") / "target.npz")  # relative, as people make them
    chained = tmp_path / "chained.npz"
    chained.symlink_to(link)

    save_session(chained, session_at(sample, 7))

    assert chained.is_symlink() and link.is_symlink()  # the links stay links
    assert os.readlink(link) == str(Path("real") / "target.npz")
    reopened = Session(sample, CONFIG)
    open_session(target, reopened)
    assert reopened.step == 7  # the target holds the new session
    assert sorted(p.name for p in (tmp_path / "real").iterdir()) == ["target.npz"]


def test_a_save_to_a_dangling_symlink_creates_its_target(sample, tmp_path):
    link = tmp_path / "new.npz"
    link.symlink_to(tmp_path / "made.npz")
    save_session(link, session_at(sample, 2))
    assert link.is_symlink() and (tmp_path / "made.npz").is_file()
    assert read_checkpoint(link).meta["step"] == 2


def test_devices_fifos_sockets_and_folders_are_never_replaced(sample, tmp_path):
    null = os.stat("/dev/null")
    device = tmp_path / "device.npz"  # a device node of our own, /dev/null's numbers
    os.mknod(device, stat.S_IFCHR | 0o600, null.st_rdev)
    fifo = tmp_path / "fifo.npz"
    os.mkfifo(fifo)
    folder = tmp_path / "folder.npz"
    folder.mkdir()
    sock_path = tmp_path / "socket.npz"
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(sock_path))
    to_device = tmp_path / "to-device.npz"
    to_device.symlink_to(device)
    session = session_at(sample, 2)
    words = {
        device: "it is a device",
        fifo: "it is a named pipe (FIFO)",
        folder: "it is a folder",
        sock_path: "it is a socket",
        to_device: "it is a device",
    }
    try:
        for path, text in words.items():
            with pytest.raises(CheckpointError, match=re.escape(text)) as info:
                save_session(path, session)
            assert str(path) in str(info.value)
    finally:
        sock.close()
    after = os.stat(device)
    assert stat.S_ISCHR(after.st_mode) and after.st_rdev == null.st_rdev
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert stat.S_ISSOCK(os.stat(sock_path).st_mode)
    assert folder.is_dir() and not any(folder.iterdir())
    assert to_device.is_symlink() and os.readlink(to_device) == str(device)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in words)


def train(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bpviz", "train", "--data", "sample", "--epochs", "1", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def test_train_save_writes_through_a_link_and_refuses_a_device(tmp_path):
    target = tmp_path / "target.npz"
    target.write_bytes(b"old")
    link = tmp_path / "link.npz"
    link.symlink_to(target)
    result = train("--layers", "784,8,10", "--save", str(link))
    assert result.returncode == 0, result.stderr
    assert link.is_symlink() and read_checkpoint(target).arrays["parameters"].size == 6370

    device = tmp_path / "null.npz"
    os.mknod(device, stat.S_IFCHR | 0o600, os.stat("/dev/null").st_rdev)
    result = train("--layers", "784,8,10", "--save", str(device))
    assert result.returncode == 1
    assert "it is a device" in result.stderr and "Traceback" not in result.stderr
    assert stat.S_ISCHR(os.stat(device).st_mode)


SAVER = """
import sys
import numpy as np
from bpviz.files.container import write_checkpoint
big = np.random.default_rng(0).normal(size=8_000_000).astype(np.float32)  # 32 MB
print("ready", flush=True)
while True:
    write_checkpoint(sys.argv[1], {"n": 1}, {"parameters": big})
"""


def _killed_mid_save(target: Path) -> list[Path]:
    """Run a process that saves ``target`` over and over; SIGKILL it while a temporary
    file is there. The files it left beside the target."""
    child = subprocess.Popen(
        [sys.executable, "-c", SAVER, str(target)],
        stdout=subprocess.PIPE,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert child.stdout.readline().strip() == b"ready"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if [p for p in target.parent.iterdir() if p != target]:
                break
            time.sleep(0.002)
        child.send_signal(signal.SIGKILL)
    finally:
        child.kill()
        child.wait(30)
        child.stdout.close()
    return [p for p in target.parent.iterdir() if p != target]


def test_temporaries_of_a_save_killed_midway_are_removed_by_the_next(tmp_path):
    target = tmp_path / "s.npz"
    left = []
    for _ in range(5):  # the kill may land between a rename and the next save: retry
        left = _killed_mid_save(target)
        if left:
            break
    assert left, "the saving process was never caught mid-save"
    # a save under way in a live process (this one) is not touched
    live = tmp_path / f".s.npz.{os.getpid()}.0123abcd.bpviz-tmp"
    live.write_bytes(b"being written")

    write_checkpoint(target, {"n": 2}, {"parameters": np.arange(3, dtype=np.float32)})

    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([target.name, live.name])
    ckpt = read_checkpoint(target)
    assert ckpt.meta["n"] == 2
    np.testing.assert_array_equal(ckpt.arrays["parameters"], np.arange(3, dtype=np.float32))
