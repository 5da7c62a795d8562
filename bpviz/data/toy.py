"""Toy 2-D data sets: XOR, circles, two moons, a two-armed spiral, Gaussian blobs.

Each is a :class:`~bpviz.data.dataset.Dataset` like MNIST's, except that its inputs are
float32 coordinates ``(n, 2)`` used as they are (no 1/255 scaling) and it has 2 or 3
classes. The points come from ``np.random.default_rng(seed)`` (same name, noise, seed and
sizes → the same bytes); each split is balanced (class k has ⌊n/K⌋ or ⌈n/K⌉ points, K
classes) and shuffled; the test points are drawn after, and independently of, the
training points. ``noise`` is the standard deviation of the Gaussian noise added to
each coordinate (for the blobs: each blob's standard deviation).

``DEFAULTS`` holds, per set, the network and training the window and ``python -m bpviz
train --data NAME`` use when nothing else is asked for; with them, headless, XOR reaches
100% held-out accuracy, circles and moons ≥ 97%, the spiral ≥ 90% (tests/test_toy_accuracy.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from bpviz.data.dataset import Dataset


@dataclass(frozen=True)
class ToyDefaults:
    """What a toy set is trained with by default (and how it is generated).

    ``hidden_sizes``: widths of the hidden layers (the network is 2, *hidden_sizes, K);
    ``hidden``/``output``/``cost``: the engine's names; ``eta``, ``batch_size``,
    ``epochs``: the training; ``noise``, ``seed``, ``n_train``, ``n_test``: the data.
    """

    hidden_sizes: tuple[int, ...]
    hidden: str
    output: str
    cost: str
    eta: float
    batch_size: int
    epochs: int
    noise: float
    seed: int = 0
    n_train: int = 400
    n_test: int = 200

    def layers(self, n_classes: int) -> tuple[int, ...]:
        """The layer sizes n₀ … n_L for this set: ``(2, *hidden_sizes, n_classes)``."""
        return (2, *self.hidden_sizes, n_classes)


def _xor(labels: np.ndarray, rng: np.random.Generator, noise: float) -> np.ndarray:
    """Four clusters at (±½, ±½): class 0 where the signs agree, class 1 where they differ."""
    s = rng.choice((-1.0, 1.0), size=labels.shape[0])
    t = np.where(labels == 0, s, -s)
    centres = 0.5 * np.stack([s, t], axis=1)
    return centres + noise * rng.standard_normal(centres.shape)


def _circles(labels: np.ndarray, rng: np.random.Generator, noise: float) -> np.ndarray:
    """Class 0 on the circle of radius ½, class 1 on the unit circle, plus noise."""
    angle = rng.uniform(0.0, 2 * np.pi, labels.shape[0])
    radius = np.where(labels == 0, 0.5, 1.0)
    points = radius[:, None] * np.stack([np.cos(angle), np.sin(angle)], axis=1)
    return points + noise * rng.standard_normal(points.shape)


def _moons(labels: np.ndarray, rng: np.random.Generator, noise: float) -> np.ndarray:
    """Two interleaved half circles (upper: class 0, lower: class 1), centred on 0."""
    t = rng.uniform(0.0, np.pi, labels.shape[0])
    upper = np.stack([np.cos(t), np.sin(t)], axis=1)
    lower = np.stack([1.0 - np.cos(t), 0.5 - np.sin(t)], axis=1)
    points = np.where((labels == 0)[:, None], upper, lower) - np.array([0.5, 0.25])
    return points + noise * rng.standard_normal(points.shape)


def _spiral(labels: np.ndarray, rng: np.random.Generator, noise: float) -> np.ndarray:
    """Two arms r = t, θ = 3πt + kπ (t ∈ [0.1, 1], arm k = class), one and a half turns."""
    t = rng.uniform(0.1, 1.0, labels.shape[0])
    theta = 3 * np.pi * t + np.pi * labels
    points = t[:, None] * np.stack([np.cos(theta), np.sin(theta)], axis=1)
    return points + noise * rng.standard_normal(points.shape)


def _blob_centres(k: int) -> np.ndarray:
    """K centres on the circle of radius 1, the first at angle 45°."""
    angle = np.pi / 4 + 2 * np.pi * np.arange(k) / k
    return np.stack([np.cos(angle), np.sin(angle)], axis=1)


def _blobs(labels: np.ndarray, rng: np.random.Generator, noise: float) -> np.ndarray:
    """Gaussian blobs of standard deviation ``noise`` around ``_blob_centres``."""
    centres = _blob_centres(int(labels.max()) + 1 if labels.size else 1)
    return centres[labels] + noise * rng.standard_normal((labels.shape[0], 2))


# name → (title, class names, generator (labels, rng, noise) → points (n, 2))
_SETS: dict[str, tuple[str, tuple[str, ...], Callable]] = {
    "xor": ("XOR", ("same signs", "opposite signs"), _xor),
    "circles": ("circles", ("inner", "outer"), _circles),
    "moons": ("two moons", ("upper moon", "lower moon"), _moons),
    "spiral": ("two-armed spiral", ("arm A", "arm B"), _spiral),
    "blobs": ("two Gaussian blobs", ("blob A", "blob B"), _blobs),
    "blobs3": ("three Gaussian blobs", ("blob A", "blob B", "blob C"), _blobs),
}
TOY_NAMES: tuple[str, ...] = tuple(_SETS)

# The defaults the window offers and ``train --data NAME`` uses. Found by experiment
# (seeds 0–4 of the network, the data seed below): tanh hidden layers and small batches
# with softmax + cross-entropy learn these shapes quickly; the spiral needs two layers.
# At most 8 neurons a layer, so that every number fits on the network view.
DEFAULTS: dict[str, ToyDefaults] = {
    "xor": ToyDefaults((4,), "tanh", "softmax", "cross_entropy", 0.1, 1, 20, noise=0.1),
    "circles": ToyDefaults((8,), "tanh", "softmax", "cross_entropy", 0.1, 1, 40, noise=0.08),
    "moons": ToyDefaults((8,), "tanh", "softmax", "cross_entropy", 0.1, 1, 40, noise=0.1),
    "spiral": ToyDefaults(
        (8, 8), "tanh", "softmax", "cross_entropy", 0.03, 1, 150, noise=0.05, n_train=600
    ),
    "blobs": ToyDefaults((4,), "tanh", "softmax", "cross_entropy", 0.1, 1, 10, noise=0.4),
    "blobs3": ToyDefaults((8,), "tanh", "softmax", "cross_entropy", 0.1, 1, 20, noise=0.4),
}


def n_classes(name: str) -> int:
    """How many classes toy set ``name`` has."""
    return len(_SETS[name][1])


MAX_NOISE = 10.0  # far beyond any shape's size (about 1): the classes are then a blur
MAX_SEED = 2**32 - 1
MAX_POINTS = 100_000  # per split: the window redraws every point each frame


def _number(value: Any, what: str, kind: type) -> Any:
    """``value`` (a number, or text as typed) as ``kind``; ValueError naming ``what``."""
    if isinstance(value, bool):
        raise ValueError(f"{what} must be a number, got {value!r}")
    if isinstance(value, str):
        text = value.replace(",", "").strip()
        try:
            return kind(float(text)) if kind is float else kind(text)
        except ValueError:
            example = "0.1" if kind is float else "400"
            raise ValueError(f"{what} must be a number such as {example}, got {value!r}") from None
    if kind is int and isinstance(value, float) and not value.is_integer():
        raise ValueError(f"{what} must be a whole number, got {value:g}")
    return kind(value)


def check_options(
    name: str,
    noise: Any = None,
    seed: Any = None,
    n_train: Any = None,
    n_test: Any = None,
) -> tuple[float, int, int, int]:
    """The one rule for how a toy set may be generated (``make_toy``, the window's Toy data
    settings dialog and the CLI all ask it): ``(noise, seed, n_train, n_test)`` with
    anything None taken from ``DEFAULTS[name]``; numbers or text as typed. ValueError with
    a sentence for an unknown set, a noise outside [0, MAX_NOISE] (the standard deviation
    added to each coordinate; the shapes are about 1 across), a seed outside
    [0, MAX_SEED], or a split with fewer examples than classes or more than MAX_POINTS."""
    if name not in _SETS:
        raise ValueError(f"unknown toy data set {name!r}; use one of {', '.join(TOY_NAMES)}")
    d = DEFAULTS[name]
    noise = d.noise if noise is None else _number(noise, "noise", float)
    if not np.isfinite(noise) or not 0 <= noise <= MAX_NOISE:
        raise ValueError(
            f"noise must be a finite number from 0 to {MAX_NOISE:g} (the standard deviation "
            f"added to each coordinate; the shapes are about 1 across), got {noise:g}"
        )
    seed = d.seed if seed is None else _number(seed, "seed", int)
    if not 0 <= seed <= MAX_SEED:
        raise ValueError(f"seed must be a whole number from 0 to {MAX_SEED:,}, got {seed}")
    k = n_classes(name)
    counts = []
    for value, default, what in ((n_train, d.n_train, "training"), (n_test, d.n_test, "test")):
        n = default if value is None else _number(value, f"the number of {what} points", int)
        if not k <= n <= MAX_POINTS:
            raise ValueError(
                f"{name} needs at least {k} {what} points (one per class) and at most "
                f"{MAX_POINTS:,}, got {n:,}"
            )
        counts.append(n)
    return noise, seed, counts[0], counts[1]


def _split(name: str, n: int, rng: np.random.Generator, noise: float) -> tuple[np.ndarray, ...]:
    """``n`` shuffled points of set ``name``, balanced over its classes: (x float32, labels)."""
    k = n_classes(name)
    labels = rng.permutation(np.arange(n) % k).astype(np.uint8)
    points = _SETS[name][2](labels.astype(np.intp), rng, noise)
    return points.astype(np.float32), labels


def make_toy(
    name: str,
    *,
    noise: float | None = None,
    seed: int | None = None,
    n_train: int | None = None,
    n_test: int | None = None,
) -> Dataset:
    """Toy set ``name`` (one of ``TOY_NAMES``); anything not given comes from ``DEFAULTS``.

    Returns a Dataset with ``(n_train, 2)``/``(n_test, 2)`` float32 points and uint8
    labels. ValueError when ``check_options`` refuses the name or a setting.
    """
    noise, seed, n_train, n_test = check_options(name, noise, seed, n_train, n_test)
    rng = np.random.default_rng(seed)
    train_x, train_y = _split(name, n_train, rng, noise)
    test_x, test_y = _split(name, n_test, rng, noise)
    title, names, _ = _SETS[name]
    return Dataset(
        train_x,
        train_y,
        test_x,
        test_y,
        class_names=names,
        source=(
            f"toy 2-D data: {title}, noise {noise:g}, seed {seed} "
            f"({n_train:,} train / {n_test:,} held-out)"
        ),
    )
