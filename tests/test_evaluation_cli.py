"""``python -m bpviz train --json``: each epoch line carries the confusion matrix."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np

from bpviz.data import load_sample


def test_train_json_lines_carry_confusion_and_per_class_accuracy() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bpviz", "train", "--data", "sample", "--epochs", "2", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    reports = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(reports) == 2
    truth = np.bincount(load_sample().test_labels, minlength=10)
    for report in reports:
        confusion = np.array(report["confusion"])
        assert confusion.shape == (10, 10) and confusion.dtype.kind == "i"
        # rows = true class: each row holds every held-out example of that class
        np.testing.assert_array_equal(confusion.sum(axis=1), truth)
        assert np.trace(confusion) / truth.sum() == report["test_accuracy"]
        np.testing.assert_allclose(
            report["per_class_accuracy"], np.diag(confusion) / truth, rtol=1e-12
        )
    assert reports[0]["confusion"] != reports[1]["confusion"]  # it is the epoch's own
