"""The gradient heatmaps: ∂C/∂W^l (or W^l, or ΔW^l = −η ∂C/∂W^l) of one layer, and the
first layer as one 28×28 tile per hidden neuron.

Row i, column j of the heatmap is w_ij^l, the weight from neuron j of layer l − 1 to neuron
i of layer l (W^l is ``(n_l, n_{l-1})``). Tile i is row i of the first layer's matrix
reshaped to the input's 28×28 pixels: what neuron i's incoming gradient looks like. The
colours are symmetric about zero; the levels are either each frame's max |·| (auto, see
``colors.StickyLevel``) or kept per layer and quantity (fixed; drag the colour bar to
change them). The heatmap follows the layer the current phase computes (∂C/∂W² during
phase ∂C/∂W²) until a layer is chosen by hand; ticking "follow" goes back to following.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from pyqtgraph.Qt import QtCore, QtWidgets

from bpviz.session.snapshot import PhaseKind, Snapshot
from bpviz.ui import colors
from bpviz.ui.views import _gradient_hover
from bpviz.ui.views._base import SnapshotView, entry
from bpviz.ui.views._heatmap import HeatmapPanel
from bpviz.ui.views._tiles import MAX_TILES, TileSheet
from bpviz.ui.views._widgets import live_canvas, superscript

GRADIENT, WEIGHTS, UPDATE = "grad", "weights", "update"
QUANTITIES = {
    GRADIENT: ("∂C/∂W{l}", "∂C/∂w"),
    WEIGHTS: ("W{l}", "w"),
    UPDATE: ("ΔW{l} = −η ∂C/∂W{l}", "Δw"),
}
AUTO, FIXED = "auto", "fixed"


class GradientView(SnapshotView):
    """Heatmap of ∂C/∂W^l, W^l or ΔW^l for a chosen layer, plus the first layer's tiles.

    Setters: ``set_quantity("grad" | "weights" | "update")``, ``set_layer(l)`` (1 … L,
    chosen by hand: stops following the phase), ``set_follow(bool)``,
    ``set_levels_mode("auto" | "fixed")``, ``set_tiles_visible(bool)``,
    ``set_selection(l, i, j)`` (outlines w_ij^l).
    Signal: ``weight_clicked(l, i, j)`` when a heatmap cell (w_ij^l) or a tile pixel
    (l = 1, i = tile, j = pixel) is clicked.
    """

    weight_clicked = QtCore.Signal(int, int, int)
    max_hz = 15.0  # two images of up to 400,000 values each: redraw at most this often

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.quantity, self.layer, self.levels_mode = GRADIENT, 1, AUTO
        self._fixed: dict[tuple[str, int], float] = {}
        self._auto: dict[int, colors.StickyLevel] = {}  # auto level per layer
        self.follow = True  # show the layer the current phase computes
        self._sizes: tuple[int, ...] = ()
        self.sheet: TileSheet | None = None  # the W^1 tiles (None: input not square)
        self._matrix: np.ndarray | None = None  # what the heatmap shows, for hover
        self._tile_matrix: np.ndarray | None = None
        self._selection: tuple[int, int, int | None] | None = None

        self.quantity_box = QtWidgets.QComboBox()
        for key, (name, _) in QUANTITIES.items():
            self.quantity_box.addItem(name.format(l="ˡ"), key)
        self.quantity_box.setToolTip("Show the gradient ∂C/∂Wˡ, the weights Wˡ or the update")
        self.layer_box = QtWidgets.QComboBox()
        self.layer_box.setToolTip("Which weight matrix Wˡ (l = 1 … L) the heatmap shows")
        self.levels_box = QtWidgets.QComboBox()
        self.levels_box.addItem("auto levels", AUTO)
        self.levels_box.addItem("fixed levels", FIXED)
        self.levels_box.setToolTip(
            "auto: ± the largest |value| of every frame; fixed: kept per layer and "
            "quantity (drag the colour bar to change) so growth and decay are visible"
        )
        self.follow_box = QtWidgets.QCheckBox("follow")
        self.follow_box.setChecked(True)
        self.follow_box.setToolTip(
            "Follow the phase: show the layer whose ∂C/∂Wˡ the current phase computes. "
            "Choosing a layer by hand stops following; tick to follow again."
        )
        self.follow_box.toggled.connect(self.set_follow)
        self.tiles_box = QtWidgets.QCheckBox("W¹ tiles")
        self.tiles_box.setChecked(True)
        self.tiles_box.setToolTip("Row i of W¹ (or ∂C/∂W¹) as a 28×28 image, one per neuron i")
        self.page_spin = QtWidgets.QSpinBox()
        self.page_spin.setPrefix("tiles i ≥ ")
        self.page_spin.setSingleStep(MAX_TILES)
        self.page_spin.setToolTip(f"{MAX_TILES} tiles at a time: which neurons of layer 1")
        self.page_spin.setVisible(False)
        self.page_spin.valueChanged.connect(self.set_tile_start)
        self.status = QtWidgets.QLabel()
        self.status.setMinimumWidth(90)
        self.hover = QtWidgets.QLabel()
        ignored = QtWidgets.QSizePolicy.Policy.Ignored  # its text never widens the dock
        self.hover.setSizePolicy(ignored, QtWidgets.QSizePolicy.Policy.Preferred)
        self.quantity_box.currentIndexChanged.connect(
            lambda _: self.set_quantity(self.quantity_box.currentData())
        )
        # activated: only the user's choice (a layer set by code emits no activated)
        self.layer_box.activated.connect(lambda k: k >= 0 and self.set_layer(k + 1))
        self.levels_box.currentIndexChanged.connect(
            lambda _: self.set_levels_mode(self.levels_box.currentData())
        )
        self.tiles_box.toggled.connect(self.set_tiles_visible)
        for box in (self.quantity_box, self.layer_box, self.levels_box):  # fit narrow docks
            box.setSizeAdjustPolicy(
                QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
            )
            box.setMinimumContentsLength(4 if box is self.layer_box else 9)
        bar = QtWidgets.QHBoxLayout()
        for widget in (
            self.quantity_box,
            self.layer_box,
            self.follow_box,
            self.levels_box,
            self.tiles_box,
            self.page_spin,
        ):
            bar.addWidget(widget)
        bar.addWidget(self.status, 1)
        bar.addWidget(self.hover)

        self.canvas = live_canvas()
        self.canvas.setBackground(colors.BACKGROUND)
        self.heatmap = HeatmapPanel(
            self.canvas, 0, "neuron i of layer l", "neuron j of layer l − 1"
        )
        self.tiles = HeatmapPanel(self.canvas, 2, "", "tiles: row i of the matrix per neuron i")
        self.tiles.plot.hideAxis("left")
        self.tiles.plot.getAxis("bottom").setStyle(showValues=False)
        self.tiles.plot.setAspectLocked(True)
        self.canvas.ci.layout.setColumnStretchFactor(0, 3)
        self.canvas.ci.layout.setColumnStretchFactor(2, 2)
        for panel in (self.heatmap, self.tiles):
            panel.bar.sigLevelsChangeFinished.connect(self._levels_dragged)
        self.heatmap.image.clicked.connect(lambda i, j: self.weight_clicked.emit(self.layer, i, j))
        self.tiles.image.clicked.connect(self._tile_clicked)
        self.heatmap.image.hovered.connect(self._hover_heatmap)
        self.tiles.image.hovered.connect(self._hover_tiles)
        self.tip = _gradient_hover.install(self)  # hover a cell: its equation and numbers

        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(bar)
        layout.addWidget(self.canvas, 1)

    # -- setters ------------------------------------------------------------------
    def set_selection(self, l: int, i: int, j: int | None = None) -> None:
        """Outline w_ij^l (switching to layer l) and, for l = 1, its pixel in tile i;
        j None or −1: the bias b_i^l, whose row i is outlined."""
        j = None if j is None or j < 0 else j
        self._selection = (l, i, j)
        if l == 1 and j is not None and self.sheet is not None:
            self.page_spin.setValue((i // MAX_TILES) * MAX_TILES)  # the page holding i
        if l != self.layer and 1 <= l < max(len(self._sizes), 2):
            self.set_layer(l)
        self._draw_selection()

    def _draw_selection(self) -> None:
        heat, tile = self.heatmap.marker, self.tiles.marker
        heat.setVisible(False)
        tile.setVisible(False)
        if self._selection is None or not self._sizes:
            return
        l, i, j = self._selection
        if l == self.layer:
            width = self._sizes[l - 1]
            rect = QtCore.QRectF(0, i, width, 1) if j is None else QtCore.QRectF(j, i, 1, 1)
            heat.setRect(rect)
            heat.setVisible(True)
        pixel = self.sheet.pixel_of(i, j) if l == 1 and j is not None and self.sheet else None
        if pixel is not None:
            tile.setRect(QtCore.QRectF(pixel[1], pixel[0], 1, 1))
            tile.setVisible(True)

    def set_quantity(self, quantity: str) -> None:
        """Show "grad" (∂C/∂W^l), "weights" (W^l) or "update" (ΔW^l = −η ∂C/∂W^l)."""
        if quantity not in QUANTITIES:
            raise ValueError(f"quantity must be one of {list(QUANTITIES)}, got {quantity!r}")
        self.quantity = quantity
        self._auto.clear()
        self.quantity_box.setCurrentIndex(list(QUANTITIES).index(quantity))
        self.redraw()

    def set_layer(self, layer: int) -> None:
        """Show W^layer (paper numbering, 1 … L), chosen by hand: the heatmap stays on it
        (no longer following the phase) until ``set_follow(True)``."""
        self._set_follow(False)
        self._show_layer(layer)
        self.redraw()

    def set_follow(self, follow: bool) -> None:
        """Follow the phase (show the layer whose ∂C/∂W^l the phase computes) or not."""
        self._set_follow(follow)
        self.redraw()

    def _set_follow(self, follow: bool) -> None:
        self.follow = bool(follow)
        if self.follow_box.isChecked() != self.follow:
            self.follow_box.blockSignals(True)
            self.follow_box.setChecked(self.follow)
            self.follow_box.blockSignals(False)

    def _show_layer(self, layer: int) -> None:
        self.layer = layer
        if self.layer_box.count() >= layer and self.layer_box.currentIndex() != layer - 1:
            self.layer_box.blockSignals(True)
            self.layer_box.setCurrentIndex(layer - 1)
            self.layer_box.blockSignals(False)

    def set_levels_mode(self, mode: str) -> None:
        """Levels "auto" (± max |·| every frame) or "fixed" (kept per layer and quantity)."""
        if mode not in (AUTO, FIXED):
            raise ValueError(f"levels mode must be 'auto' or 'fixed', got {mode!r}")
        self.levels_mode = mode
        self._fixed.clear()
        self._auto.clear()
        self.levels_box.setCurrentIndex(0 if mode == AUTO else 1)
        for panel in (self.heatmap, self.tiles):
            panel.bar.interactive = mode == FIXED
        self.redraw()

    def set_tile_start(self, i: int) -> None:
        """Show the page of tiles holding neuron i of layer 1 (wide layers are paged)."""
        if self.sheet is not None and self.sheet.set_start(i):
            self.tiles.drawn = None
            self.redraw()

    def set_tiles_visible(self, visible: bool) -> None:
        """Show or hide the first layer's tiles."""
        self.tiles_box.setChecked(visible)
        for item in (self.tiles.plot, self.tiles.bar):
            item.setVisible(visible)
        self.redraw()

    # -- drawing ------------------------------------------------------------------
    def matrix(self, snapshot: Snapshot, layer: int) -> np.ndarray | None:
        """The chosen quantity for W^layer, ``(n_l, n_{l-1})``, or None if not computed."""
        if self.quantity == WEIGHTS:
            return snapshot.weights[layer - 1]
        grad = entry(snapshot.grad_w, layer - 1)
        if grad is None or self.quantity == GRADIENT:
            return grad
        return -snapshot.eta * grad

    def _render(self, snapshot: Snapshot) -> None:
        sizes = tuple(snapshot.config.sizes)
        if sizes != self._sizes:
            self._sizes = sizes
            self._fixed.clear()
            self._auto.clear()
            self.layer_box.blockSignals(True)
            self.layer_box.clear()
            self.layer_box.addItems([f"W{superscript(l)}" for l in range(1, len(sizes))])
            self.layer = min(self.layer, len(sizes) - 1)
            self.layer_box.setCurrentIndex(self.layer - 1)
            self.layer_box.blockSignals(False)
            side = math.isqrt(sizes[0])
            self.sheet = TileSheet(sizes[1], side) if side * side == sizes[0] else None
            self.tiles.drawn = None
            self.page_spin.blockSignals(True)
            self.page_spin.setRange(0, sizes[1] - 1)
            self.page_spin.setValue(0)
            self.page_spin.blockSignals(False)
            self.page_spin.setVisible(self.sheet is not None and self.sheet.paged)
            # tiles need a square image as input; a toy set's 2 coordinates have none
            self.tiles_box.setEnabled(self.sheet is not None)
            self.tiles_box.setToolTip(
                "Row i of W¹ (or ∂C/∂W¹) as a 28×28 image, one per neuron i"
                if self.sheet is not None
                else "No tiles: the input is a point (x₁, x₂), not an image; W¹ is the heatmap"
            )
            for item in (self.tiles.plot, self.tiles.bar):
                item.setVisible(self.sheet is not None and self.tiles_box.isChecked())
        phase = snapshot.phase
        computing = phase.layer if phase is not None and phase.kind is PhaseKind.GRADIENT else None
        if self.follow and computing is not None and computing != self.layer:
            self._show_layer(computing)
        name = QUANTITIES[self.quantity][0].format(l=superscript(self.layer))
        colors.set_title(
            self.heatmap.plot,
            # its colour says "being computed" (a new text would re-lay out the plot)
            name if self.follow else f"{name} — layer {self.layer} (chosen)",
            color=colors.HIGHLIGHT if computing == self.layer else colors.FOREGROUND,
            size="9pt",
        )
        self._matrix = self.matrix(snapshot, self.layer)
        level = self._draw(self.heatmap, self._matrix, self.layer, name, sizes)
        self.heatmap.set_legend(name.split(" =")[0], level)
        self._show_levels(level)
        self._draw_selection()
        if self.tiles_box.isChecked() and self.sheet is not None:
            self._tile_matrix = self.matrix(snapshot, 1)
            self._draw_tiles(self._tile_matrix)
            tiles = QUANTITIES[self.quantity][0].format(l=superscript(1)).split(" =")[0]
            self.tiles.set_legend(tiles, self._level(None, 1))
        self.tip.refresh()

    def _level(self, values: np.ndarray | None, layer: int) -> float | None:
        """± the level of layer ``layer``'s panel; None while nothing was computed."""
        if self.levels_mode == AUTO:
            auto = self._auto.setdefault(layer, colors.StickyLevel(shrink=2.5))
            running = self._snapshot is not None and self._snapshot.running
            return auto.update(values, running=running)
        key = (self.quantity, layer)
        if key not in self._fixed and values is not None:
            self._fixed[key] = colors.symmetric_level(values)
        return self._fixed.get(key)

    def _draw(self, panel: HeatmapPanel, values, layer: int, name: str, sizes) -> float | None:
        level = self._level(values, layer)
        panel.set_shape((sizes[layer], sizes[layer - 1]))
        panel.set_missing(values is None, f"{name} not computed yet\nin this mini-batch")
        if values is not None and (
            values is not panel.drawn or panel.bar.levels() != (-level, level)
        ):
            panel.show(values, level)
            panel.drawn = values
        return level

    def _draw_tiles(self, values: np.ndarray | None) -> None:
        sheet = self.sheet
        self.tiles.set_shape(sheet.image.shape)
        self.tiles.set_missing(values is None, "not computed yet")
        caption = sheet.caption()
        if self.tiles.plot.getAxis("bottom").labelText != caption:
            self.tiles.plot.setLabel("bottom", caption, color=colors.FOREGROUND)
        level = self._level(values, 1)
        if values is None or (
            values is self.tiles.drawn and self.tiles.bar.levels() == (-level, level)
        ):
            return
        self.tiles.show(sheet.fill(values), level)
        self.tiles.drawn = values

    def _show_levels(self, level: float | None) -> None:
        shown = "±—" if level is None else f"±{level:.3g}"  # — : nothing computed yet
        if self.levels_mode == AUTO:
            text = f"{shown} auto"
            tip = "auto levels: ± the largest |value|, rounded up, kept while within 2.5×"
        else:
            text = f"{shown} fixed"
            tip = f"fixed for W{superscript(self.layer)}: drag the colour bar to change"
        if text != self.status.text():
            self.status.setText(text)
            self.status.setToolTip(tip)

    # -- interaction ----------------------------------------------------------------
    def _levels_dragged(self, bar: pg.ColorBarItem) -> None:
        if self.levels_mode != FIXED:
            return
        lo, hi = bar.levels()
        layer = self.layer if bar is self.heatmap.bar else 1
        self._fixed[(self.quantity, layer)] = max(abs(lo), abs(hi))
        self.redraw()

    def tile_weight(self, row: int, col: int) -> tuple[int, int] | None:
        """(i, j) of W^1 under pixel (row, col) of the tile image, None on a gap."""
        return self.sheet.weight_at(row, col) if self.sheet is not None else None

    def _tile_clicked(self, row: int, col: int) -> None:
        hit = self.tile_weight(row, col)
        if hit is not None:
            self.weight_clicked.emit(1, *hit)

    def _hover_heatmap(self, i: int, j: int) -> None:
        self._hover(self.layer, i, j, self._matrix, i >= 0)

    def _hover_tiles(self, row: int, col: int) -> None:
        hit = self.tile_weight(row, col) if row >= 0 else None
        self._hover(1, *(hit or (-1, -1)), self._tile_matrix, hit is not None)

    def _hover(self, layer: int, i: int, j: int, values, inside: bool) -> None:
        if not inside or values is None:
            self.hover.setText("")
            return
        symbol = QUANTITIES[self.quantity][1]
        self.hover.setText(f"{symbol}ᵢⱼ{superscript(layer)} = {values[i, j]:+.4g}  (i={i}, j={j})")
