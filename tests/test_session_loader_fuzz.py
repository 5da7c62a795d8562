"""Fuzzing the session loader with mutated real session files, in bounded time.

A seeded generator (``BPVIZ_FUZZ_SEED``, default 15; ``BPVIZ_FUZZ_CASES``, default 160)
mutates a real window session file: truncations, flipped bytes, hostile values at any
place of ``meta.json``, ``.npy`` headers claiming huge shapes or foreign dtypes, added
and duplicated members, zip bombs, deeply nested JSON. All cases are opened one after
another in one child process (``loader_probe.py``) on the embedded sample. Per case:
the file opens or is refused with ``CheckpointError`` and a message — nothing else —
within 1 s of CPU time (process time, so a busy machine does not matter), and the
child's peak memory never rises more than 100 MB above where it started.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest
from jsonpaths import paths, set_at
from numpy.lib import format as npy
from test_hostile_session_files import (
    CPU_SECONDS,
    MB,
    MEMORY,
    make_session,
    npy_bytes,
    probe,
    zeros_member,
)

from bpviz.data.sample import load_sample
from bpviz.files import checkpoint

META, save_session = checkpoint.META, checkpoint.save_session

SEED = int(os.environ.get("BPVIZ_FUZZ_SEED", "15"))
CASES = int(os.environ.get("BPVIZ_FUZZ_CASES", "160"))

HOSTILE = [
    None, True, -1, 0, 2**63, -(2**63), 10**300, 1e308, -1e308, float("nan"), float("inf"),
    float("-inf"), "", "x" * 10_000, [], [0] * 100_000, {}, {"a": {"b": [1, 2]}}, 0.5, 3,
]  # fmt: skip


def members(raw: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(raw)) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def pack(entries: list[tuple[str, bytes]], *, level: int = 6) -> bytes:
    """A zip of ``entries`` in order (duplicate names allowed, as an attacker may)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as zf:
        for name, data in entries:
            zf.writestr(name, data)
    return buf.getvalue()


def header_bytes(shape, descr: str, fortran: bool = False) -> bytes:
    buf = io.BytesIO()
    npy.write_array_header_1_0(buf, {"descr": descr, "fortran_order": fortran, "shape": shape})
    return buf.getvalue()


def bomb(name: str, shape: tuple[int, ...], good: dict[str, bytes], replace: str | None) -> bytes:
    """The good file with ``name`` (replacing ``replace``'s member) as zeros of ``shape``."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        for member, data in good.items():
            if member != replace:
                zf.writestr(member, data)
        zeros_member(zf, name, shape)
    return buf.getvalue()


def pick(rng: np.random.Generator, choices: list):
    return choices[int(rng.integers(0, len(choices)))]


KINDS = ["truncate", "flip", "meta", "meta", "meta", "header", "dtype", "add", "duplicate",
         "swap", "bomb", "nested", "drop"]  # fmt: skip
SHAPES = [(2**40,), (10**6, 10**6), (2**62, 4), (-1,), (0, 2**63 - 1)]
DESCRS = ["|O", ">f4", "<c16", "|V8", "<U4", "<M8[s]", "<f2", "|b1"]
STRAYS = ["evil.py", "x.npy", "watch99_w.npy", "checkpoint7.npy", "../up.npy", "dir/"]


def mutate(rng: np.random.Generator, raw: bytes, good: dict[str, bytes]) -> tuple[str, bytes]:
    """One mutation of the good file's bytes: (what was done, the new bytes)."""
    kind = pick(rng, KINDS)
    arrays = sorted(n for n in good if n != META)
    if kind == "truncate":
        return kind, raw[: int(rng.integers(0, len(raw)))]
    if kind == "flip":
        data = bytearray(raw)
        for at in rng.integers(0, len(data), int(rng.integers(1, 9))):
            data[at] ^= 1 << int(rng.integers(0, 8))
        return kind, bytes(data)
    if kind == "meta":  # a hostile value somewhere in meta.json
        meta = json.loads(good[META])
        where = sorted(paths(meta), key=repr)
        path = where[int(rng.integers(0, len(where)))]
        value = pick(rng, HOSTILE)
        text = json.dumps(set_at(meta, path, value)).encode()
        return f"meta {path} = {str(value)[:20]}", pack([*({**good, META: text}).items()])
    if kind == "header":  # a header claiming a huge shape, the data left as it was
        name = pick(rng, arrays)
        shape = pick(rng, SHAPES)
        array = np.load(io.BytesIO(good[name]), allow_pickle=False)
        data = header_bytes(shape, npy.dtype_to_descr(array.dtype)) + array.tobytes()
        return f"header {name} {shape}", pack([*({**good, name: data}).items()])
    if kind == "dtype":  # a foreign or object dtype in a header
        name = pick(rng, arrays)
        descr = pick(rng, DESCRS)
        array = np.load(io.BytesIO(good[name]), allow_pickle=False)
        data = header_bytes(array.shape, descr) + array.tobytes()
        return f"dtype {name} {descr}", pack([*({**good, name: data}).items()])
    if kind == "add":  # members the format does not define, or defined ones it does not use
        name = pick(rng, STRAYS)
        extra = npy_bytes(np.zeros(int(rng.integers(0, 1000)), np.float32))
        return f"add {name}", pack([*good.items(), (name, extra)])
    if kind == "duplicate":
        name = pick(rng, [META, *arrays])
        return f"duplicate {name}", pack([*good.items(), (name, good[name])])
    if kind == "swap":
        a, b = rng.choice(arrays, 2, replace=False)
        return f"swap {a} {b}", pack([*({**good, a: good[b], b: good[a]}).items()])
    if kind == "bomb":  # zeros that deflate ~1000×, as a defined member or a stray one
        name = pick(rng, [*arrays, "junk.npy"])
        count = int(rng.choice([16 << 20, 64 << 20, 200 << 20]))
        return f"bomb {name} {count}", bomb(name, (count // 4,), good, name)
    if kind == "nested":  # JSON nested deeper than any parser's stack
        depth = int(rng.choice([1000, 100_000]))
        text = b'{"format": "bpviz-session", "version": 1, "x": ' + b"[" * depth + b"]" * depth
        return f"nested {depth}", pack([*({**good, META: text + b"}"}).items()])
    name = pick(rng, [META, *arrays])
    return f"drop {name}", pack([(n, d) for n, d in good.items() if n != name])


@pytest.fixture(scope="module")
def good(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("fuzz") / "good.npz"
    save_session(path, make_session(load_sample()))
    return path


@pytest.mark.filterwarnings("ignore:Duplicate name")  # duplicated on purpose
def test_mutated_session_files_open_or_are_refused_within_bounds(good, tmp_path):
    raw = good.read_bytes()
    originals = members(raw)
    rng = np.random.default_rng(SEED)
    made: dict[str, str] = {}
    files = []
    for k in range(CASES):
        what, data = mutate(rng, raw, originals)
        path = tmp_path / f"case{k:04d}.npz"
        path.write_bytes(data)
        assert len(data) < MB, what  # the promise is about files under 1 MB
        made[path.name] = what
        files.append(path)
    reports = probe(good, files, timeout=600)
    assert len(reports) == len(files)
    outcomes = {"opened": 0, "refused": 0}
    for report in reports:
        case = (made[Path(report["path"]).name], report)
        assert report["outcome"] in outcomes, case
        assert report["outcome"] == "opened" or report["message"].strip(), case
        assert report["cpu"] < CPU_SECONDS, case
        assert report["grown"] < MEMORY, case
        outcomes[report["outcome"]] += 1
    assert outcomes["refused"] > CASES // 2  # the mutations do reach the checks
