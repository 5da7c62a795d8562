"""The inspector's per-example chart: each example's share δᵢˡ aⱼˡ⁻¹ of ∂C/∂w_ij^l,
coloured by ``colors.DIVERGING`` over ±its level (the legend above the chart says it),
and a live tip on each bar with the product's two numbers."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from pyqtgraph.Qt import QtCore, QtWidgets

from bpviz.ui import colors
from bpviz.ui.views import _value_text as vt
from bpviz.ui.views._gradient_hover import weak_tip
from bpviz.ui.views._legend import ColorLegend
from bpviz.ui.views._throttle import ThrottledView

if TYPE_CHECKING:
    from bpviz.ui.inspection import Inspection


def page(view: ThrottledView) -> QtWidgets.QWidget:
    """The chart's tab (the plot); its legend goes in the tab bar's corner, shown with
    this tab (no height taken from the chart). Sets ``view.legend``, ``view.level`` and
    ``view.bars_tip``."""
    view.legend = ColorLegend("δᵢ aⱼ", signed=True)
    view.level = colors.StickyLevel()

    view.bars_tip = weak_tip(view.bars_plot, view, lines_at)
    return view.bars_plot


def place_legend(view: ThrottledView) -> None:
    """Put the legend in the corner of ``view.tabs``, visible while the chart's tab is."""
    view.tabs.setCornerWidget(view.legend, QtCore.Qt.Corner.TopRightCorner)
    view.tabs.currentChanged.connect(lambda k: view.legend.setVisible(k == 0))


def brushes(view: ThrottledView, ins: Inspection) -> list:
    """One brush per example's bar: its value on the diverging map over ±the level."""
    c = ins.contributions
    running = view._drawn is not None and view._drawn.running
    level = view.level.update(c, running=running) or 1.0
    sel = ins.selection
    name = "δ" + vt.subscript(sel.i) + vt.superscript(sel.l)
    if sel.j is not None:
        name += " a" + vt.subscript(sel.j) + vt.superscript(sel.l - 1)
    view.legend.set_name(f"{name} per example")
    view.legend.set_level(level)
    shades = colors.brushes(colors.DIVERGING_LUT)
    return [shades[k] for k in colors.lut_indices(c, -level, level)]


def lines_at(view: ThrottledView, scene: QtCore.QPointF) -> list[str] | None:
    """Bar k at scene point ``scene`` of the chart: δᵢ × aⱼ for example k."""
    ins, snapshot = view.inspection, view._drawn
    if ins is None or snapshot is None or ins.contributions is None:
        return None
    box = view.bars_plot.getPlotItem().getViewBox()
    if not box.sceneBoundingRect().contains(scene):
        return None
    k = round(box.mapSceneToView(scene).x())
    c = ins.contributions
    if not 0 <= k < c.size:
        return None
    sel = ins.selection
    d = snapshot.delta[sel.l - 1][k, sel.i]
    digit = "" if ins.labels is None else f" (digit {int(ins.labels[k])})"
    d_name = vt.sym("δ", sel.i, sel.l)
    if sel.j is None:
        bias = vt.sym("b", sel.i, sel.l)
        return [f"example {k}{digit}: ∂Cₓ/∂{bias} = {d_name}", f"= {vt.fmt(c[k])}"]
    a = snapshot.a[sel.l - 1][k, sel.j]
    a_name = vt.sym("a", sel.j, sel.l - 1)
    return [
        f"example {k}{digit}: {d_name} × {a_name}",
        f"= {vt.fmt(d)} × {vt.fmt(a)}",
        f"= {vt.fmt(c[k])}",
        f"the mean of the {c.size} bars is ∂C/∂{vt.sym('w', f'{sel.i},{sel.j}', sel.l)} = "
        f"{vt.fmt(float(np.mean(c)))}",
    ]
