"""A directory of the four MNIST (or Fashion-MNIST) IDX files → :class:`Dataset`."""

from __future__ import annotations

import hashlib
import stat
from pathlib import Path
from typing import Literal

import numpy as np

from bpviz.data import cache, idx
from bpviz.data.dataset import DIGIT_NAMES, FASHION_NAMES, Dataset
from bpviz.data.errors import DataError

Kind = Literal["mnist", "fashion"]

# (role, accepted base names, dimensions). Each name may also end in ".gz".
# The dotted names are how some redistributions (e.g. Kaggle's) spell them.
FILES: tuple[tuple[str, tuple[str, ...], int], ...] = (
    ("train-images", ("train-images-idx3-ubyte", "train-images.idx3-ubyte"), 3),
    ("train-labels", ("train-labels-idx1-ubyte", "train-labels.idx1-ubyte"), 1),
    ("t10k-images", ("t10k-images-idx3-ubyte", "t10k-images.idx3-ubyte"), 3),
    ("t10k-labels", ("t10k-labels-idx1-ubyte", "t10k-labels.idx1-ubyte"), 1),
)

# MD5 of Fashion-MNIST's published label files (github.com/zalandoresearch/fashion-mnist).
FASHION_LABELS_MD5 = {
    "25c81989df183df01b3e8a0aad5dffbe",  # train-labels-idx1-ubyte.gz
    "bb300cfdad3c16e7a12a480ee83cd310",  # t10k-labels-idx1-ubyte.gz
}
N_CLASSES = 10


def find_files(directory: Path) -> dict[str, Path]:
    """The IDX files present in ``directory``, by role (all four when complete).

    A regular file is preferred; failing that, anything else under an accepted name (a
    FIFO, a directory, a device) is returned too, so that reading it reports what it is
    (``"…: is a FIFO, not a file"``) instead of the file being called missing."""
    found: dict[str, Path] = {}
    odd: dict[str, Path] = {}
    for role, names, _ in FILES:
        for name in names:
            for candidate in (directory / f"{name}.gz", directory / name):
                if role in found:
                    break
                try:
                    mode = candidate.stat().st_mode
                except (FileNotFoundError, NotADirectoryError, ValueError):
                    continue  # absent; a folder we may not search raises PermissionError
                if stat.S_ISREG(mode):
                    found[role] = candidate
                else:
                    odd.setdefault(role, candidate)
    return {
        role: found.get(role) or odd[role] for role, _, _ in FILES if role in found or role in odd
    }


def has_idx_files(directory: Path) -> bool:
    """Whether ``directory`` holds all four IDX files (not whether they are valid)."""
    return len(find_files(directory)) == len(FILES)


def load_idx_dir(
    path: str | Path, kind: Kind | None = None, *, cache_dir: Path | bool | None = None
) -> Dataset:
    """Load MNIST or Fashion-MNIST from a directory of its four IDX files.

    Args:
        path: directory with ``train-images-idx3-ubyte[.gz]``, ``train-labels-idx1-ubyte[.gz]``,
            ``t10k-images-idx3-ubyte[.gz]`` and ``t10k-labels-idx1-ubyte[.gz]``.
        kind: ``"mnist"`` or ``"fashion"``; None detects Fashion-MNIST by the published
            checksums of its label files or, for decompressed copies, by its exactly
            balanced classes (6,000 of each in training, 1,000 in test; MNIST's vary).
        cache_dir: where to keep decompressed copies of gzip files (None: the default,
            see :mod:`bpviz.data.cache`; False: no cache).

    Returns:
        a :class:`Dataset` with ``(n, rows*cols)`` uint8 images and ``(n,)`` uint8 labels.

    Raises:
        DataError: naming the file and what is wrong (missing, corrupt, truncated,
            padded, images/labels count mismatch, labels outside 0–9, shapes differ).
    """
    directory = Path(path)
    if not directory.is_dir():
        raise DataError(
            f"{directory}: not a directory (expected one holding the four MNIST IDX files)"
        )
    files = find_files(directory)
    if len(files) < len(FILES):
        missing = [f"{names[0]}[.gz]" for role, names, _ in FILES if role not in files]
        raise DataError(
            f"{directory}: missing {', '.join(missing)} (a data directory needs the four "
            "MNIST IDX files; `python -m bpviz download` fetches them)"
        )
    if cache_dir is None or cache_dir is True:
        cache_dir = cache.default_cache_dir()
    arrays = {role: _read(files[role], ndim, cache_dir or None) for role, _, ndim in FILES}
    for split in ("train", "t10k"):
        images, labels = arrays[f"{split}-images"], arrays[f"{split}-labels"]
        if images.shape[0] != labels.shape[0]:
            raise DataError(
                f"{files[f'{split}-images']} has {images.shape[0]:,} images but "
                f"{files[f'{split}-labels']} has {labels.shape[0]:,} labels"
            )
        _check_labels(labels, files[f"{split}-labels"])
    if arrays["train-images"].shape[1] != arrays["t10k-images"].shape[1]:
        raise DataError(
            f"{files['train-images']} and {files['t10k-images']} have images of different "
            f"sizes ({arrays['train-images'].shape[1]} and {arrays['t10k-images'].shape[1]} pixels)"
        )
    if kind is None:
        kind = detect_kind(files, arrays["train-labels"], arrays["t10k-labels"])
    elif kind not in ("mnist", "fashion"):
        raise ValueError(f"kind must be 'mnist' or 'fashion', not {kind!r}")
    title = "Fashion-MNIST" if kind == "fashion" else "MNIST"
    n_train, n_test = arrays["train-labels"].shape[0], arrays["t10k-labels"].shape[0]
    return Dataset(
        train_images=arrays["train-images"],
        train_labels=arrays["train-labels"],
        test_images=arrays["t10k-images"],
        test_labels=arrays["t10k-labels"],
        class_names=FASHION_NAMES if kind == "fashion" else DIGIT_NAMES,
        source=f"{title} from {directory} ({n_train:,} train / {n_test:,} held-out)",
    )


def detect_kind(files: dict[str, Path], train_labels: np.ndarray, test_labels: np.ndarray) -> Kind:
    """``"fashion"`` if the label files are Fashion-MNIST's, else ``"mnist"``."""
    for role in ("train-labels", "t10k-labels"):
        if files[role].suffix == ".gz":
            with idx.open_regular(files[role]) as f:
                digest = hashlib.file_digest(f, lambda: hashlib.md5(usedforsecurity=False))
            if digest.hexdigest() in FASHION_LABELS_MD5:
                return "fashion"
    if train_labels.shape == (60_000,) and test_labels.shape == (10_000,):
        train_counts = np.bincount(train_labels, minlength=N_CLASSES)
        test_counts = np.bincount(test_labels, minlength=N_CLASSES)
        if (train_counts == 6_000).all() and (test_counts == 1_000).all():
            return "fashion"
    return "mnist"


def _read(path: Path, ndim: int, cache_dir: Path | None) -> np.ndarray:
    """One IDX file, through the decompressed cache when it is gzip."""
    cached = cache.load(path, cache_dir) if cache_dir is not None else None
    if cached is not None:
        try:
            return idx.decode_raw(cached, ndim, str(path))
        except DataError:
            pass  # a damaged copy: decompress the source again and replace it
    array, decompressed = idx.read_file(path, ndim)
    if decompressed is not None and cache_dir is not None:
        cache.store(path, cache_dir, decompressed)
    return array


def _check_labels(labels: np.ndarray, path: Path) -> None:
    if labels.size and labels.max() >= N_CLASSES:
        index = int(np.argmax(labels >= N_CLASSES))
        raise DataError(
            f"{path}: label {labels[index]} at index {index:,} is outside 0–{N_CLASSES - 1}"
        )
