"""Backprop against central differences for every activation × loss × bias."""

import itertools

import numpy as np
import pytest

from bpviz.engine import HIDDEN_ACTIVATIONS, LOSSES, Network, gradcheck
from bpviz.engine.gradcheck import numeric_gradient

OUTPUTS = {"squared": ("sigmoid", "tanh", "linear", "softmax", "relu", "leaky_relu"),
           "cross_entropy": ("softmax",), "binary_cross_entropy": ("sigmoid",)}
CASES = [(h, o, loss, bias) for loss in LOSSES for h, o, bias in
         itertools.product(HIDDEN_ACTIVATIONS, OUTPUTS[loss], (True, False))]


def batch(sizes, n, seed, one_hot):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, sizes[0]))
    if one_hot:
        T = np.eye(sizes[-1])[rng.integers(0, sizes[-1], n)]
    else:
        T = rng.uniform(0.05, 0.95, size=(n, sizes[-1]))
    return X, T


@pytest.mark.parametrize("hidden, output, loss, bias", CASES)
@pytest.mark.parametrize("sizes", [(3, 4, 2), (2, 5, 3, 3)])
def test_backprop_matches_central_differences(hidden, output, loss, bias, sizes):
    net = Network(sizes, hidden, output, loss, bias=bias, init="normal", init_scale=0.6,
                  bias_init=0.1, seed=3, reduction="mean")
    X, T = batch(sizes, 5, 4, one_hot=loss != "squared")
    for check in gradcheck(net, X, T, eps=1e-5):
        assert check.rel_error < 1e-7 and check.max_rel_error < 1e-6, (check, hidden, output, loss, bias)


def test_softmax_with_squared_error_uses_the_full_jacobian():
    """The diagonal shortcut δ = (a − t)·a(1 − a) is wrong for softmax; the engine's δ
    must match the numeric gradient with respect to the output pre-activations."""
    net = Network([2, 3], "sigmoid", "softmax", "squared", init="normal", init_scale=1.0, seed=0)
    X, T = np.array([[0.3, -1.2]]), np.array([[0.0, 1.0, 0.0]])
    record = net.backprop(X, T)
    numeric = numeric_gradient(net, X, T, net.biases[0], 1e-6)  # ∂L/∂b = ∂L/∂z for one sample
    assert record.deltas[0][0] == pytest.approx(numeric, rel=1e-6, abs=1e-10)
    a = record.outputs[0]
    shortcut = (a - T[0]) * a * (1 - a)
    assert not np.allclose(shortcut, numeric, rtol=1e-3)


def test_sum_reduction_is_n_times_the_mean():
    X, T = batch((3, 4, 2), 6, 1, one_hot=False)
    mean = Network((3, 4, 2), reduction="mean", seed=2).backprop(X, T)
    total = Network((3, 4, 2), reduction="sum", seed=2).backprop(X, T)
    assert total.loss == pytest.approx(6 * mean.loss)
    assert total.weight_grads[0] == pytest.approx(6 * mean.weight_grads[0])


def test_gradcheck_reports_a_broken_gradient():
    """The check must be able to fail: corrupt the derivative and it must notice."""
    from dataclasses import replace

    net = Network((3, 4, 2), "tanh", "sigmoid", seed=1)
    X, T = batch((3, 4, 2), 4, 2, one_hot=False)
    net.activation = replace(net.activation, derivative=lambda z, a: 1.0 - 0.9 * a * a)
    checks = gradcheck(net, X, T)
    assert max(c.rel_error for c in checks) > 1e-3
    assert max(c.max_rel_error for c in checks) > 1e-3
