"""The first layer's matrix as tiles: row i of W^1 (or ∂C/∂W^1, ΔW^1), ``(n_0,)`` with
n_0 = side², reshaped to a side × side image, one tile per hidden neuron i, laid out in a
grid with one-pixel gaps. At most MAX_TILES tiles are shown at once (a page of neurons
i = start … start + MAX_TILES − 1), so 512 hidden neurons still give readable tiles.
"""

from __future__ import annotations

import math

import numpy as np

MAX_TILES = 64


def tile_grid(n: int) -> tuple[int, int]:
    """(rows, columns) of a near-square grid of n tiles."""
    cols = max(1, math.ceil(math.sqrt(n)))
    return math.ceil(n / cols), cols


class TileSheet:
    """The tile image of one page of neurons; buffers reused from frame to frame."""

    def __init__(self, n: int, side: int) -> None:
        self.n, self.side, self.start = n, side, 0
        self.rows, self.cols = tile_grid(min(n, MAX_TILES))
        step = side + 1
        self._padded = np.zeros((self.rows * self.cols, step, step))
        self.image = np.zeros((self.rows * step, self.cols * step))

    @property
    def paged(self) -> bool:
        """True when there are more neurons than fit on one page."""
        return self.n > MAX_TILES

    @property
    def count(self) -> int:
        """Tiles on the current page."""
        return min(MAX_TILES, self.n - self.start)

    def set_start(self, i: int) -> bool:
        """Show the page holding neuron i; True if the page changed."""
        start = (min(max(i, 0), self.n - 1) // MAX_TILES) * MAX_TILES
        changed, self.start = start != self.start, start
        return changed

    def fill(self, values: np.ndarray) -> np.ndarray:
        """The page's tiles of ``values`` ``(n, side²)`` as one image (the same buffer)."""
        k, side, step = self.count, self.side, self.side + 1
        rows = values[self.start : self.start + k]
        np.copyto(self._padded[:k, :side, :side], rows.reshape(k, side, side))
        self._padded[k:] = 0.0
        np.copyto(
            self.image.reshape(self.rows, step, self.cols, step),
            self._padded.reshape(self.rows, self.cols, step, step).transpose(0, 2, 1, 3),
        )
        return self.image

    def weight_at(self, row: int, col: int) -> tuple[int, int] | None:
        """(i, j) of the matrix under pixel (row, col) of the image, None on a gap."""
        step = self.side + 1
        local = (row // step) * self.cols + col // step
        r, c = row % step, col % step
        if r == self.side or c == self.side or local >= self.count:
            return None
        return self.start + local, r * self.side + c

    def pixel_of(self, i: int, j: int) -> tuple[int, int] | None:
        """(row, col) of w_ij in the image, None when neuron i is not on this page."""
        local = i - self.start
        if not 0 <= local < self.count or not 0 <= j < self.side * self.side:
            return None
        step = self.side + 1
        r, c = divmod(j, self.side)
        return (local // self.cols) * step + r, (local % self.cols) * step + c

    def caption(self) -> str:
        """What the tiles show (fits under them), e.g. "tiles i = 64 … 127 of 512 (28×28)"."""
        last = self.start + self.count - 1
        of = f" of {self.n}" if self.paged else ""
        return f"tiles i = {self.start} … {last}{of} ({self.side}×{self.side})"
