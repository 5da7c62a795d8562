"""``train --save`` keeps the completed work of a run that diverges (issue 15, item 8)."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import numpy as np

from bpviz.data import load_sample
from bpviz.files.checkpoint import open_session
from bpviz.session.session import Session

# the command: η = 3 is too large for leaky ReLU + softmax; epoch 4 diverges
DIVERGES = ("--data", "sample", "--epochs", "5", "--eta", "3", "--hidden", "leaky_relu",
            "--output", "softmax", "--json")  # fmt: skip


def bpviz(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bpviz", "train", *args],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=cwd,
    )


def test_a_diverging_run_saves_its_last_good_state_and_says_so(tmp_path):
    late = tmp_path / "late.npz"
    result = bpviz(*DIVERGES, "--save", str(late))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    reports = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["epoch"] for r in reports] == [1, 2, 3]  # the completed epochs were reported
    assert "error: diverged in epoch 4 at step" in result.stderr
    saved = [line for line in result.stderr.splitlines() if line.startswith("saved:")]
    assert len(saved) == 1 and str(late) in saved[0]
    step = int(re.search(r"after step (\d+)", saved[0]).group(1))

    session = Session(load_sample())
    open_session(late, session)  # the window's format: File ▸ Open session opens it too
    assert session.step == step and 1200 <= step < 1600  # in epoch 4, after the 3 good ones
    assert session.epoch == 3 and len(session.history.epochs) == 3
    assert session.history.steps == step
    assert np.all(np.isfinite(session.network.parameters))
    assert [m.test_accuracy for m in session.history.epochs] == [
        r["test_accuracy"] for r in reports
    ]

    # and it goes on from there with a much smaller η (its weights are huge by then)
    resumed = bpviz("--resume", str(late), "--eta", "0.001", "--epochs", "1", "--json")
    assert resumed.returncode == 0, resumed.stderr
    (report,) = [json.loads(line) for line in resumed.stdout.splitlines()]
    assert report["epoch"] == 4 and report["steps"] == 1600 and report["eta"] == 0.001


def test_a_diverging_run_without_save_writes_nothing(tmp_path):
    result = bpviz(*DIVERGES, cwd=tmp_path)
    assert result.returncode == 1 and "diverged in epoch 4" in result.stderr
    assert "saved" not in result.stderr and list(tmp_path.iterdir()) == []
