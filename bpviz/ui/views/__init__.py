"""The views: one small pyqtgraph widget each, fed by immutable snapshots.

Every view is a QWidget with ``show_snapshot(snapshot)``; none knows the worker.
"""

from bpviz.ui.views.delta import DeltaView
from bpviz.ui.views.gradient import GradientView
from bpviz.ui.views.io import InputOutputView
from bpviz.ui.views.loss import LossView
from bpviz.ui.views.network import NetworkView

__all__ = ["DeltaView", "GradientView", "InputOutputView", "LossView", "NetworkView"]
