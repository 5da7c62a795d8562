"""The engine: the paper's backpropagation in NumPy (no Qt, no I/O).

``Network`` computes forward and backward traces (read-only snapshots of every z, a, δ,
∂C/∂W); ``FastTrainer`` trains at full speed into preallocated buffers with bit-identical
results; ``evaluate`` scores a whole test set; ``gradient_check`` compares backprop with
central finite differences.
"""

from bpviz.engine.network import BackwardTrace, ForwardTrace, Network, one_hot

__all__ = ["BackwardTrace", "ForwardTrace", "Network", "one_hot"]
