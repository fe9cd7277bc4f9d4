"""Helpers shared by the view tests: snapshots of real training runs, widgets
handed to qtbot, and ways into the training process (its state, injected failures)."""

import uuid

from PySide6.QtCore import QObject, Qt, Signal

from bpviz.engine.training import Trainer
from bpviz.snapshot import make_snapshot


def snapshot_of(net, state, **extra):
    """The snapshot of ``net`` after the training step ``state`` (a TrainStep), showing
    its first sample; ``extra`` as make_snapshot's (counters, history)."""
    return make_snapshot(net, state.record, int(state.sample_indices[0]), state, step=state.step, **extra)


def trained(settings, steps, **extra):
    """(dataset, the live network, its snapshot) after ``steps`` real training steps."""
    dataset, net, trainer = settings.build()
    for _ in range(steps):
        state = trainer.step()
    return dataset, net, snapshot_of(net, state, **extra)


def added(qtbot, widget, size, show=True):
    """``widget`` handed to qtbot (closed at teardown), resized to ``size`` and, if
    ``show``, shown."""
    qtbot.addWidget(widget)
    widget.resize(*size)
    if show:
        widget.show()
    return widget


class FailingTrainer(Trainer):
    """A Trainer whose step raises RuntimeError("injected failure …") at chosen steps:
    ``fail_at`` holds step counts (the updates done before the failing call)."""

    fail_at: frozenset = frozenset()

    def step(self):
        if self.step_count in self.fail_at:
            self.fail_at = self.fail_at - {self.step_count}  # each failure happens once
            raise RuntimeError(f"injected failure at step {self.step_count}")
        return super().step()


def start_failing_run(window, *fail_at):
    """Start a new run of the window's settings whose trainer fails at the steps
    ``fail_at``. Training runs in another process, so the failure travels there
    inside the pickled trainer, not as a patch of this process's code."""
    dataset, net, trainer = window.settings.build(window.dataset)
    trainer.__class__ = FailingTrainer
    trainer.fail_at = frozenset(fail_at)
    window.start_run(window.settings, dataset, net, trainer)


class _Relay(QObject):
    captured = Signal(object)


def captured(qtbot, window, timeout=10000):
    """The training state now (a training_loop.Capture), asked for as File ▸ Save
    asks; it comes after every command sent before it has run."""
    relay, got, token = _Relay(), [], f"test-capture-{uuid.uuid4().hex}"
    relay.captured.connect(lambda c: got.append(c) if c.request == token else None)
    window.worker.state_captured.connect(relay.captured, Qt.ConnectionType.QueuedConnection)
    try:
        window.worker.capture(token)
        qtbot.waitUntil(lambda: bool(got), timeout=timeout)
    finally:
        window.worker.state_captured.disconnect(relay.captured)
    return got[0]
