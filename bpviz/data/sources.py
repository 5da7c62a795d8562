"""Which data set to use: an explicit choice, ``BPVIZ_DATA``, a downloaded MNIST, or the
embedded sample — in that order. A choice is a folder of IDX files, ``sample``, or the
name of a toy 2-D set (``xor``, ``circles``, ``moons``, ``spiral``, ``blobs``, ``blobs3``:
``bpviz.data.toy``, generated with its default noise, seed and sizes)."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

from bpviz.data.dataset import Dataset
from bpviz.data.errors import DataError
from bpviz.data.mnist import has_idx_files, load_idx_dir
from bpviz.data.sample import load_sample
from bpviz.data.toy import TOY_NAMES, make_toy

ENV_DATA = "BPVIZ_DATA"
SAMPLE = "sample"


def user_data_dir() -> Path:
    """bpviz's per-user data directory (platformdirs), e.g. ``~/.local/share/bpviz``."""
    return platformdirs.user_data_path("bpviz", appauthor=False)


def default_mnist_dir() -> Path:
    """Where ``python -m bpviz download`` puts the full MNIST: ``user_data_dir()/mnist``."""
    return user_data_dir() / "mnist"


def resolve_source(data: str | os.PathLike[str] | None = None) -> tuple[Dataset, str]:
    """Pick and load the data set (the window, ``train`` and the API alike).

    Order: ``data`` (a directory of IDX files, ``"sample"``, or a toy set's name); the
    environment variable ``BPVIZ_DATA`` (the same); the full MNIST in
    :func:`default_mnist_dir` (downloaded earlier); the embedded sample. An explicit
    choice that cannot be loaded raises; a damaged download falls back to the sample and
    says so.

    Returns:
        ``(dataset, description)``: the description is one line for stderr or the status
        bar, e.g. ``"MNIST from /data/mnist (60,000 train / 10,000 held-out), set by
        BPVIZ_DATA"``.

    Raises:
        DataError: ``data`` or ``BPVIZ_DATA`` names something that cannot be loaded.
    """
    if data is not None and str(data) != "":
        dataset = _load_choice(str(data), "")
        return dataset, f"{dataset.source}, chosen explicitly"
    env = os.environ.get(ENV_DATA, "")
    if env:
        dataset = _load_choice(env, f"{ENV_DATA}={env}: ")
        return dataset, f"{dataset.source}, set by {ENV_DATA}"
    downloaded = default_mnist_dir()
    try:
        if has_idx_files(downloaded):
            dataset = load_idx_dir(downloaded)
            return dataset, f"{dataset.source}, downloaded earlier"
    except DataError as error:
        sample = load_sample()
        return sample, f"{sample.source} — the download in {downloaded} is unusable: {error}"
    except OSError as error:  # e.g. a folder without read or search permission
        sample = load_sample()
        return sample, (
            f"{sample.source} — the download folder {downloaded} cannot be read ({_reason(error)})"
        )
    sample = load_sample()
    return sample, f"{sample.source}; `python -m bpviz download` fetches the full 60,000"


def _load_choice(choice: str, context: str) -> Dataset:
    """``"sample"``, a toy set's name or a folder of IDX files; DataError (never OSError)
    when unusable."""
    if choice == SAMPLE:
        return load_sample()
    if choice in TOY_NAMES:
        return make_toy(choice)
    path = Path(choice).expanduser()
    shown = choice if len(choice) <= 160 else f"{choice[:80]}…{choice[-80:]}"
    try:
        if not path.exists():
            raise DataError(f"{shown}: does not exist")
        return load_idx_dir(path)
    except DataError as error:
        raise DataError(f"{context}{error}") from None
    except OSError as error:  # a path too long, a folder without permission, …
        raise DataError(f"{context}{shown}: cannot be read ({_reason(error)})") from None


def _reason(error: OSError) -> str:
    """An OSError in a few words: ``permission denied``, ``file name too long``."""
    return (error.strerror or str(error)).lower()
