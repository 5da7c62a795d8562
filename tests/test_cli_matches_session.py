"""The headless trainer and the window's session visit the data identically: same seed,
same epoch, same parameters, bit for bit."""

import json
import subprocess
import sys

import numpy as np

from bpviz.data import load_sample
from bpviz.files.container import read_checkpoint
from bpviz.session.session import Session
from bpviz.session.snapshot import SessionConfig


def test_train_cli_epoch_equals_a_session_epoch(tmp_path) -> None:
    saved = tmp_path / "run.npz"
    # 4,000 digits in mini-batches of 7: 571 of them, the last 3 digits left out by both
    flags = ["--data", "sample", "--epochs", "1", "--seed", "3", "--batch-size", "7", "--json"]
    result = subprocess.run(
        [sys.executable, "-m", "bpviz", "train", *flags, "--save", str(saved)],
        capture_output=True,
        text=True,
        check=True,
    )
    line = json.loads(result.stdout.splitlines()[-1])
    cli_parameters = read_checkpoint(saved).arrays["parameters"]

    session = Session(load_sample(), SessionConfig(seed=3, batch_size=7))
    steps = session.batches_per_epoch
    assert session.run(steps) == steps == line["steps"]

    assert np.array_equal(session.network.parameters, cli_parameters)
