"""The network view's nodes coloured by their values: the input image, each layer's discs
or strip, and a column waiting grey for the wave (a mixin of ``NetworkView``).

A graphics item is touched only when its colours change: stepping phase by phase most
frames show the same aˡ (or δˡ) again, and a new brush list or image makes Qt repaint
(and pyqtgraph re-prepare) the item for nothing. ``_colour_keys[l]`` names the colours
a layer's values have now (None: not computed), ``_shown_keys[l]`` those on its item
(None: grey, waiting or not computed).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from bpviz.ui import colors

_UNSET = object()  # nothing drawn yet


class NodeColours:
    """``_draw_input(x)``, ``_draw_column(l, values, lo, hi, lut)`` and
    ``_show_column(l, values_shown)``; ``_reset_node_colours()`` after the items are made
    anew. Reads ``_input_side``, ``_columns``, ``_rgba``, ``_brushes``, ``_xy`` and
    ``_missing_brush`` of the view."""

    def _reset_node_colours(self) -> None:
        self._input_key = _UNSET
        self._colour_keys: dict[int, tuple | None] = {}
        self._shown_keys: dict[int, tuple | None] = {}

    def _draw_input(self, x: np.ndarray | None) -> None:
        side = self._input_side
        if not side:
            return
        key = None if x is None else x.tobytes()
        if key == self._input_key:
            return
        self._input_key = key
        buffer = self._rgba[0]
        if x is None:
            buffer[:] = 0  # transparent: not computed yet
        else:
            colors.rgba(x.reshape(side, side)[::-1], 0.0, 1.0, colors.GREYS_LUT, out=buffer)
        self.input_image.setImage(buffer, levels=None)

    def _draw_column(self, l: int, values, lo: float, hi: float, lut: np.ndarray) -> None:
        """Colour layer l's nodes by ``values`` on [lo, hi] (None: grey) and show them."""
        if values is None:
            key, idx = None, None
        else:
            idx = colors.lut_indices(values, lo, hi, len(lut))
            key = (id(lut), idx.tobytes())
        if key != self._colour_keys.get(l, _UNSET):
            self._colour_keys[l] = key
            item = self._columns[l - 1]
            if isinstance(item, pg.ImageItem):
                buffer = self._rgba[l]
                if idx is None:
                    buffer[:] = 0  # transparent inside the grey border: not computed yet
                else:  # top row first: the strip's last neuron is drawn at its top
                    np.take(lut, idx[::-1, None], axis=0, out=buffer)
            elif idx is None:
                self._brushes[l] = [self._missing_brush] * len(self._xy[l])
            else:
                palette = colors.brushes(lut)
                self._brushes[l] = [palette[k] for k in idx]
        self._show_column(l, values_shown=True)

    def _show_column(self, l: int, values_shown: bool) -> None:
        """Show layer l's colours, or grey while the wave has not reached it."""
        key = self._colour_keys.get(l) if values_shown else None
        if key == self._shown_keys.get(l, _UNSET):
            return
        self._shown_keys[l] = key
        item = self._columns[l - 1]
        if isinstance(item, pg.ImageItem):
            item.setImage(self._rgba[l] if key is not None else self._rgba[l] * 0, levels=None)
        else:
            n = len(self._brushes[l])
            item.setBrush(self._brushes[l] if key is not None else [self._missing_brush] * n)
