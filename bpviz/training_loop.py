"""The training loop that the window drives: a Trainer, its rewind buffer and its
per-epoch history, run by commands and reporting through a callback. No Qt here:
the loop runs in a process of its own (bpviz.training_process), so training never
waits for the window's Python code, nor the window for training's.

The loop lives in one call (``run``) until stopped; every command method only
enqueues a function, which the loop runs between two training steps. While
playing, the loop publishes a snapshot at most at display rate and only when the
window has drawn the previous one, so training is never slowed to the window's
pace and snapshots never pile up. At full speed it trains in a tight inner loop
until a frame is due or a command arrives, whose only per-step cost besides the
step is a look at the command queue.
"""

from __future__ import annotations

import copy
import logging
import math
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from bpviz.datasets import Dataset, accuracy
from bpviz.engine.network import Network
from bpviz.engine.training import LossMonitor, Trainer, TrainerState, TrainStep
from bpviz.errors import BpvizError, DivergenceError
from bpviz.exports import load_weights
from bpviz.history import StepHistory
from bpviz.snapshot import HISTORY_FIELDS, History, frobenius, make_snapshot

DISPLAY_INTERVAL = 1 / 60
# While playing, the window may spend at most this share of its thread's time on
# frames (beyond it, clicks and keys would wait behind them), but shows at least a
# frame every MAX_FRAME_INTERVAL seconds.
MAX_DRAW_SHARE = 0.4
MAX_FRAME_INTERVAL = 0.1
# The training set is measured (when a run starts and at each epoch's end) in passes
# of at most this many rows, so a large set (60,000 MNIST rows) never has every
# layer's activations and deltas for all its rows in memory at once.
EPOCH_PASS_ROWS = 4096
# The commands a caller may send by name (bpviz.training_process).
COMMANDS = ("load", "capture", "play", "pause", "step", "step_epoch", "reset", "restore_last_good", "step_back",
            "go_to_step", "set_learning_rate", "set_parameter", "load_weights", "set_speed", "snapshot_drawn",
            "stop")


def _measure(net: Network, X: np.ndarray, T: np.ndarray,
             gradient: bool = True) -> tuple[float, np.ndarray, np.ndarray | None]:
    """The loss on (X, T) and the outputs, with the network's reduction, and with
    ``gradient`` the norm ‖∂L/∂W_k‖ of the loss's gradient for each weight matrix (the
    step a full batch would take), in passes of EPOCH_PASS_ROWS rows. The loss and
    outputs are ``Network.loss_of``'s and ``predict``'s, bit for bit, for a set that
    fits in one pass; across passes the loss and gradient are sums weighted by each
    pass's share of the rows (for a mean)."""
    n = len(X)
    loss, outputs, grads = 0.0, [], None
    for start in range(0, n, EPOCH_PASS_ROWS):
        x, t = X[start:start + EPOCH_PASS_ROWS], T[start:start + EPOCH_PASS_ROWS]
        if gradient:
            record = net._backprop(x, t)
            z, a = record.pre_activations[-1], record.outputs
        else:
            pres, acts = net._forward(x)
            z, a = pres[-1], acts[-1]
        share = len(x) / n if net.reduction == "mean" else 1.0
        loss += share * net.loss.value(z, a, t, net.reduction)
        outputs.append(a)
        if gradient:
            part = record.weight_grads if share == 1.0 else [g * share for g in record.weight_grads]
            grads = part if grads is None else [g + p for g, p in zip(grads, part)]
    norms = None if grads is None else np.array([frobenius(g) for g in grads])
    return loss, (outputs[0] if len(outputs) == 1 else np.concatenate(outputs)), norms


def _monitor_from(net: Network, dataset: Dataset) -> LossMonitor:
    """A loss monitor that starts from the loss at the current weights, so a loss that
    explodes within the first epoch is caught too."""
    monitor = LossMonitor()
    with np.errstate(all="ignore"):
        loss = _measure(net, dataset.X_train, dataset.T_train, gradient=False)[0]
    if math.isfinite(loss):
        monitor.check(loss)
    return monitor


@dataclass(frozen=True)
class Capture:
    """The loop's exact position, copied between two steps (for saving a session).

    request : what the caller passed to ``capture``; learning_rate : the optimiser's
    current rate (it changes live, without a new run)."""

    request: object
    run_id: int
    trainer_state: TrainerState
    history: History
    dataset: Dataset
    learning_rate: float


class _Model:
    """What one run consists of: built on the GUI thread, then owned by the worker.
    ``history`` continues a saved run's curves; ``initial`` is where Reset goes
    (default: now)."""

    def __init__(self, dataset: Dataset, net: Network, trainer: Trainer, epochs_limit: int | None, run_id: int,
                 history: History | None = None, initial: TrainerState | None = None):
        self.dataset, self.net, self.trainer, self.epochs_limit = dataset, net, trainer, epochs_limit
        self.run_id = run_id
        self.initial = initial if initial is not None else trainer.state()
        self.last_good: TrainerState = trainer.state() if initial is not None else self.initial
        self.monitor = _monitor_from(net, dataset)
        self.history: dict[str, list] = {k: [] for k in HISTORY_FIELDS}
        if history is not None:
            for key in HISTORY_FIELDS[:-1]:
                self.history[key] = [float(v) for v in getattr(history, key)]
            self.history["grad_norms"] = [np.array(row, dtype=float) for row in history.grad_norms]
        # Finished epochs at the current position; after a rewind the lists may hold
        # more (so scrubbing forward finds them) until a new epoch ends.
        self.n_epochs = len(self.history["train_loss"])
        # The first epoch the window may not have as it is now (it gets the ones from
        # here on with the next snapshot); a new run's window has none of them.
        self.unsent_from = 0
        self.steps = StepHistory()
        self.record()

    def record(self, checkpoint: bool = False) -> None:
        """Note the step just made in the rewind buffer; ``checkpoint`` keeps a full
        copy of the state (needed when it does not follow from the step before, as
        after hand-edited weights)."""
        steps = self.steps
        if checkpoint:
            steps.record(steps.capture(self.trainer, n_epochs=self.n_epochs))
        else:
            steps.record_step(self.trainer, n_epochs=self.n_epochs)

    def rewind_to(self, step: int) -> None:
        """Back (or forward) to the recorded state after ``step``, exactly: its
        checkpoint, then the steps after it redone (no epoch ends among them)."""
        entry = self.steps.checkpoint_for(step)
        self.n_epochs = entry.n_epochs
        self.steps.replay(self.trainer, step)
        if self.last_good.step > step:
            self.last_good = self.trainer.state()


class TrainingLoop:
    """Owns the network while training; the window only sends commands.

    ``emit(event, value)`` reports what happened: "snapshot_ready" (a Snapshot),
    "state_captured" (a Capture), "playing_changed" (bool), "training_failed",
    "diverged", "command_failed" (a message), "finished" (None), "commands_run"
    (how many commands ran) and "log" ((level, message)). Only ``run``'s thread
    emits; the command methods may be called from any thread.
    """

    def __init__(self, emit: Callable[[str, object], None]) -> None:
        self._emit = emit
        # Appended by any thread, run and removed by run's (deque's append and
        # popleft are atomic); _wake lets an idle loop sleep until a command comes.
        self._commands: deque[Callable[[], None]] = deque()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._drawn = threading.Event()
        self._drawn.set()
        self._model: _Model | None = None
        self._playing = False
        self._steps_per_second: float | None = None
        self._next_step_time = 0.0
        self._last_publish = 0.0
        self._frame_interval = DISPLAY_INTERVAL
        self._rate_t0 = time.perf_counter()
        self._rate_steps = 0
        self._samples_per_second = 0.0

    # ------------------------------------------------- called from any thread
    def load(self, dataset: Dataset, net: Network, trainer: Trainer, epochs_limit: int | None, run_id: int,
             *, history: History | None = None, initial: TrainerState | None = None) -> None:
        """Hand over a freshly built run; the previous one is dropped. The window must
        not touch ``net`` or ``trainer`` afterwards. A restored session passes its
        ``history`` (the curves go on) and ``initial``, where Reset goes."""
        self._send(lambda: self._do_load(_Model(dataset, net, trainer, epochs_limit, run_id, history, initial)))

    def capture(self, request: object = None) -> None:
        """Emit ``state_captured(Capture)`` with copies of the state between two steps
        (pause first for the state on screen: commands run in order)."""
        self._send(lambda: self._do_capture(request))

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

    def step_back(self) -> None:
        """Undo the last step exactly (if recorded) and show the step before; pauses."""
        self._send(self._do_step_back)

    def go_to_step(self, step: int) -> None:
        """Restore the recorded state after ``step`` and show that step as it was
        shown when made; pauses. Steps outside the rewind buffer are ignored."""
        self._send(lambda: self._do_go_to_step(step))

    def set_learning_rate(self, learning_rate: float) -> None:
        self._send(lambda: self._do_set_learning_rate(learning_rate))

    def set_parameter(self, kind: str, k: int, i: int, j: int, value: float) -> None:
        """Set weights[k][i, j] (kind "weight") or biases[k][j] (kind "bias", i unused)
        between steps and publish a preview; ``command_failed`` says why not."""
        self._send(lambda: self._do_set_parameter(kind, k, i, j, value))

    def load_weights(self, path) -> None:
        """Read a weights file (exports.load_weights) into the run's network and
        publish a preview; on any misfit ``command_failed`` and nothing changes."""
        self._send(lambda: self._do_load_weights(path))

    def set_speed(self, steps_per_second: float | None) -> None:
        """Steps per second while playing; None for as fast as possible."""
        self._send(lambda: setattr(self, "_steps_per_second", steps_per_second))

    def snapshot_drawn(self, cost: float = 0.0) -> None:
        """The window has shown the last snapshot; the next may be published, at the
        display rate or, while playing, after ``cost`` / MAX_DRAW_SHARE (at most
        MAX_FRAME_INTERVAL): ``cost`` is the seconds the window spent on a frame."""
        self._frame_interval = min(max(DISPLAY_INTERVAL, cost / MAX_DRAW_SHARE), MAX_FRAME_INTERVAL)
        self._drawn.set()

    def stop(self) -> None:
        self._stop.set()
        self._send(lambda: None)

    def has_pending_commands(self) -> bool:
        """True while a command sent to the worker has not started yet."""
        return bool(self._commands)

    def _send(self, command: Callable[[], None]) -> None:
        self._commands.append(command)
        self._wake.set()

    # ------------------------------------------------------------ run's thread
    def run(self) -> None:
        """The loop: run commands; while playing, train and publish at display rate."""
        while not self._stop.is_set():
            try:
                self._run_commands()
                if self._playing and not self._stop.is_set():
                    self._play()
            except DivergenceError as exc:
                self._on_divergence(str(exc))
            except Exception:  # noqa: BLE001 - a worker must survive and report anything
                message = traceback.format_exc()
                self._log(logging.ERROR, f"training failed:\n{message}")
                self._set_playing(False)
                self._emit("training_failed", message.strip().splitlines()[-1])

    def _run_commands(self) -> None:
        """Run the commands sent so far, first waiting for one: while paused as long as
        it takes, at a set speed until the next step is due, at full speed not at all."""
        if not self._playing:
            self._wake.wait()
        elif self._steps_per_second:
            self._wake.wait(max(0.0, self._next_step_time - time.perf_counter()))
        self._wake.clear()
        commands, ran = self._commands, 0
        try:
            while commands:
                command = commands.popleft()
                ran += 1
                command()
        finally:  # a command that raised has run too
            if ran:
                self._emit("commands_run", ran)

    def _play(self) -> None:
        model = self._model
        if model is None:
            self._set_playing(False)
            return
        if self._steps_per_second:
            self._play_step(model)
            return
        commands, drawn = self._commands, self._drawn
        due = self._last_publish + self._frame_interval
        while not commands:
            done = self._train_step(model)
            if done.epoch_done and self._limit_reached(model):
                self._finish(model, done)
                return
            if drawn.is_set() and time.perf_counter() >= due:
                self._publish(model, done)
                return

    def _play_step(self, model: _Model) -> None:
        """One step at a set speed, when it is due; at up to 60 steps a second every
        step is shown, faster ones at display rate."""
        now = time.perf_counter()
        if now < self._next_step_time:
            return
        self._next_step_time = now + 1.0 / self._steps_per_second
        done = self._train_step(model)
        if self._limit_reached(model):
            self._finish(model, done)
        elif self._steps_per_second <= 60 or (now - self._last_publish >= self._frame_interval
                                               and self._drawn.is_set()):
            self._publish(model, done)

    def _finish(self, model: _Model, done: TrainStep) -> None:
        self._set_playing(False)
        self._publish(model, done)
        self._emit("finished", None)

    def _train_step(self, model: _Model) -> TrainStep:
        done = model.trainer.step()
        self._rate_steps += len(done.sample_indices)
        try:
            if done.epoch_done:
                self._end_epoch(model)
        finally:  # a divergence found at the epoch's end still leaves the step undoable
            model.record()
        return done

    def _end_epoch(self, model: _Model) -> None:
        ds, net, h = model.dataset, model.net, model.history
        for values in h.values():  # epochs of a branch left by a rewind
            del values[model.n_epochs:]
        model.unsent_from = min(model.unsent_from, model.n_epochs)
        with np.errstate(all="ignore"):
            train_loss, out_train, grad_norms = _measure(net, ds.X_train, ds.T_train)
            test_loss, out_test, _ = (_measure(net, ds.X_test, ds.T_test, gradient=False) if ds.n_test
                                      else (math.nan, None, None))
            h["train_loss"].append(train_loss)
            h["test_loss"].append(test_loss)
            if ds.is_classification:
                h["train_accuracy"].append(accuracy(out_train, ds.T_train))
                h["test_accuracy"].append(accuracy(out_test, ds.T_test) if ds.n_test else math.nan)
            else:
                h["train_accuracy"].append(math.nan)
                h["test_accuracy"].append(math.nan)
        h["grad_norms"].append(grad_norms)
        model.n_epochs += 1
        if not net.is_finite():
            raise DivergenceError(f"a weight became NaN or infinite in epoch {model.trainer.epoch}")
        model.monitor.check(train_loss)
        model.last_good = model.trainer.state()

    def _limit_reached(self, model: _Model) -> bool:
        return model.epochs_limit is not None and model.trainer.epoch >= model.epochs_limit

    def _history(self, model: _Model, start: int = 0) -> History:
        """The per-epoch history, from epoch ``start`` on."""
        h = {k: v[start:model.n_epochs] for k, v in model.history.items()}
        norms = np.array(h["grad_norms"]) if h["grad_norms"] else np.empty((0, len(model.net.weights)))
        return History(*(np.array(h[k], dtype=float) for k in HISTORY_FIELDS[:-1]), norms)

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
        start = min(model.unsent_from, model.n_epochs)
        model.unsent_from = model.n_epochs
        # Frames sampled from a run at full speed (or above display rate) are light:
        # every step shown at a set speed, and every single step, is whole.
        sampled = self._playing and not (self._steps_per_second and self._steps_per_second <= 60)
        snapshot = make_snapshot(
            model.net, record, sample, done, before, light=sampled,
            step=trainer.step_count, epoch=trainer.epoch, batch_index=trainer.batch_index,
            n_batches=trainer.n_batches, history=self._history(model, start), history_start=start,
            samples_per_second=self._samples_per_second if self._playing else 0.0,
            playing=self._playing, epochs_limit=model.epochs_limit, run_id=model.run_id,
            recorded_steps=(model.steps.first_step, model.steps.last_step),
        )
        self._last_publish = now
        self._drawn.clear()
        self._emit("snapshot_ready", snapshot)

    # ---------------------------------------------------------------- commands
    def _do_load(self, model: _Model) -> None:
        self._set_playing(False)
        self._model = model
        self._log(logging.INFO, f"loaded {model.net!r} on {model.dataset.name}")
        self._publish(model, None)

    def _do_capture(self, request: object) -> None:
        model = self._model
        if model is None:
            return
        trainer = model.trainer
        self._emit("state_captured", Capture(request, model.run_id, trainer.state(), self._history(model),
                                         model.dataset, float(trainer.optimizer.learning_rate)))

    def _set_playing(self, playing: bool) -> None:
        if playing and (self._model is None or self._limit_reached(self._model)):
            playing = False
        if playing != self._playing:
            self._playing = playing
            self._next_step_time = time.perf_counter()
            self._rate_t0, self._rate_steps = time.perf_counter(), 0
            self._emit("playing_changed", playing)
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
            if model.steps.get(model.last_good.step) is not None:  # epoch ends are checkpoints
                model.rewind_to(model.last_good.step)
            else:
                model.n_epochs = max(0, model.n_epochs - (model.trainer.epoch - model.last_good.epoch))
                model.trainer.restore(model.last_good)
                model.steps.clear()
                model.record()
            model.monitor = _monitor_from(model.net, model.dataset)
            self._publish(model, None)

    def _do_step_back(self) -> None:
        if self._model is not None:
            self._do_go_to_step(self._model.trainer.step_count - 1)

    def _do_go_to_step(self, step: int) -> None:
        self._set_playing(False)
        model = self._model
        if model is None or step not in model.steps:
            return
        if step - 1 not in model.steps:  # the oldest entry: no pass to show, so a preview
            model.rewind_to(step)
            self._publish(model, None)
            return
        # Redo the step from the state before it, with the rate it was made with, for
        # its pass and changes. A step with a checkpoint of its own (an epoch's end,
        # hand-edited weights) then takes that, so the result is exact whatever the redo did.
        model.rewind_to(step - 1)
        optimizer = model.trainer.optimizer
        rate, optimizer.learning_rate = optimizer.learning_rate, model.steps.learning_rate(step)
        try:
            before = model.net.get_params()
            done = model.trainer.step()
        finally:
            optimizer.learning_rate = rate
        if model.steps.get(step) is not None:
            model.rewind_to(step)
        self._publish(model, done, before)

    def _do_set_learning_rate(self, learning_rate: float) -> None:
        if self._model is not None:
            self._model.trainer.optimizer.learning_rate = float(learning_rate)

    def _do_set_parameter(self, kind: str, k: int, i: int, j: int, value: float) -> None:
        model = self._model
        if model is None:
            return
        weights, biases = model.net.get_params()
        try:
            if not 0 <= k < len(weights):
                raise BpvizError(f"there is no weight layer {k}")
            n_in, n_out = weights[k].shape
            if not 0 <= j < n_out or (kind == "weight" and not 0 <= i < n_in):
                raise BpvizError(f"there is no {kind} ({i}, {j}) in layer {k}")
            if kind == "weight":
                weights[k][i, j] = value
            elif kind == "bias":
                biases[k][j] = value
            else:
                raise BpvizError(f"unknown parameter kind '{kind}'")
            model.net.set_params(weights, biases)
        except BpvizError as exc:
            self._emit("command_failed", str(exc))
            return
        self._parameters_changed(model)

    def _do_load_weights(self, path) -> None:
        model = self._model
        if model is None:
            self._emit("command_failed", "there is no network to load weights into yet")
            return
        trial = copy.deepcopy(model.net)
        try:
            load_weights(path, trial)
        except BpvizError as exc:
            self._emit("command_failed", str(exc))
            return
        model.net.set_params(trial.weights, trial.biases)
        self._parameters_changed(model)

    def _parameters_changed(self, model: _Model) -> None:
        # Before the first step the new weights become the run's start, so Reset and
        # a replay begin from them (a textbook example); later, Reset still goes back.
        if model.trainer.step_count == 0:
            model.initial = model.last_good = model.trainer.state()
        model.monitor = _monitor_from(model.net, model.dataset)
        model.record(checkpoint=True)  # the edited weights replace this step's entry
        self._publish(model, None)

    def _log(self, level: int, message: str) -> None:
        self._emit("log", (level, message))

    def _on_divergence(self, message: str) -> None:
        self._log(logging.WARNING, f"training diverged: {message}")
        self._set_playing(False)
        self._emit("diverged", message)
