"""The session file container and codecs: round trips, and every bad file gives our error."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonpaths import paths, set_at

from bpviz.files import codecs
from bpviz.files.checkpoint import META, VERSION, CheckpointError, read_checkpoint, write_checkpoint
from bpviz.session.history import History
from bpviz.session.snapshot import EpochMetrics, SessionConfig

CONFIG = SessionConfig(sizes=(784, 16, 10), seed=3, batch_size=5, eta=0.5)


def _history(steps: int = 300) -> History:
    rng = np.random.default_rng(1)
    history = History(3.0, max_points=64)
    history.add_watch(1, 2, 3)
    for s in range(1, steps + 1):
        history.loss.append(float(rng.random()))
        for watch in history.watches.values():
            watch.w.append(float(rng.normal()))
            watch.grad.append(float(rng.normal()))
        if s == 100:
            history.record_eta(101, 0.25)
            history.add_watch(2, 9, 15)
        if s % 150 == 0:
            confusion = rng.integers(0, 50, (10, 10))
            confusion[3] = 0  # a class without test examples: its accuracy is NaN
            with np.errstate(invalid="ignore"):
                per_class = np.diag(confusion) / confusion.sum(axis=1)
            history.record_epoch(
                EpochMetrics(s // 150 - 1, s, 0.3, 0.2, 0.9, per_class, confusion, 1.5)
            )
    return history


def _save(path, history=None, extra=None):
    meta, arrays = codecs.encode_history(history or _history())
    body = {"config": codecs.encode_config(CONFIG), "history": meta, **(extra or {})}
    write_checkpoint(path, body, {**arrays, "checkpoint0": np.ones((16, 784))})
    return path


def test_container_round_trip_is_exact_and_read_only(tmp_path):
    arrays = {
        "parameters": np.random.default_rng(0).normal(size=(3, 4)),
        "history_loss": np.arange(5, dtype=np.float32),
        "order": np.arange(6, dtype=np.int64).reshape(2, 3),
        "checkpoint0": np.arange(7, dtype=np.uint8),
        "checkpoint1": np.asfortranarray(np.arange(6.0).reshape(2, 3)),
        "watch0_w": np.zeros((0, 3)),
    }
    write_checkpoint(tmp_path / "s.npz", {"answer": 42, "nan": float("nan")}, arrays)
    ckpt = read_checkpoint(tmp_path / "s.npz")
    assert ckpt.meta["answer"] == 42 and ckpt.meta["version"] == VERSION
    assert np.isnan(ckpt.meta["nan"])
    assert sorted(ckpt.arrays) == sorted(arrays)
    for name, array in arrays.items():
        assert ckpt.arrays[name].dtype == array.dtype
        np.testing.assert_array_equal(ckpt.arrays[name], array)
        assert not ckpt.arrays[name].flags.writeable
    # NumPy itself reads our files, with pickling off.
    with np.load(tmp_path / "s.npz", allow_pickle=False) as npz:
        np.testing.assert_array_equal(npz["parameters"], arrays["parameters"])


def test_history_round_trip_keeps_every_value_and_view(tmp_path):
    history = _history()
    _save(tmp_path / "h.npz", history)
    ckpt = read_checkpoint(tmp_path / "h.npz")
    restored = codecs.decode_history(ckpt.meta["history"], ckpt.arrays, CONFIG)
    np.testing.assert_array_equal(restored.loss.values, history.loss.values)
    assert restored.eta_changes == history.eta_changes == [(1, 3.0), (101, 0.25)]
    assert list(restored.watches) == list(history.watches)
    for key, watch in history.watches.items():
        np.testing.assert_array_equal(restored.watches[key].w.values, watch.w.values)
        np.testing.assert_array_equal(restored.watches[key].grad.values, watch.grad.values)
        assert restored.watches[key].w.first_step == watch.w.first_step
    assert [m.step for m in restored.epochs] == [150, 300]
    np.testing.assert_array_equal(restored.epochs[1].confusion, history.epochs[1].confusion)
    a, b = history.view(), restored.view()
    for name in ("loss_step", "loss_min", "loss_max", "loss_mean"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    # and both go on identically
    for h in (history, restored):
        h.loss.append(0.5)
    np.testing.assert_array_equal(history.view().loss_mean, restored.view().loss_mean)


def test_config_and_rng_round_trip():
    assert codecs.decode_config(json.loads(json.dumps(codecs.encode_config(CONFIG)))) == CONFIG
    rng = np.random.default_rng(123)
    rng.random(17)
    copy = codecs.decode_rng(json.loads(json.dumps(codecs.encode_rng(rng))))
    np.testing.assert_array_equal(copy.permutation(1000), rng.permutation(1000))


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"sizes": [784]}, "layer sizes"),
        ({"sizes": [784, 0, 10]}, "layer sizes"),
        ({"sizes": [784, True, 10]}, "layer sizes"),
        ({"sizes": [784, 10**9, 10]}, "4,096 neurons"),
        ({"sizes": [2] * 100}, "at most 6 hidden layers"),
        ({"sizes": [10**6, 10]}, "input layer"),
        ({"hidden": "swish"}, "hidden activation"),
        ({"cost": "hinge"}, "cost"),
        ({"eta": float("inf")}, "η"),
        ({"eta": -1.0}, "η"),
        ({"batch_size": 0}, "batch size"),
        ({"seed": "7"}, "seed"),
        ({"extra": 1}, "fields"),
    ],
)
def test_bad_configurations_are_refused(change, words):
    value = {**codecs.encode_config(CONFIG), **change}
    with pytest.raises(CheckpointError, match=words):
        codecs.decode_config(value)


def test_bad_rng_state_is_refused():
    with pytest.raises(CheckpointError, match="RNG"):
        codecs.decode_rng({"bit_generator": "os.system", "state": {}})
    state = codecs.encode_rng(np.random.default_rng(0))
    state["state"] = {"state": "x"}
    with pytest.raises(CheckpointError, match="RNG"):
        codecs.decode_rng(state)


def _rewrite(src, dst, *, meta=None, drop=(), replace=None):
    """Copy the archive src to dst, with the metadata or members changed."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            if info.filename in drop:
                continue
            data = zin.read(info.filename)
            if info.filename == META and meta is not None:
                data = json.dumps(meta(json.loads(data))).encode()
            if replace and info.filename in replace:
                data = replace[info.filename]
            zout.writestr(info.filename, data)
    return dst


def test_every_bad_file_gives_our_error(tmp_path):
    good = _save(tmp_path / "good.npz")
    raw = good.read_bytes()
    cases = {
        "missing": tmp_path / "nothing.npz",
        "folder": tmp_path,
        "empty": tmp_path / "empty.npz",
        "truncated": tmp_path / "trunc.npz",
        "text": tmp_path / "text.npz",
        "foreign npz": tmp_path / "foreign.npz",
        "other json": tmp_path / "other.npz",
        "newer": tmp_path / "newer.npz",
        "no version": tmp_path / "nover.npz",
        "pickled array": tmp_path / "pickle.npz",
        "size lie": tmp_path / "lie.npz",
        "stray member": tmp_path / "stray.npz",
    }
    cases["empty"].write_bytes(b"")
    cases["truncated"].write_bytes(raw[: len(raw) // 2])
    cases["text"].write_text("W = [[1, 2]]\n")
    np.savez(cases["foreign npz"], W=np.ones(3))
    _rewrite(good, cases["other json"], meta=lambda m: {**m, "format": "something-else"})
    _rewrite(good, cases["newer"], meta=lambda m: {**m, "version": VERSION + 1})
    _rewrite(
        good, cases["no version"], meta=lambda m: {k: v for k, v in m.items() if k != "version"}
    )
    import io

    buf = io.BytesIO()
    np.save(buf, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    _rewrite(good, cases["pickled array"], replace={"checkpoint0.npy": buf.getvalue()})
    buf = io.BytesIO()
    np.save(buf, np.ones((1000, 1000)))
    _rewrite(good, cases["size lie"], replace={"checkpoint0.npy": buf.getvalue()[:4096]})
    _rewrite(good, cases["stray member"])
    with zipfile.ZipFile(cases["stray member"], "a") as zf:
        zf.writestr("evil.py", "print('hi')")

    messages = {}
    for name, path in cases.items():
        with pytest.raises(CheckpointError) as info:
            read_checkpoint(path)
        messages[name] = str(info.value)
    assert "newer bpviz" in messages["newer"]
    assert "not a bpviz session file" in messages["foreign npz"]
    assert "not a bpviz session file" in messages["other json"]
    assert "does not exist" in messages["missing"]
    assert "unsupported dtype" in messages["pickled array"]
    assert all(str(p.name) in messages[n] for n, p in cases.items() if n != "folder")
    read_checkpoint(good)  # and the good file still opens


def test_a_failed_write_leaves_the_old_file(tmp_path):
    path = _save(tmp_path / "s.npz")
    before = path.read_bytes()
    with pytest.raises(CheckpointError, match="dtype"):
        write_checkpoint(path, {}, {"parameters": np.array(["text"])})
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["s.npz"]  # no temporary left behind
    with pytest.raises(CheckpointError, match="cannot write"):
        write_checkpoint(tmp_path / "no" / "such" / "dir.npz", {}, {})


def test_history_inconsistent_with_the_network_is_refused(tmp_path):
    ckpt = read_checkpoint(_save(tmp_path / "s.npz"))
    small = SessionConfig(sizes=(784, 4, 10))  # watched w_{9,15} of W^2 is outside it
    with pytest.raises(CheckpointError, match="outside the network"):
        codecs.decode_history(ckpt.meta["history"], ckpt.arrays, small)
    meta = {**ckpt.meta["history"], "eta_changes": [[1, 3.0], [1, 2.0]]}
    with pytest.raises(CheckpointError, match="η change"):
        codecs.decode_history(meta, ckpt.arrays, CONFIG)
    arrays = {**ckpt.arrays, "watch0_w": ckpt.arrays["watch0_w"][:-1]}
    with pytest.raises(CheckpointError, match="watched-weight"):
        codecs.decode_history(ckpt.meta["history"], arrays, CONFIG)


_GOOD: dict[str, bytes] = {}


def _good_bytes(tmp_path_factory) -> bytes:
    if "raw" not in _GOOD:
        path = tmp_path_factory.mktemp("fuzz") / "good.npz"
        _save(path, _history(40))
        _GOOD["raw"] = path.read_bytes()
    return _GOOD["raw"]


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_fuzzed_files_load_or_give_our_error(tmp_path_factory, data):
    """Flip, insert, delete and truncate bytes of a good file: the loader either reads a
    valid session (the change hit nothing that matters) or raises CheckpointError —
    never another exception, never a hang."""
    raw = bytearray(_good_bytes(tmp_path_factory))
    for _ in range(data.draw(st.integers(1, 4))):
        op = data.draw(st.sampled_from(["flip", "set", "insert", "delete", "truncate"]))
        at = data.draw(st.integers(0, len(raw) - 1))
        if op == "flip":
            raw[at] ^= 1 << data.draw(st.integers(0, 7))
        elif op == "set":
            raw[at] = data.draw(st.integers(0, 255))
        elif op == "insert":
            raw[at:at] = data.draw(st.binary(min_size=1, max_size=16))
        elif op == "delete":
            del raw[at : at + data.draw(st.integers(1, 16))]
        else:
            del raw[at:]
        if not raw:
            break
    path = tmp_path_factory.mktemp("f") / "fuzzed.npz"
    path.write_bytes(bytes(raw))
    try:
        ckpt = read_checkpoint(path)
        codecs.decode_config(ckpt.meta.get("config"))
        codecs.decode_history(ckpt.meta.get("history"), ckpt.arrays, CONFIG)
    except CheckpointError:
        pass


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_fuzzed_metadata_and_arrays_load_or_give_our_error(tmp_path_factory, data):
    """Well-formed archives with nonsense inside: any JSON value anywhere in the metadata,
    or an array of another dtype or shape. Decoding succeeds or raises CheckpointError."""
    folder = tmp_path_factory.mktemp("m")
    good = folder / "good.npz"
    good.write_bytes(_good_bytes(tmp_path_factory))
    meta = json.loads(zipfile.ZipFile(good).read(META))
    path = data.draw(st.sampled_from(sorted(paths(meta), key=repr)))
    new_meta = set_at(meta, path, data.draw(_JSON))
    import io

    replace = {}
    if data.draw(st.booleans()):
        names = sorted(n for n in zipfile.ZipFile(good).namelist() if n != META)
        name = data.draw(st.sampled_from(names))
        dtype = data.draw(st.sampled_from(["f4", "f8", "i8", "u1", "?"]))
        shape = tuple(data.draw(st.lists(st.integers(0, 5), max_size=3)))
        buf = io.BytesIO()
        np.save(buf, np.zeros(shape, dtype), allow_pickle=False)
        replace[name] = buf.getvalue()
    target = _rewrite(good, folder / "bad.npz", meta=lambda m: new_meta, replace=replace)
    try:
        ckpt = read_checkpoint(target)
        config = codecs.decode_config(ckpt.meta.get("config"))
        codecs.decode_history(ckpt.meta.get("history"), ckpt.arrays, config)
    except CheckpointError:
        pass
