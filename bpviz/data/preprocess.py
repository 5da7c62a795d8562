"""Turn a drawing into an MNIST-style 28×28 input, the way the MNIST digits were prepared.

LeCun et al.: the digits were "size normalized to fit in a 20x20 pixel box while
preserving their aspect ratio" (anti-aliased, hence grey levels) and "centered in a 28x28
image by computing the center of mass of the pixels, and translating the image so as to
position this point at the center of the 28x28 field".

Coordinates here are continuous: pixel (r, c) covers [r, r+1) × [c, c+1), so the centre
of the 28×28 field is (14, 14) (pixel-index coordinates 13.5). Resampling is by area
(every output pixel is the mean of the canvas area it covers), so the sub-pixel shift
that puts the centre of mass at the centre is part of the resampling, not a rounding.
No Qt, NumPy only.
"""

from __future__ import annotations

import numpy as np

FIELD = 28  # side of the MNIST image
BOX = 20  # side of the box the digit's bounding box is scaled into


def center_of_mass(image: np.ndarray) -> tuple[float, float]:
    """Centre of mass ``(row, col)`` of a 2-D intensity image, continuous coordinates.

    Pixel (r, c) has its mass at (r + 0.5, c + 0.5); an empty image gives the centre.
    """
    total = float(image.sum())
    rows, cols = image.shape
    if total <= 0.0:
        return rows / 2.0, cols / 2.0
    r = float(image.sum(axis=1) @ (np.arange(rows) + 0.5)) / total
    c = float(image.sum(axis=0) @ (np.arange(cols) + 0.5)) / total
    return r, c


def _area_matrix(n_in: int, start: float, scale: float, n_out: int) -> np.ndarray:
    """``(n_out, n_in)`` weights of area resampling along one axis.

    Input pixel j is mapped onto the interval [start + j·scale, start + (j+1)·scale) of
    the output axis; entry (i, j) is the length of that interval inside output pixel
    [i, i+1). An output pixel fully covered by the input thus gets the mean intensity of
    what it covers (its row sums to 1).
    """
    j = np.arange(n_in)
    lo = start + j * scale
    hi = lo + scale
    i = np.arange(n_out)[:, None]
    return np.clip(np.minimum(i + 1, hi) - np.maximum(i, lo), 0.0, None)


def _gaussian_kernel(sigma: float) -> np.ndarray:
    """A normalised 1-D Gaussian with radius ⌈3σ⌉."""
    radius = max(1, int(np.ceil(3.0 * sigma)))
    t = np.arange(-radius, radius + 1, dtype=np.float64)
    k = np.exp(-0.5 * (t / sigma) ** 2)
    return k / k.sum()


def smooth(image: np.ndarray, sigma: float) -> np.ndarray:
    """Separable Gaussian blur of a 2-D image (zero outside); ``sigma`` in pixels, 0 = none.

    The kernel is symmetric and sums to 1, so the total ink and its centre of mass are
    kept (up to what spills over the border). Computed as G_r · image · G_cᵀ with the
    banded convolution matrices G.
    """
    image = np.asarray(image, dtype=np.float64)
    if sigma <= 0.0:
        return image.copy()
    k = _gaussian_kernel(sigma)
    radius = k.size // 2

    def band(n: int) -> np.ndarray:
        offsets = np.arange(n)[None, :] - np.arange(n)[:, None]  # column − row
        inside = np.abs(offsets) <= radius
        return np.where(inside, k[np.clip(offsets + radius, 0, k.size - 1)], 0.0)

    return band(image.shape[0]) @ image @ band(image.shape[1]).T


def mnist_style(
    canvas: np.ndarray,
    *,
    sigma: float = 0.5,
    box: int = BOX,
    field: int = FIELD,
    threshold: float = 0.0,
) -> np.ndarray:
    """Preprocess a drawing as MNIST was prepared; returns ``(field, field)`` float64 in [0, 1].

    Args:
        canvas: ``(H, W)`` ink intensities (ink > 0, background 0), any resolution.
        sigma: Gaussian smoothing after resampling, in output pixels (0 = none).
        box: the longer side of the ink's bounding box is scaled to ``box`` pixels,
            the shorter one in proportion (aspect ratio kept).
        field: side of the output image.
        threshold: canvas values ``<= threshold`` count as background for the box.

    Steps: crop to the bounding box of the ink; scale by s = box / max(h, w) with area
    resampling, placed so that the centre of mass lands at (field/2, field/2); smooth;
    scale the intensities so the darkest pixel is 1. An empty canvas gives zeros.
    """
    canvas = np.asarray(canvas, dtype=np.float64)
    if canvas.ndim != 2:
        raise ValueError(f"canvas must be 2-D, got shape {canvas.shape}")
    ink = canvas > threshold
    if not ink.any():
        return np.zeros((field, field))
    rows = np.flatnonzero(ink.any(axis=1))
    cols = np.flatnonzero(ink.any(axis=0))
    crop = np.where(ink, canvas, 0.0)[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    scale = box / max(crop.shape)
    # Where the crop's centre of mass goes if nothing else moves it: the field's centre.
    com_r, com_c = center_of_mass(crop)
    start_r = field / 2.0 - com_r * scale
    start_c = field / 2.0 - com_c * scale
    for _ in range(20):  # area resampling moves the mass slightly; correct the residual
        out = (
            _area_matrix(crop.shape[0], start_r, scale, field)
            @ crop
            @ _area_matrix(crop.shape[1], start_c, scale, field).T
        )
        r, c = center_of_mass(out)
        if abs(r - field / 2.0) < 1e-4 and abs(c - field / 2.0) < 1e-4:
            break
        start_r += field / 2.0 - r
        start_c += field / 2.0 - c
    out = smooth(out, sigma)
    peak = out.max()
    return out / peak if peak > 0 else out


def canvas_to_input(canvas: np.ndarray, **kwargs: float) -> np.ndarray:
    """``mnist_style`` flattened to the network's input x, ``(784,)`` float64 in [0, 1]."""
    return mnist_style(canvas, **kwargs).reshape(-1)
