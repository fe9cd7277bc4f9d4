"""bpviz.forward: a snapshot's network evaluated away from the engine (no Qt)."""

import numpy as np
import pytest

from bpviz import forward
from bpviz.engine.gradcheck import gradcheck
from bpviz.settings import Settings
from bpviz.snapshot import make_snapshot
from helpers import trained

SPIRAL = Settings(dataset="spiral", hidden=(6, 4), activation="tanh", output_activation="sigmoid",
                  loss="binary_cross_entropy", learning_rate=0.1, mode="batch", batch_size=10)
BLOBS = Settings(dataset="blobs", hidden=(3,), activation="relu", output_activation="softmax",
                 loss="cross_entropy", init="xavier", init_scale=None)
NO_BIAS = Settings(dataset="toy", hidden=(4,), activation="sigmoid", output_activation="sigmoid", bias=False)


STEPS = 30


@pytest.mark.parametrize("settings", [SPIRAL, BLOBS, NO_BIAS], ids=["tanh-sigmoid", "relu-softmax", "no-bias"])
def test_forward_equals_network_predict_bit_for_bit(settings):
    dataset, net, snap = trained(settings, STEPS)
    X = np.vstack([dataset.X_train, dataset.X_test])
    acts = forward.forward_all(snap.weights, snap.biases, snap.activation_names, X)
    assert np.array_equal(acts[-1], net.predict(X))
    assert np.array_equal(forward.snapshot_outputs(snap, X), net.predict(X))
    _, recorded = net.forward(X)
    for mine, theirs in zip(acts, recorded):
        np.testing.assert_allclose(mine, theirs, rtol=1e-12, atol=1e-15)


def test_plane_grid_covers_the_data_with_a_margin():
    X = np.array([[-1.0, 0.0], [3.0, 10.0]])
    grid = forward.plane_grid(X, resolution=50, margin=0.1)
    assert grid.shape == (50, 50) and grid.points.shape == (2500, 2)
    assert grid.xs[0] == pytest.approx(-1.4) and grid.xs[-1] == pytest.approx(3.4)
    assert grid.ys[0] == pytest.approx(-1.0) and grid.ys[-1] == pytest.approx(11.0)
    # Row-major: row r, column c is (xs[c], ys[r]).
    assert tuple(grid.points.reshape(50, 50, 2)[7, 3]) == (grid.xs[3], grid.ys[7])
    x0, y0, w, h = grid.rect
    assert x0 < grid.xs[0] and x0 + w > grid.xs[-1] and y0 < grid.ys[0] and y0 + h > grid.ys[-1]


def test_line_grid_and_degenerate_ranges():
    x = forward.line_grid(np.array([2.0, 2.0, 2.0]), resolution=11)
    assert x.shape == (11, 1) and x.min() < 2.0 < x.max()
    assert np.all(np.diff(x[:, 0]) > 0)


def test_confusion_matrix_counts():
    true = np.array([0, 0, 1, 2, 2, 2])
    predicted = np.array([0, 1, 1, 2, 0, 2])
    expected = np.array([[1, 1, 0], [0, 1, 0], [1, 0, 2]])
    assert np.array_equal(forward.confusion_matrix(true, predicted, 3), expected)


def test_network_from_snapshot_is_an_independent_copy():
    dataset, net, snap = trained(SPIRAL, STEPS)
    copy = forward.network_from_snapshot(snap, "binary_cross_entropy")
    assert copy is not net and copy.sizes == net.sizes
    X = dataset.X_train
    assert np.array_equal(copy.predict(X), net.predict(X))
    copy.weights[0][0, 0] += 1.0
    assert snap.weights[0][0, 0] == net.weights[0][0, 0]
    checks = gradcheck(forward.network_from_snapshot(snap, "binary_cross_entropy"), X[:3], dataset.T_train[:3])
    assert max(c.rel_error for c in checks) < 1e-6


def test_same_parameters():
    _, net, snap = trained(SPIRAL, 3)
    again = make_snapshot(net, net.backprop(np.zeros((1, 2)), np.zeros((1, 1))), 0)
    assert forward.same_parameters(snap, again)
    net.weights[1][0, 0] += 0.5
    moved = make_snapshot(net, net.backprop(np.zeros((1, 2)), np.zeros((1, 1))), 0)
    assert not forward.same_parameters(snap, moved)
