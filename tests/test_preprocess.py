"""MNIST-style preprocessing of a drawing: 20×20 box, aspect kept, centre of mass centred."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bpviz.data.preprocess import center_of_mass, mnist_style, smooth


def ink_rows_cols(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return np.flatnonzero(image.sum(axis=1) > 1e-9), np.flatnonzero(image.sum(axis=0) > 1e-9)


def test_a_tall_bar_is_scaled_to_20_high_keeping_its_aspect_and_centred_by_mass() -> None:
    canvas = np.zeros((280, 280))
    canvas[30:230, 200:250] = 1.0  # 200 × 50, far right of centre
    image = mnist_style(canvas, sigma=0.0)
    assert image.shape == (28, 28)
    rows, cols = ink_rows_cols(image)
    assert rows[-1] - rows[0] + 1 == 20  # the long side fills the 20-pixel box
    # Short side: 50 · 20/200 = 5 pixels of width (spread over at most 6 columns).
    assert image.sum(axis=0).sum() / image.max(axis=0).max() == pytest.approx(20 * 5, rel=1e-6)
    assert 5 <= cols.size <= 6
    assert center_of_mass(image) == pytest.approx((14.0, 14.0), abs=1e-3)
    assert image.max() == pytest.approx(1.0)


def test_the_centre_of_mass_not_the_box_is_centred() -> None:
    canvas = np.zeros((100, 100))
    canvas[10:90, 10:20] = 1.0  # a heavy left stem …
    canvas[10:15, 20:90] = 0.2  # … and a light top bar: the mass sits left of the box centre
    image = mnist_style(canvas, sigma=0.0)
    assert center_of_mass(image) == pytest.approx((14.0, 14.0), abs=1e-3)
    _, cols = ink_rows_cols(image)
    box_centre = (cols[0] + cols[-1] + 1) / 2
    assert box_centre > 14.5  # the box is shifted right so that the mass is centred


def test_a_small_dot_is_scaled_up_and_an_empty_canvas_gives_zeros() -> None:
    canvas = np.zeros((50, 80))
    canvas[3:5, 70:72] = 1.0
    image = mnist_style(canvas, sigma=0.0)
    rows, cols = ink_rows_cols(image)
    assert rows.size in (20, 21) and cols.size in (20, 21)
    np.testing.assert_array_equal(mnist_style(np.zeros((280, 280))), np.zeros((28, 28)))


def test_smoothing_keeps_ink_and_centre() -> None:
    image = np.zeros((28, 28))
    image[8:20, 12:15] = 1.0
    blurred = smooth(image, 1.0)
    assert blurred.sum() == pytest.approx(image.sum())
    assert center_of_mass(blurred) == pytest.approx(center_of_mass(image))
    assert blurred.max() < 1.0 and np.count_nonzero(blurred) > np.count_nonzero(image)
    np.testing.assert_array_equal(smooth(image, 0.0), image)


def test_rejects_a_canvas_that_is_not_2d() -> None:
    with pytest.raises(ValueError, match="2-D"):
        mnist_style(np.zeros(784))


@settings(max_examples=60, deadline=None)
@given(
    top=st.integers(0, 150),
    left=st.integers(0, 150),
    height=st.integers(3, 120),
    width=st.integers(3, 120),
    sigma=st.sampled_from([0.0, 0.5, 1.0]),
)
def test_any_rectangle_ends_up_20_pixels_long_with_its_mass_at_the_centre(
    top: int, left: int, height: int, width: int, sigma: float
) -> None:
    canvas = np.zeros((280, 280))
    canvas[top : top + height, left : left + width] = 1.0
    image = mnist_style(canvas, sigma=sigma)
    assert center_of_mass(image) == pytest.approx((14.0, 14.0), abs=0.02)
    assert image.min() >= 0.0 and image.max() == pytest.approx(1.0)
    short = 20 * min(height, width) / max(height, width)
    if short >= 2:  # then some pixel is fully inked, so the scaling to peak 1 is neutral
        sharp = mnist_style(canvas, sigma=0.0)
        # Total ink in units of full pixels: the long side 20, the short one in proportion.
        assert sharp.sum() == pytest.approx(400 * min(height, width) / max(height, width), rel=1e-6)
