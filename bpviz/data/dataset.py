"""The in-memory data set every part of bpviz trains on and draws from.

Images stay uint8 (a byte a pixel, a quarter of float32's size); they are scaled to
floats in [0, 1] where they are used: a mini-batch, a chunk of an evaluation, or once for
the whole training set by the session's fast path, whose gathers then convert nothing.
Inputs that are not
pixels (the toy sets' 2-D coordinates, ``bpviz.data.toy``) are float32 and used as they
are: the dtype says which (``Dataset.to_float`` is where that is decided).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DIGIT_NAMES: tuple[str, ...] = tuple(str(d) for d in range(10))
FASHION_NAMES: tuple[str, ...] = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)


@dataclass(frozen=True)
class Dataset:
    """Training and held-out images with labels.

    Attributes:
        train_images: ``(n_train, 784)`` uint8, row-major 28×28, read-only; or
            ``(n_train, n_0)`` finite float32 inputs used unscaled (toy 2-D points).
        train_labels: ``(n_train,)`` uint8 in ``0 … n_classes-1``, read-only.
        test_images: ``(n_test, 784)`` uint8 (float32 as ``train_images``), read-only.
        test_labels: ``(n_test,)`` uint8, read-only.
        class_names: one name per class (``"0" … "9"`` or Fashion-MNIST's).
        source: what this is, for the status bar / stderr, e.g.
            ``"embedded sample (4,000 train / 1,000 held-out)"``.
    """

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    class_names: tuple[str, ...] = DIGIT_NAMES
    source: str = ""

    def __post_init__(self) -> None:
        kind = self.train_images.dtype
        if kind not in (np.uint8, np.float32) or self.test_images.dtype != kind:
            raise ValueError(
                f"images must be uint8 pixels or float32 inputs, both splits alike, got "
                f"{kind} and {self.test_images.dtype}"
            )
        if kind == np.float32 and not (
            np.isfinite(self.train_images).all() and np.isfinite(self.test_images).all()
        ):
            raise ValueError("float inputs must be finite")
        for name in ("train_labels", "test_labels"):
            if getattr(self, name).dtype != np.uint8:
                raise ValueError(f"{name} must be uint8, got {getattr(self, name).dtype}")
        for name in ("train_images", "train_labels", "test_images", "test_labels"):
            getattr(self, name).flags.writeable = False
        for split in ("train", "test"):
            images = getattr(self, f"{split}_images")
            labels = getattr(self, f"{split}_labels")
            if images.ndim != 2 or images.shape[0] != labels.shape[0] or labels.ndim != 1:
                raise ValueError(
                    f"{split} images {images.shape} and labels {labels.shape} do not match"
                )

    def __repr__(self) -> str:
        """Shapes and source only: the arrays would fill a screen."""
        return (
            f"Dataset({self.source or 'unnamed'!r}, train={self.train_images.shape}, "
            f"test={self.test_images.shape}, classes={self.n_classes})"
        )

    @property
    def is_pixels(self) -> bool:
        """True for uint8 pixel images (scaled by 1/255), False for float inputs (toy data)."""
        return self.train_images.dtype == np.uint8

    @property
    def n_inputs(self) -> int:
        """Inputs per example: pixels per image (784 for MNIST), 2 for toy data."""
        return int(self.train_images.shape[1])

    @property
    def n_classes(self) -> int:
        """Number of classes (10)."""
        return len(self.class_names)

    @staticmethod
    def to_float(images: np.ndarray, dtype: np.dtype | type = np.float32) -> np.ndarray:
        """The network's input x ``(m, n_0)`` in ``dtype``: uint8 pixels scaled to [0, 1];
        float inputs (toy data) only cast — the engine's rule too (``FastTrainer``,
        ``evaluate``), so every path feeds the network the same numbers."""
        if images.dtype == np.uint8:
            return np.multiply(images, 1.0 / 255.0, dtype=dtype)
        return np.asarray(images).astype(dtype)
