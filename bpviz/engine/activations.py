"""Activation functions, each beside its derivative.

Every activation maps pre-activations ``z`` of shape ``(n_samples, n_nodes)`` to
activations ``a`` of the same shape. ``backward(z, a, grad_a)`` turns ∂L/∂a into
∂L/∂z. For the element-wise functions that is ``grad_a * f'(z)``; for softmax it is
the product with its full Jacobian, so a softmax output trained with squared error
gets the exact gradient, not the diagonal shortcut.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Callable

import numpy as np

from bpviz.errors import BpvizError

LEAKY_SLOPE = 0.01


def _sigmoid(z: np.ndarray) -> np.ndarray:
    # exp(-z) overflows for z < -709 and the result 0.0 is still right: the network's
    # passes run under np.errstate(over="ignore"), so no warning reaches the user.
    e = np.exp(-z)
    e += 1.0
    return np.reciprocal(e, out=e)


@cache
def _ones_column(n: int) -> np.ndarray:
    ones = np.ones((n, 1))
    ones.flags.writeable = False
    return ones


# Row maxima and row sums for softmax. Both give an (n_samples, 1) column, or a plain
# float for a single sample, the usual case while training: a (1, 1) column would
# make NumPy set up broadcasting (~0.5 µs) in every operation that uses it.
def row_maxima(z: np.ndarray) -> np.ndarray | float:
    """max_j z[i, j]; for one sample, Python's max over the row (~1 µs faster)."""
    if len(z) == 1:
        return max(z.ravel().tolist())
    return np.maximum.reduce(z, axis=1, keepdims=True)


def row_sums(x: np.ndarray) -> np.ndarray | float:
    """Σ_j x[i, j], written as x · 1: one BLAS call, ~0.8 µs cheaper than a reduction
    such as ``x.sum(axis=1, keepdims=True)`` on the few nodes of a layer."""
    sums = x.dot(_ones_column(x.shape[1]))
    return sums.item() if len(x) == 1 else sums


def _softmax(z: np.ndarray) -> np.ndarray:
    # Shifting each row by its maximum leaves softmax unchanged and keeps exp ≤ 1.
    e = z - row_maxima(z)
    np.exp(e, out=e)
    e /= row_sums(e)
    return e


def _softmax_backward(z: np.ndarray, a: np.ndarray, grad_a: np.ndarray) -> np.ndarray:
    # J[i, j] = a_i (δ_ij − a_j), so (J grad_a)_i = a_i (g_i − Σ_j a_j g_j).
    return a * (grad_a - row_sums(a * grad_a))


@dataclass(frozen=True)
class Activation:
    """One activation function.

    ``derivative(z, a)`` is f'(z) element-wise, written in terms of the output ``a``
    where that is cheaper (sigmoid: a(1−a), tanh: 1−a²). Softmax has no element-wise
    derivative; use ``backward`` or ``jacobian``.
    ``display_range`` is the range a view should map to colours; ``None`` as the upper
    end means "unbounded, scale to the largest value seen" (ReLU, linear).
    """

    name: str
    formula: str
    forward: Callable[[np.ndarray], np.ndarray]
    derivative: Callable[[np.ndarray, np.ndarray], np.ndarray] | None
    display_range: tuple[float | None, float | None]
    derivative_formula: str = ""
    output_only: bool = False

    def __reduce__(self):
        # Pickled by name (the functions are lambdas): a network crosses to the
        # training process and back as the same registered activation.
        return (_activation_named, (self.name,))

    def backward(self, z: np.ndarray, a: np.ndarray, grad_a: np.ndarray) -> np.ndarray:
        """∂L/∂z from ∂L/∂a; all arrays ``(n_samples, n_nodes)``."""
        if self.derivative is None:
            return _softmax_backward(z, a, grad_a)
        return grad_a * self.derivative(z, a)

    def jacobian(self, z: np.ndarray, a: np.ndarray) -> np.ndarray:
        """∂a/∂z for one sample: ``z``, ``a`` of shape ``(n,)``, result ``(n, n)``."""
        if self.derivative is None:
            return np.diag(a) - np.outer(a, a)
        return np.diag(self.derivative(z, a))


ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in (
        Activation(
            "sigmoid", "σ(z) = 1 / (1 + e^(−z))", _sigmoid,
            lambda z, a: a * (1.0 - a), (0.0, 1.0), "σ′(z) = a·(1 − a)",
        ),
        Activation(
            "tanh", "tanh(z)", np.tanh,
            lambda z, a: 1.0 - a * a, (-1.0, 1.0), "tanh′(z) = 1 − a²",
        ),
        Activation(
            "relu", "max(0, z)", lambda z: np.maximum(z, 0.0),
            lambda z, a: (z > 0.0).astype(z.dtype), (0.0, None), "relu′(z) = 1 if z > 0 else 0",
        ),
        Activation(
            "leaky_relu", f"z if z > 0 else {LEAKY_SLOPE}·z",
            lambda z: np.where(z > 0.0, z, LEAKY_SLOPE * z),
            lambda z, a: np.where(z > 0.0, 1.0, LEAKY_SLOPE),
            (None, None), f"f′(z) = 1 if z > 0 else {LEAKY_SLOPE}",
        ),
        Activation(
            "linear", "z", lambda z: z, lambda z, a: np.ones_like(z), (None, None), "f′(z) = 1",
        ),
        Activation(
            "softmax", "e^(z_i) / Σ_j e^(z_j)", _softmax, None, (0.0, 1.0),
            "∂a_i/∂z_j = a_i·(δ_ij − a_j)", output_only=True,
        ),
    )
}

HIDDEN_ACTIVATIONS = tuple(n for n, a in ACTIVATIONS.items() if not a.output_only)
OUTPUT_ACTIVATIONS = tuple(ACTIVATIONS)


def _activation_named(name: str) -> Activation:
    return ACTIVATIONS[name]


def get_activation(name: str, *, hidden: bool = False) -> Activation:
    """Look up an activation by name; a clear BpvizError for unknown names."""
    choices = HIDDEN_ACTIVATIONS if hidden else OUTPUT_ACTIVATIONS
    if name not in choices:
        where = "a hidden layer" if hidden else "the output layer"
        raise BpvizError(
            f"unknown activation '{name}' for {where}; choose one of: {', '.join(choices)}"
        )
    return ACTIVATIONS[name]
