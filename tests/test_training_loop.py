"""bpviz.training_process.serve in a real child process, driven through pipes, no Qt."""

import multiprocessing

import numpy as np
import pytest

from bpviz import training_process
from bpviz.array_pipe import Sender
from bpviz.settings import Settings
from bpviz.snapshot import Snapshot
from bpviz.training_loop import Capture

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
