"""The embedded sample: shipped, stratified, deterministic, real MNIST digits."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bpviz.data import DIGIT_NAMES, DataError, load_idx_dir, load_sample
from bpviz.data.sample import load_sample_file

ROOT = Path(__file__).resolve().parent.parent
CSV = ROOT.parent / "shared" / "mnist-sample" / "mnist_5k.csv.gz"


def test_sample_shapes_and_stratified_split() -> None:
    sample = load_sample()
    assert sample.train_images.shape == (4000, 784) and sample.test_images.shape == (1000, 784)
    assert np.bincount(sample.train_labels).tolist() == [400] * 10
    assert np.bincount(sample.test_labels).tolist() == [100] * 10
    assert sample.class_names == DIGIT_NAMES
    assert sample.source == "embedded MNIST sample (4,000 train / 1,000 held-out)"
    assert not sample.train_images.flags.writeable
    # Shuffled, not in label order: the first 100 training digits hold every class.
    assert len(set(sample.train_labels[:100].tolist())) == 10


def test_held_out_digits_are_not_training_digits() -> None:
    sample = load_sample()
    train = {row.tobytes() for row in sample.train_images}
    assert not any(row.tobytes() in train for row in sample.test_images)


def test_sample_is_real_mnist(mnist_dir, tmp_path) -> None:
    full = load_idx_dir(mnist_dir, cache_dir=tmp_path)
    pairs = zip(full.train_images, full.train_labels, strict=True)
    by_image = {row.tobytes(): label for row, label in pairs}
    sample = load_sample()
    for images, labels in (
        (sample.train_images, sample.train_labels),
        (sample.test_images, sample.test_labels),
    ):
        assert [by_image.get(row.tobytes()) for row in images] == labels.tolist()


def test_script_reproduces_the_shipped_file(tmp_path) -> None:
    if not CSV.is_file():
        pytest.skip(f"MNIST SAMPLE CSV NOT AVAILABLE at {CSV}")
    out = tmp_path / "sample.npz"
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "make_sample.py"), str(CSV), "-o", str(out)],
        check=True,
        capture_output=True,
    )
    shipped = ROOT / "resources" / "mnist_sample.npz"
    with np.load(out, allow_pickle=False) as new, np.load(shipped, allow_pickle=False) as old:
        assert sorted(new.files) == sorted(old.files)
        for name in old.files:
            np.testing.assert_array_equal(new[name], old[name])
    assert (
        hashlib.sha256(out.read_bytes()).digest() == hashlib.sha256(shipped.read_bytes()).digest()
    )


def test_damaged_sample_file_is_a_clear_error(tmp_path) -> None:
    shipped = ROOT / "resources" / "mnist_sample.npz"
    cut = tmp_path / "cut.npz"
    cut.write_bytes(shipped.read_bytes()[:5000])
    with pytest.raises(DataError, match=r"cut\.npz: the embedded sample is missing or damaged"):
        load_sample_file(cut)
    with pytest.raises(DataError, match="missing or damaged"):
        load_sample_file(tmp_path / "absent.npz")
    odd = tmp_path / "odd.npz"
    zeros = np.zeros((3, 10), dtype=np.uint8)
    labels = np.zeros(3, dtype=np.uint8)
    np.savez(odd, train_images=zeros, train_labels=labels, test_images=zeros, test_labels=labels)
    with pytest.raises(DataError, match=r"odd\.npz: the embedded sample has unexpected contents"):
        load_sample_file(odd)
    pickled = tmp_path / "pickled.npz"
    np.savez(pickled, train_images=np.array([object()]), train_labels=labels)
    with pytest.raises(DataError, match="missing or damaged"):
        load_sample_file(pickled)


def test_repr_is_short() -> None:
    text = repr(load_sample())
    expected = "train=(4000, 784), test=(1000, 784), classes=10)"
    assert text.startswith("Dataset('embedded MNIST sample") and text.endswith(expected)
