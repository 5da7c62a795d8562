"""resolve_source: explicit choice, BPVIZ_DATA, the downloaded MNIST, the sample — in order."""

from __future__ import annotations

import gzip
import shutil

import numpy as np
import pytest

from bpviz.data import DataError, default_mnist_dir, resolve_source, user_data_dir
from bpviz.data.idx import encode


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """A fresh user data directory, no BPVIZ_DATA, caches in tmp."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("BPVIZ_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("BPVIZ_DATA", raising=False)


def tiny_set(directory, n_train: int):
    directory.mkdir(parents=True)
    for split, n in (("train", n_train), ("t10k", 1)):
        images = np.zeros((n, 28, 28), dtype=np.uint8)
        labels = np.arange(n, dtype=np.uint8) % 10
        (directory / f"{split}-images-idx3-ubyte.gz").write_bytes(gzip.compress(encode(images)))
        (directory / f"{split}-labels-idx1-ubyte.gz").write_bytes(gzip.compress(encode(labels)))
    return directory


def test_nothing_configured_gives_the_sample() -> None:
    dataset, description = resolve_source()
    assert len(dataset.train_labels) == 4000
    assert description.startswith("embedded MNIST sample (4,000 train / 1,000 held-out); ")
    assert "python -m bpviz download" in description


def test_user_data_dir_follows_the_platform(tmp_path) -> None:
    assert user_data_dir() == tmp_path / "xdg-data" / "bpviz"
    assert default_mnist_dir() == user_data_dir() / "mnist"


def test_downloaded_mnist_beats_the_sample(tmp_path) -> None:
    tiny_set(default_mnist_dir(), 3)
    dataset, description = resolve_source()
    assert len(dataset.train_labels) == 3
    assert (
        description
        == f"MNIST from {default_mnist_dir()} (3 train / 1 held-out), downloaded earlier"
    )


def test_env_beats_download_and_explicit_beats_env(tmp_path, monkeypatch) -> None:
    tiny_set(default_mnist_dir(), 3)
    monkeypatch.setenv("BPVIZ_DATA", str(tiny_set(tmp_path / "env", 5)))
    dataset, description = resolve_source()
    assert len(dataset.train_labels) == 5 and description.endswith(", set by BPVIZ_DATA")
    dataset, description = resolve_source(str(tiny_set(tmp_path / "explicit", 7)))
    assert len(dataset.train_labels) == 7 and description.endswith(", chosen explicitly")
    dataset, description = resolve_source("sample")
    assert len(dataset.train_labels) == 4000 and description.endswith(", chosen explicitly")


def test_explicit_full_mnist(mnist_dir) -> None:
    dataset, description = resolve_source(str(mnist_dir))
    assert (len(dataset.train_labels), len(dataset.test_labels)) == (60_000, 10_000)
    assert (
        description == f"MNIST from {mnist_dir} (60,000 train / 10,000 held-out), chosen explicitly"
    )


def test_broken_explicit_or_env_choice_raises(tmp_path, monkeypatch) -> None:
    with pytest.raises(DataError, match="nowhere: does not exist"):
        resolve_source(str(tmp_path / "nowhere"))
    monkeypatch.setenv("BPVIZ_DATA", str(tmp_path / "elsewhere"))
    with pytest.raises(DataError, match=r"^BPVIZ_DATA=.*elsewhere: .*elsewhere: does not exist"):
        resolve_source()


def test_damaged_download_falls_back_to_the_sample_and_says_why() -> None:
    directory = tiny_set(default_mnist_dir(), 3)
    labels = directory / "train-labels-idx1-ubyte.gz"
    labels.write_bytes(labels.read_bytes()[:-10])
    dataset, description = resolve_source()
    assert len(dataset.train_labels) == 4000
    assert f"the download in {directory} is unusable: {labels}: " in description
    shutil.rmtree(directory)
