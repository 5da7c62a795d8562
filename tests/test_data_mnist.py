"""load_idx_dir: the full MNIST, the decompressed cache, inconsistent directories, Fashion."""

from __future__ import annotations

import gzip
import os
import time

import numpy as np
import pytest

from bpviz.data import DIGIT_NAMES, FASHION_NAMES, DataError, cache, load_idx_dir
from bpviz.data.idx import encode

NAMES = {
    "train-images": "train-images-idx3-ubyte",
    "train-labels": "train-labels-idx1-ubyte",
    "t10k-images": "t10k-images-idx3-ubyte",
    "t10k-labels": "t10k-labels-idx1-ubyte",
}


def write_set(directory, train_labels, test_labels, side=2, compress=True, names=NAMES):
    """Write a small IDX set (images side×side) with the given labels."""
    directory.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    arrays = {
        "train-labels": np.asarray(train_labels, dtype=np.uint8),
        "t10k-labels": np.asarray(test_labels, dtype=np.uint8),
    }
    for split in ("train", "t10k"):
        n = len(arrays[f"{split}-labels"])
        arrays[f"{split}-images"] = rng.integers(0, 256, (n, side, side), dtype=np.uint8)
    for role, array in arrays.items():
        blob = encode(array)
        name = names[role] + (".gz" if compress else "")
        (directory / name).write_bytes(gzip.compress(blob) if compress else blob)
    return arrays


def test_full_mnist_loads(mnist_dir, tmp_path) -> None:
    dataset = load_idx_dir(mnist_dir, cache_dir=tmp_path)
    assert dataset.train_images.shape == (60_000, 784)
    assert dataset.test_images.shape == (10_000, 784)
    assert dataset.train_labels[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert dataset.test_labels[:5].tolist() == [7, 2, 1, 0, 4]
    assert np.bincount(dataset.train_labels).tolist()[:2] == [5923, 6742]
    assert dataset.class_names == DIGIT_NAMES
    assert dataset.source == f"MNIST from {mnist_dir} (60,000 train / 10,000 held-out)"
    assert not dataset.train_images.flags.writeable


def test_cache_makes_the_second_load_fast_and_identical(mnist_dir, tmp_path) -> None:
    start = time.perf_counter()
    first = load_idx_dir(mnist_dir, cache_dir=tmp_path)
    cold = time.perf_counter() - start
    assert len(list(tmp_path.iterdir())) == 4
    start = time.perf_counter()
    second = load_idx_dir(mnist_dir, cache_dir=tmp_path)
    warm = time.perf_counter() - start
    np.testing.assert_array_equal(first.train_images, second.train_images)
    np.testing.assert_array_equal(first.test_labels, second.test_labels)
    assert warm < cold  # the figures themselves are in benchmarks/, not asserted here
    # the cached copy is read into an array of our own: it must be as immutable as the first
    assert not second.train_images.flags.writeable and not second.test_labels.flags.writeable


def test_damaged_cache_is_ignored_and_replaced(tmp_path) -> None:
    arrays = write_set(tmp_path / "set", [1, 2, 3], [4])
    cache = tmp_path / "cache"
    load_idx_dir(tmp_path / "set", cache_dir=cache)
    for copy in cache.iterdir():
        copy.write_bytes(copy.read_bytes()[:-1])  # every cached copy now truncated
    dataset = load_idx_dir(tmp_path / "set", cache_dir=cache)
    np.testing.assert_array_equal(dataset.train_images, arrays["train-images"].reshape(3, 4))
    assert sorted(len(p.read_bytes()) for p in cache.iterdir()) == [9, 11, 16 + 4, 16 + 12]


def test_unwritable_cache_and_read_only_source_still_load(tmp_path) -> None:
    write_set(tmp_path / "set", [1, 2], [3])
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the cache directory should be")
    (tmp_path / "set").chmod(0o555)
    try:
        dataset = load_idx_dir(tmp_path / "set", cache_dir=blocker / "cache")
    finally:
        (tmp_path / "set").chmod(0o755)
    assert dataset.train_labels.tolist() == [1, 2]
    assert sorted(os.listdir(tmp_path / "set")) == sorted(f"{n}.gz" for n in NAMES.values())


def test_changed_source_is_not_served_from_a_stale_cache(tmp_path) -> None:
    write_set(tmp_path / "set", [1, 2], [3])
    load_idx_dir(tmp_path / "set", cache_dir=tmp_path / "cache")
    write_set(tmp_path / "set", [4, 5, 6], [7])
    labels = tmp_path / "set" / "train-labels-idx1-ubyte.gz"
    os.utime(labels, ns=(labels.stat().st_atime_ns, labels.stat().st_mtime_ns + 10**9))
    assert load_idx_dir(tmp_path / "set", cache_dir=tmp_path / "cache").train_labels.tolist() == [
        4,
        5,
        6,
    ]
    assert len(list((tmp_path / "cache").iterdir())) == 4  # the old copies were dropped


def test_raw_and_dotted_names_load(tmp_path) -> None:
    dotted = {role: name.replace("-idx", ".idx") for role, name in NAMES.items()}
    write_set(tmp_path / "raw", [0, 9], [5], compress=False, names=dotted)
    dataset = load_idx_dir(tmp_path / "raw", cache_dir=False)
    assert dataset.train_labels.tolist() == [0, 9] and dataset.n_inputs == 4


def test_missing_files_are_named(tmp_path) -> None:
    write_set(tmp_path / "set", [1], [2])
    (tmp_path / "set" / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataError, match=r"set: missing t10k-labels-idx1-ubyte\[\.gz\] \("):
        load_idx_dir(tmp_path / "set")
    with pytest.raises(DataError, match="nowhere: not a directory"):
        load_idx_dir(tmp_path / "nowhere")


def test_count_mismatch_names_both_files(tmp_path) -> None:
    write_set(tmp_path / "set", [1, 2, 3], [4])
    labels = tmp_path / "set" / "train-labels-idx1-ubyte.gz"
    labels.write_bytes(gzip.compress(encode(np.array([1, 2], dtype=np.uint8))))
    with pytest.raises(DataError, match=r"has 3 images but .*train-labels-idx1-ubyte\.gz has 2"):
        load_idx_dir(tmp_path / "set", cache_dir=False)


def test_label_outside_0_to_9(tmp_path) -> None:
    write_set(tmp_path / "set", [1, 2, 3], [4, 12])
    with pytest.raises(
        DataError, match=r"t10k-labels-idx1-ubyte.gz: label 12 at index 1 is outside"
    ):
        load_idx_dir(tmp_path / "set", cache_dir=False)


def test_image_sizes_must_agree(tmp_path) -> None:
    write_set(tmp_path / "set", [1], [2])
    images = tmp_path / "set" / "t10k-images-idx3-ubyte.gz"
    images.write_bytes(gzip.compress(encode(np.zeros((1, 3, 3), dtype=np.uint8))))
    with pytest.raises(DataError, match=r"different sizes \(4 and 9 pixels\)"):
        load_idx_dir(tmp_path / "set", cache_dir=False)


def test_fashion_detected_by_its_balanced_classes_and_named(tmp_path) -> None:
    write_set(tmp_path / "fashion", np.repeat(np.arange(10), 6000), np.repeat(np.arange(10), 1000))
    dataset = load_idx_dir(tmp_path / "fashion", cache_dir=False)
    assert dataset.class_names == FASHION_NAMES
    assert dataset.class_names[9] == "Ankle boot"
    assert dataset.source.startswith("Fashion-MNIST from ")
    assert (
        load_idx_dir(tmp_path / "fashion", kind="mnist", cache_dir=False).class_names == DIGIT_NAMES
    )


def test_explicit_kind(tmp_path) -> None:
    write_set(tmp_path / "set", [1, 2], [3])
    assert load_idx_dir(tmp_path / "set", cache_dir=False).class_names == DIGIT_NAMES
    assert load_idx_dir(tmp_path / "set", "fashion", cache_dir=False).class_names == FASHION_NAMES
    with pytest.raises(ValueError, match="kind must be"):
        load_idx_dir(tmp_path / "set", "kmnist", cache_dir=False)  # type: ignore[arg-type]


def test_failed_cache_write_leaves_no_temporary_file(tmp_path) -> None:
    write_set(tmp_path / "set", [1, 2], [3])
    cache_dir = tmp_path / "cache"
    labels = tmp_path / "set" / "train-labels-idx1-ubyte.gz"
    _, name = cache._names(labels)
    (cache_dir / name).mkdir(parents=True)  # the rename onto it fails
    assert load_idx_dir(tmp_path / "set", cache_dir=cache_dir).train_labels.tolist() == [1, 2]
    assert not [p.name for p in cache_dir.iterdir() if p.name.startswith(".tmp-")]
    assert (cache_dir / name).is_dir() and len(list(cache_dir.iterdir())) == 4
