"""The window's panels, one ``DockSpec`` each, and which of them take part in what.

Adding a panel: append a ``DockSpec`` to ``DOCKS`` (its ``make(window)`` returns the
widget). A ``SnapshotView`` (or the loss view) is fed every new snapshot; one listed in
``CLASS_NAMED`` gets the data set's class names, one in ``SELECTING`` the selected weight.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from bpviz.ui.views import explore
from bpviz.ui.views._base import SnapshotView
from bpviz.ui.views.contraction import ContractionView
from bpviz.ui.views.delta import DeltaView
from bpviz.ui.views.drawpad import DrawPad
from bpviz.ui.views.equations import EquationView
from bpviz.ui.views.evaluation import EvaluationPanel
from bpviz.ui.views.gradient import GradientView
from bpviz.ui.views.inspector import InspectorView
from bpviz.ui.views.io import InputOutputView
from bpviz.ui.views.loss import LossView
from bpviz.ui.views.network import NetworkView
from bpviz.ui.views.plane import PlaneView

if TYPE_CHECKING:
    from bpviz.ui.window_api import Window

LEFT = Qt.DockWidgetArea.LeftDockWidgetArea
RIGHT = Qt.DockWidgetArea.RightDockWidgetArea
BOTTOM = Qt.DockWidgetArea.BottomDockWidgetArea

DRAWS_SNAPSHOTS = (SnapshotView, LossView)  # given every new snapshot
CLASS_NAMED = (InputOutputView, NetworkView, DrawPad, EvaluationPanel)  # set_class_names
SELECTING = (NetworkView, GradientView, ContractionView, EquationView, InspectorView)
# SELECTING: set_selection(l, i, j) highlights the selected weight


@dataclass(frozen=True)
class DockSpec:
    """One dockable panel: ``key`` names it in the saved layout; ``tab_with`` shares tabs."""

    key: str
    title: str
    make: Callable[[Window], QWidget]
    area: Qt.DockWidgetArea
    tab_with: str | None = None
    tooltip: str = ""


def _new(cls: type[QWidget]) -> Callable[[Window], QWidget]:
    return lambda window: cls()


DOCKS: list[DockSpec] = [
    DockSpec("network", "Network", _new(NetworkView), LEFT,
             tooltip="each phase along the edges: wᵢⱼaⱼ forward, wᵢⱼδᵢ backward, ∂C/∂W, ΔW"),
    DockSpec("io", "Input and output", _new(InputOutputView), RIGHT,
             tooltip="The mini-batch x, the selected digit, aᴸ against y"),
    DockSpec("delta", "δ and its factors", _new(DeltaView), BOTTOM,
             tooltip="δˡ = (Wˡ⁺¹)ᵀ δˡ⁺¹ ⊙ σ'(zˡ) with ∂C/∂aˡ and σ'(zˡ)"),
    DockSpec("gradients", "Gradients ∂C/∂W", _new(GradientView), BOTTOM,
             tooltip="∂C/∂Wˡ = δˡ (aˡ⁻¹)ᵀ, Wˡ or ΔWˡ as heatmaps"),
    DockSpec("loss", "Loss and accuracy", _new(LossView), BOTTOM,
             tooltip="C per mini-batch, smoothed, and test accuracy per epoch"),
    DockSpec("equations", "Equations, live", _new(EquationView), RIGHT,
             tab_with="io", tooltip="The paper's algorithm (IV.4): the phase's line "
             "highlighted, with the selected weight's numbers written out"),
    DockSpec("inspector", "Inspect wᵢⱼ", _new(InspectorView), RIGHT,
             tab_with="io", tooltip="One weight in the mini-batch: aⱼ, δᵢ, ∂C/∂wᵢⱼ, "
             "Δw, each example's share; numeric gradient check (g); pin to watch"),
    DockSpec("contraction", "Tensor contraction", _new(ContractionView),
             RIGHT, tab_with="io", tooltip="IV.2: ∂aˡ/∂Wˡ as a stack of matrices, "
             "contracted with ∂C/∂aˡ into ∂C/∂Wˡ"),
    DockSpec("plane", "Input plane", lambda w: PlaneView(lambda: w.dataset), RIGHT,
             tab_with="io", tooltip="Toy 2-D data: the points, the decision boundary, each "
             "hidden neuron's aᵢ over the plane and its δᵢ going back"),
    DockSpec("evaluation", "Evaluation", explore.evaluation_dock, LEFT, tab_with="network",
             tooltip="Held-out accuracy, confusion matrix, worst mistakes; click to inspect"),
    DockSpec("drawpad", "Draw a digit", explore.drawpad_dock, LEFT, tab_with="network",
             tooltip="Your own digit through the network, and one backprop step on it"),
]  # fmt: skip
# Tab groups keep the default layout within 1366×768: the tall panels (drawing pad,
# inspector) share the top row; the bottom row stays short (δ, ∂C/∂W, loss).
