"""TrainingPlots and SampleView fed with real snapshots of real networks."""

from dataclasses import replace

import numpy as np
import pytest

from bpviz.app.views.plots import TrainingPlots
from bpviz.app.views.sample_view import SampleView
from bpviz.settings import Settings
from bpviz.snapshot import History
from helpers import added, trained

IRIS = Settings()
DIGITS = Settings(dataset="digits", hidden=(32, 16))
SINE = Settings(dataset="sine", hidden=(8,), output_activation="linear", activation="tanh")
XOR = Settings(dataset="xor", hidden=(3,), output_activation="sigmoid")


def _history(n_epochs, n_weight_layers, *, test=True, classification=True):
    epochs = np.arange(1, n_epochs + 1)
    nan = np.full(n_epochs, np.nan)
    loss = 1.0 / epochs
    accuracy = 1.0 - 0.5 / epochs
    return History(
        train_loss=loss,
        test_loss=1.1 * loss if test else nan,
        train_accuracy=accuracy if classification else nan,
        test_accuracy=accuracy - 0.01 if classification and test else nan,
        grad_norms=np.column_stack([10.0 ** -k / epochs for k in range(n_weight_layers)]))


@pytest.fixture
def plots(qtbot):
    return added(qtbot, TrainingPlots(), (420, 600), show=False)


@pytest.fixture
def sample_view(qtbot):
    return added(qtbot, SampleView(), (420, 600), show=False)


# --- TrainingPlots -------------------------------------------------------------

def test_curves_equal_the_history(plots):
    history = _history(30, 2)
    dataset, _, snap = trained(IRIS, 1, history=history)
    plots.set_dataset(dataset)
    plots.show_snapshot(snap)
    for name in ("train_loss", "test_loss", "train_accuracy", "test_accuracy"):
        x, y = plots.curve_data(name)
        np.testing.assert_array_equal(x, np.arange(1, 31))
        np.testing.assert_array_equal(y, getattr(history, name))
    for k in range(2):
        np.testing.assert_array_equal(plots.curve_data(f"W{k + 1}")[1], history.grad_norms[:, k])
    assert plots.accuracy_shown()
    assert plots.legend_text("train_loss") == f"train {history.train_loss[-1]:.4f}"
    assert plots.legend_text("W2") == f"W2 {history.grad_norms[-1, 1]:.3g}"
    assert not plots.grab().isNull()


def test_one_gradient_curve_per_weight_layer(plots):
    dataset, _, snap = trained(DIGITS, 1, history=_history(5, 3))
    plots.set_dataset(dataset)
    plots.show_snapshot(snap)
    assert [n for n in plots.curve_names() if n.startswith("W")] == ["W1", "W2", "W3"]
    _, _, snap = trained(IRIS, 1, history=_history(6, 2))
    plots.show_snapshot(snap)
    assert [n for n in plots.curve_names() if n.startswith("W")] == ["W1", "W2"]


def test_the_epoch_axis_grows_now_and_then_and_always_shows_every_epoch(plots):
    dataset, _, snap = trained(IRIS, 1, history=_history(3, 2))
    plots.set_dataset(dataset)
    assert plots.epoch_range() == (1, 10)
    spans = {}
    for n in (3, 10, 11, 20, 21, 26, 51, 240):
        _, _, snap = trained(IRIS, 1, history=_history(n, 2))
        plots.show_snapshot(snap)
        spans[n] = plots.epoch_range()[1]
        low, high = plots._loss.item.viewRange()[0]
        assert low < 1 and high > spans[n] >= n  # every epoch inside, with a margin
    assert spans == {3: 10, 10: 10, 11: 20, 20: 20, 21: 25, 26: 50, 51: 100, 240: 250}
    plots.clear()
    assert plots.epoch_range() == (1, 10)


def test_while_playing_the_three_plots_are_drawn_in_turn(plots, qtbot):
    dataset, _, snap = trained(DIGITS, 1, history=_history(12, 3))
    plots.set_dataset(dataset)
    plots.show_snapshot(replace(snap, playing=True))
    # The loss at once; accuracy and gradients in later turns of the event loop, so
    # that a click waits for one plot at most.
    assert len(plots.curve_data("train_loss")[1]) == 12
    assert len(plots.curve_data("train_accuracy")[1]) == 0 and "W1" not in plots.curve_names()
    qtbot.waitUntil(lambda: "W3" in plots.curve_names())
    assert len(plots.curve_data("train_accuracy")[1]) == 12
    assert all(len(plots.curve_data(f"W{k}")[1]) == 12 for k in (1, 2, 3))


def test_a_cleared_plot_drops_the_curves_still_waiting(plots, qtbot):
    dataset, _, snap = trained(DIGITS, 1, history=_history(12, 3))
    plots.set_dataset(dataset)
    plots.show_snapshot(replace(snap, playing=True))
    plots.clear()  # a new dataset, say, before the other plots' turns came
    qtbot.wait(50)
    assert all(len(plots.curve_data(name)[1]) == 0 for name in plots.curve_names())
    assert "W1" not in plots.curve_names()


def test_accuracy_is_hidden_for_regression(plots):
    dataset, _, snap = trained(SINE, 1, history=_history(30, 2, classification=False))
    plots.set_dataset(dataset)
    plots.show_snapshot(snap)
    assert not plots.accuracy_shown()
    assert len(plots.curve_data("train_accuracy")[1]) == 0
    assert len(plots.curve_data("train_loss")[1]) == 30
    assert not plots.grab().isNull()
    plots.set_dataset(IRIS.load_dataset())
    assert plots.accuracy_shown()


def test_nan_test_loss_is_not_drawn_and_does_not_break_plotting(plots):
    dataset, _, snap = trained(IRIS, 1, history=_history(30, 2, test=False))
    plots.set_dataset(dataset)
    plots.show_snapshot(snap)
    assert len(plots.curve_data("test_loss")[1]) == 0
    assert plots.legend_text("test_loss") == "test"
    plots.set_loss_log_scale(True)
    assert not plots.grab().isNull()


def test_partly_nan_curves_keep_their_gaps(plots):
    history = _history(10, 2)
    test_loss = history.test_loss.copy()
    test_loss[3:5] = np.nan
    grads = history.grad_norms.copy()
    grads[2, 0] = 0.0  # a dead layer: no logarithm, drawn as a gap
    history = History(history.train_loss, test_loss, history.train_accuracy,
                      history.test_accuracy, grads)
    dataset, _, snap = trained(IRIS, 1, history=history)
    plots.set_dataset(dataset)
    plots.show_snapshot(snap)
    np.testing.assert_array_equal(plots.curve_data("test_loss")[1], test_loss)
    assert np.isnan(plots.curve_data("W1")[1][2])
    assert plots.legend_text("test_loss") == f"test {test_loss[-1]:.4f}"
    assert not plots.grab().isNull()


def test_test_curves_hidden_without_a_test_set(plots):
    settings = Settings(dataset="circle", hidden=(4,), output_activation="sigmoid", test_fraction=0.0)
    dataset, _, snap = trained(settings, 1, history=_history(4, 2, test=False))
    assert dataset.n_test == 0
    plots.set_dataset(dataset)
    plots.show_snapshot(snap)
    assert not plots.curve_shown("test_loss") and not plots.curve_shown("test_accuracy")
    assert plots.curve_shown("train_loss")
    plots.set_dataset(IRIS.load_dataset())
    assert plots.curve_shown("test_loss")


def test_an_unchanged_history_is_not_redrawn(plots):
    dataset, _, snap = trained(IRIS, 1, history=_history(5, 2))
    plots.set_dataset(dataset)
    plots.show_snapshot(snap)
    same_length = History(train_loss=np.full(5, 9.0), test_loss=np.full(5, 9.0),
                          train_accuracy=np.zeros(5), test_accuracy=np.zeros(5),
                          grad_norms=np.ones((5, 2)))
    plots.show_snapshot(replace(snap, history=same_length))
    np.testing.assert_array_equal(plots.curve_data("train_loss")[1], 1.0 / np.arange(1, 6))
    longer = _history(6, 2)
    plots.show_snapshot(replace(snap, history=longer))
    np.testing.assert_array_equal(plots.curve_data("train_loss")[1], longer.train_loss)


def test_set_dataset_and_clear_empty_the_curves(plots):
    dataset, _, snap = trained(IRIS, 1, history=_history(5, 2))
    plots.set_dataset(dataset)
    plots.show_snapshot(snap)
    plots.clear()
    assert all(len(plots.curve_data(n)[1]) == 0 for n in plots.curve_names())
    plots.show_snapshot(snap)  # the same history is drawn again after a clear
    assert len(plots.curve_data("train_loss")[1]) == 5
    plots.set_dataset(dataset)
    assert len(plots.curve_data("train_loss")[1]) == 0


def test_log_scale_toggle(plots):
    dataset, _, snap = trained(IRIS, 1, history=_history(30, 2))
    plots.set_dataset(dataset)
    plots.show_snapshot(snap)
    assert not plots.loss_log_scale()
    plots.set_loss_log_scale(True)
    assert plots.loss_log_scale()
    assert not plots.grab().isNull()
    plots.set_loss_log_scale(False)
    assert not plots.loss_log_scale()


# --- SampleView ----------------------------------------------------------------

def test_sample_view_shows_the_exact_sample(sample_view):
    dataset, _, snap = trained(IRIS, 7)
    sample_view.set_dataset(dataset)
    sample_view.show_snapshot(snap)
    x, t, y = snap.activations[0], snap.target, snap.activations[-1]
    assert sample_view.input_rows() == [(name, f"{v:.4f}") for name, v in zip(dataset.feature_names, x)]
    assert sample_view.output_rows() == [(name, f"{a:.4f}", f"{b:.4f}")
                                         for name, a, b in zip(dataset.class_names, t, y)]
    np.testing.assert_array_equal(x, dataset.X_train[snap.sample_index])
    assert str(snap.sample_index) in sample_view.header_text()
    assert f"{snap.sample_loss:.4f}" in sample_view.header_text()
    assert sample_view.target_row() == int(np.argmax(t))
    assert sample_view.predicted_row() == int(np.argmax(y))
    verdict = sample_view.verdict_text()
    assert f"target {dataset.class_names[np.argmax(t)]}" in verdict
    assert f"predicted {dataset.class_names[np.argmax(y)]}" in verdict
    assert ("✓" in verdict) == (np.argmax(t) == np.argmax(y))
    assert sample_view.image() is None
    assert not sample_view.grab().isNull()


def test_sample_view_digits_image_is_the_input(sample_view):
    dataset, _, snap = trained(DIGITS, 3)
    sample_view.set_dataset(dataset)
    sample_view.show_snapshot(snap)
    np.testing.assert_array_equal(sample_view.image(), snap.activations[0].reshape(8, 8))
    assert sample_view.input_rows() == []
    assert [row[0] for row in sample_view.output_rows()] == list(dataset.class_names)
    assert sample_view.target_row() == int(np.argmax(snap.target))
    assert not sample_view.grab().isNull()


def test_sample_view_regression_shows_numbers(sample_view):
    dataset, _, snap = trained(SINE, 5)
    sample_view.set_dataset(dataset)
    sample_view.show_snapshot(snap)
    t, y = snap.target[0], snap.activations[-1][0]
    assert sample_view.input_rows() == [("x", f"{snap.activations[0][0]:.4f}")]
    assert sample_view.output_rows() == [("y", f"{t:.4f}", f"{y:.4f}")]
    assert sample_view.verdict_text() == f"output − target = {y - t:.4f}"
    assert sample_view.target_row() is None
    assert "predicted" not in sample_view.shown_text()


def test_sample_view_binary_output_uses_the_threshold(sample_view):
    dataset, _, snap = trained(XOR, 2)
    sample_view.set_dataset(dataset)
    sample_view.show_snapshot(snap)
    t, y = snap.target[0], snap.activations[-1][0]
    assert sample_view.output_rows() == [("y", f"{t:.4f}", f"{y:.4f}")]
    predicted = dataset.class_names[int(y > 0.5)]
    assert f"target {dataset.class_names[int(t > 0.5)]} · predicted {predicted}" in sample_view.verdict_text()


def test_sample_view_survives_a_snapshot_of_another_network(sample_view):
    dataset, _, _ = trained(DIGITS, 1)
    _, _, snap = trained(IRIS, 1)
    sample_view.set_dataset(dataset)  # the dataset changed; an old snapshot arrives
    sample_view.show_snapshot(snap)
    assert [row[0] for row in sample_view.input_rows()] == ["x1", "x2", "x3", "x4"]
    assert sample_view.image() is None
    sample_view.clear()
    assert sample_view.output_rows() == []
