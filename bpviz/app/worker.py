"""TrainingWorker: the window's handle on training, which runs in a process of its own.

Training runs in a child process (bpviz.training_process.serve), not on a thread of the
window's process: Python runs one thread at a time, NumPy lets go of that lock in
every matrix product, and the window's drawing then took it for milliseconds each
time, so a thread trained at under half its speed while the window drew, and the
window waited for training. In a process of its own training keeps a core, and the
window the other.

Every public method sends a command (its name and arguments) down a pipe, from a
thread of its own: nothing waits for the child. ``run``, on a QThread, reads the
child's events and emits them as signals; a snapshot's history arrives as the epochs
the window does not have yet, and ``run`` joins it to the ones before (HistoryJoiner). The network and trainer handed to ``load``
are pickled into the child (a dataset's arrays only the first time, bpviz.array_pipe):
the window keeps no live reference to the training state, only snapshots.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import io
import logging
import multiprocessing
import os
import pickle
import queue
import sys
import threading

from PySide6.QtCore import QObject, Signal, Slot

from bpviz import training_process
from bpviz.array_pipe import Sender
from bpviz.datasets import Dataset
from bpviz.engine.network import Network
from bpviz.engine.training import Trainer, TrainerState
from bpviz.snapshot import History, HistoryJoiner
from bpviz.training_loop import Capture

log = logging.getLogger(__name__)

# The child's BLAS uses one thread: the window's process has the other core.
THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
STOP_TIMEOUT_S = 5.0


class _LoadedModulesUnpickler(pickle.Unpickler):
    """Finds classes among the modules already loaded, without ``import``: on this
    (non-GUI) thread an import would run PySide's import hook, and once, when another
    thread did, the interpreter crashed in the GUI thread's garbage collection."""

    def find_class(self, module: str, name: str):
        loaded = sys.modules.get(module)
        if loaded is None:
            return super().find_class(module, name)
        return functools.reduce(getattr, name.split("."), loaded)


def _widen(connection) -> None:
    """On Linux, a pipe of 1 MB instead of 64 KB: a snapshot or a dataset then crosses
    in far fewer turns of writer and reader (a 300 MB dataset: 1.2 s instead of 2.9 s)."""
    try:
        import fcntl
    except ImportError:
        return
    if hasattr(fcntl, "F_SETPIPE_SZ"):
        try:
            fcntl.fcntl(connection.fileno(), fcntl.F_SETPIPE_SZ, 1 << 20)
        except OSError:  # above the system's limit (/proc/sys/fs/pipe-max-size)
            pass


@contextlib.contextmanager
def _one_blas_thread():
    """Start children with one BLAS thread unless the user chose a number."""
    unset = [name for name in THREAD_VARIABLES if name not in os.environ]
    os.environ.update({name: "1" for name in unset})
    try:
        yield
    finally:
        for name in unset:
            os.environ.pop(name, None)


@contextlib.contextmanager
def _main_module_hidden():
    """The training process needs nothing from the program that opened the window,
    but multiprocessing would run that program's main module again in the child: a
    script without an ``if __name__ == "__main__":`` guard would open a second
    window there, and ``python -`` (a script on standard input) has no file to run."""
    main = sys.modules["__main__"]
    saved = {name: main.__dict__[name] for name in ("__file__", "__spec__") if name in main.__dict__}
    main.__dict__.pop("__file__", None)
    main.__spec__ = None
    try:
        yield
    finally:
        main.__dict__.update(saved)
        if "__spec__" not in saved:
            del main.__spec__


class TrainingWorker(QObject):
    """Starts the training process at once; ``run`` (on a QThread) relays its events
    until ``stop``. See training_loop.TrainingLoop for what each command does."""

    snapshot_ready = Signal(object)
    state_captured = Signal(object)
    playing_changed = Signal(bool)
    training_failed = Signal(str)
    diverged = Signal(str)
    finished = Signal()
    command_failed = Signal(str)

    def __init__(self) -> None:
        super().__init__()
        context = multiprocessing.get_context("spawn")  # never fork a process that runs Qt
        child_commands, self._commands = context.Pipe(duplex=False)
        self._events, child_events = context.Pipe(duplex=False)
        self._process = context.Process(target=training_process.serve, args=(child_commands, child_events),
                                        name="bpviz-training", daemon=True)
        with _one_blas_thread(), _main_module_hidden():
            self._process.start()
        child_commands.close()
        child_events.close()
        for connection in (self._commands, self._events):
            _widen(connection)
        self._sender = Sender(self._commands)  # a dataset crosses once, not with every run
        self._outbox: queue.SimpleQueue = queue.SimpleQueue()
        self._sending = threading.Thread(target=self._send_commands, name="bpviz-send-commands", daemon=True)
        self._sending.start()
        self._sent = 0
        self._run = 0
        self._stopping = False
        self._datasets: dict[int, Dataset] = {}

    # ------------------------------------------------- called from the GUI thread
    def load(self, dataset: Dataset, net: Network, trainer: Trainer, epochs_limit: int | None, run_id: int,
             *, history: History | None = None, initial: TrainerState | None = None) -> None:
        """Hand over a freshly built run (a copy goes to the training process); the
        previous one is dropped. A restored session passes its ``history`` and
        ``initial``, where Reset goes."""
        self._datasets = {run_id: dataset}
        self._send("load", dataset, net, trainer, epochs_limit, run_id,
                   history=history, initial=initial)

    def capture(self, request: object = None) -> None:
        """Emit ``state_captured(Capture)`` with copies of the state between two steps."""
        self._send("capture", request)

    def play(self) -> None:
        self._send("play")

    def pause(self) -> None:
        self._send("pause")

    def step(self, n: int = 1) -> None:
        self._send("step", n)

    def step_epoch(self) -> None:
        self._send("step_epoch")

    def reset(self) -> None:
        self._send("reset")

    def restore_last_good(self) -> None:
        self._send("restore_last_good")

    def step_back(self) -> None:
        self._send("step_back")

    def go_to_step(self, step: int) -> None:
        self._send("go_to_step", int(step))

    def set_learning_rate(self, learning_rate: float) -> None:
        self._send("set_learning_rate", float(learning_rate))

    def set_parameter(self, kind: str, k: int, i: int, j: int, value: float) -> None:
        self._send("set_parameter", kind, k, i, j, value)

    def load_weights(self, path) -> None:
        self._send("load_weights", path)

    def set_speed(self, steps_per_second: float | None) -> None:
        self._send("set_speed", steps_per_second)

    def snapshot_drawn(self, cost: float = 0.0) -> None:
        """The window has shown the last snapshot, spending ``cost`` seconds of its
        thread on the frame; the next may be published. (Not a queued command: it
        acts as it arrives, so it is not counted as pending.)"""
        self._post("snapshot_drawn", (cost,), {})

    def has_pending_commands(self) -> bool:
        """True while a command sent to the training process has not run yet."""
        return self._run < self._sent

    def stop(self) -> None:
        """End the training process; ``run`` returns once it has gone."""
        if not self._stopping:
            self._stopping = True
            self._send("stop")

    def _send(self, name: str, *args, **kwargs) -> None:
        """A command the training loop queues and runs between two steps."""
        if self._post(name, args, kwargs):
            self._sent += 1

    def _post(self, name: str, args: tuple, kwargs: dict) -> bool:
        if self._stopping and name != "stop":
            return False
        # Pickled here, on the caller's (the GUI) thread: pickling imports modules, and
        # PySide's import hook running on another thread while this one collected Qt
        # objects crashed the interpreter once.
        self._outbox.put((name, self._sender.encode((name, args, kwargs), replace_arrays=name == "load")))
        return True

    def _send_commands(self) -> None:
        """The writing thread: a new dataset takes a while to cross (about a second for
        400 MB), and the window goes on meanwhile."""
        while True:
            name, chunks = self._outbox.get()
            try:
                for chunk in chunks:
                    self._commands.send_bytes(chunk)
            except (OSError, ValueError):  # the process has gone: run() reports it
                return
            if name == "stop":
                return

    # ------------------------------------------------------- the relaying thread
    @Slot()
    def run(self) -> None:
        """Relay the training process's events as signals until it ends."""
        signals = {"snapshot_ready": self.snapshot_ready, "playing_changed": self.playing_changed,
                   "training_failed": self.training_failed, "diverged": self.diverged,
                   "command_failed": self.command_failed}
        history = HistoryJoiner()
        try:
            while True:
                try:
                    event, value = _LoadedModulesUnpickler(io.BytesIO(self._events.recv_bytes())).load()
                except (EOFError, OSError):
                    break
                if event == "snapshot_ready":
                    value = dataclasses.replace(value, history=history.join(value.history_start, value.history),
                                                history_start=0)
                if event in signals:
                    signals[event].emit(value)
                elif event == "state_captured":
                    self.state_captured.emit(self._with_dataset(value))
                elif event == "finished":
                    self.finished.emit()
                elif event == "commands_run":
                    self._run += value
                elif event == "log":
                    log.log(*value)
        finally:
            self._events.close()
            self._process.join(STOP_TIMEOUT_S)
            if self._process.is_alive():
                self._process.terminate()
                self._process.join()
            if not self._stopping:
                log.error("the training process ended unexpectedly (exit code %s)", self._process.exitcode)
                self.training_failed.emit(f"the training process ended unexpectedly (exit code "
                                          f"{self._process.exitcode}); restart bpviz to train again")
            self._sending.join(STOP_TIMEOUT_S)
            self._commands.close()

    def _with_dataset(self, capture: Capture) -> Capture:
        return dataclasses.replace(capture, dataset=self._datasets.get(capture.run_id))
