"""Hover in the δ view: a bar of ∂C/∂aˡ, σ′(zˡ) or δˡ gives its equation with the numbers
in it (``_value_text``), for the example the view shows (or the batch mean)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyqtgraph.Qt import QtCore

from bpviz.ui.views import _value_text as vt
from bpviz.ui.views._base import SnapshotView
from bpviz.ui.views._gradient_hover import drawn_tip
from bpviz.ui.views._hover import LiveTip

if TYPE_CHECKING:
    from bpviz.session.snapshot import Snapshot

CELL_TEXTS = (vt.dC_da_cell, vt.sigma_prime_cell, vt.delta_cell)  # the row's three cells


def install(view: SnapshotView) -> LiveTip:
    """The view's one live tooltip, over all its cells."""
    return drawn_tip(view, lines_at)


def lines_at(view: SnapshotView, snapshot: Snapshot, scene: QtCore.QPointF) -> list[str] | None:
    """What the tip says over the bar of neuron i in the cell at ``scene``."""
    for l, cells in view._rows.items():
        for bars, text in zip(cells, CELL_TEXTS, strict=True):
            box = bars.plot.getViewBox()
            if not box.sceneBoundingRect().contains(scene):
                continue
            i = round(box.mapSceneToView(scene).x())
            if not 0 <= i < bars.n:
                return None
            if bars.values is None:
                return [f"{bars.title.lstrip('⊙= ')}: " + bars.notes[0].replace("\n", " ")]
            return text(snapshot, l, i, float(bars.values[i]), view.example)
    return None
