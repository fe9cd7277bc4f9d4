"""The network against hand-worked examples and its own API contract."""

import math
import warnings

import numpy as np
import pytest

from bpviz.engine import Network
from bpviz.errors import BpvizError


def mazur_network():
    """Matt Mazur's "A Step by Step Backpropagation Example" (2-2-2, sigmoid)."""
    net = Network([2, 2, 2], "sigmoid", "sigmoid", "squared", reduction="sum")
    # weights[k][i, j] links node i of layer k to node j of layer k+1:
    # w1: i1→h1, w2: i2→h1, w3: i1→h2, w4: i2→h2; w5: h1→o1, w6: h2→o1, w7: h1→o2, w8: h2→o2.
    net.set_params([[[0.15, 0.25], [0.20, 0.30]], [[0.40, 0.50], [0.45, 0.55]]],
                   [[0.35, 0.35], [0.60, 0.60]])
    return net, np.array([[0.05, 0.10]]), np.array([[0.01, 0.99]])


def test_mazur_forward_loss_and_updated_weights():
    net, X, T = mazur_network()
    record = net.backprop(X, T)
    # The published intermediate values, to the digits printed there.
    assert record.activations[1][0] == pytest.approx([0.593269992, 0.596884378], abs=1e-9)
    assert record.outputs[0] == pytest.approx([0.75136507, 0.772928465], abs=1e-8)
    assert record.loss == pytest.approx(0.298371109, abs=1e-9)
    assert record.weight_grads[1][0, 0] == pytest.approx(0.082167041, abs=1e-9)  # ∂E/∂w5
    net.update(record, 0.5)
    assert net.weights[1] == pytest.approx(np.array([[0.35891648, 0.511301270], [0.408666186, 0.561370121]]),
                                           abs=1e-8)
    assert net.weights[0] == pytest.approx(np.array([[0.149780716, 0.24975114], [0.19956143, 0.29950229]]),
                                           abs=1e-8)


def sigmoid(x):
    return 1 / (1 + math.exp(-x))


def test_tiny_network_by_hand():
    """A 2-2-1 sigmoid network worked through with scalar arithmetic, every number."""
    net = Network([2, 2, 1], "sigmoid", "sigmoid", "squared")
    W1 = [[0.4, -0.25], [0.5, 0.3]]
    b1 = [0.1, -0.2]
    W2 = [[0.7], [-0.6]]
    b2 = [0.05]
    net.set_params([W1, W2], [b1, b2])
    x1, x2, t = 1.0, 0.5, 1.0
    z_h = [W1[0][j] * x1 + W1[1][j] * x2 + b1[j] for j in range(2)]     # [0.75, -0.3]
    a_h = [sigmoid(z) for z in z_h]
    z_o = W2[0][0] * a_h[0] + W2[1][0] * a_h[1] + b2[0]
    a_o = sigmoid(z_o)
    loss = 0.5 * (a_o - t) ** 2
    d_o = (a_o - t) * a_o * (1 - a_o)
    d_h = [a_h[j] * (1 - a_h[j]) * W2[j][0] * d_o for j in range(2)]
    lr = 0.5

    record = net.backprop(np.array([[x1, x2]]), np.array([[t]]))
    assert z_h == pytest.approx([0.75, -0.3])
    assert record.pre_activations[0][0] == pytest.approx(z_h, abs=1e-15)
    assert record.activations[1][0] == pytest.approx(a_h, abs=1e-15)
    assert record.outputs[0, 0] == pytest.approx(a_o, abs=1e-15)
    assert record.loss == pytest.approx(loss, abs=1e-15)
    assert record.deltas[1][0, 0] == pytest.approx(d_o, abs=1e-15)
    assert record.deltas[0][0] == pytest.approx(d_h, abs=1e-15)
    net.update(record, lr)
    expected_W1 = [[W1[i][j] - lr * [x1, x2][i] * d_h[j] for j in range(2)] for i in range(2)]
    expected_W2 = [[W2[j][0] - lr * a_h[j] * d_o] for j in range(2)]
    assert net.weights[0] == pytest.approx(np.array(expected_W1), abs=1e-15)
    assert net.weights[1] == pytest.approx(np.array(expected_W2), abs=1e-15)
    assert net.biases[0] == pytest.approx([b1[j] - lr * d_h[j] for j in range(2)], abs=1e-15)
    assert net.biases[1] == pytest.approx([b2[0] - lr * d_o], abs=1e-15)


def test_shapes_follow_the_documented_convention():
    net = Network([4, 5, 6, 3], "relu", "softmax", "cross_entropy")
    assert [w.shape for w in net.weights] == [(4, 5), (5, 6), (6, 3)]
    assert [b.shape for b in net.biases] == [(5,), (6,), (3,)]
    X, T = np.random.default_rng(0).normal(size=(7, 4)), np.eye(3)[[0, 1, 2, 0, 1, 2, 0]]
    r = net.backprop(X, T)
    assert [a.shape for a in r.activations] == [(7, 4), (7, 5), (7, 6), (7, 3)]
    assert [z.shape for z in r.pre_activations] == [(7, 5), (7, 6), (7, 3)]
    assert [d.shape for d in r.deltas] == [(7, 5), (7, 6), (7, 3)]
    assert [g.shape for g in r.weight_grads] == [w.shape for w in net.weights]
    assert [g.shape for g in r.bias_grads] == [b.shape for b in net.biases]
    assert np.allclose(r.outputs.sum(axis=1), 1.0)
    assert np.array_equal(net.predict(X), r.outputs)


def test_backprop_changes_nothing_and_seed_repeats_bit_for_bit():
    a = Network([3, 4, 2], init="he", seed=7)
    b = Network([3, 4, 2], init="he", seed=7)
    c = Network([3, 4, 2], init="he", seed=8)
    assert all(np.array_equal(x, y) for x, y in zip(a.weights, b.weights))
    assert not np.array_equal(a.weights[0], c.weights[0])
    before = a.get_params()
    a.backprop(np.ones((2, 3)), np.zeros((2, 2)))
    assert all(np.array_equal(x, y) for x, y in zip(before[0], a.weights))


def test_uniform_init_replays_the_classic_tutorial_draw():
    net = Network([3, 4, 1], init="uniform", init_scale=1.0, seed=1, bias=False)
    np.random.seed(1)
    syn0 = 2 * np.random.random((3, 4)) - 1
    syn1 = 2 * np.random.random((4, 1)) - 1
    assert np.array_equal(net.weights[0], syn0) and np.array_equal(net.weights[1], syn1)


@pytest.mark.parametrize("init, check", [
    ("uniform", lambda w: np.abs(w).max() <= 0.01),
    ("xavier", lambda w: np.abs(w).max() <= np.sqrt(6 / (w.shape[0] + w.shape[1]))),
])
def test_inits_respect_their_ranges(init, check):
    net = Network([20, 30, 10], init=init, init_scale=0.01 if init == "uniform" else None)
    assert all(check(w) for w in net.weights)


def test_no_bias_network_never_trains_biases():
    net = Network([2, 3, 1], bias=False)
    r = net.backprop(np.ones((1, 2)), np.ones((1, 1)))
    net.update(r, 1.0)
    assert all(not b.any() for b in net.biases)
    assert len(net.params) == 2


def test_set_params_names_the_layer_that_does_not_fit_and_changes_nothing():
    net = Network([4, 5, 3])
    before = net.get_params()
    with pytest.raises(BpvizError, match="layer 1→2"):
        net.set_params([np.zeros((4, 5)), np.zeros((5, 4))])
    with pytest.raises(BpvizError, match="finite"):
        net.set_params([np.full((4, 5), np.nan), np.zeros((5, 3))])
    assert all(np.array_equal(x, y) for x, y in zip(before[0], net.weights))


@pytest.mark.parametrize("kwargs, message", [
    ({"sizes": [4]}, "at least an input and an output"),
    ({"sizes": [4, 0, 3]}, "at least one node"),
    ({"sizes": [4, "x", 3]}, "whole numbers"),
    ({"sizes": [2, 2], "activation": "softmax"}, "unknown activation 'softmax' for a hidden layer"),
    ({"sizes": [2, 2], "loss": "cross_entropy"}, "needs a softmax output"),
    ({"sizes": [2, 2], "output_activation": "tanh", "loss": "binary_cross_entropy"}, "needs a sigmoid output"),
    ({"sizes": [2, 2], "init": "magic"}, "unknown init"),
    ({"sizes": [2, 2], "init_scale": -1.0}, "positive"),
    ({"sizes": [2, 2], "reduction": "max"}, "reduction"),
])
def test_bad_constructor_arguments_get_clear_errors(kwargs, message):
    with pytest.raises(BpvizError, match=message):
        Network(**kwargs)


def test_wrong_batch_shapes_are_refused():
    net = Network([3, 2])
    with pytest.raises(BpvizError, match="3 columns"):
        net.backprop(np.ones((2, 4)), np.ones((2, 2)))
    with pytest.raises(BpvizError, match="targets"):
        net.backprop(np.ones((2, 3)), np.ones((2, 3)))


def test_extreme_inputs_give_no_warnings_and_finite_canonical_losses():
    net = Network([1, 1], "sigmoid", "softmax", "cross_entropy")
    net.set_params([[[1e4]]], [[0.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = net.backprop(np.array([[-1e3]]), np.array([[1.0]]))
    assert math.isfinite(r.loss)
    net = Network([1, 1], "sigmoid", "sigmoid", "binary_cross_entropy")
    net.set_params([[[1.0]]], [[0.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = net.backprop(np.array([[-800.0]]), np.array([[1.0]]))
    assert r.loss == pytest.approx(800.0)
    assert r.deltas[0][0, 0] == pytest.approx(-1.0)
