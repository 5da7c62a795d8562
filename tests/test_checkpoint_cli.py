"""``python -m bpviz train --save/--resume/--snapshot-every/--out``, run as a user runs it."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonpaths import paths, set_at


def bpviz(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bpviz", "train", "--data", "sample", "--json", *args],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=cwd,
    )


def lines(result: subprocess.CompletedProcess) -> list[dict]:
    assert result.returncode == 0, result.stderr
    reports = [json.loads(line) for line in result.stdout.splitlines()]
    for report in reports:
        report.pop("seconds")
    return reports


def test_resume_continues_bit_identically(tmp_path):
    saved = tmp_path / "run.npz"
    straight = lines(bpviz("--epochs", "3", "--seed", "7", "--eta", "2.5"))
    first = lines(bpviz("--epochs", "1", "--seed", "7", "--eta", "2.5", "--save", str(saved)))
    assert first == straight[:1]
    # the flags of the run come from the file
    resumed = lines(bpviz("--resume", str(saved), "--epochs", "2"))
    assert resumed == straight[1:]  # epochs 2 and 3: every number equal, ``seconds`` aside


def test_resume_and_save_again_then_change_eta(tmp_path):
    a, b = tmp_path / "a.npz", tmp_path / "b.npz"
    straight = lines(bpviz("--epochs", "2", "--seed", "1"))
    lines(bpviz("--epochs", "1", "--seed", "1", "--save", str(a)))
    assert lines(bpviz("--resume", str(a), "--epochs", "1", "--save", str(b))) == straight[1:]
    changed = lines(bpviz("--resume", str(b), "--epochs", "1", "--eta", "0.5"))
    assert changed[0]["epoch"] == 3 and changed[0]["steps"] == 1200 and changed[0]["eta"] == 0.5
    with zipfile.ZipFile(b) as zf:
        meta = json.loads(zf.read("meta.json"))
    # the window's session format, which names the data for the next --resume
    assert meta["format"] == "bpviz-session" and meta["kind"] == "window" and meta["epoch"] == 2
    assert meta["step"] == 800 and meta["data"] == "sample"
    assert meta["history"]["eta_changes"] == [[1, 3.0]]
    assert len(meta["history"]["epochs"]) == 2


def test_bad_resume_files_and_flags_say_what_is_wrong(tmp_path):
    good = tmp_path / "good.npz"
    lines(bpviz("--epochs", "1", "--save", str(good)))
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(good.read_bytes()[:5000])
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, W=np.ones(3))
    huge = tmp_path / "huge.npz"  # asks for a 784-100000000-10 network: refused, not built
    with zipfile.ZipFile(good) as zin, zipfile.ZipFile(huge, "w") as zout:
        for info in zin.infolist():
            content = zin.read(info.filename)
            if info.filename == "meta.json":
                meta = json.loads(content)
                meta["config"]["sizes"] = [784, 100000000, 10]
                content = json.dumps(meta).encode()
            zout.writestr(info.filename, content)
    cases = [
        (("--resume", str(tmp_path / "missing.npz")), 1, "does not exist"),
        (("--resume", str(truncated)), 1, "truncated.npz"),
        (("--resume", str(foreign)), 1, "not a bpviz session file"),
        (("--resume", str(good), "--layers", "784,12,10"), 2, "drop --layers"),
        (("--resume", str(huge)), 1, "implausibly large network"),
        (("--snapshot-every", "5"), 2, "go together"),
        (("--snapshot-every", "0", "--out", str(tmp_path)), 2, "≥ 1"),
        (("--save", str(tmp_path / "no" / "dir" / "x.npz")), 1, "cannot write"),
    ]
    for args, status, words in cases:
        result = bpviz("--epochs", "1", *args)
        assert result.returncode == status, (args, result.stderr)
        assert words in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stderr
    assert set(tmp_path.iterdir()) == {good, truncated, foreign, huge}  # nothing written


def test_snapshot_every_writes_bundles_that_match_the_saved_run(tmp_path):
    out, saved = tmp_path / "bundles", tmp_path / "run.npz"
    plain = lines(bpviz("--epochs", "1", "--seed", "2"))
    result = bpviz(
        "--epochs", "1", "--seed", "2", "--snapshot-every", "160", "--out", str(out),
        "--save", str(saved),
    )  # fmt: skip
    assert lines(result) == plain  # drawing snapshots does not change training
    folders = sorted(out.iterdir())
    assert [f.name.split("-step")[1][:6] for f in folders] == ["000160", "000320"]
    expected = {"window.png", "network.png", "state.npz", "metrics.csv", "snapshot.json"}
    for folder in folders:
        assert expected <= {p.name for p in folder.iterdir()}
        assert any(p.suffix == ".svg" for p in folder.iterdir())
    meta = json.loads((folders[1] / "snapshot.json").read_text(encoding="utf-8"))
    assert meta["step"] == 320 and meta["phase"]["kind"] == "update" and meta["seed"] == 2
    assert "sample" in meta["data_source"] and meta["metrics_loss"] == "per step"
    metrics = (folders[1] / "metrics.csv").read_text().splitlines()
    assert sum(1 for row in metrics if row.startswith("loss,")) == 320
    # the last bundle's W and b are the parameters after step 320; the run goes on to 400
    with np.load(folders[1] / "state.npz", allow_pickle=False) as npz:
        w1, b2, delta1 = npz["W1"], npz["b2"], npz["delta1"]
    assert w1.shape == (30, 784) and b2.shape == (10,) and delta1.shape == (10, 30)
    with zipfile.ZipFile(saved) as zf, zf.open("parameters.npy") as f:
        final = np.lib.format.read_array(f)
    assert not np.array_equal(final[: w1.size], w1.ravel())  # 80 more steps after it
    assert "snapshot: step 160" in result.stderr


def test_a_window_session_file_resumes_mid_batch(tmp_path):
    """The window's file, saved three phases into its sixth mini-batch: ``--resume``
    replays those phases and trains on to the epoch's end, as the session would."""
    from bpviz.data.sample import load_sample
    from bpviz.files.checkpoint import save_session
    from bpviz.session.session import Session

    session = Session(load_sample())
    for _ in range(5):
        session.step_batch()
    for _ in range(3):
        session.step_phase()
    save_session(tmp_path / "window.npz", session)
    (report,) = lines(bpviz("--resume", str(tmp_path / "window.npz"), "--epochs", "1"))
    session.evaluation_one_blas_thread = False  # as the headless trainer evaluates
    session.run(session.batches_per_epoch - 5)  # finishes the mini-batch, then the epoch
    assert report["steps"] == session.step == 400 and report["epoch"] == 1
    assert report["test_loss"] == session.last_eval.test_loss
    assert report["train_loss"] == session.last_eval.train_loss  # the epoch began in the file


def test_a_damaged_file_of_the_former_format_is_named_not_a_traceback(tmp_path):
    from bpviz.files.container import write_checkpoint

    old = tmp_path / "old.npz"  # ``train --save`` files before it ran a Session
    write_checkpoint(old, {"kind": "train", "run": {"layers": "784,30,10"}}, {})
    result = bpviz("--resume", str(old), "--epochs", "1")
    assert result.returncode == 1 and result.stdout == ""
    assert "damaged: bad run settings" in result.stderr and "Traceback" not in result.stderr


_FUZZ: dict = {}


@settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_fuzzed_trainer_files_resume_or_give_our_error(tmp_path_factory, data):
    """Any JSON value anywhere in a real --save file: --resume either works or raises
    CheckpointError/ValueError (exit 1/2 with a message), never anything else."""
    from bpviz.cli.train import network_from, parse
    from bpviz.cli.train_extras import TrainExtras
    from bpviz.data.sample import load_sample
    from bpviz.files.checkpoint import CheckpointError

    if not _FUZZ:
        folder = tmp_path_factory.mktemp("trainfuzz")
        lines(bpviz("--epochs", "1", "--save", str(folder / "good.npz")))
        _FUZZ["good"] = folder / "good.npz"
        _FUZZ["meta"] = json.loads(zipfile.ZipFile(folder / "good.npz").read("meta.json"))
        _FUZZ["data"] = load_sample()
    meta = _FUZZ["meta"]
    where = data.draw(st.sampled_from(sorted(paths(meta), key=repr)))
    value = data.draw(
        st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.floats()
        | st.text(max_size=8) | st.lists(st.integers(-3, 3), max_size=3)
    )  # fmt: skip
    bad = tmp_path_factory.mktemp("t") / "bad.npz"
    with zipfile.ZipFile(_FUZZ["good"]) as zin, zipfile.ZipFile(bad, "w") as zout:
        for info in zin.infolist():
            content = zin.read(info.filename)
            if info.filename == "meta.json":
                content = json.dumps(set_at(meta, where, value)).encode()
            zout.writestr(info.filename, content)
    argv = ["--resume", str(bad), "--epochs", "1"]
    args = parse(argv)
    try:
        extras = TrainExtras(args, argv)
        net = network_from(args)
        extras.session(net, _FUZZ["data"], "embedded MNIST sample (4,000 train / 1,000 held-out)")
    except (CheckpointError, ValueError):
        pass
