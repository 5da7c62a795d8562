"""Hostile session files: FIFOs, devices, zip bombs, huge declarations, poisoned histories.

Each kind is made for real (``mkfifo``, ``mknod``, ``/dev/zero``, zip members of zeros
that deflate 1000 to 1) and opened by the real loader — in a child process of its own
(``loader_probe.py``) where the cost matters, so the CPU time and the peak memory of
every case can be measured, and a loader that blocks cannot hang the test run.
"""

from __future__ import annotations

import io
import json
import os
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from numpy.lib import format as npy

from bpviz.data.sample import load_sample
from bpviz.files import checkpoint
from bpviz.session.session import Session
from bpviz.session.snapshot import SessionConfig

META = checkpoint.META
CheckpointError, open_session = checkpoint.CheckpointError, checkpoint.open_session
save_session = checkpoint.save_session

HERE = Path(__file__).parent
ROOT = HERE.parent
CONFIG = SessionConfig(sizes=(784, 20, 10), seed=11, batch_size=10, eta=3.0)
MB = 1 << 20
# What the issue asks of any file under 1 MB: accepted or refused within these.
CPU_SECONDS, MEMORY = 1.0, 100 * MB


@pytest.fixture(scope="module")
def sample():
    return load_sample()


def make_session(sample) -> Session:
    """A session past its first epoch (epoch metrics), with a watched weight, mid batch."""
    session = Session(sample, CONFIG)
    session.add_watch(1, 3, 400)
    session.run(420)
    session.step_phase()
    return session


@pytest.fixture(scope="module")
def good(sample, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("good") / "good.npz"
    save_session(path, make_session(sample))
    return path


def npy_bytes(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    npy.write_array(buf, array, allow_pickle=False)
    return buf.getvalue()


def zeros_member(zf: zipfile.ZipFile, name: str, shape: tuple[int, ...], dtype="f4") -> None:
    """A ``.npy`` member of zeros written in pieces (it may declare gigabytes)."""
    dtype = np.dtype(dtype)
    header = {"descr": npy.dtype_to_descr(dtype), "fortran_order": False, "shape": shape}
    with zf.open(name, "w", force_zip64=True) as f:
        npy.write_array_header_2_0(f, header)
        left = int(np.prod(shape)) * dtype.itemsize
        block = bytes(min(left, 16 * MB))
        while left:
            f.write(block[: min(left, len(block))])
            left -= min(left, len(block))


def rewrite(src: Path, dst: Path, *, meta=None, arrays=None, drop=(), extra=None) -> Path:
    """Copy session file ``src`` to ``dst`` with ``meta(meta)``, arrays replaced (an array,
    or a callable writing the member), members dropped or ``extra`` ones added."""
    arrays = arrays or {}
    with (
        zipfile.ZipFile(src) as zin,
        zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zout,
    ):
        for info in zin.infolist():
            name = info.filename
            if name in drop:
                continue
            if name[:-4] in arrays:
                value = arrays[name[:-4]]
                if callable(value):
                    value(zout, name)
                    continue
                zout.writestr(name, npy_bytes(value))
                continue
            data = zin.read(name)
            if name == META and meta is not None:
                data = json.dumps(meta(json.loads(data))).encode()
            zout.writestr(name, data)
        for name, write in (extra or {}).items():
            write(zout, name)
    return dst


def probe(good: Path, paths: list[Path], timeout: float = 120) -> list[dict]:
    """Open each of ``paths`` in a child process; its report per file."""
    result = subprocess.run(
        [sys.executable, str(HERE / "loader_probe.py"), str(good), *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=timeout,  # a loader that blocks fails the test instead of hanging it
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return [json.loads(line) for line in result.stdout.splitlines()]


def assert_refused_cheaply(reports: list[dict], words: dict[str, str]) -> None:
    for report in reports:
        name = Path(report["path"]).name
        assert report["outcome"] == "refused", (name, report)
        assert words[name] in report["message"], (name, report["message"])
        assert report["cpu"] < CPU_SECONDS, (name, report)
        assert report["grown"] < MEMORY, (name, report)


# --- item 2: paths that are not regular files ---


def test_fifos_devices_and_folders_are_refused_before_reading(good, tmp_path):
    fifo = tmp_path / "fifo.npz"
    os.mkfifo(fifo)
    node = tmp_path / "zero.npz"  # a device node of our own: /dev/zero's numbers
    os.mknod(node, stat.S_IFCHR | 0o600, os.stat("/dev/zero").st_rdev)
    link = tmp_path / "link.npz"
    link.symlink_to(fifo)
    folder = tmp_path / "folder.npz"
    folder.mkdir()
    paths = [fifo, node, link, folder, Path("/dev/zero"), Path("/dev/urandom")]
    words = {
        "fifo.npz": "named pipe (FIFO)",
        "zero.npz": "a device",
        "link.npz": "named pipe (FIFO)",
        "folder.npz": "a folder",
        "zero": "a device",
        "urandom": "a device",
    }
    assert_refused_cheaply(probe(good, paths), words)
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)  # nothing was replaced or consumed


def cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bpviz", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def test_train_resume_from_a_fifo_or_a_device_says_so_at_once(tmp_path):
    fifo = tmp_path / "f.npz"
    os.mkfifo(fifo)
    for path, words in ((fifo, "named pipe (FIFO)"), ("/dev/zero", "a device")):
        result = cli("train", "--data", "sample", "--resume", str(path), timeout=60)
        assert result.returncode == 1, result.stderr
        assert words in result.stderr and "Traceback" not in result.stderr


# --- item 3: small files that declare a lot ---


def test_small_files_declaring_gigabytes_are_refused_in_a_second(good, tmp_path):
    meta = json.loads(zipfile.ZipFile(good).read(META))
    steps = meta["step"]
    big_network = {**meta["config"], "sizes": [784, 100_000, 10]}
    cases = {
        # 256 MB of zeros as the loss history: ~250 KB on disk
        "bomb.npz": dict(arrays={"history_loss": lambda z, n: zeros_member(z, n, (64 << 20,))}),
        # a member the format does not define, 300 MB of zeros
        "stray.npz": dict(extra={"junk.npy": lambda z, n: zeros_member(z, n, (75 << 20,))}),
        # meta.json of 40 MB (the loader allowed 64 MB)
        "meta.npz": dict(meta=lambda m: {**m, "pad": " " * (40 * MB)}),
        # 1 MB of meta.json that parses into 250,000 dicts
        "dicts.npz": dict(meta=lambda m: {**m, "pad": [{}] * 250_000}),
        # a loss history within the byte budget but 4 million steps long: refused by its
        # length before it is expanded into the history
        "long.npz": dict(
            arrays={"history_loss": lambda z, n: zeros_member(z, n, (steps + 4_000_000,))}
        ),
        # a network beyond the limits (n₁ = 100,000) whose parameters fit it: 314 MB of zeros
        "wide.npz": dict(
            meta=lambda m: {**m, "config": big_network},
            arrays={"parameters": lambda z, n: zeros_member(z, n, (100_000 * 785 + 10 * 100_001,))},
        ),
    }
    paths = [rewrite(good, tmp_path / name, **how) for name, how in cases.items()]
    assert all(p.stat().st_size < MB for p in paths), [p.stat().st_size for p in paths]
    words = {
        "bomb.npz": "declare",
        "stray.npz": "unexpected member 'junk.npy'",
        "meta.npz": "metadata is implausibly large",
        "dicts.npz": "metadata is implausibly complex",
        "long.npz": "does not match the step count",
        "wide.npz": "declare",
    }
    assert_refused_cheaply(probe(good, paths), words)


def test_layer_sizes_beyond_the_limits_are_refused_even_when_the_file_is_large(
    sample, good, tmp_path
):
    """A network of 4,097-neuron layers is refused by limits.check_sizes, however honest
    the file is about its size (its parameters really are in it)."""
    sizes = [784, 4097, 10]
    n = 4097 * 785 + 10 * 4098
    params = np.random.default_rng(0).normal(size=n).astype(np.float32)
    meta = json.loads(zipfile.ZipFile(good).read(META))
    config = {**meta["config"], "sizes": sizes}
    path = rewrite(
        good,
        tmp_path / "wide.npz",
        meta=lambda m: {**m, "config": config, "checkpoint_steps": [m["step"]]},
        arrays={"parameters": params, "checkpoint0": params},
        drop=[f"checkpoint{k}.npy" for k in range(1, 16)],
    )
    session = Session(sample, CONFIG)
    with pytest.raises(CheckpointError, match="4,096 neurons"):
        open_session(path, session)


# --- item 11 (files) and item 6: values no session can hold ---


def _poison(name: str, change):
    def arrays(z, member):
        z.writestr(member, npy_bytes(change()))

    return name, arrays


@pytest.fixture(scope="module")
def saved(good):
    with zipfile.ZipFile(good) as zf:
        meta = json.loads(zf.read(META))
        arrays = {
            n[:-4]: np.load(io.BytesIO(zf.read(n)), allow_pickle=False)
            for n in zf.namelist()
            if n != META
        }
    return meta, arrays


def _with(array: np.ndarray, index, value) -> np.ndarray:
    array = array.copy()
    array[index] = value
    return array


def test_nan_infinite_or_negative_history_values_are_refused(sample, good, saved, tmp_path):
    meta, arrays = saved
    loss, confusion = arrays["history_loss"], arrays["history_confusion"]
    w = arrays["watch0_w"]

    def epoch0(key, value):
        def change(m):
            epochs = [dict(e) for e in m["history"]["epochs"]]
            epochs[0][key] = value
            return {**m, "history": {**m["history"], "epochs": epochs}}

        return change

    cases = {
        "nan loss": (dict(arrays={"history_loss": _with(loss, 5, np.nan)}), "NaN or ∞"),
        "inf loss": (dict(arrays={"history_loss": _with(loss, -1, np.inf)}), "NaN or ∞"),
        "negative loss": (dict(arrays={"history_loss": _with(loss, 7, -0.5)}), "negative"),
        "inf watch": (dict(arrays={"watch0_w": _with(w, 3, -np.inf)}), "NaN or ∞"),
        "negative count": (
            dict(arrays={"history_confusion": _with(confusion, (0, 2, 5), -3)}),
            "negative counts",
        ),
        "nan test loss": (dict(meta=epoch0("test_loss", float("nan"))), "not finite"),
        "inf train loss": (dict(meta=epoch0("train_loss", float("inf"))), "not finite"),
        "negative seconds": (dict(meta=epoch0("seconds", -1.0)), "out of range"),
        "accuracy above 1": (dict(meta=epoch0("test_accuracy", 1.5)), "out of range"),
        "accuracies unlike the matrix": (
            dict(arrays={"history_per_class_accuracy": arrays["history_per_class_accuracy"] / 2}),
            "do not match the confusion",
        ),
    }
    session = Session(sample, CONFIG)
    session.run(3)
    before = session.network.parameters.copy(), session.step
    for name, (how, words) in cases.items():
        path = rewrite(good, tmp_path / f"{name.replace(' ', '_')}.npz", **how)
        with pytest.raises(CheckpointError, match=words):
            open_session(path, session)
        assert session.step == before[1], name
        np.testing.assert_array_equal(session.network.parameters, before[0])
    open_session(good, session)  # the unchanged file opens
    assert session.step == meta["step"]


def test_a_batch_size_larger_than_the_data_is_a_message(sample, good, tmp_path):
    def bigger(m):
        return {**m, "config": {**m["config"], "batch_size": 5000}}

    path = rewrite(good, tmp_path / "m5000.npz", meta=bigger)
    with pytest.raises(CheckpointError, match="batch size must be between 1 and 4,000"):
        open_session(path, Session(sample, CONFIG))


def test_snapshots_after_open_are_read_only_and_not_the_history(sample, good):
    session = Session(sample, CONFIG)
    open_session(good, session)
    snap = session.snapshot()
    assert snap.last_eval is not None
    history = session.history.epochs[-1]
    for name in ("confusion", "per_class_accuracy"):
        shown, kept = getattr(snap.last_eval, name), getattr(history, name)
        assert not np.shares_memory(shown, kept), name
        for array in (shown, kept):
            assert not array.flags.writeable, name
            with pytest.raises(ValueError, match="read-only"):
                array[0] = 7
    np.testing.assert_array_equal(snap.last_eval.confusion, history.confusion)


def test_train_resume_of_a_file_whose_batch_size_exceeds_the_data_says_so(tmp_path):
    saved = tmp_path / "run.npz"
    result = cli("train", "--data", "sample", "--epochs", "1", "--layers", "784,8,10",
                 "--save", str(saved))  # fmt: skip
    assert result.returncode == 0, result.stderr

    def saved_with(batch_size: int = 10, sizes: tuple = (784, 8, 10)):
        def change(m):
            if "run" in m:  # the trainer's own kind of file (before it trained a Session)
                layers = ",".join(map(str, sizes))
                return {**m, "run": {**m["run"], "batch_size": batch_size, "layers": layers}}
            config = {**m["config"], "batch_size": batch_size, "sizes": list(sizes)}
            return {**m, "config": config}

        return change

    cases = {"m5000.npz": (saved_with(batch_size=5000), "batch size must be between 1 and 4,000")}
    for name, (change, words) in cases.items():
        path = rewrite(saved, tmp_path / name, meta=change)
        result = cli("train", "--data", "sample", "--epochs", "1", "--resume", str(path))
        assert result.returncode != 0, result.stderr
        assert words in result.stderr and "Traceback" not in result.stderr, result.stderr
