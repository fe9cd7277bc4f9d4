"""Lecture mode in the real window, driven by keyboard: Shift+Right walks one step's
phases, Left undoes phases and whole steps exactly, the timeline scrubs."""

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from bpviz.app.views.network_phase import PendingLook
from bpviz.phases import Phase, phases_for
from bpviz.history import DEFAULT_MAX_STEPS
from bpviz.settings import Settings

from helpers import captured

TIMEOUT = 10000
SHIFT = Qt.KeyboardModifier.ShiftModifier


def press(qtbot, window, key, modifier=Qt.KeyboardModifier.NoModifier):
    if QApplication.activeWindow() is not window:  # shortcuts go to the active window
        window.activateWindow()
        qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=TIMEOUT)
    window.network_view.setFocus()
    qtbot.keyClick(window, key, modifier)


def wait_for_step(qtbot, window, step):
    qtbot.waitUntil(lambda: window.last_snapshot.step == step, timeout=TIMEOUT)
    return window.last_snapshot


def equal_arrays(a, b):
    if a is None or b is None:
        return a is b
    return len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b))


def same_snapshot(a, b):
    return (a.step == b.step and a.sample_index == b.sample_index
            and all(equal_arrays(getattr(a, f), getattr(b, f)) for f in (
                "weights", "biases", "weights_before", "biases_before", "activations", "deltas",
                "weight_grads", "bias_grads", "weight_changes", "bias_changes"))
            and equal_arrays(a.history.train_loss, b.history.train_loss))


def reference(settings, steps):
    """An engine run of ``steps`` steps, without any window."""
    _, net, trainer = settings.build()
    done = None
    for _ in range(steps):
        done = trainer.step()
    return net, trainer, done


def optimizer_arrays(state):
    return [x for v in state.values() if isinstance(v, list) for x in v]


def test_shift_right_walks_the_phases_and_ends_with_one_step(make_window, qtbot):
    settings = Settings(hidden=(5, 4), optimizer="adam", learning_rate=0.01)
    window = make_window(settings)
    view, stepper = window.network_view, window.stepper
    grey_node = PendingLook(window.network_view._theme).fill_rgba
    grey_edge = view._pending_look.edge_rgba
    seen = []
    stepper.phase_changed.connect(seen.append)
    expected = phases_for(4)
    press(qtbot, window, Qt.Key.Key_Right, SHIFT)
    snap = wait_for_step(qtbot, window, 1)
    qtbot.waitUntil(lambda: view.phase() == expected[0], timeout=TIMEOUT)
    for i, phase in enumerate(expected):
        if i:
            press(qtbot, window, Qt.Key.Key_Right, SHIFT)
        assert view.phase() == phase and stepper.phase == phase
        assert window.last_snapshot.step == 1  # one step, revealed phase by phase
        for k in range(1, 4):
            pending = not phase.activation_known(k)
            colours = view.node_colors(k)
            assert np.all(colours == grey_node) == pending, (phase, k)
            line = view.header_text(k).split("\n")[2]
            if pending:
                assert line in ("not yet computed", "…")
            elif not phase.delta_known(k):
                assert line in ("δ not yet", "—")
            else:
                assert "not yet" not in line and line not in ("…", "—")
            bars = view.delta_bar_lengths(k)
            assert np.any(bars != 0) == phase.delta_known(k), (phase, k)
        ks, _, _ = view.edge_list()
        colours = view.edge_colors()
        for k in range(3):
            assert np.all(colours[ks == k] == grey_edge) == (not phase.weights_used(k))
        drawn = snap.weights if phase.updated else snap.weights_before
        values = np.concatenate([np.concatenate([W.ravel(), b]) for W, b in
                                 zip(drawn, snap.biases if phase.updated else snap.biases_before)])
        assert np.array_equal(np.sort(view.edge_values()), np.sort(values))
        assert window.stepper.phase_label.text().startswith(f"Phase {i + 1}/{len(expected)}")
    assert seen == expected
    assert "Δw" in window.stepper.phase_label.text()
    # The walk ends with exactly the weights of one full Step in another window.
    other = make_window(settings)
    press(qtbot, other, Qt.Key.Key_Right)
    full = wait_for_step(qtbot, other, 1)
    assert equal_arrays(full.weights, snap.weights) and equal_arrays(full.biases, snap.biases)
    assert other.network_view.phase() is None
    # The next press starts the next step's walk.
    press(qtbot, window, Qt.Key.Key_Right, SHIFT)
    wait_for_step(qtbot, window, 2)
    assert view.phase() == expected[0]


def test_left_undoes_phases_then_steps_and_step_finishes_a_walk(make_window, qtbot):
    window = make_window(Settings(optimizer="momentum", learning_rate=0.05))
    view = window.network_view
    press(qtbot, window, Qt.Key.Key_Right)
    first = wait_for_step(qtbot, window, 1)
    press(qtbot, window, Qt.Key.Key_Right, SHIFT)
    wait_for_step(qtbot, window, 2)
    qtbot.waitUntil(lambda: view.phase() == Phase("forward", 1), timeout=TIMEOUT)
    for _ in range(3):
        press(qtbot, window, Qt.Key.Key_Right, SHIFT)
    assert view.phase() == Phase("backward", 2)
    press(qtbot, window, Qt.Key.Key_Left)
    assert view.phase() == Phase("loss", 2)
    press(qtbot, window, Qt.Key.Key_Right)  # Step during a walk shows the rest of it
    assert view.phase() is None
    qtbot.wait(200)
    assert window.last_snapshot.step == 2
    press(qtbot, window, Qt.Key.Key_Left)
    back = wait_for_step(qtbot, window, 1)
    assert same_snapshot(back, first) and view.phase() is None


@pytest.mark.parametrize("optimizer", ["momentum", "adam"])
def test_left_restores_the_exact_previous_state(make_window, qtbot, optimizer):
    settings = Settings(optimizer=optimizer, learning_rate=0.01)
    window = make_window(settings)
    shown = {}
    for step in range(1, 6):
        press(qtbot, window, Qt.Key.Key_Right)
        shown[step] = wait_for_step(qtbot, window, step)
    for step in (4, 3):
        press(qtbot, window, Qt.Key.Key_Left)
        assert same_snapshot(wait_for_step(qtbot, window, step), shown[step])
    net, trainer, _ = reference(settings, 3)
    state = captured(qtbot, window).trainer_state  # the training process's own state
    assert equal_arrays(state.weights, net.weights) and equal_arrays(state.biases, net.biases)
    assert equal_arrays(optimizer_arrays(state.optimizer), optimizer_arrays(trainer.optimizer.state()))
    assert state.optimizer.get("t") == trainer.optimizer.state().get("t")
    assert np.array_equal(state.order, trainer.order)
    # Stepping on from the restored state redoes the same steps exactly.
    press(qtbot, window, Qt.Key.Key_Right)
    assert same_snapshot(wait_for_step(qtbot, window, 4), shown[4])


def test_a_thousand_steps_back_across_epochs(make_window, qtbot):
    settings = Settings(optimizer="adam", learning_rate=0.01)
    window = make_window(settings)
    for _ in range(9):  # iris: 9 epochs of 120 samples, 1080 steps
        epoch = window.last_snapshot.epoch
        window.step_epoch()
        qtbot.waitUntil(lambda: window.last_snapshot.epoch == epoch + 1, timeout=TIMEOUT)
    last = window.last_snapshot
    assert last.recorded_steps == (0, last.step) and last.history.n_epochs == 9
    target = last.step - 1000
    window.stepper.go_to_step(target)
    snap = wait_for_step(qtbot, window, target)
    net, trainer, done = reference(settings, target)
    assert equal_arrays(snap.weights, net.weights) and equal_arrays(snap.biases, net.biases)
    assert np.array_equal(snap.deltas[-1], done.record.deltas[-1][0])
    assert snap.history.n_epochs == trainer.epoch  # the curves are cut back to that step
    press(qtbot, window, Qt.Key.Key_Left)
    wait_for_step(qtbot, window, target - 1)
    # Forward again through the timeline: the later epochs come back.
    window.stepper.go_to_step(last.step)
    again = wait_for_step(qtbot, window, last.step)
    assert again.weights_before is not None  # a step epoch's frame had none; a restore shows the step
    for field in ("weights", "biases", "activations", "deltas", "weight_changes"):
        assert equal_arrays(getattr(again, field), getattr(last, field)), field
    for curve in ("train_loss", "test_loss", "train_accuracy", "grad_norms"):
        assert np.array_equal(getattr(again.history, curve), getattr(last.history, curve), equal_nan=True)


def test_the_buffer_length_is_capped(make_window, qtbot):
    cap = DEFAULT_MAX_STEPS  # the training process's own: a patch here would not reach it
    window = make_window(Settings(epochs=None))
    window.play_action.trigger()
    qtbot.waitUntil(lambda: window.last_snapshot.step > cap + 100, timeout=60000)
    window.play_action.trigger()
    qtbot.waitUntil(lambda: not window.last_snapshot.playing, timeout=TIMEOUT)
    last = window.last_snapshot.step
    assert window.last_snapshot.recorded_steps == (last - cap + 1, last)
    slider = window.stepper.timeline.slider
    assert (slider.minimum(), slider.maximum(), slider.value()) == (last - cap + 1, last, last)
    window.stepper.go_to_step(last - cap - 10)  # no longer recorded: nothing happens
    qtbot.wait(200)
    assert window.last_snapshot.step == last


def test_the_timeline_scrubs_to_a_step_exactly(make_window, qtbot):
    settings = Settings(optimizer="momentum", learning_rate=0.05)
    window = make_window(settings)
    window.worker.step(30)
    wait_for_step(qtbot, window, 30)
    timeline = window.stepper.timeline
    assert timeline.label.text() == "step 30 of 30 recorded"
    for step in (12, 11, 25):
        timeline.slider.setValue(step)
        snap = wait_for_step(qtbot, window, step)
        net, _, done = reference(settings, step)
        assert equal_arrays(snap.weights, net.weights)
        assert np.array_equal(snap.activations[-1], done.record.activations[-1][0])
        qtbot.waitUntil(lambda: timeline.label.text() == f"step {step} of 30 recorded", timeout=TIMEOUT)


def test_play_during_a_walk_finishes_it(make_window, qtbot):
    window = make_window(Settings(epochs=None))
    press(qtbot, window, Qt.Key.Key_Right, SHIFT)
    wait_for_step(qtbot, window, 1)
    qtbot.waitUntil(lambda: window.network_view.phase() is not None, timeout=TIMEOUT)
    press(qtbot, window, Qt.Key.Key_Space)
    assert window.network_view.phase() is None
    qtbot.waitUntil(lambda: window.last_snapshot.step > 20, timeout=TIMEOUT)
    press(qtbot, window, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: not window.last_snapshot.playing, timeout=TIMEOUT)
    step = window.last_snapshot.step
    assert window.last_snapshot.recorded_steps == (0, step)  # playing records every step
