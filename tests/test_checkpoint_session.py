"""Save a real session, open it in another, and both go on bit for bit; bad files change nothing."""

from __future__ import annotations

import json
import zipfile
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonpaths import paths, set_at

from bpviz.data.sample import load_sample
from bpviz.files.checkpoint import (
    META,
    VERSION,
    CheckpointError,
    open_session,
    save_session,
)
from bpviz.session.session import Session
from bpviz.session.snapshot import SessionConfig

CONFIG = SessionConfig(sizes=(784, 20, 10), seed=11, batch_size=10, eta=3.0)


@pytest.fixture(scope="module")
def sample():
    return load_sample()


def _state(session: Session) -> dict:
    """Everything observable about a session, for exact comparison."""
    snap = session.snapshot()
    history = snap.history
    out = {
        "config": session.config,
        "counters": (session.step, session.epoch, session.batch_in_epoch, session.eta),
        "phase": (snap.phase, snap.phase_index),
        "parameters": session.network.parameters.tobytes(),
        "losses": np.array(session.history.loss.values).tobytes(),
        "eta_changes": history.eta_changes,
        "epochs": [(m.epoch, m.step, m.train_loss, m.test_loss, m.test_accuracy,
                    m.confusion.tobytes()) for m in session.history.epochs],
        "watches": [(w.l, w.i, w.j, w.w.mean.tobytes(), w.grad.mean.tobytes())
                    for w in history.watches],
        "last_eval": None if snap.last_eval is None else snap.last_eval.test_accuracy,
    }  # fmt: skip
    for name in ("x", "labels", "loss"):
        value = getattr(snap, name)
        out[name] = value.tobytes() if isinstance(value, np.ndarray) else value
    for name in ("z", "a", "delta", "grad_w", "weights_before"):
        out[name] = [None if v is None else v.tobytes() for v in getattr(snap, name)]
    return out


def _drive(session: Session) -> None:
    """A mixture of everything a user does: steps, phases, full-speed runs, η, watches."""
    session.step_batch()
    session.add_watch(1, 3, 400)
    session.run(250)
    session.set_eta(1.5)
    session.add_watch(2, 7, 19)
    session.run(200)  # crosses the end of epoch 0 (400 mini-batches)
    session.step_phase()
    session.step_phase()
    session.step_phase()  # mid mini-batch: forward 1, forward 2, cost


def _continue(session: Session) -> None:
    for _ in range(6):
        session.step_phase()
    session.set_eta(2.0)
    session.run(420)  # past the end of epoch 1
    session.step_batch()


@pytest.mark.parametrize("mid_batch", [True, False])
def test_save_open_continue_equals_never_stopping(sample, tmp_path, mid_batch):
    original = Session(sample, CONFIG)
    _drive(original)
    if not mid_batch:
        original.step_batch()
    save_session(tmp_path / "s.npz", original)

    reopened = Session(sample, replace(CONFIG, sizes=(784, 5, 10), seed=1))  # another run
    reopened.run(30)
    open_session(tmp_path / "s.npz", reopened)
    if mid_batch:  # the phases run so far are replayed: the same picture, trace and all
        assert _state(reopened) == _state(original)
    else:  # a finished mini-batch reopens as "between mini-batches", the state identical
        core = ("config", "counters", "parameters", "losses", "eta_changes", "epochs", "watches")
        assert {k: _state(reopened)[k] for k in core} == {k: _state(original)[k] for k in core}
        assert reopened.snapshot().phase is None

    _continue(original)
    _continue(reopened)
    after = _state(original)
    assert after == _state(reopened)
    assert original.epoch == 2 and len(original.history.epochs) == 2


def test_saving_changes_nothing_and_the_file_is_plain(sample, tmp_path):
    session = Session(sample, CONFIG)
    _drive(session)
    before = _state(session)
    save_session(tmp_path / "s.npz", session)
    assert _state(session) == before
    with np.load(tmp_path / "s.npz", allow_pickle=False) as npz:  # readable without bpviz
        assert npz["parameters"].dtype == session.network.parameters.dtype
        assert npz["order"].shape == (4000,)
    meta = json.loads(zipfile.ZipFile(tmp_path / "s.npz").read(META))
    assert meta["kind"] == "window" and meta["version"] == VERSION
    assert meta["step"] == session.step and meta["phase_index"] == 2


def _rewrite(src, dst, meta=None, arrays=None):
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == META and meta is not None:
                data = json.dumps(meta(json.loads(data))).encode()
            name = info.filename[:-4]
            if arrays and name in arrays:
                import io

                buf = io.BytesIO()
                np.save(buf, arrays[name], allow_pickle=False)
                data = buf.getvalue()
            zout.writestr(info.filename, data)
    return dst


def test_every_bad_file_leaves_the_session_untouched(sample, tmp_path):
    source = Session(sample, CONFIG)
    _drive(source)
    good = tmp_path / "good.npz"
    save_session(good, source)
    raw = good.read_bytes()
    params = source.network.parameters

    other = tmp_path / "other_data.npz"
    small = replace(sample, train_images=sample.train_images[:3000],
                    train_labels=sample.train_labels[:3000])  # fmt: skip
    save_session(other, Session(small, CONFIG))
    train_file = tmp_path / "train.npz"
    _rewrite(good, train_file, meta=lambda m: {**m, "kind": "train"})
    bad = {
        "truncated": raw[: len(raw) * 2 // 3],
        "garbage": b"PK\x03\x04" + bytes(range(256)) * 4,
    }
    cases = {name: tmp_path / f"{name}.npz" for name in bad}
    for name, data in bad.items():
        cases[name].write_bytes(data)
    cases["other data"] = other
    cases["cli file"] = train_file
    edits = {
        "newer": (lambda m: {**m, "version": VERSION + 1}, None),
        "step mismatch": (lambda m: {**m, "step": m["step"] + 1}, None),
        "bad phase": (lambda m: {**m, "phase_index": 99}, None),
        "bad config": (lambda m: {**m, "config": {**m["config"], "sizes": [784, 20, 9]}}, None),
        # a network too large to build is refused before anything is allocated
        "huge network": (
            lambda m: {**m, "config": {**m["config"], "sizes": [784, 10**8, 10]}},
            None,
        ),
        "params of another net": (
            lambda m: {**m, "config": {**m["config"], "sizes": [784, 2_000_000, 10]}},
            None,
        ),
        "negative eta": (lambda m: {**m, "eta": -1.0}, None),
        "nan parameters": (None, {"parameters": np.full_like(params, np.nan)}),
        "short parameters": (None, {"parameters": params[:-1]}),
        "float64 parameters": (None, {"parameters": params.astype(np.float64)}),
        "shuffled order": (None, {"order": np.arange(4000)}),
        "bad checkpoint": (None, {"checkpoint0": params[:10]}),
    }
    for name, (meta, arrays) in edits.items():
        cases[name] = _rewrite(good, tmp_path / f"{name}.npz", meta=meta, arrays=arrays)

    target = Session(sample, replace(CONFIG, seed=99))
    target.run(17)
    target.step_phase()
    before = _state(target)
    messages = {}
    for name, path in cases.items():
        with pytest.raises(CheckpointError) as info:
            open_session(path, target)
        messages[name] = str(info.value)
        assert _state(target) == before, name
    assert "newer bpviz" in messages["newer"]
    assert "Data menu" in messages["other data"]
    assert "bad run settings" in messages["cli file"]  # the CLI's former format, damaged
    assert all("Traceback" not in m and len(m) < 400 for m in messages.values())
    open_session(good, target)  # and the good file opens in the same session
    assert _state(target) == _state(source)


_FUZZ: dict = {}

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.floats() | st.text(max_size=6),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_fuzzed_session_files_open_or_change_nothing(sample, tmp_path_factory, data):
    """Any JSON value anywhere in a real session file's metadata: opening either works
    (the change did not matter) or raises CheckpointError with the session untouched."""
    if not _FUZZ:
        folder = tmp_path_factory.mktemp("fuzz")
        source = Session(sample, CONFIG)
        _drive(source)
        save_session(folder / "good.npz", source)
        target = Session(sample, replace(CONFIG, seed=5))
        target.step_batch()
        _FUZZ.update(good=folder / "good.npz", target=target, before=_state(target))
        _FUZZ["meta"] = json.loads(zipfile.ZipFile(folder / "good.npz").read(META))
    meta, target = _FUZZ["meta"], _FUZZ["target"]
    path = data.draw(st.sampled_from(sorted(paths(meta), key=repr)))
    value = data.draw(_JSON)
    bad = _rewrite(_FUZZ["good"], tmp_path_factory.mktemp("m") / "f.npz",
                   meta=lambda m: set_at(m, path, value))  # fmt: skip
    try:
        open_session(bad, target)
    except CheckpointError:
        assert _state(target) == _FUZZ["before"]
    else:  # a harmless change: put the target back as it was for the next example
        fresh = Session(sample, replace(CONFIG, seed=5))
        fresh.step_batch()
        _FUZZ["target"] = fresh
