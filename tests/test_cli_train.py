"""The headless trainer and gradient check, run as the user runs them."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

KEYS = ["epoch", "steps", "train_loss", "test_loss", "test_accuracy", "eta", "seconds",
        "confusion", "per_class_accuracy"]  # fmt: skip


def bpviz(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bpviz", *args], capture_output=True, text=True, timeout=1800
    )


def epochs(result: subprocess.CompletedProcess) -> list[dict]:
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    reports = [json.loads(line) for line in lines]  # nothing but JSON on stdout
    for report in reports:
        assert list(report) == KEYS
    return reports


def test_train_on_the_sample_reports_each_epoch_in_json_and_is_deterministic():
    args = ("train", "--data", "sample", "--epochs", "3", "--seed", "4", "--json")
    first, second = bpviz(*args), bpviz(*args)
    reports = epochs(first)
    assert [r["epoch"] for r in reports] == [1, 2, 3]
    assert [r["steps"] for r in reports] == [400, 800, 1200]  # 4,000 digits, batches of 10
    assert all(r["eta"] == 3.0 and r["seconds"] > 0 for r in reports)
    assert reports[2]["test_accuracy"] >= 0.88  # measured 0.91–0.92 on the held-out 1,000
    assert reports[2]["train_loss"] < reports[0]["train_loss"]
    strip = [{k: v for k, v in r.items() if k != "seconds"} for r in reports]
    assert strip == [{k: v for k, v in r.items() if k != "seconds"} for r in epochs(second)]
    stderr = first.stderr.splitlines()
    assert len(stderr) == 1 and "sample" in stderr[0]
    other = epochs(bpviz("train", "--data", "sample", "--epochs", "1", "--seed", "5", "--json"))
    assert other[0]["train_loss"] != reports[0]["train_loss"]


def test_train_reports_exactly_what_the_bare_engine_computes():
    """The session's loop (trained, evaluated, reported) gives the engine's own numbers
    bit for bit: its float64 losses' mean (not the float32 history's), its evaluation."""
    import numpy as np

    from bpviz.data import load_sample
    from bpviz.engine import FastTrainer, Network, evaluate
    from bpviz.session.config import epoch_order

    # leaky ReLU + softmax in batches of 32: a case where evaluating on one BLAS thread
    # instead of BLAS's own choice changes test_loss in its last bits (on 2+ cores)
    flags = ("--hidden", "leaky_relu", "--output", "softmax", "--eta", "0.3", "--json")
    args = ("--data", "sample", "--epochs", "2", "--seed", "9", "--batch-size", "32")
    reports = epochs(bpviz("train", *args, *flags))
    data = load_sample()
    net = Network(
        [784, 30, 10], hidden="leaky_relu", output="softmax", cost="cross_entropy", seed=9
    )
    trainer = FastTrainer(net, data.train_images, data.train_labels, 32)
    for epoch, report in enumerate(reports):
        order = epoch_order(9, epoch, trainer.n_examples)
        losses = trainer.train_epoch(order, 0.3)  # 4,000 = 125 × 32: no remainder
        result = evaluate(net, data.test_images, data.test_labels)
        assert report["steps"] == 125 * (epoch + 1)
        assert report["train_loss"] == float(np.mean(losses))
        assert report["test_loss"] == result.loss
        assert report["test_accuracy"] == result.accuracy
        assert report["confusion"] == result.confusion.tolist()


def test_train_without_json_prints_readable_lines():
    result = bpviz("train", "--data", "sample", "--epochs", "1", "--layers", "784,10,10")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("epoch 1: test accuracy ")
    assert "/1000)" in result.stdout


@pytest.mark.parametrize(
    ("args", "status", "message"),
    [
        (("--hidden", "swish"), 2, "invalid choice: 'swish'"),
        (("--layers", "784,30,9"), 2, "does not fit the data: it has 784 inputs and 10 classes"),
        (("--layers", "784,x,10"), 2, "--layers must be integers"),
        (("--output", "softmax", "--cost", "quadratic"), 2, "does not pair"),
        (("--eta", "nan"), 2, "--eta"),
        (("--eta", "1e30"), 2, "--eta 1e30: η = 1e+30 is too large"),
        # η = 10⁴, the largest accepted, still diverges here within the first steps
        (("--hidden", "leaky_relu", "--output", "softmax", "--eta", "1e4"), 1, "diverged"),
    ],
)
def test_train_bad_arguments_say_what_is_wrong(args, status, message):
    result = bpviz("train", "--data", "sample", "--epochs", "1", "--json", *args)
    assert result.returncode == status
    assert message in result.stderr
    assert result.stdout == ""


def test_train_names_an_unusable_data_directory(tmp_path):
    result = bpviz("train", "--data", str(tmp_path), "--json")
    assert result.returncode == 1
    assert str(tmp_path) in result.stderr and result.stdout == ""


def test_gradcheck_json():
    result = bpviz("gradcheck", "--layers", "784,12,10", "--hidden", "tanh", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert list(report) == ["worst_relative_error", "checked"]
    assert report["checked"] == 784 * 12 + 12 + 12 * 10 + 10
    assert 0 <= report["worst_relative_error"] < 1e-6


def test_gradcheck_fails_loudly_when_the_tolerance_is_impossible():
    result = bpviz("gradcheck", "--layers", "6,4,3", "--tolerance", "0")
    assert result.returncode == 1
    assert "checked 43 parameters" in result.stdout
