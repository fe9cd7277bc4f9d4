"""The training worker on a real QThread: stepping, playing, pausing, stopping."""

import os
import subprocess
import sys

import numpy as np
import pytest
from PySide6.QtCore import QObject, Qt, QThread, Signal

from bpviz.app.worker import TrainingWorker
from bpviz.settings import Settings


class GuiSide(QObject):
    """Receives the worker's signals on the GUI thread, as the window does."""

    snapshot_ready = Signal(object)
    playing_changed = Signal(bool)
    diverged = Signal(str)
    finished = Signal()


@pytest.fixture
def worker(qtbot):
    worker = TrainingWorker()
    thread = QThread()
    worker.moveToThread(thread)
    thread.started.connect(worker.run)
    gui = GuiSide()
    for name in ("snapshot_ready", "playing_changed", "diverged", "finished"):
        getattr(worker, name).connect(getattr(gui, name), Qt.QueuedConnection)
    snapshots = []
    gui.snapshot_ready.connect(lambda s: (snapshots.append(s), worker.snapshot_drawn()))
    thread.start()
    gui.snapshots = snapshots
    gui.worker = worker
    yield gui
    worker.stop()
    thread.quit()
    assert thread.wait(5000)


def load(worker, qtbot, settings=Settings(), run_id=1):
    dataset, net, trainer = settings.build()
    with qtbot.waitSignal(worker.snapshot_ready, timeout=5000) as blocker:
        worker.worker.load(dataset, net, trainer, settings.epochs, run_id)
    return dataset, net, trainer, blocker.args[0]


def test_load_publishes_a_preview_of_the_first_sample(worker, qtbot):
    dataset, net, trainer, snap = load(worker, qtbot)
    assert snap.step == 0 and snap.weight_changes is None and snap.run_id == 1
    idx = int(np.random.default_rng(0).permutation(dataset.n_train)[0])
    assert snap.sample_index == idx
    assert np.array_equal(snap.activations[0], dataset.X_train[idx])


def test_step_publishes_exactly_one_engine_step(worker, qtbot):
    settings = Settings()
    dataset, net, trainer, first = load(worker, qtbot, settings)
    reference_ds, reference, ref_trainer = settings.build()
    expected = ref_trainer.step()
    with qtbot.waitSignal(worker.snapshot_ready, timeout=5000) as blocker:
        worker.worker.step()
    snap = blocker.args[0]
    assert snap.step == 1 and snap.sample_index == int(expected.sample_indices[0])
    for a, b in zip(snap.weights, reference.weights):
        assert np.array_equal(a, b)
    for a, b in zip(snap.weights_before, first.weights):
        assert np.array_equal(a, b)
    for a, b in zip(snap.deltas, expected.record.deltas):
        assert np.array_equal(a, b[0])
    assert not snap.weights[0].flags.writeable


def test_play_then_pause_leaves_the_worker_idle(worker, qtbot):
    load(worker, qtbot, Settings(epochs=None))
    with qtbot.waitSignal(worker.playing_changed, timeout=5000):
        worker.worker.play()
    qtbot.waitUntil(lambda: len(worker.snapshots) > 3, timeout=5000)
    with qtbot.waitSignal(worker.playing_changed, timeout=5000) as blocker:
        worker.worker.pause()
    assert blocker.args == [False]
    qtbot.wait(100)
    count, step = len(worker.snapshots), worker.snapshots[-1].step
    qtbot.wait(200)
    assert len(worker.snapshots) == count and worker.snapshots[-1].step == step
    assert step > 3


def test_epochs_limit_stops_playing_with_history(worker, qtbot):
    load(worker, qtbot, Settings(epochs=3))
    with qtbot.waitSignal(worker.finished, timeout=10000):
        worker.worker.play()
    qtbot.waitUntil(lambda: worker.snapshots[-1].epoch == 3, timeout=5000)
    history = worker.snapshots[-1].history
    assert history.n_epochs == 3 and history.grad_norms.shape == (3, 2)
    assert np.all(np.isfinite(history.train_loss))


def test_reset_restores_the_initial_weights(worker, qtbot):
    _, _, _, first = load(worker, qtbot)
    worker.worker.step(5)
    qtbot.waitUntil(lambda: worker.snapshots[-1].step == 5, timeout=5000)
    with qtbot.waitSignal(worker.snapshot_ready, timeout=5000) as blocker:
        worker.worker.reset()
    snap = blocker.args[0]
    assert snap.step == 0
    assert all(np.array_equal(a, b) for a, b in zip(snap.weights, first.weights))


def test_learning_rate_changes_live(worker, qtbot):
    settings = Settings(learning_rate=0.05)
    load(worker, qtbot, settings)
    worker.worker.set_learning_rate(0.001)
    with qtbot.waitSignal(worker.snapshot_ready, timeout=5000) as blocker:
        worker.worker.step()
    snap = blocker.args[0]
    assert np.allclose(snap.weight_changes[0], -0.001 * snap.weight_grads[0], rtol=1e-12, atol=0)


def test_divergence_pauses_and_reports(worker, qtbot):
    settings = Settings(dataset="digits", hidden=(32, 16), activation="relu", output_activation="linear",
                        init="normal", init_scale=5.0, learning_rate=10.0, epochs=None)
    load(worker, qtbot, settings)
    with qtbot.waitSignal(worker.diverged, timeout=10000) as blocker:
        worker.worker.play()
    assert "loss" in blocker.args[0] or "weight" in blocker.args[0]
    qtbot.waitUntil(lambda: not worker.snapshots[-1].playing, timeout=5000)


UNGUARDED_SCRIPT = """
import time
from PySide6.QtCore import QCoreApplication, QObject, Qt, QThread, Signal
from bpviz.app.worker import TrainingWorker
from bpviz.settings import Settings

class Relay(QObject):
    snapshot = Signal(object)

app = QCoreApplication([])
worker, thread, relay, got = TrainingWorker(), QThread(), Relay(), []
worker.moveToThread(thread)
thread.started.connect(worker.run)
worker.snapshot_ready.connect(relay.snapshot, Qt.QueuedConnection)
relay.snapshot.connect(got.append)
thread.start()
worker.load(*Settings().build(), None, 1)
end = time.monotonic() + 30
while not got and time.monotonic() < end:
    app.processEvents()
    time.sleep(0.01)
print("opened by this script:", len(got), "snapshot, step", got[0].step if got else None)
worker.stop()
thread.quit()
thread.wait()
"""


@pytest.mark.parametrize("how", ["stdin", "file"])
def test_a_script_without_a_main_guard_starts_training_once(tmp_path, how):
    """multiprocessing would run the opening script again in the training process:
    an unguarded script would start a second worker there, and a script read from
    standard input has no file to run at all."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    if how == "stdin":
        command, stdin = [sys.executable, "-"], UNGUARDED_SCRIPT
    else:
        path = tmp_path / "unguarded.py"
        path.write_text(UNGUARDED_SCRIPT)
        command, stdin = [sys.executable, str(path)], None
    result = subprocess.run(command, input=stdin, capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("opened by this script") == 1, result.stdout + result.stderr
    assert "opened by this script: 1 snapshot, step 0" in result.stdout
