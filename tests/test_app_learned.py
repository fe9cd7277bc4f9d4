"""What the network learned: the decision boundary and fit, neuron maps, confusion
matrices and the gradient-check dialog, each compared with the engine's own
predictions for the same weights."""

import threading

import numpy as np
import pytest
import shiboken6
from pytestqt.qtbot import QtBot

from bpviz import forward
from bpviz.app import background, gradcheck_dialog
from bpviz.app.gradcheck_dialog import GradcheckDialog, check_rows
from bpviz.app.views import palette
from bpviz.app.views.boundary import BoundaryView
from bpviz.app.views.learned_colours import NEURON_PALENESS, class_rgb, node_thumbnails, output_rgba
from bpviz.app.views.confusion import ConfusionView
from bpviz.app.views.network_view import NetworkView
from bpviz.app.views.throttle import Throttle
from bpviz.datasets import accuracy
from bpviz.engine.gradcheck import gradcheck
from bpviz.engine.network import Network
from bpviz.settings import Settings
from bpviz.snapshot import make_snapshot
from helpers import added, trained

TIMEOUT = 5000
SPIRAL = Settings(dataset="spiral", hidden=(6, 4), activation="tanh", output_activation="sigmoid",
                  loss="binary_cross_entropy", init="xavier", init_scale=None, optimizer="adam",
                  learning_rate=0.02, mode="batch", batch_size=10, epochs=None)
BLOBS = Settings(dataset="blobs", hidden=(5,), activation="relu", output_activation="softmax",
                 loss="cross_entropy", init="xavier", init_scale=None, learning_rate=0.05)
SINE = Settings(dataset="sine", hidden=(8,), activation="tanh", output_activation="linear",
                init="xavier", init_scale=None, optimizer="adam", learning_rate=0.01, mode="batch",
                batch_size=10)
PLANE = Settings(dataset="plane", hidden=(3,), activation="tanh", output_activation="linear")
IRIS = Settings()


STEPS = 40


@pytest.fixture
def boundary(qtbot):
    return added(qtbot, BoundaryView(), (520, 520))


@pytest.fixture
def confusion(qtbot):
    return added(qtbot, ConfusionView(), (640, 320))


def _show(view, settings, steps=STEPS):
    dataset, net, snap = trained(settings, steps)
    view.set_dataset(dataset)
    view.show_snapshot(snap)
    view.flush()
    if isinstance(view, ConfusionView):
        QtBot(view).waitUntil(lambda: not view.counting(), timeout=TIMEOUT)
    return dataset, net, snap


# --- decision boundary ----------------------------------------------------------

def test_boundary_image_is_the_networks_prediction_on_its_grid(boundary):
    dataset, net, _ = _show(boundary, SPIRAL)
    assert boundary.mode() == "plane" and boundary.title() == "Decision boundary"
    grid = boundary.grid()
    ny, nx = grid.shape
    assert (ny, nx) == (100, 100)
    X = np.vstack([dataset.X_train, dataset.X_test])
    assert grid.xs[0] < X[:, 0].min() and grid.xs[-1] > X[:, 0].max()
    assert grid.ys[0] < X[:, 1].min() and grid.ys[-1] > X[:, 1].max()

    predicted = net.predict(grid.points)
    assert np.array_equal(boundary.shown_values(), predicted.reshape(ny, nx, 1))
    image = boundary.image_rgba()
    assert np.array_equal(image, output_rgba(predicted, 2).reshape(ny, nx, 4))
    # Row r, column c is the point (xs[c], ys[r]): blue where the net says class 1.
    p = predicted.reshape(ny, nx)
    r, g, b = (image[..., i].astype(int) for i in range(3))
    assert np.all((b > r)[p > 0.55]) and np.all((r > b)[p < 0.45])
    assert (p > 0.55).any() and (p < 0.45).any()


def test_multiclass_boundary_takes_the_argmax_class_colour(boundary):
    dataset, net, _ = _show(boundary, BLOBS, steps=600)
    grid = boundary.grid()
    predicted = net.predict(grid.points)
    assert np.array_equal(boundary.shown_values(), predicted.reshape(*grid.shape, 3))
    image = boundary.image_rgba().reshape(-1, 4)[:, :3].astype(float)
    # Each pixel is white moved towards one class colour; that class is the argmax.
    towards = (255.0 - image) / np.maximum(np.linalg.norm(255.0 - image, axis=1, keepdims=True), 1e-9)
    classes = 255.0 - class_rgb(3)
    classes /= np.linalg.norm(classes, axis=1, keepdims=True)
    confident = predicted.max(axis=1) > 0.6
    assert confident.sum() > 1000
    nearest = np.argmax(towards[confident] @ classes.T, axis=1)
    assert np.array_equal(nearest, predicted[confident].argmax(axis=1))
    # Brighter where less sure.
    sure, unsure = predicted.max(axis=1) > 0.95, predicted.max(axis=1) < 0.5
    assert image[sure].mean() < image[unsure].mean()


def test_hidden_neuron_view_is_that_neurons_activation(boundary):
    dataset, net, _ = _show(boundary, SPIRAL)
    grid = boundary.grid()
    boundary.select_neuron(1, 2)
    assert boundary.selected_neuron() == (1, 2)
    _, activations = net.forward(grid.points)
    expected = activations[1][:, 2].reshape(grid.shape)
    assert np.array_equal(boundary.shown_values(), expected)
    # tanh is drawn on ±1 in the network view's node colours, paled towards white.
    node = palette.image_rgba(expected, 1.0).astype(float)
    pale = np.rint(255.0 - NEURON_PALENESS * (255.0 - node[..., :3]))
    assert np.array_equal(boundary.image_rgba()[..., :3], pale.astype(np.uint8))
    assert "hidden 1, neuron 3" in boundary.caption_text()

    boundary.select_neuron(2, 0)
    assert np.array_equal(boundary.shown_values(), activations[2][:, 0].reshape(grid.shape))
    boundary._back.click()
    assert boundary.selected_neuron() is None
    assert np.array_equal(boundary.shown_values(), net.predict(grid.points).reshape(*grid.shape, 1))


def test_neuron_selection_survives_new_snapshots_and_ignores_inputs(boundary):
    dataset, net, trainer = SPIRAL.build()
    st = trainer.step()
    boundary.set_dataset(dataset)
    boundary.show_snapshot(make_snapshot(net, st.record, 0, st, step=st.step))
    boundary.flush()
    boundary.select_neuron(0, 1)
    assert boundary.selected_neuron() is None
    boundary.select_neuron(1, 99)
    assert boundary.selected_neuron() is None
    boundary.select_neuron(1, 0)
    for _ in range(5):
        st = trainer.step()
    boundary.show_snapshot(make_snapshot(net, st.record, 0, st, step=st.step))
    boundary.flush()
    assert boundary.selected_neuron() == (1, 0)
    _, activations = net.forward(boundary.grid().points)
    assert np.array_equal(boundary.shown_values(), activations[1][:, 0].reshape(boundary.grid().shape))


def test_node_thumbnails_cover_small_layers(boundary):
    received = []
    boundary.thumbnails_ready.connect(received.append)
    dataset, net, _ = _show(boundary, SPIRAL)
    maps = received[-1]
    assert set(maps) == {(k, i) for k, n in enumerate((2, 6, 4, 1)) for i in range(n)}
    _, activations = net.forward(boundary.grid().points)
    small = activations[1][:, 3].reshape(boundary.grid().shape)[::3, ::3]
    assert np.array_equal(maps[(1, 3)], palette.image_rgba(small, 1.0))
    boundary.set_thumbnails_enabled(False)
    assert received[-1] == {}


def test_fit_curve_is_predict_on_its_inputs(boundary):
    dataset, net, _ = _show(boundary, SINE, steps=200)
    assert boundary.mode() == "line" and boundary.title() == "Fit"
    x = boundary.line_inputs()
    assert x.min() < dataset.X_train.min() and x.max() > dataset.X_train.max()
    cx, cy = boundary.curve_data()
    assert np.array_equal(cx, x[:, 0])
    assert np.array_equal(cy, net.predict(x)[:, 0])
    boundary.select_neuron(1, 4)
    _, activations = net.forward(x)
    nx, ny = boundary.neuron_curve_data()
    assert np.array_equal(nx, x[:, 0]) and np.array_equal(ny, activations[1][:, 4])


def test_regression_plane_is_drawn_as_a_height_map(boundary):
    dataset, net, _ = _show(boundary, PLANE)
    assert boundary.mode() == "plane" and boundary.title() == "Output over the plane"
    grid = boundary.grid()
    assert np.array_equal(boundary.shown_values(), net.predict(grid.points).reshape(*grid.shape, 1))


def test_datasets_with_more_inputs_get_a_note(boundary):
    received = []
    boundary.title_changed.connect(received.append)
    _show(boundary, IRIS)
    assert boundary.mode() is None
    assert "4 dimensions" in boundary.note_text()
    assert boundary.shown_values() is None and boundary.image_rgba() is None
    assert received == ["Decision boundary"]


def test_unchanged_weights_do_not_redraw(boundary, monkeypatch):
    dataset, net, snap = _show(boundary, SPIRAL)
    calls = []
    monkeypatch.setattr("bpviz.forward.forward_all", lambda *a: calls.append(a))
    boundary.show_snapshot(make_snapshot(net, net.backprop(dataset.X_train[:1], dataset.T_train[:1]), 0))
    boundary.flush()
    assert calls == []


# --- confusion matrix -------------------------------------------------------------

@pytest.mark.parametrize("settings", [BLOBS, IRIS, SPIRAL], ids=["blobs", "iris", "spiral"])
def test_confusion_counts_equal_a_hand_count(confusion, settings):
    dataset, net, _ = _show(confusion, settings, steps=200)
    assert confusion.parts() == ["train", "test"]
    k = len(dataset.class_names)
    for part, X, T in (("train", dataset.X_train, dataset.T_train), ("test", dataset.X_test, dataset.T_test)):
        predicted = dataset.labels(net.predict(X))
        true = dataset.labels(T)
        expected = np.zeros((k, k), dtype=int)
        for t, p in zip(true, predicted):
            expected[t, p] += 1
        assert np.array_equal(confusion.counts(part), expected)
        assert np.trace(expected) / len(X) == pytest.approx(accuracy(net.predict(X), T))


def test_confusion_for_regression_is_a_note(confusion):
    _show(confusion, SINE)
    assert confusion.parts() == []
    assert "regression" in confusion.note_text()
    confusion.grab()  # paints the note without error


def test_confusion_counts_off_the_gui_thread_and_drops_counts_of_replaced_data(qtbot, monkeypatch):
    threads, release = [], threading.Event()
    count = ConfusionView._count

    def recording_count(view, snapshot):
        work = count(view, snapshot)

        def recorded():
            threads.append(threading.get_ident())
            release.wait(5)
            return work()
        return recorded

    monkeypatch.setattr(ConfusionView, "_count", recording_count)
    confusion = added(qtbot, ConfusionView(), (640, 320))
    release.set()
    dataset, _, snap = _show(confusion, IRIS, steps=50)
    assert threads and threads[-1] != threading.get_ident()
    assert confusion.counts("train").sum() == dataset.n_train

    release.clear()
    _, _, later = trained(IRIS, 300)
    confusion.show_snapshot(later)
    confusion.flush()
    qtbot.waitUntil(lambda: len(threads) == 2, timeout=TIMEOUT)
    confusion.set_dataset(trained(BLOBS, 1)[0])  # while iris is being counted
    release.set()
    qtbot.waitUntil(lambda: not confusion.counting(), timeout=TIMEOUT)
    assert confusion.parts() == [] and confusion.note_text() == "Waiting for the network…"


def test_hidden_confusion_counts_when_shown_again(confusion, qtbot):
    dataset, _, first = _show(confusion, IRIS, steps=5)
    before = confusion.counts("train")
    _, _, later = trained(IRIS, 300)
    confusion.hide()
    confusion.show_snapshot(later)
    confusion.flush()
    assert not confusion.counting() and np.array_equal(confusion.counts("train"), before)
    confusion.show()
    qtbot.waitUntil(lambda: not np.array_equal(confusion.counts("train"), before), timeout=TIMEOUT)
    expected = dataset.labels(forward.snapshot_outputs(later, dataset.X_train))
    assert np.array_equal(confusion.counts("train").sum(axis=0), np.bincount(expected, minlength=3))


# --- throttle ------------------------------------------------------------------------

def test_throttle_draws_the_first_at_once_and_the_latest_after_the_interval(qtbot):
    seen = []
    throttle = Throttle(seen.append, max_rate_hz=10)
    for value in range(50):
        throttle.submit(value)
    assert seen == [0]
    qtbot.waitUntil(lambda: seen[-1] == 49, timeout=1000)
    assert seen == [0, 49]


def test_background_throttle_runs_one_call_at_a_time_and_delivers_the_latest(qtbot):
    release, calls, delivered = threading.Event(), [], []

    def work(value):
        calls.append((value, threading.get_ident()))
        release.wait(5)
        return value * 10

    throttle = Throttle(lambda value: lambda: work(value), max_rate_hz=1000, deliver=delivered.append)
    throttle.submit(1)
    for value in range(2, 20):
        throttle.submit(value)
        throttle.flush()   # refused: the first call is still running
    qtbot.waitUntil(lambda: len(calls) == 1, timeout=TIMEOUT)
    assert throttle.running() and delivered == []
    release.set()
    qtbot.waitUntil(lambda: delivered == [10, 190], timeout=TIMEOUT)
    assert [value for value, _ in calls] == [1, 19]
    assert all(thread != threading.get_ident() for _, thread in calls)
    qtbot.waitUntil(lambda: not throttle.running(), timeout=TIMEOUT)


def test_background_throttle_of_a_deleted_owner_delivers_nothing(qtbot):
    release, delivered = threading.Event(), []
    view = ConfusionView()
    throttle = Throttle(lambda value: lambda: release.wait(5) and value, 1000, view, deliver=delivered.append)
    throttle.submit(1)
    view.deleteLater()
    qtbot.waitUntil(lambda: not shiboken6.isValid(throttle), timeout=TIMEOUT)
    release.set()
    qtbot.waitUntil(lambda: not background.busy(), timeout=TIMEOUT)
    assert delivered == []


# --- gradient check -----------------------------------------------------------------

def test_gradcheck_dialog_passes_a_correct_network_with_gradchecks_numbers(qtbot):
    dataset, net, snap = trained(SPIRAL, STEPS)
    dialog = GradcheckDialog(snap, dataset, SPIRAL.loss, SPIRAL.reduction)
    qtbot.addWidget(dialog)
    assert dialog.is_done() and dialog.passed()
    rows = check_rows(dataset.n_train)
    expected = gradcheck(net, dataset.X_train[rows], dataset.T_train[rows])
    assert dialog.checks() == expected
    assert dialog.row_count() == 3
    for row, check in enumerate(expected):
        assert dialog.cell_text(row, 0) == f"layer {row} → {row + 1}"
        assert dialog.cell_text(row, 1) == f"{check.rel_error:.2e}"
        assert dialog.cell_text(row, 2) == "PASS"
        assert dialog.cell_text(row, 3) == f"{check.max_rel_error_weights:.2e}"
        assert dialog.cell_text(row, 4) == f"{check.max_rel_error_biases:.2e}"
    assert dialog.verdict_text().startswith("PASS")


def test_gradcheck_dialog_checks_large_networks_off_the_gui_thread(qtbot, monkeypatch):
    monkeypatch.setattr(gradcheck_dialog, "SYNC_PARAMS", 10)
    dataset, net, snap = trained(SPIRAL, 3)
    dialog = GradcheckDialog(snap, dataset, SPIRAL.loss, SPIRAL.reduction)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(dialog.is_done, timeout=TIMEOUT)
    assert dialog.passed() and dialog.verdict_text().startswith("PASS")


def test_gradcheck_dialog_fails_a_wrong_backprop(qtbot, monkeypatch):
    original = Network.backprop

    def off_by_ten_percent(self, X, T):
        record = original(self, X, T)
        record.weight_grads[0] = record.weight_grads[0] * 1.1
        return record

    monkeypatch.setattr(Network, "backprop", off_by_ten_percent)
    dataset, _, snap = trained(SPIRAL, 3)
    dialog = GradcheckDialog(snap, dataset, SPIRAL.loss, SPIRAL.reduction)
    qtbot.addWidget(dialog)
    assert dialog.passed() is False
    assert dialog.cell_text(0, 2) == "FAIL" and dialog.cell_text(1, 2) == "PASS"
    assert dialog.verdict_text().startswith("FAIL")


# --- in the window ------------------------------------------------------------------

@pytest.fixture
def window(make_window):
    return make_window(SPIRAL)


def test_window_routes_snapshots_clicks_and_maps(qtbot, window):
    assert window.boundary in window.views and window.confusion in window.views
    window.step()
    qtbot.waitUntil(lambda: window.last_snapshot.step == 1, timeout=TIMEOUT)
    window.boundary.flush()
    snap = window.last_snapshot
    assert window.boundary.isVisible()
    expected = Network((2, 6, 4, 1), "tanh", "sigmoid", "binary_cross_entropy")
    expected.set_params(snap.weights, snap.biases)
    grid = window.boundary.grid()
    assert np.array_equal(window.boundary.shown_values()[..., 0], expected.predict(grid.points).reshape(grid.shape))
    window.network_view.node_clicked.emit(2, 1)
    assert window.boundary.selected_neuron() == (2, 1)
    qtbot.waitUntil(lambda: len(window.network_view.node_thumbnails()) == 13, timeout=TIMEOUT)


def test_window_boundary_dock_follows_the_dataset(qtbot, window):
    dock = window._docks["boundary"]
    assert dock.windowTitle() == "Decision boundary"
    window.apply_settings(SINE)
    qtbot.waitUntil(lambda: window.last_snapshot.run_id == window.run_id, timeout=TIMEOUT)
    assert dock.windowTitle() == "Fit"
    window.apply_settings(IRIS)
    qtbot.waitUntil(lambda: window.last_snapshot.run_id == window.run_id, timeout=TIMEOUT)
    assert window.boundary.mode() is None and "4 dimensions" in window.boundary.note_text()
    assert window.network_view.node_thumbnails() == []


def test_window_gradient_check_action(qtbot, window):
    check = next(a for a in window.actions() if a.text() == "Gradient check…")
    check.trigger()
    dialog = window.gradcheck_dialog
    qtbot.waitUntil(dialog.is_done, timeout=TIMEOUT)
    assert dialog.passed()
    snap = window.last_snapshot
    assert dialog.checks()[0].layer == 1 and len(dialog.checks()) == len(snap.weights)
    dialog.close()


# --- node maps in the network view ------------------------------------------------------

def test_network_view_draws_maps_for_its_small_layers(qtbot):
    dataset, net, snap = trained(SPIRAL, STEPS)
    view = added(qtbot, NetworkView(), (900, 600))
    view.set_dataset(dataset)
    view.show_snapshot(snap)
    grid_points = np.zeros((25, 2))
    _, acts = net.forward(grid_points)
    maps = node_thumbnails(acts, snap.activation_names, (5, 5), stride=1)
    view.set_node_thumbnails(maps)
    assert sorted(view.node_thumbnails()) == sorted(maps)
    view.resize(700, 500)
    qtbot.waitUntil(lambda: view.viewport().width() < 800, timeout=TIMEOUT)
    assert sorted(view.node_thumbnails()) == sorted(maps)   # kept through a relayout
    view.grab()
    view.set_node_thumbnails({})
    assert view.node_thumbnails() == []
