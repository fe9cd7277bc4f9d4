"""The trainer and the optimisers: modes, exact rewinds, update rules, divergence."""

import math
import subprocess
import sys

import numpy as np
import pytest

from bpviz.engine import SGD, Adam, LossMonitor, Momentum, Network, Trainer
from bpviz.engine.training import batch_size_for
from bpviz.errors import BpvizError, DivergenceError


def data(n=10, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    T = np.eye(2)[(X[:, 0] > 0).astype(int)]
    return X, T


def make(batch_size=1, optimizer=None, seed=0, n=10):
    X, T = data(n)
    net = Network([3, 4, 2], "tanh", "softmax", "cross_entropy", seed=seed)
    return Trainer(net, X, T, optimizer or SGD(0.1), batch_size=batch_size, seed=seed)


def params(net):
    return [p.copy() for p in net.params]


@pytest.mark.parametrize("batch_size, n_batches", [(1, 10), (3, 4), (10, 1)])
def test_each_epoch_visits_every_sample_once(batch_size, n_batches):
    trainer = make(batch_size)
    seen = []
    steps = list(trainer.run(2))
    assert len(steps) == 2 * n_batches
    for s in steps[:n_batches]:
        seen.extend(s.sample_indices.tolist())
    assert sorted(seen) == list(range(10))
    assert [s.epoch for s in steps] == [0] * n_batches + [1] * n_batches
    assert steps[-1].epoch_done and trainer.epoch == 2


def test_per_sample_order_is_shuffled_each_epoch_and_full_batch_is_not():
    trainer = make(1)
    first = [int(s.sample_indices[0]) for s in trainer.run(1)]
    second = [int(s.sample_indices[0]) for s in trainer.run(2)]
    assert first != second and first != list(range(10))
    full = make(10)
    assert full.step().sample_indices.tolist() == list(range(10))


def test_a_step_is_backprop_plus_the_optimizer_update():
    trainer = make(1)
    net = trainer.net
    idx = trainer.next_indices()
    reference = Network([3, 4, 2], "tanh", "softmax", "cross_entropy", seed=0)
    record = reference.backprop(trainer.X[idx], trainer.T[idx])
    reference.update(record, 0.1)
    done = trainer.step()
    assert np.array_equal(done.sample_indices, idx)
    assert all(np.array_equal(a, b) for a, b in zip(net.weights, reference.weights))
    assert all(np.array_equal(a, b) for a, b in zip(net.biases, reference.biases))
    assert done.loss == record.loss


@pytest.mark.parametrize("optimizer", [lambda: SGD(0.1), lambda: Momentum(0.1, 0.8), lambda: Adam(0.01)])
def test_restore_replays_training_bit_for_bit(optimizer):
    trainer = make(3, optimizer())
    for _ in range(5):
        trainer.step()
    state = trainer.state()
    later = [trainer.step() for _ in range(9)]
    final = params(trainer.net)
    trainer.restore(state)
    again = [trainer.step() for _ in range(9)]
    assert all(np.array_equal(a, b) for a, b in zip(final, trainer.net.params))
    assert [s.sample_indices.tolist() for s in later] == [s.sample_indices.tolist() for s in again]
    assert [s.loss for s in later] == [s.loss for s in again]


def test_same_seed_same_run():
    a, b = make(1, seed=4), make(1, seed=4)
    la = [s.loss for s in a.run(3)]
    lb = [s.loss for s in b.run(3)]
    assert la == lb


def test_momentum_rule_by_hand():
    p, g1, g2 = np.array([1.0]), np.array([0.5]), np.array([-0.2])
    opt = Momentum(0.1, 0.9)
    opt.step([p], [g1])                     # v = −0.05
    change = opt.step([p], [g2])[0]         # v = 0.9·(−0.05) + 0.02 = −0.025
    assert change == pytest.approx([-0.025])
    assert p == pytest.approx([1.0 - 0.05 - 0.025])


def test_adam_rule_by_hand():
    p, g = np.array([1.0, -2.0]), np.array([0.3, -0.1])
    opt = Adam(0.01)
    b1, b2, eps = 0.9, 0.999, 1e-8
    m = v = np.zeros(2)
    expected = p.copy()
    for t in (1, 2):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
        expected = expected - 0.01 * m_hat / (np.sqrt(v_hat) + eps)
        opt.step([p], [g])
    assert p == pytest.approx(expected, rel=1e-12)


def test_learning_rate_can_change_between_steps():
    trainer = make(1)
    trainer.step()
    trainer.optimizer.learning_rate = 0.0001
    idx = trainer.next_indices()
    g = trainer.net.backprop(trainer.X[idx], trainer.T[idx]).weight_grads[0]
    done = trainer.step()
    assert done.changes[0] == pytest.approx(-0.0001 * g)


def test_a_non_finite_loss_stops_before_the_update():
    X, T = data()
    net = Network([3, 4, 2], "linear", "linear", "squared", seed=0)
    net.weights[0][...] = 1e200
    trainer = Trainer(net, X, T, SGD(0.1))
    before = params(net)
    with pytest.raises(DivergenceError, match="loss became"):
        trainer.step()
    assert all(np.array_equal(a, b) for a, b in zip(before, net.params))


def test_loss_monitor_catches_explosions_not_noise():
    monitor = LossMonitor(factor=10)
    for loss in (1.0, 0.5, 0.2, 0.3, 0.9):
        monitor.check(loss)
    with pytest.raises(DivergenceError, match="grew"):
        monitor.check(2.5)
    with pytest.raises(DivergenceError):
        LossMonitor().check(math.nan)


@pytest.mark.parametrize("mode, size, n, expected", [
    ("sample", 99, 10, 1), ("batch", 4, 10, 4), ("full", 1, 10, 10)])
def test_batch_size_for_modes(mode, size, n, expected):
    assert batch_size_for(mode, size, n) == expected


def test_bad_trainer_input():
    with pytest.raises(BpvizError, match="between 1 and 10"):
        batch_size_for("batch", 11, 10)
    with pytest.raises(BpvizError, match="unknown mode"):
        batch_size_for("epoch", 1, 10)
    X, T = data()
    X[0, 0] = np.nan
    with pytest.raises(BpvizError, match="NaN"):
        Trainer(Network([3, 2, 2]), X, T, SGD(0.1))
    for lr in (0, -1, math.nan, "fast"):
        with pytest.raises(BpvizError, match="learning rate"):
            SGD(lr)


def test_engine_and_training_process_never_import_qt():
    code = ("import sys, bpviz.engine, bpviz.datasets, bpviz.settings, bpviz.snapshot, bpviz.training_loop, bpviz.training_process; "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6', 'pyqtgraph')]; "
            "print(bad); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf, "both infinities"])
@pytest.mark.parametrize("where", ["X", "T"])
def test_a_trainer_refuses_data_that_is_not_finite(bad, where):
    X, T = np.ones((6, 2)), np.zeros((6, 1))
    target = X if where == "X" else T
    if bad == "both infinities":  # their sum is NaN, not inf
        target[1, 0], target[4, 0] = np.inf, -np.inf
    else:
        target[3, 0] = bad
    with pytest.raises(BpvizError, match="NaN or infinite"):
        Trainer(Network((2, 3, 1)), X, T, SGD(0.1))


def test_a_trainer_takes_finite_data_whose_sum_overflows():
    X = np.full((6, 2), 1e308)
    X[0] = -1e308
    trainer = Trainer(Network((2, 3, 1)), X, np.zeros((6, 1)), SGD(0.1))
    assert trainer.X is X
