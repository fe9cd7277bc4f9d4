"""TrainingWorker: runs a Trainer on a QThread and publishes snapshots.

The worker's loop lives in one slot (``run``) and never returns to the thread's
event loop until stopped, so the window talks to it through a thread-safe command
queue instead of queued slot calls: every public method only enqueues a function,
which the loop runs between two training steps. While playing, the loop publishes a
snapshot at most at display rate and only when the window has drawn the previous
one, so training is never slowed to the window's pace and signals never pile up.
"""

from __future__ import annotations

import logging
import math
import queue
import threading
import time
import traceback
from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QObject, Signal, Slot

from bpviz.datasets import Dataset, accuracy
from bpviz.engine.network import Network
from bpviz.engine.training import LossMonitor, Trainer, TrainerState, TrainStep
from bpviz.errors import DivergenceError
from bpviz.snapshot import History, Snapshot, make_snapshot

log = logging.getLogger(__name__)

DISPLAY_INTERVAL = 1 / 60


class _Model:
    """What one run consists of: built on the GUI thread, then owned by the worker."""

    def __init__(self, dataset: Dataset, net: Network, trainer: Trainer, epochs_limit: int | None, run_id: int):
        self.dataset, self.net, self.trainer, self.epochs_limit = dataset, net, trainer, epochs_limit
        self.run_id = run_id
        self.initial = trainer.state()
        self.last_good: TrainerState = self.initial
        self.monitor = LossMonitor()
        self.history: dict[str, list] = {k: [] for k in
                                         ("train_loss", "test_loss", "train_accuracy", "test_accuracy", "grad_norms")}
        self.epoch_grad_norms = np.zeros(len(net.weights))
        self.epoch_steps = 0


class TrainingWorker(QObject):
    """Owns the network while training; the window only sends commands."""

    snapshot_ready = Signal(object)
    playing_changed = Signal(bool)
    training_failed = Signal(str)
    diverged = Signal(str)
    finished = Signal()

    def __init__(self) -> None:
        super().__init__()
        self._commands: queue.Queue[Callable[[], None]] = queue.Queue()
        self._stop = threading.Event()
        self._drawn = threading.Event()
        self._drawn.set()
        self._model: _Model | None = None
        self._playing = False
        self._steps_per_second: float | None = None
        self._next_step_time = 0.0
        self._last_publish = 0.0
        self._rate_t0 = time.perf_counter()
        self._rate_steps = 0
        self._samples_per_second = 0.0

    # ------------------------------------------------- called from the GUI thread
    def load(self, dataset: Dataset, net: Network, trainer: Trainer, epochs_limit: int | None, run_id: int) -> None:
        """Hand over a freshly built run; the previous one is dropped. The window must
        not touch ``net`` or ``trainer`` afterwards."""
        self._send(lambda: self._do_load(_Model(dataset, net, trainer, epochs_limit, run_id)))

    def play(self) -> None:
        self._send(lambda: self._set_playing(True))

    def pause(self) -> None:
        self._send(lambda: self._set_playing(False))

    def step(self, n: int = 1) -> None:
        """Exactly ``n`` updates, publishing each; pauses first."""
        self._send(lambda: self._do_steps(n))

    def step_epoch(self) -> None:
        """Train to the end of the current epoch, then publish."""
        self._send(self._do_step_epoch)

    def reset(self) -> None:
        """Back to the run's initial weights, optimiser state and position."""
        self._send(self._do_reset)

    def restore_last_good(self) -> None:
        """After a divergence: back to the state at the end of the last good epoch."""
        self._send(self._do_restore_last_good)

    def set_learning_rate(self, learning_rate: float) -> None:
        self._send(lambda: self._do_set_learning_rate(learning_rate))

    def set_speed(self, steps_per_second: float | None) -> None:
        """Steps per second while playing; None for as fast as possible."""
        self._send(lambda: setattr(self, "_steps_per_second", steps_per_second))

    def snapshot_drawn(self) -> None:
        """The window has shown the last snapshot; the next may be published."""
        self._drawn.set()

    def stop(self) -> None:
        self._stop.set()
        self._commands.put(lambda: None)

    def _send(self, command: Callable[[], None]) -> None:
        self._commands.put(command)

    # --------------------------------------------------------- the worker thread
    @Slot()
    def run(self) -> None:
        """The loop: run commands; while playing, train and publish at display rate."""
        while not self._stop.is_set():
            try:
                self._run_commands()
                if self._playing and not self._stop.is_set():
                    self._play_once()
            except DivergenceError as exc:
                self._on_divergence(str(exc))
            except Exception:  # noqa: BLE001 - a worker must survive and report anything
                message = traceback.format_exc()
                log.error("training failed:\n%s", message)
                self._set_playing(False)
                self.training_failed.emit(message.strip().splitlines()[-1])

    def _run_commands(self) -> None:
        if self._playing:
            wait = 0.0
            if self._steps_per_second:
                wait = max(0.0, self._next_step_time - time.perf_counter())
        else:
            wait = None
        try:
            command = self._commands.get(timeout=wait) if wait != 0.0 else self._commands.get_nowait()
        except queue.Empty:
            return
        command()
        while True:
            try:
                self._commands.get_nowait()()
            except queue.Empty:
                return

    def _play_once(self) -> None:
        model = self._model
        if model is None:
            self._set_playing(False)
            return
        now = time.perf_counter()
        if self._steps_per_second:
            if now < self._next_step_time:
                return
            self._next_step_time = now + 1.0 / self._steps_per_second
        done = self._train_step(model)
        if self._limit_reached(model):
            self._set_playing(False)
            self._publish(model, done)
            self.finished.emit()
            return
        slow = self._steps_per_second is not None and self._steps_per_second <= 60
        if slow or (self._drawn.is_set() and now - self._last_publish >= DISPLAY_INTERVAL):
            self._publish(model, done)

    def _train_step(self, model: _Model) -> TrainStep:
        done = model.trainer.step()
        self._rate_steps += len(done.sample_indices)
        for k, g in enumerate(done.record.weight_grads):
            model.epoch_grad_norms[k] += math.sqrt(float(np.vdot(g, g)))
        model.epoch_steps += 1
        if done.epoch_done:
            self._end_epoch(model)
        return done

    def _end_epoch(self, model: _Model) -> None:
        ds, net, h = model.dataset, model.net, model.history
        with np.errstate(all="ignore"):
            out_train = net.predict(ds.X_train)
            train_loss = net.loss_of(ds.X_train, ds.T_train)
            h["train_loss"].append(train_loss)
            h["test_loss"].append(net.loss_of(ds.X_test, ds.T_test) if ds.n_test else math.nan)
            if ds.is_classification:
                h["train_accuracy"].append(accuracy(out_train, ds.T_train))
                h["test_accuracy"].append(accuracy(net.predict(ds.X_test), ds.T_test) if ds.n_test else math.nan)
            else:
                h["train_accuracy"].append(math.nan)
                h["test_accuracy"].append(math.nan)
        h["grad_norms"].append(model.epoch_grad_norms / max(model.epoch_steps, 1))
        model.epoch_grad_norms = np.zeros(len(net.weights))
        model.epoch_steps = 0
        if not net.is_finite():
            raise DivergenceError(f"a weight became NaN or infinite in epoch {model.trainer.epoch}")
        model.monitor.check(train_loss)
        model.last_good = model.trainer.state()

    def _limit_reached(self, model: _Model) -> bool:
        return model.epochs_limit is not None and model.trainer.epoch >= model.epochs_limit

    def _history(self, model: _Model) -> History:
        h = model.history
        norms = np.array(h["grad_norms"]) if h["grad_norms"] else np.empty((0, len(model.net.weights)))
        return History(*(np.array(h[k], dtype=float) for k in
                         ("train_loss", "test_loss", "train_accuracy", "test_accuracy")), norms)

    def _publish(self, model: _Model, done: TrainStep | None, before=None) -> None:
        now = time.perf_counter()
        if now - self._rate_t0 >= 0.5:
            self._samples_per_second = self._rate_steps / (now - self._rate_t0)
            self._rate_t0, self._rate_steps = now, 0
        trainer = model.trainer
        if done is None:
            # Before any step: preview the next sample's pass without updating.
            idx = trainer.next_indices()
            record = model.net.backprop(model.dataset.X_train[idx], model.dataset.T_train[idx])
            sample = int(idx[0])
        else:
            record, sample = done.record, int(done.sample_indices[0])
        snapshot = make_snapshot(
            model.net, record, sample, done, before,
            step=trainer.step_count, epoch=trainer.epoch, batch_index=trainer.batch_index,
            n_batches=trainer.n_batches, history=self._history(model),
            samples_per_second=self._samples_per_second if self._playing else 0.0,
            playing=self._playing, epochs_limit=model.epochs_limit, run_id=model.run_id,
        )
        self._last_publish = now
        self._drawn.clear()
        self.snapshot_ready.emit(snapshot)

    # ---------------------------------------------------------------- commands
    def _do_load(self, model: _Model) -> None:
        self._set_playing(False)
        self._model = model
        log.info("loaded %r on %s", model.net, model.dataset.name)
        self._publish(model, None)

    def _set_playing(self, playing: bool) -> None:
        if playing and (self._model is None or self._limit_reached(self._model)):
            playing = False
        if playing != self._playing:
            self._playing = playing
            self._next_step_time = time.perf_counter()
            self._rate_t0, self._rate_steps = time.perf_counter(), 0
            self.playing_changed.emit(playing)
            if not playing and self._model is not None:
                # Show where training stopped: the next sample's pass under the current
                # weights, so every number on screen follows from the weights shown.
                self._publish(self._model, None)

    def _do_steps(self, n: int) -> None:
        self._set_playing(False)
        model = self._model
        if model is None:
            return
        for _ in range(n):
            before = model.net.get_params()
            done = self._train_step(model)
            self._publish(model, done, before)

    def _do_step_epoch(self) -> None:
        self._set_playing(False)
        model = self._model
        if model is None:
            return
        epoch = model.trainer.epoch
        done = self._train_step(model)
        while model.trainer.epoch == epoch:
            done = self._train_step(model)
        self._publish(model, done)

    def _do_reset(self) -> None:
        self._set_playing(False)
        model = self._model
        if model is None:
            return
        model.trainer.restore(model.initial)
        self._model = _Model(model.dataset, model.net, model.trainer, model.epochs_limit, model.run_id)
        self._publish(self._model, None)

    def _do_restore_last_good(self) -> None:
        model = self._model
        if model is not None:
            model.trainer.restore(model.last_good)
            model.monitor = LossMonitor()
            self._publish(model, None)

    def _do_set_learning_rate(self, learning_rate: float) -> None:
        if self._model is not None:
            self._model.trainer.optimizer.learning_rate = float(learning_rate)

    def _on_divergence(self, message: str) -> None:
        log.warning("training diverged: %s", message)
        self._set_playing(False)
        self.diverged.emit(message)
