"""The input plane of a 2-D data set, evaluated by the network (no Qt).

For the window's Input plane panel: a grid over the points, and the network's forward
pass on every grid point with a snapshot's parameters — the output aᴸ (the decision
field) and each hidden layer's aˡ (each neuron's response over the plane). The engine
computes it (``Network.forward``), the same arithmetic the training uses.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from bpviz.engine.network import ForwardTrace, Network
from bpviz.session.snapshot import SessionConfig

GRID = 96  # grid points per side: 9,216 forward passes, about a millisecond for 2-8-8-2
MARGIN = 0.15  # room around the points, as a fraction of their extent


def plane_extent(points: Sequence[np.ndarray], margin: float = MARGIN) -> tuple[float, ...]:
    """``(x0, x1, y0, y1)``: a square box around every array of points ``(n, 2)`` given,
    with ``margin`` of the extent added on each side."""
    stacked = np.concatenate([np.asarray(p, np.float64).reshape(-1, 2) for p in points])
    lo, hi = stacked.min(axis=0), stacked.max(axis=0)
    centre, half = (lo + hi) / 2, max(float((hi - lo).max()) / 2, 1e-3) * (1 + 2 * margin)
    return (centre[0] - half, centre[0] + half, centre[1] - half, centre[1] + half)


def plane_grid(extent: Sequence[float], n: int = GRID) -> np.ndarray:
    """The centres of an ``n`` × ``n`` grid over ``extent`` as float32 points ``(n², 2)``,
    row-major from the bottom row (y0) up: point r·n + c is column c of row r."""
    x0, x1, y0, y1 = extent
    xs = x0 + (np.arange(n) + 0.5) * (x1 - x0) / n
    ys = y0 + (np.arange(n) + 0.5) * (y1 - y0) / n
    gx, gy = np.meshgrid(xs, ys)
    return np.stack([gx.ravel(), gy.ravel()], axis=1).astype(np.float32)


class PlaneEvaluator:
    """The forward pass of a network over a grid, one engine ``Network`` per shape."""

    def __init__(self) -> None:
        self._net: Network | None = None
        self._config: SessionConfig | None = None

    def evaluate(
        self,
        config: SessionConfig,
        weights: Sequence[np.ndarray],
        biases: Sequence[np.ndarray],
        grid: np.ndarray,
    ) -> ForwardTrace:
        """``Network.forward(grid)`` with these parameters: ``a[l]`` ``(n², n_l)``."""
        if self._net is None or self._config != config:
            self._net, self._config = Network.like(config), config
        self._net.set_parameters(weights, biases)
        return self._net.forward(grid)
