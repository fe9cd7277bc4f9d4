"""bpviz.training_process.serve in a real child process, driven through pipes, and the
training loop's per-epoch figures; no Qt."""

import multiprocessing
import threading
from dataclasses import replace

import numpy as np
import pytest

from bpviz import training_loop, training_process
from bpviz.array_pipe import LARGE_BYTES, Sender
from bpviz.datasets import Dataset, accuracy
from bpviz.settings import Settings
from bpviz.snapshot import History, HistoryJoiner, Snapshot
from bpviz.training_loop import Capture, TrainingLoop

TIMEOUT_S = 20


@pytest.fixture
def child():
    """(commands, events) of a training process; it is gone after the test."""
    context = multiprocessing.get_context("spawn")
    child_commands, commands = context.Pipe(duplex=False)
    events, child_events = context.Pipe(duplex=False)
    process = context.Process(target=training_process.serve, args=(child_commands, child_events), daemon=True)
    process.start()
    child_commands.close()
    child_events.close()
    yield Sender(commands), events
    commands.close()
    process.join(TIMEOUT_S)
    assert not process.is_alive()
    assert process.exitcode == 0


def events_until_closed(events):
    got = []
    while events.poll(TIMEOUT_S):
        try:
            got.append(events.recv())
        except EOFError:
            return got
    raise AssertionError(f"the training process did not end; events so far: {[e for e, _ in got]}")


def test_commands_run_in_order_and_the_state_matches_the_engine(child):
    commands, events = child
    settings = Settings(optimizer="momentum", epochs=None)
    dataset, net, trainer = settings.build()
    for message in (("load", (dataset, net, trainer, None, 7), {}), ("step", (3,), {}),
                    ("capture", ("after three",), {}), ("stop", (), {})):
        commands.send(message)
    got = events_until_closed(events)
    snapshots = [value for event, value in got if event == "snapshot_ready"]
    assert [s.step for s in snapshots] == [0, 1, 2, 3] and all(s.run_id == 7 for s in snapshots)
    assert all(isinstance(s, Snapshot) for s in snapshots)
    assert not any(a.flags.writeable for s in snapshots for a in s.weights + s.activations)
    (capture,) = [value for event, value in got if event == "state_captured"]
    assert isinstance(capture, Capture) and capture.request == "after three"
    assert capture.dataset is None  # the caller has it; a large dataset does not travel back
    _, reference, ref_trainer = settings.build()
    for _ in range(3):
        ref_trainer.step()
    state = capture.trainer_state
    assert state.step == 3
    for got_w, want in zip(state.weights + state.biases, reference.weights + reference.biases):
        assert np.array_equal(got_w, want)
    assert np.array_equal(snapshots[-1].weights[0], reference.weights[0])
    assert sum(value for event, value in got if event == "commands_run") >= 3
    assert not [value for event, value in got if event in ("training_failed", "command_failed")]


def test_a_network_with_large_weight_matrices_trains_in_the_process(child):
    """Its 784×400 first matrix (2.5 MB) crosses out of band, and is trained in place there."""
    commands, events = child
    rng = np.random.default_rng(0)
    X = rng.random((40, 784))
    T = np.eye(3)[rng.integers(0, 3, 40)]
    names = ("a", "b", "c")
    dataset = Dataset("wide", X, T, X[:5], T[:5], tuple(f"x{i}" for i in range(784)), names, names)
    settings = Settings(hidden=(400,), activation="relu", mode="batch", batch_size=8, epochs=None)
    _, net, trainer = settings.build(dataset)
    assert net.weights[0].nbytes > LARGE_BYTES
    for message in (("load", (dataset, net, trainer, None, 1), {}), ("step", (2,), {}),
                    ("capture", (None,), {}), ("stop", (), {})):
        commands.send(message)
    got = events_until_closed(events)
    assert not [value for event, value in got if event in ("training_failed", "command_failed")]
    (capture,) = [value for event, value in got if event == "state_captured"]
    for _ in range(2):
        trainer.step()
    for mine, theirs in zip(net.weights, capture.trainer_state.weights):
        assert np.array_equal(mine, theirs)


def test_a_bad_command_is_reported_and_the_loop_goes_on(child):
    commands, events = child
    dataset, net, trainer = Settings().build()
    commands.send(("load", (dataset, net, trainer, None, 1), {}))
    commands.send(("set_parameter", ("weight", 9, 0, 0, 1.0), {}))  # there is no layer 9
    commands.send(("no_such_command", (), {}))  # not in COMMANDS: ignored
    commands.send(("step", (), {}))
    commands.send(("stop", (), {}))
    got = events_until_closed(events)
    assert [value for event, value in got if event == "command_failed"] == ["there is no weight layer 9"]
    assert [value.step for event, value in got if event == "snapshot_ready"] == [0, 1]


def test_the_process_ends_when_the_window_goes(child):
    commands, events = child
    dataset, net, trainer = Settings(epochs=None).build()
    commands.send(("load", (dataset, net, trainer, None, 1), {}))
    commands.send(("play", (), {}))
    commands._connection.close()  # as when the window's process dies
    got = events_until_closed(events)
    assert ("playing_changed", True) in got


# --- the per-epoch figures, in this process --------------------------------------------

def run_epochs(settings, epochs):
    """The snapshots of a TrainingLoop asked for ``epochs`` whole epochs, run here, each
    with its whole history (as the window's worker joins it)."""
    published, done, joiner = [], threading.Event(), HistoryJoiner()

    def emit(event, value):
        if event == "snapshot_ready":
            published.append(replace(value, history=joiner.join(value.history_start, value.history)))
            done.set() if len(published) == epochs + 1 else None  # the preview, then one per epoch
        assert event not in ("training_failed", "command_failed")

    loop = TrainingLoop(emit)
    thread = threading.Thread(target=loop.run)
    thread.start()
    loop.load(*settings.build(), None, 1)
    for _ in range(epochs):
        loop.step_epoch()
    assert done.wait(TIMEOUT_S)
    loop.stop()
    thread.join(TIMEOUT_S)
    return published


@pytest.mark.parametrize("settings", [
    Settings(epochs=None),
    Settings(dataset="xor", hidden=(2,), mode="full", activation="sigmoid", output_activation="sigmoid",
             learning_rate=0.5, epochs=None),
    Settings(dataset="blobs", hidden=(6,), mode="batch", batch_size=16, activation="relu",
             output_activation="softmax", loss="cross_entropy", reduction="sum", epochs=None),
], ids=["iris sample", "xor full", "blobs batch sum"])
def test_each_epoch_records_the_training_sets_loss_accuracy_and_gradient_norms(settings):
    snapshots = run_epochs(settings, 3)
    history = snapshots[-1].history
    assert history.n_epochs == 3
    dataset, net, trainer = settings.build()
    for epoch in range(3):
        for _ in trainer.run(epoch + 1):
            pass
        record = net.backprop(dataset.X_train, dataset.T_train)
        assert history.train_loss[epoch] == net.loss_of(dataset.X_train, dataset.T_train)
        assert history.train_accuracy[epoch] == accuracy(net.predict(dataset.X_train), dataset.T_train)
        assert history.test_loss[epoch] == net.loss_of(dataset.X_test, dataset.T_test)
        assert history.test_accuracy[epoch] == accuracy(net.predict(dataset.X_test), dataset.T_test)
        np.testing.assert_array_equal(history.grad_norms[epoch], [np.linalg.norm(g) for g in record.weight_grads])


def test_a_large_training_set_is_measured_in_passes_with_the_same_figures(monkeypatch):
    settings = Settings(dataset="digits", hidden=(16,), activation="relu", epochs=None)
    whole = run_epochs(settings, 1)[-1].history
    monkeypatch.setattr(training_loop, "EPOCH_PASS_ROWS", 100)  # 1,346 rows: 14 passes, the last short
    passes = run_epochs(settings, 1)[-1].history
    assert passes.train_accuracy[0] == whole.train_accuracy[0]
    assert passes.test_accuracy[0] == whole.test_accuracy[0]  # 451 test rows: 5 passes
    np.testing.assert_allclose(passes.train_loss, whole.train_loss, rtol=1e-13)
    np.testing.assert_allclose(passes.test_loss, whole.test_loss, rtol=1e-13)
    # The gradient is a sum of rows' contributions that mostly cancel near a minimum,
    # so summing it in other groups moves it by more than a unit of its own last digit.
    np.testing.assert_allclose(passes.grad_norms, whole.grad_norms, rtol=1e-10)
    assert passes.grad_norms.shape == (1, 2) and np.all(passes.grad_norms > 0)


def test_each_frame_carries_only_the_epochs_the_window_does_not_have():
    published = []
    loop = TrainingLoop(lambda event, value: published.append(value) if event == "snapshot_ready" else None)
    thread = threading.Thread(target=loop.run)
    thread.start()
    loop.load(*Settings(dataset="xor", hidden=(2,), mode="full", epochs=None).build(), None, 1)
    for _ in range(5):
        loop.step_epoch()
    loop.step(3)
    loop.go_to_step(2)  # back to epoch 2: the window cuts its curves back
    loop.step_epoch()   # and epoch 3 is made again
    loop.capture()
    done = threading.Event()
    loop._send(done.set)
    assert done.wait(TIMEOUT_S)
    loop.stop()
    thread.join(TIMEOUT_S)
    starts = [(s.history_start, s.history.n_epochs) for s in published]
    assert starts == [(0, 0), (0, 1), (1, 1), (2, 1), (3, 1), (4, 1), (5, 1), (6, 1), (7, 1), (2, 0), (2, 1)]


def test_frames_sampled_from_a_fast_run_are_light_and_every_other_frame_is_whole():
    frames, loop = [], None

    def emit(event, value):
        if event == "snapshot_ready":
            frames.append(value)
            loop.snapshot_drawn()

    def wait_for(n):
        done = threading.Event()
        loop._send(done.set)
        assert done.wait(TIMEOUT_S)
        end = len(frames) + n
        deadline = threading.Event()
        while len(frames) < end and not deadline.wait(0.01):
            pass
        return end

    loop = TrainingLoop(emit)
    thread = threading.Thread(target=loop.run)
    thread.start()
    # 64×200 weights: above LIGHT_LAYER_WEIGHTS; 200×10: below
    loop.load(*Settings(dataset="digits", hidden=(200,), epochs=None).build(), None, 1)
    loop.play()
    wait_for(3)
    loop.pause()
    loop._send(lambda: frames.append("set speed"))
    loop.set_speed(30)
    loop.play()
    wait_for(2)
    loop.pause()
    loop.step(1)
    wait_for(0)
    loop.stop()
    thread.join(TIMEOUT_S)
    split = frames.index("set speed")
    fast = [f for f in frames[:split] if f.playing]  # sampled from a run at full speed
    assert len(fast) >= 3
    for f in fast:
        assert f.weight_grads[0] is None and f.weight_changes[0] is None
        assert f.weight_grads[1] is not None and f.weight_changes[1] is not None
        assert len(f.weight_grad_norms) == 2 and f.change_summary is not None
    others = [f for f in frames[split + 1:] if not f.is_preview]
    assert sum(f.playing for f in others) >= 2 and not others[-1].playing  # at a set speed; the step
    for f in others:
        assert all(g is not None for g in f.weight_grads + f.weight_changes)


def _history(values, n_layers=2):
    values = np.asarray(values, dtype=float)
    return History(values, values + 1, values / 10, values / 20, np.tile(values[:, None], (1, n_layers)))


def test_the_joiner_puts_tails_together_and_never_changes_a_history_it_gave():
    joiner = HistoryJoiner()
    first = joiner.join(0, _history([1.0, 2.0]))
    grown = [joiner.join(2 + i, _history([3.0 + i])) for i in range(100)]
    assert np.array_equal(grown[-1].train_loss, np.arange(1.0, 103.0))
    assert np.array_equal(grown[-1].grad_norms[:, 1], np.arange(1.0, 103.0))
    rewound = joiner.join(1, _history([]))          # a rewind to epoch 1
    again = joiner.join(1, _history([-2.0, -3.0]))  # and a new branch from there
    assert np.array_equal(rewound.train_loss, [1.0]) and np.array_equal(again.test_loss, [2.0, -1.0, -2.0])
    new_run = joiner.join(0, _history([7.0], n_layers=3))
    assert new_run.grad_norms.shape == (1, 3)
    # every History handed out is as it was, and none can be written to
    assert np.array_equal(first.train_loss, [1.0, 2.0])
    assert np.array_equal(grown[50].train_loss, np.arange(1.0, 54.0))
    assert not any(a.flags.writeable for h in (first, grown[-1], again) for a in
                   (h.train_loss, h.test_loss, h.train_accuracy, h.test_accuracy, h.grad_norms))
    with pytest.raises(ValueError):
        joiner.join(5, _history([1.0]))  # a gap: epochs 1-4 never came
