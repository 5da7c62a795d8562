"""The IDX reader under hostile files, with memory measured in a child process.

Memory is the resident peak of a real process, not an estimate: these files were built
to make a reader allocate what they claim. Linux keeps ``ru_maxrss`` across ``exec``, so
a child started by a large pytest process would report its parent's peak; the child
therefore resets its high-water mark (``/proc/self/clear_refs``) and reads ``VmHWM``,
per case and for the whole batch (falling back to ``ru_maxrss`` where that is refused).
"""

from __future__ import annotations

import gzip
import json
import random
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest

from bpviz.data import read_idx
from bpviz.data.idx import MAX_DATA_BYTES

ROOT = Path(__file__).resolve().parent.parent
MB = 1024 * 1024
RSS_BOUND_MB = 100  # resident peak allowed per case (a bare Python + NumPy is ~35 MB)
CPU_BOUND_S = 5.0  # CPU seconds allowed per case (the slowest real case takes ~0.1 s)

# Loads each file named in argv[1] (JSON: [[path, ndim], ...]) and prints one JSON line
# per case: outcome, message, CPU seconds, resident peak in MB; then the batch's peak
# (imports included).
CHILD = r"""
import json, resource, sys, time

def hwm_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024

def reset_hwm():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False

exact = reset_hwm()
from pathlib import Path
from bpviz.data import DataError
from bpviz.data.idx import read_idx
batch = hwm_mb()
for path, ndim in json.loads(sys.argv[1]):
    reset_hwm()
    start = time.process_time()
    try:
        array = read_idx(Path(path), ndim)
        outcome, message, shape = "ok", "", list(array.shape)
        del array
    except DataError as error:
        outcome, message, shape = "DataError", str(error), None
    except BaseException as error:
        outcome, message, shape = type(error).__name__, repr(error), None
    cpu = time.process_time() - start
    rss = hwm_mb() if exact else None
    batch = max(batch, rss or 0)
    print(json.dumps({"path": path, "outcome": outcome, "message": message, "shape": shape,
                      "cpu": cpu, "rss": rss}), flush=True)
maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"maxrss": batch if exact else maxrss}))
"""


def run_child(cases: list[tuple[Path, int]], timeout: float = 600) -> tuple[list[dict], float]:
    """Read every case in one child process; (per-case results, batch resident peak MB)."""
    listing = json.dumps([[str(path), ndim] for path, ndim in cases])
    done = subprocess.run(
        [sys.executable, "-c", CHILD, listing],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    return lines[:-1], lines[-1]["maxrss"]


def check_case(result: dict) -> None:
    context = json.dumps(result)
    assert result["outcome"] in ("ok", "DataError"), context  # never a traceback
    if result["outcome"] == "DataError":
        assert result["message"].startswith(result["path"] + ": "), context
    assert result["cpu"] < CPU_BOUND_S, context
    if result["rss"] is not None:
        assert result["rss"] < RSS_BOUND_MB, context


def idx_header(dims: tuple[int, ...]) -> bytes:
    return bytes((0, 0, 8, len(dims))) + b"".join(d.to_bytes(4, "big") for d in dims)


def gzip_bomb(path: Path, dims: tuple[int, ...], zeros: int) -> None:
    """A gzip file whose IDX header declares ``dims`` and whose data inflates to
    ``zeros`` zero bytes (about 1,000 times its compressed size)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    with open(path, "wb") as f:
        f.write(packer.compress(idx_header(dims)))
        block = bytes(MB)
        for _ in range(zeros // MB):
            f.write(packer.compress(block))
        f.write(packer.flush())


def sparse(path: Path, start: bytes, size: int) -> None:
    """``start``, then zeros up to ``size`` bytes, without writing them (a sparse file)."""
    with open(path, "wb") as f:
        f.write(start)
        f.truncate(size)


# Item 4 of issue 15: files that made the reader take gigabytes.


def test_hostile_large_files_are_refused_in_bounded_memory(tmp_path) -> None:
    gz_head = gzip.compress(idx_header((10_000, 28, 28)))[:10]  # a real gzip header
    cases = {
        # 1 GiB of zeros after a gzip header: was read whole (3.1 GB, then MemoryError).
        "sparse-gz": (lambda p: sparse(p, gz_head, 1 << 30), 3),
        # The same, small enough to pass the size bound: inflated as a stream, refused.
        "sparse-gz-100mb": (lambda p: sparse(p, gz_head, 100 * MB), 3),
        # A raw file exactly as large as its header says (1 GiB): was read whole.
        "sparse-raw": (lambda p: sparse(p, idx_header((1 << 20, 32, 32)), 16 + (1 << 30)), 3),
        # Declares 10,000 images (7.8 MB) and inflates to 512 MiB of zeros.
        "bomb": (lambda p: gzip_bomb(p, (10_000, 28, 28), 512 * MB), 3),
        # Declares 98 MB (within the bound) from ~40 KB of gzip: more than it can hold.
        "bomb-big": (lambda p: gzip_bomb(p, (125_000, 28, 28), 40 * MB), 3),
    }
    paths = []
    for name, (make, ndim) in cases.items():
        path = tmp_path / f"{name}-idx3-ubyte.gz"
        make(path)
        paths.append((path, ndim))
    results, batch_peak = run_child(paths)
    messages = {Path(r["path"]).name.split("-idx3")[0]: r["message"] for r in results}
    for result in results:
        check_case(result)
        assert result["outcome"] == "DataError", result
    assert "larger than any IDX data bpviz reads" in messages["sparse-gz"]
    assert "corrupt gzip data" in messages["sparse-gz-100mb"]
    assert "more than the 134,217,728 bytes bpviz reads" in messages["sparse-raw"]
    assert "unexpected bytes after the 7,840,000 bytes" in messages["bomb"]
    assert "-byte gzip file can hold" in messages["bomb-big"]
    assert batch_peak < RSS_BOUND_MB, (batch_peak, messages)


def test_real_mnist_still_loads_within_the_bounds(mnist_dir) -> None:
    names = ["train-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
    results, _ = run_child([(mnist_dir / n, 3 if "images" in n else 1) for n in names])
    assert [r["shape"] for r in results] == [[60_000, 784], [10_000]]
    for result in results:
        assert result["cpu"] < CPU_BOUND_S
        if result["rss"] is not None:  # 47 MB of pixels: the array itself
            assert result["rss"] < RSS_BOUND_MB


# The fuzz: mutated real MNIST files, seeded, every case in one child process.

FUZZ_CASES = 240
SEED = 15


def mutate(rng: random.Random, raw: bytes, ndim: int, scratch: Path) -> Path:
    """One hostile variant of a real IDX file: damaged raw bytes, maybe gzipped before
    or after the damage; or a gzip bomb or sparse giant of the same kind."""
    kind = rng.choice(
        ["truncate", "header", "dims", "magic", "junk", "bytes", "bomb", "sparse", "none"]
    )
    path = scratch / f"{rng.getrandbits(48):012x}-{kind}"
    n_head = 4 + 4 * ndim
    if kind == "bomb":
        dims = (rng.choice([1, 100, 5_000]),) + ((28, 28) if ndim == 3 else ())
        gzip_bomb(path, dims, rng.choice([1, 8, 32]) * MB)
        return path
    if kind == "sparse":
        start = rng.choice([gzip.compress(raw[:n_head])[:10], raw[:n_head], b"\x1f\x8b"])
        sparse(path, start, rng.choice([MB, 64 * MB, MAX_DATA_BYTES + 2 * MB, 3 << 30]))
        return path
    gzip_when = rng.choice(["before", "after", None])
    blob = bytearray(gzip.compress(raw, 1) if gzip_when == "before" else raw)
    if kind == "truncate":
        del blob[rng.randrange(len(blob)) :]
    elif kind == "header":
        for _ in range(rng.randint(1, 3)):
            blob[rng.randrange(min(n_head, len(blob)))] ^= 1 << rng.randrange(8)
    elif kind == "dims" and gzip_when != "before":
        for i in range(ndim):
            if rng.random() < 0.6:
                value = rng.choice([0, 1, 2**31, 2**32 - 1, 60_000, 10**6, rng.getrandbits(32)])
                blob[4 + 4 * i : 8 + 4 * i] = value.to_bytes(4, "big")
    elif kind == "magic":
        blob[: rng.randint(1, 4)] = rng.randbytes(4)
    elif kind == "junk":
        blob += rng.choice([rng.randbytes(rng.randint(1, 5000)), bytes(rng.randint(1, 200_000))])
    elif kind == "bytes":
        for _ in range(rng.randint(1, 20)):
            blob[rng.randrange(len(blob))] = rng.randrange(256)
    if gzip_when == "after":
        blob = bytearray(gzip.compress(bytes(blob), 1))
    path.write_bytes(bytes(blob))
    return path


@pytest.fixture(scope="module")
def real_bases(mnist_dir) -> list[tuple[bytes, int]]:
    """Real MNIST IDX bytes to mutate: all 10,000 test labels, and the first 300 test
    images (the real header with n = 300), kept small so each case is quick."""
    labels = gzip.decompress((mnist_dir / "t10k-labels-idx1-ubyte.gz").read_bytes())
    images = gzip.decompress((mnist_dir / "t10k-images-idx3-ubyte.gz").read_bytes())
    first = idx_header((300, 28, 28)) + images[16 : 16 + 300 * 784]
    return [(labels, 1), (first, 3)]


def test_fuzz_mutated_real_files_load_or_raise_data_error_in_bounds(real_bases, tmp_path) -> None:
    rng = random.Random(SEED)
    cases = []
    for _ in range(FUZZ_CASES):
        raw, ndim = rng.choice(real_bases)
        # Half the cases are read with the wrong number of dimensions as well.
        cases.append((mutate(rng, raw, ndim, tmp_path), ndim if rng.random() < 0.8 else 4 - ndim))
    results, batch_peak = run_child(cases)
    assert len(results) == FUZZ_CASES
    for result, (path, ndim) in zip(results, cases, strict=True):
        check_case(result)
        if result["outcome"] == "ok":  # an exact array, agreeing with a plain decode
            data = path.read_bytes()
            raw = zlib.decompressobj(wbits=47).decompress(data) if data[:2] == b"\x1f\x8b" else data
            dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
            expected = [dims[0], dims[1] * dims[2]] if ndim == 3 else dims
            assert result["shape"] == expected, result
            np.testing.assert_array_equal(
                read_idx(path, ndim).ravel(), np.frombuffer(raw, np.uint8)[4 + 4 * ndim :]
            )
    outcomes = [r["outcome"] for r in results]
    assert (
        outcomes.count("ok") > 5 and outcomes.count("DataError") > FUZZ_CASES // 2
    )  # both paths exercised
    assert batch_peak < RSS_BOUND_MB
