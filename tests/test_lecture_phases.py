"""Lecture mode without Qt: the phase sequence, what each phase shows, the rewind buffer."""

import numpy as np
import pytest

from bpviz.engine.training import Trainer
from bpviz.history import STEP_OVERHEAD, StepHistory
from bpviz.phases import Phase, PhaseWalk, describe, phases_for, shown_snapshot
from bpviz.settings import Settings
from bpviz.snapshot import make_snapshot


def test_phases_in_order():
    assert phases_for(4) == [Phase("forward", 1), Phase("forward", 2), Phase("forward", 3), Phase("loss", 3),
                             Phase("backward", 3), Phase("backward", 2), Phase("backward", 1), Phase("update")]
    assert len(phases_for(2)) == 4
    with pytest.raises(ValueError):
        phases_for(1)


def test_what_each_phase_has_computed():
    forward2, loss, back2, update = Phase("forward", 2), Phase("loss", 3), Phase("backward", 2), Phase("update")
    assert [forward2.activation_known(k) for k in range(4)] == [True, True, True, False]
    assert [forward2.weights_used(k) for k in range(3)] == [True, True, False]
    assert not any(forward2.delta_known(k) for k in (1, 2, 3)) and not forward2.loss_known
    assert all(loss.activation_known(k) for k in range(4)) and loss.loss_known
    assert not any(loss.delta_known(k) for k in (1, 2, 3))
    assert [back2.delta_known(k) for k in (1, 2, 3)] == [False, True, True]
    assert [back2.gradient_known(k) for k in range(3)] == [False, True, True]
    assert all(update.delta_known(k) for k in (1, 2, 3)) and update.updated


def test_walk_moves_within_its_phases():
    settings = Settings()
    _, net, trainer = settings.build()
    before = net.get_params()
    st = trainer.step()
    snap = make_snapshot(net, st.record, int(st.sample_indices[0]), st, before, step=st.step)
    walk = PhaseWalk(snap)
    assert not walk.back() and walk.phase == Phase("forward", 1)
    seen = [walk.phase]
    while walk.advance():
        seen.append(walk.phase)
    assert seen == phases_for(snap.n_layers) and walk.at_end
    for phase in seen:
        assert describe(phase, snap).startswith(f"Phase {seen.index(phase) + 1}/{len(seen)}")
    assert "largest Δw" in describe(Phase("update"), snap)
    # Before the update the view draws the weights the pass used; at it, the new ones.
    for phase in seen[:-1]:
        shown = shown_snapshot(snap, phase)
        assert all(np.array_equal(a, b) for a, b in zip(shown.weights, before[0]))
        assert shown.weight_changes is None and shown.forward_params[0] is snap.weights_before
        assert (shown.weight_grads is None) == (phase.kind != "backward")
        assert (shown.weight_grad_norms is None) == (phase.kind != "backward")
        assert shown.change_summary is None
    assert shown_snapshot(snap, seen[-1]) is snap and shown_snapshot(snap, None) is snap


def capture(history, trainer, n_epochs=0):
    return history.capture(trainer, n_epochs=n_epochs)


def states_equal(a, b):
    arrays = lambda s: list(s.weights) + list(s.biases) + [  # noqa: E731
        x for v in s.optimizer.values() if isinstance(v, list) for x in v]
    return (all(np.array_equal(x, y) for x, y in zip(arrays(a), arrays(b)))
            and (a.step, a.epoch, a.batch_index) == (b.step, b.epoch, b.batch_index)
            and np.array_equal(a.order, b.order) and a.rng == b.rng and a.optimizer.get("t") == b.optimizer.get("t"))


@pytest.mark.parametrize("optimizer", ["momentum", "adam"])
def test_history_restores_exactly_across_epochs(optimizer):
    _, net, trainer = Settings(optimizer=optimizer, learning_rate=0.01).build()
    history = StepHistory()
    history.record(capture(history, trainer))
    states = [trainer.state()]
    for _ in range(2 * trainer.n_batches + 7):  # across two epoch boundaries (new orders)
        trainer.step()
        history.record(capture(history, trainer))
        states.append(trainer.state())
    assert (history.first_step, history.last_step) == (0, len(states) - 1)
    for step in (0, 5, trainer.n_batches, trainer.n_batches + 1, len(states) - 1):
        assert states_equal(history.get(step).state, states[step])
    # Rewind, then the same steps again give the same states.
    trainer.restore(history.get(3).state)
    for step in range(4, 40):
        trainer.step()
        assert states_equal(trainer.state(), states[step])
    # Entries share the epoch's order instead of copying it.
    assert history.get(1).state.order is history.get(2).state.order
    assert history.get(1).state.order is not history.get(trainer.n_batches + 1).state.order


def test_a_new_step_after_a_rewind_drops_the_old_future():
    _, net, trainer = Settings().build()
    history = StepHistory()
    history.record(capture(history, trainer))
    for _ in range(10):
        trainer.step()
        history.record(capture(history, trainer))
    trainer.restore(history.get(4).state)
    trainer.optimizer.learning_rate *= 2
    trainer.step()
    history.record(capture(history, trainer))
    assert history.last_step == 5 and len(history) == 6
    assert history.get(5).learning_rate == trainer.optimizer.learning_rate


def test_history_length_and_memory_are_bounded():
    _, net, trainer = Settings(optimizer="adam").build()
    history = StepHistory(max_steps=1001)
    for _ in range(1500):
        trainer.step()
        history.record(capture(history, trainer))
    assert len(history) == 1001 and history.first_step == 500 and history.last_step == 1500
    entry = history.get(1500).nbytes
    n_params = sum(w.size for w in net.weights) + sum(b.size for b in net.biases)
    assert entry >= 3 * 8 * n_params  # parameters, Adam's m and v
    small = StepHistory(max_bytes=50 * entry)
    for _ in range(200):
        trainer.step()
        small.record(capture(small, trainer))
    assert 40 <= len(small) <= 50 and small.nbytes <= 50 * entry


def test_a_full_buffer_of_steps_between_checkpoints_keeps_the_newest_and_replays_them():
    _, _, trainer = Settings(optimizer="momentum", epochs=None).build()
    _, _, reference = Settings(optimizer="momentum", epochs=None).build()
    history = StepHistory(max_steps=1001)
    states = {}
    for _ in range(1500):
        trainer.step()
        history.record_step(trainer, n_epochs=0)
        if trainer.step_count in (500, 777, 1500):
            states[trainer.step_count] = trainer.state()
    assert (len(history), history.first_step, history.last_step) == (1001, 500, 1500)
    assert history.checkpoint_for(500).step <= 500  # the oldest kept step can still be rebuilt
    rates = history.last_step - history.checkpoint_for(history.first_step).step + 1
    assert history.nbytes == sum(e.nbytes for e in history._checkpoints) + rates * STEP_OVERHEAD
    for step, state in states.items():
        history.replay(reference, step)
        for got, want in zip(reference.net.weights + reference.net.biases, state.weights + state.biases):
            assert np.array_equal(got, want)
        assert np.array_equal(reference.optimizer.state()["velocity"][0], state.optimizer["velocity"][0])
    assert history.get(499) is None and 499 not in history


def test_an_entry_that_does_not_follow_on_starts_afresh():
    _, net, trainer = Settings().build()
    history = StepHistory()
    history.record(capture(history, trainer))
    other = Trainer(net, trainer.X, trainer.T, trainer.optimizer)
    for _ in range(5):
        other.step()
    history.record(capture(history, other))
    assert (history.first_step, history.last_step, len(history)) == (5, 5, 1)


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_a_snapshot_freezes_a_steps_own_gradients_and_changes_without_copying(optimizer):
    _, net, trainer = Settings(optimizer=optimizer, learning_rate=0.01, epochs=None).build()
    done = trainer.step()
    snap = make_snapshot(net, done.record, 0, done)
    for shown, own in zip(snap.weight_grads + snap.weight_changes, done.record.weight_grads + done.changes):
        assert shown is own and not shown.flags.writeable
    assert not any(w.flags.writeable or np.shares_memory(w, p) for w, p in zip(snap.weights, net.weights))
    before = [w.copy() for w in snap.weights]
    for _ in range(3):  # training goes on: it never writes a past step's arrays
        trainer.step()
    assert all(np.array_equal(a, b) for a, b in zip(snap.weights, before))
