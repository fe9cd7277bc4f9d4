"""The main window, driven as a lecturer drives it: toolbar clicks, keyboard
shortcuts and typing into the control panel. Snapshots arrive queued from the
worker thread, so every check waits for the window to show the expected step."""

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QToolBar

from bpviz.app.main_window import SPEEDS
from bpviz.app.views import palette
from bpviz.presets import get_preset
from bpviz.settings import Settings

TIMEOUT = 5000


def toolbar_button(window, action):
    bar = window.findChild(QToolBar, "training-toolbar")
    button = bar.widgetForAction(action)
    assert button is not None and button.isVisible()
    return button


def press(qtbot, window, key, modifier=Qt.KeyboardModifier.NoModifier):
    """A key pressed with the network view focused, as after clicking into it."""
    window.network_view.setFocus()
    qtbot.keyClick(window, key, modifier)


def type_into(qtbot, widget, text):
    """Select what the field holds, type over it and press Enter."""
    widget.setFocus()
    qtbot.keyClick(widget, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(widget, text)
    qtbot.keyClick(widget, Qt.Key.Key_Return)


def wait_for_step(qtbot, window, step):
    qtbot.waitUntil(lambda: window.last_snapshot.step == step, timeout=TIMEOUT)
    return window.last_snapshot


def expected_edge_values(snapshot, edges):
    """The weight or bias behind every drawn edge (i == sizes[k] marks a bias)."""
    values = []
    for k, i, j in zip(*edges):
        values.append(snapshot.biases[k][j] if i == snapshot.sizes[k] else snapshot.weights[k][i, j])
    return np.array(values)


def n_edges(sizes, bias=True):
    return sum((a + bias) * b for a, b in zip(sizes[:-1], sizes[1:]))


def test_opens_with_the_default_preset(window):
    view = window.network_view
    snap = window.last_snapshot
    assert window.settings == get_preset("iris-4-5-3").settings
    assert snap.sizes == (4, 5, 3) and snap.step == 0
    assert [len(a) for a in view.node_values()] == [4, 5, 3]
    assert [len(d) for d in view.delta_values()] == [5, 3]
    assert not any(view.is_compact(k) for k in range(3))
    assert len(view.edge_values()) == n_edges((4, 5, 3)) == 43
    assert len(view.edge_colors()) == 43


def test_dataset_and_hidden_layers_typed_in_the_control_panel(window, qtbot):
    controls, view = window.controls, window.network_view
    combo = controls.dataset_combo
    combo.setFocus()
    qtbot.keyClicks(combo, "blobs")  # keyboard search picks the dataset, as a click would
    assert combo.currentData() == "dataset:blobs"
    qtbot.waitUntil(lambda: window.last_snapshot.sizes == (2, 5, 3), timeout=TIMEOUT)
    assert window.dataset.name.startswith("blobs")
    assert [len(a) for a in view.node_values()] == [2, 5, 3]
    assert len(view.edge_values()) == n_edges((2, 5, 3))

    type_into(qtbot, controls.layers_edit, "8-6")
    qtbot.waitUntil(lambda: window.last_snapshot.sizes == (2, 8, 6, 3), timeout=TIMEOUT)
    assert window.settings.hidden == (8, 6) and window.settings.dataset == "blobs"
    assert controls.spec_label.text() == "2 – 8 – 6 – 3"
    assert [len(a) for a in view.node_values()] == [2, 8, 6, 3]
    assert len(view.edge_values()) == n_edges((2, 8, 6, 3)) == 99
    ks, iis, _ = view.edge_list()
    assert np.bincount(ks).tolist() == [3 * 8, 9 * 6, 7 * 3]
    assert np.count_nonzero(iis == np.array(window.last_snapshot.sizes)[ks]) == 8 + 6 + 3

    window.bias_box.click()
    qtbot.waitUntil(lambda: len(view.edge_values()) == n_edges((2, 8, 6, 3), bias=False),
                    timeout=TIMEOUT)


def test_step_button_is_exactly_one_engine_step(window, qtbot):
    before = window.last_snapshot
    qtbot.mouseClick(toolbar_button(window, window.step_action), Qt.MouseButton.LeftButton)
    snap = wait_for_step(qtbot, window, 1)

    _, net, trainer = window.settings.build()
    done = trainer.step()
    assert snap.sample_index == int(done.sample_indices[0]) == before.sample_index
    for shown, engine in zip(snap.weights + snap.biases, net.weights + net.biases):
        assert np.array_equal(shown, engine)
    assert not all(np.array_equal(a, b) for a, b in zip(snap.weights, before.weights))

    view = window.network_view
    edges = view.edge_list()
    values = expected_edge_values(snap, edges)
    assert np.array_equal(view.edge_values(), values)
    assert np.array_equal(view.edge_colors(), palette.weight_rgba(values, view.weight_scale()))
    assert view.weight_scale() == palette.nice_ceil(
        max(np.abs(a).max() for a in before.weights + before.biases))
    for shown, engine in zip(view.node_values(), done.record.activations):
        assert np.array_equal(shown, engine[0])
    for shown, engine in zip(view.delta_values(), done.record.deltas):
        assert np.array_equal(shown, engine[0])  # one sample per batch: its own delta
    # tanh hidden and softmax output nodes are filled on their fixed ranges.
    assert np.array_equal(view.node_colors(1), palette.node_rgba(done.record.activations[1][0], 1.0))
    assert np.array_equal(view.node_colors(2), palette.node_rgba(done.record.activations[2][0], 1.0))


def test_right_arrow_steps_and_status_bar_follows(window, qtbot):
    press(qtbot, window, Qt.Key.Key_Right)
    snap = wait_for_step(qtbot, window, 1)
    text = window.status_label.text()
    assert "epoch 1, batch 1/120" in text and "step 1" in text
    assert f"loss {snap.sample_loss:.4f}" in text
    press(qtbot, window, Qt.Key.Key_Right)
    press(qtbot, window, Qt.Key.Key_Right)
    wait_for_step(qtbot, window, 3)
    assert "epoch 1, batch 3/120" in window.status_label.text()


def test_step_epoch_and_the_progress_bar(window, qtbot):
    assert window.progress.isVisible()
    assert (window.progress.minimum(), window.progress.maximum(), window.progress.value()) == (0, 50, 0)
    type_into(qtbot, window.controls.epochs_spin, "3")
    qtbot.waitUntil(lambda: window.settings.epochs == 3, timeout=TIMEOUT)
    assert window.progress.maximum() == 3
    press(qtbot, window, Qt.Key.Key_Right, Qt.KeyboardModifier.ControlModifier)
    snap = wait_for_step(qtbot, window, 120)
    assert snap.epoch == 1 and window.progress.value() == 1
    text = window.status_label.text()
    assert "epoch 1, batch 120/120" in text  # the batch shown is the epoch's last
    assert f"loss {snap.history.train_loss[-1]:.4f}" in text and "train acc" in text
    press(qtbot, window, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: window.last_snapshot.epoch == 3 and not window._playing, timeout=TIMEOUT)
    assert window.progress.value() == 3
    qtbot.waitUntil(lambda: "epochs limit" in window.statusBar().currentMessage(), timeout=TIMEOUT)
    type_into(qtbot, window.controls.epochs_spin, "0")  # 0 is "no limit"
    qtbot.waitUntil(lambda: window.settings.epochs is None, timeout=TIMEOUT)
    assert not window.progress.isVisible()


def test_play_then_pause_leaves_the_worker_idle(window, qtbot):
    window.speed_slider.setValue(SPEEDS.index(300))
    shown = []
    window.snapshot_shown.connect(shown.append)
    press(qtbot, window, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: window.last_snapshot.step > 5, timeout=TIMEOUT)
    assert window.play_action.text().endswith("Pause") and window.controls.playing_label.isVisible()
    press(qtbot, window, Qt.Key.Key_Space)
    assert not window.controls.playing_label.isVisible()
    # Acknowledged at once, before the training process says it has paused.
    assert window.play_action.text().endswith("Play") and not window._playing
    qtbot.wait(100)
    count, step = len(shown), window.last_snapshot.step
    qtbot.wait(300)
    assert len(shown) == count and window.last_snapshot.step == step
    assert not window.last_snapshot.playing and window.last_snapshot.is_preview


def test_pause_then_play_at_once_goes_on_playing(make_window, qtbot):
    window = make_window(Settings(epochs=None))
    press(qtbot, window, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: window.last_snapshot.playing, timeout=TIMEOUT)
    press(qtbot, window, Qt.Key.Key_Space)
    press(qtbot, window, Qt.Key.Key_Space)
    qtbot.wait(300)
    step = window.last_snapshot.step
    qtbot.waitUntil(lambda: window.last_snapshot.step > step + 10, timeout=TIMEOUT)
    assert window._playing and window.play_action.text().endswith("Pause")
    press(qtbot, window, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: not window.last_snapshot.playing, timeout=TIMEOUT)


def test_reset_key_returns_to_the_initial_weights(window, qtbot):
    first = window.last_snapshot
    press(qtbot, window, Qt.Key.Key_Right, Qt.KeyboardModifier.ControlModifier)
    wait_for_step(qtbot, window, 120)
    press(qtbot, window, Qt.Key.Key_R)
    snap = wait_for_step(qtbot, window, 0)
    assert snap.epoch == 0 and snap.history.n_epochs == 0
    _, net, _ = window.settings.build()
    for shown, initial, engine in zip(snap.weights + snap.biases, first.weights + first.biases,
                                      net.weights + net.biases):
        assert np.array_equal(shown, initial) and np.array_equal(shown, engine)
    assert np.array_equal(window.network_view.edge_values(),
                          expected_edge_values(snap, window.network_view.edge_list()))
    assert window.progress.value() == 0
    assert "step 0" in window.status_label.text()


def test_closing_while_playing_joins_the_thread(make_window, qtbot):
    window = make_window()
    window.speed_slider.setValue(SPEEDS.index(300))
    qtbot.mouseClick(toolbar_button(window, window.play_action), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.last_snapshot.step > 5, timeout=TIMEOUT)
    assert window.thread.isRunning()
    window.close()
    assert not window.thread.isRunning()


def test_output_labels_and_the_key_fit_in_the_view(window, qtbot):
    view = window.network_view
    width = view.viewport().width()
    labels = view._out_labels
    assert [item.text().split("\n")[0] for item in labels] == ["setosa", "versicolor", "virginica"]
    assert all(item.sceneBoundingRect().right() <= width for item in labels)
    assert view._geo.bottom >= view._legend.height_for(width)
    window.resize(1000, 700)  # a narrow view wraps the key and elides, never cuts off
    qtbot.waitUntil(lambda: view.viewport().width() < width, timeout=TIMEOUT)
    narrow = view.viewport().width()
    assert all(item.sceneBoundingRect().right() <= narrow for item in view._out_labels)
    assert view._geo.bottom >= view._legend.height_for(narrow)
