"""bpviz: watch backpropagation train a NumPy network on MNIST, live."""

__version__ = "0.1.0"
