"""Where the network view puts its neurons (NumPy only): discs of at least 10 px.

A layer of up to ``MAX_NODES`` neurons is a column of discs; when the view is too short
for one column of 10 px discs the neurons zig-zag over several sub-columns (neuron i in
sub-column i mod k), so 30 hidden neurons stay readable at 1366×768. Wider layers are a
colour strip (one pixel row per neuron).
"""

from __future__ import annotations

import math

import numpy as np

MAX_NODES = 64  # wider layers are drawn as a colour strip
MIN_DISC, MAX_DISC, GAP = 10.0, 24.0, 3.0  # disc diameter and the space between, pixels
CAP = 0.09  # the most view units between two neurons of a short column


def disc_column(
    n: int, x: float, y_lo: float, y_hi: float, px: float, py: float, cap: float | None = None
) -> tuple[np.ndarray, np.ndarray, float]:
    """x and y (view units) of the n neurons of a column at ``x`` spanning at most
    [y_lo, y_hi], neuron 0 at the top, and the disc diameter in pixels (≥ MIN_DISC);
    ``px``, ``py``: view units per pixel; ``cap``: the most view units between two
    neurons (default ``CAP``; the glass box asks for more room)."""
    step = min((y_hi - y_lo) / max(n - 1, 1), CAP if cap is None else cap)
    step_px = step / py if py > 0 else MIN_DISC + GAP
    k = 1 if n <= 1 else max(1, math.ceil((MIN_DISC + GAP) / max(step_px, 1e-9) - 1e-9))
    size = float(np.clip(k * step_px - GAP, MIN_DISC, MAX_DISC))
    i = np.arange(n)
    ys = (y_lo + y_hi) / 2 + ((n - 1) / 2 - i) * step
    xs = x + ((i % k) - (k - 1) / 2) * (size + GAP) * px
    return xs, ys, size


def strip_column(n: int, y_lo: float, y_hi: float) -> np.ndarray:
    """y of each neuron of a colour strip spanning [y_lo, y_hi], neuron 0 at the top."""
    return y_hi - (np.arange(n) + 0.5) * (y_hi - y_lo) / n
