"""The toy sets reach their accuracy bars with their defaults, through the CLI as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BARS = {"xor": 1.0, "circles": 0.97, "moons": 0.97, "spiral": 0.90}


def train(*flags: str) -> tuple[list[dict], str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("BPVIZ_DATA", None)
    done = subprocess.run(
        [sys.executable, "-m", "bpviz", "train", "--json", *flags],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()], done.stderr


@pytest.mark.parametrize(
    "name", [n if n != "spiral" else pytest.param(n, marks=pytest.mark.slow) for n in BARS]
)
def test_default_training_reaches_the_bar(name):
    from bpviz.data.toy import DEFAULTS

    epochs, stderr = train("--data", name)
    assert "toy 2-D data" in stderr
    assert len(epochs) == DEFAULTS[name].epochs  # the table's epochs were used
    assert epochs[-1]["eta"] == DEFAULTS[name].eta
    assert epochs[-1]["steps"] == DEFAULTS[name].epochs * DEFAULTS[name].n_train
    assert len(epochs[-1]["confusion"]) == 2
    assert epochs[-1]["test_accuracy"] >= BARS[name]


def test_flags_given_override_the_toy_table():
    epochs, _ = train("--data", "blobs3", "--layers", "2,3", "--epochs", "2", "--batch-size", "8")
    assert len(epochs) == 2 and epochs[-1]["steps"] == 2 * (400 // 8)
    assert len(epochs[-1]["confusion"]) == 3


def test_layers_that_do_not_fit_the_toy_data_are_refused():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "bpviz", "train", "--data", "xor", "--layers", "784,30,10"],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert "2 inputs and 2 classes" in done.stderr


def test_bpviz_data_naming_a_toy_set_gives_its_defaults_too():
    env = {**os.environ, "PYTHONPATH": str(ROOT), "BPVIZ_DATA": "xor"}
    done = subprocess.run(
        [sys.executable, "-m", "bpviz", "train", "--json", "--epochs", "1"],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "XOR" in done.stderr and "set by BPVIZ_DATA" in done.stderr
    assert json.loads(done.stdout)["steps"] == 400  # batch size 1 from the XOR defaults


def test_a_toy_session_file_resumes_bit_identically_and_refuses_other_data(tmp_path):
    file = str(tmp_path / "moons.npz")
    straight, _ = train("--data", "moons", "--epochs", "3")
    train("--data", "moons", "--epochs", "2", "--save", file)
    resumed, _ = train("--data", "moons", "--epochs", "1", "--resume", file)
    strip = [{k: v for k, v in e.items() if k != "seconds"} for e in (straight[-1], resumed[-1])]
    assert strip[0] == strip[1]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    other = subprocess.run(
        [sys.executable, "-m", "bpviz", "train", "--data", "circles", "--resume", file],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=120, check=False,
    )  # fmt: skip
    assert other.returncode == 1 and "pass the same --data" in other.stderr
