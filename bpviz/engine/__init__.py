"""The engine: the paper's backpropagation in NumPy (no Qt, no I/O).

``Network`` computes forward and backward traces (read-only snapshots of every z, a, δ,
∂C/∂W); ``FastTrainer`` trains at full speed into preallocated buffers with bit-identical
results; ``evaluate`` scores a whole test set; ``gradient_check`` compares backprop with
central finite differences. ``reference.backprop`` is the plain version of the same
equations, a page of NumPy to read first (tests hold the engine equal to it).
"""

from bpviz.engine.evaluate import Evaluation, evaluate
from bpviz.engine.fast import FastTrainer
from bpviz.engine.gradcheck import GradientCheck, gradient_check
from bpviz.engine.network import BackwardTrace, ForwardTrace, Network
from bpviz.engine.validation import one_hot

__all__ = [
    "BackwardTrace",
    "Evaluation",
    "FastTrainer",
    "ForwardTrace",
    "GradientCheck",
    "Network",
    "evaluate",
    "gradient_check",
    "one_hot",
]
