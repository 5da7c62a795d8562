"""The in-memory data set every part of bpviz trains on and draws from.

Images stay uint8 (784 bytes a digit); they are scaled to floats in [0, 1] only when
a mini-batch is made, so the full MNIST costs 55 MB, not 220 MB.
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
        train_images: ``(n_train, 784)`` uint8, row-major 28×28, read-only.
        train_labels: ``(n_train,)`` uint8 in ``0 … n_classes-1``, read-only.
        test_images: ``(n_test, 784)`` uint8, read-only.
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
        for name in ("train_images", "train_labels", "test_images", "test_labels"):
            array = getattr(self, name)
            if array.dtype != np.uint8:
                raise ValueError(f"{name} must be uint8, got {array.dtype}")
            array.flags.writeable = False
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
    def n_inputs(self) -> int:
        """Pixels per image (784 for MNIST)."""
        return int(self.train_images.shape[1])

    @property
    def n_classes(self) -> int:
        """Number of classes (10)."""
        return len(self.class_names)

    @staticmethod
    def to_float(images: np.ndarray, dtype: np.dtype | type = np.float32) -> np.ndarray:
        """Scale uint8 pixels ``(m, 784)`` to ``dtype`` in [0, 1]: the network's input x."""
        return np.multiply(images, 1.0 / 255.0, dtype=dtype)
