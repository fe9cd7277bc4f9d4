"""bpviz: watch backpropagation happen in a multilayer perceptron."""

__version__ = "0.1.0"
