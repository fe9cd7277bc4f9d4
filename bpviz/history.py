"""The rewind buffer: every recent step can be restored exactly.

Copying the trainer's whole state after every step costs 15–35 µs, as much as a
small network's step, so the buffer keeps a full copy (a checkpoint, restored with
``Trainer.restore``) only every ``checkpoint_every`` steps, at every epoch's end and
wherever the caller asks (hand-edited weights), and for the steps in between just
the learning rate each was made with. Training is deterministic given the trainer's
state, so ``replay`` restores the nearest checkpoint at or before a step and redoes
the steps in between with their rates: weights, optimiser state and position come
back exactly. (Epoch ends are checkpoints so a replay never crosses one: the
caller's per-epoch figures need no redoing.)

The buffer is a ring with two bounds: at most ``max_steps`` steps and at most
``max_bytes`` of checkpoints, the older steps dropped first (a checkpoint stays
while a kept step needs it). With the defaults (10,000 steps, 200 MiB) a small
network keeps 10,000 steps; a 784-128-10 network with Adam (2.4 MB a checkpoint)
keeps the last 80 checkpoints, about 2,500 steps.

The epoch's sample order and the shuffling RNG change once an epoch, so consecutive
checkpoints share them instead of copying them. No Qt here.
"""

from __future__ import annotations

import bisect
from collections import deque
from dataclasses import dataclass

import numpy as np

from bpviz.engine.training import Trainer, TrainerState

DEFAULT_MAX_STEPS = 10_000
DEFAULT_MAX_BYTES = 200 * 2**20
# Python objects per entry besides the array data (the entry, the state, tuples,
# dicts and ~100 bytes per array header), a generous measured figure.
ENTRY_OVERHEAD = 1024
# A step between checkpoints: its learning rate, a float in a deque.
STEP_OVERHEAD = 40
CHECKPOINT_EVERY = 32


@dataclass(frozen=True)
class HistoryEntry:
    """The state after one step, with what the worker keeps beside the trainer.

    learning_rate : the rate the step was made with (to redo it exactly)
    n_epochs : finished epochs in the per-epoch history at that point
    nbytes : what this entry costs, as the buffer counts it
    """

    state: TrainerState
    learning_rate: float
    n_epochs: int
    nbytes: int

    @property
    def step(self) -> int:
        return self.state.step


def _array_bytes(value) -> int:
    if isinstance(value, np.ndarray):
        return value.nbytes
    if isinstance(value, (list, tuple)):
        return sum(_array_bytes(v) for v in value)
    if isinstance(value, dict):
        return sum(_array_bytes(v) for v in value.values())
    return 0


class StepHistory:
    """A run of consecutive recorded steps, oldest first: checkpoints and the learning
    rates of the steps between them."""

    def __init__(self, max_steps: int | None = None, max_bytes: int | None = None,
                 checkpoint_every: int | None = None) -> None:
        """max_steps, max_bytes : the bounds; None for DEFAULT_MAX_STEPS / DEFAULT_MAX_BYTES.
        checkpoint_every : steps from one checkpoint to the next (None: CHECKPOINT_EVERY)."""
        max_steps = DEFAULT_MAX_STEPS if max_steps is None else int(max_steps)
        if max_steps < 1:
            raise ValueError("the history must keep at least one step")
        self.max_steps = max_steps
        self.max_bytes = DEFAULT_MAX_BYTES if max_bytes is None else int(max_bytes)
        self.checkpoint_every = max(1, CHECKPOINT_EVERY if checkpoint_every is None else int(checkpoint_every))
        # Oldest first; the first is at or before first_step.
        self._checkpoints: deque[HistoryEntry] = deque()
        # The rates of the steps from the first checkpoint's on; the steps before
        # first_step are kept only for replaying from that checkpoint.
        self._rates: deque[float] = deque()
        self._first = self._last = 0
        self.nbytes = 0
        self._order_source: np.ndarray | None = None

    def __len__(self) -> int:
        return self._last - self._first + 1 if self._rates else 0

    def __contains__(self, step: int) -> bool:
        return bool(self._rates) and self._first <= step <= self._last

    @property
    def first_step(self) -> int | None:
        return self._first if self._rates else None

    @property
    def last_step(self) -> int | None:
        return self._last if self._rates else None

    def get(self, step: int) -> HistoryEntry | None:
        """The full entry recorded for ``step``, or None when the step is not recorded
        or lies between checkpoints (``replay`` restores those)."""
        entry = self.checkpoint_for(step)
        return entry if entry is not None and entry.step == step else None

    def checkpoint_for(self, step: int) -> HistoryEntry | None:
        """The newest checkpoint at or before a recorded ``step`` (None if not recorded)."""
        if step not in self:
            return None
        return self._checkpoints[bisect.bisect_right(self._checkpoints, step, key=lambda e: e.step) - 1]

    def learning_rate(self, step: int) -> float:
        """The rate recorded ``step`` was made with."""
        return self._rates[step - self._checkpoints[0].step]

    def replay(self, trainer: Trainer, step: int) -> HistoryEntry:
        """Put ``trainer`` in its exact state after the recorded ``step``: restore the
        checkpoint at or before it and redo the steps in between with their recorded
        rates. Returns that checkpoint; the optimiser's current learning rate is kept."""
        entry = self.checkpoint_for(step)
        if entry is None:
            raise KeyError(f"step {step} is not recorded")
        trainer.restore(entry.state)
        optimizer, base = trainer.optimizer, self._checkpoints[0].step
        rate = optimizer.learning_rate
        try:
            for s in range(entry.step + 1, step + 1):
                optimizer.learning_rate = self._rates[s - base]
                trainer.step()
        finally:
            optimizer.learning_rate = rate
        return entry

    def capture(self, trainer: Trainer, *, n_epochs: int) -> HistoryEntry:
        """A copy of the trainer's state now (not yet recorded)."""
        last = self._checkpoints[-1].state if self._checkpoints else None
        order_bytes = 0
        if last is not None and trainer.order is self._order_source:
            # The trainer replaces, never mutates, its order, so the same object
            # means the same order.
            order = last.order
        else:
            order = trainer.order.copy()
            order.flags.writeable = False
            self._order_source = trainer.order
            order_bytes = order.nbytes
        # The RNG only moves when it draws a new order.
        rng = last.rng if order_bytes == 0 else trainer.rng.bit_generator.state
        weights, biases = trainer.net.get_params()
        optimizer = trainer.optimizer.state()
        state = TrainerState(tuple(weights), tuple(biases), optimizer, trainer.step_count,
                             trainer.epoch, trainer.batch_index, order, rng)
        nbytes = (sum(a.nbytes for a in weights) + sum(a.nbytes for a in biases) + _array_bytes(optimizer)
                  + order_bytes + ENTRY_OVERHEAD)
        return HistoryEntry(state, float(trainer.optimizer.learning_rate), int(n_epochs), nbytes)

    def record(self, entry: HistoryEntry) -> None:
        """Append a full entry (a checkpoint) for the step after the newest, or for an
        earlier step, which drops the steps from it on (a new branch after a rewind, or
        edited weights replacing a step's state). An entry that does not follow on
        starts the buffer afresh."""
        self.truncate_after(entry.step - 1)
        if self._rates and self._last != entry.step - 1:
            self.clear()
        if not self._rates:
            self._first = entry.step
        self._checkpoints.append(entry)
        self._rates.append(entry.learning_rate)
        self._last = entry.step
        self.nbytes += entry.nbytes + STEP_OVERHEAD
        self._trim()

    def record_step(self, trainer: Trainer, *, n_epochs: int) -> None:
        """Record the state after the step the trainer just made, as the worker does on
        every step: a checkpoint when one is due (see the module), else only the step's
        learning rate (about 1 µs). The arguments are ``capture``'s."""
        step, checkpoints = trainer.step_count, self._checkpoints
        if (self._last == step - 1 and checkpoints and trainer.batch_index != 0
                and step - checkpoints[-1].state.step < self.checkpoint_every):
            self._rates.append(trainer.optimizer.learning_rate)
            self._last = step
            self.nbytes += STEP_OVERHEAD
            if step - self._first >= self.max_steps:
                # A full buffer: the oldest step goes (and a checkpoint no step needs
                # any more); the bytes bound is met again at the next checkpoint.
                self._first = first = step + 1 - self.max_steps
                if len(checkpoints) > 1 and checkpoints[1].state.step <= first:
                    self._drop_checkpoints_before(first)
            return
        if step in self and step > self._first:
            self.truncate_after(step - 1)
        self.record(self.capture(trainer, n_epochs=n_epochs))

    def truncate_after(self, step: int) -> None:
        """Drop the steps after ``step``."""
        if not self._rates or step >= self._last:
            return
        if step < self._first:
            self.clear()
            return
        while self._checkpoints[-1].step > step:
            self.nbytes -= self._checkpoints.pop().nbytes
            # The newest checkpoints may have held the only copy of the current order.
            self._order_source = None
        for _ in range(self._last - step):
            self._rates.pop()
        self.nbytes -= (self._last - step) * STEP_OVERHEAD
        self._last = step

    def clear(self) -> None:
        self._checkpoints.clear()
        self._rates.clear()
        self.nbytes = 0
        self._order_source = None

    def _trim(self) -> None:
        """Drop the oldest steps, and checkpoints no kept step needs, while over a bound."""
        first = max(self._first, self._last + 1 - self.max_steps)
        self._drop_checkpoints_before(first)
        while self.nbytes > self.max_bytes and first < self._last:
            # Bytes go only with a checkpoint: skip to the next one (or to the last step).
            first = self._checkpoints[1].step if len(self._checkpoints) > 1 else self._last
            self._drop_checkpoints_before(first)
        self._first = first

    def _drop_checkpoints_before(self, first: int) -> None:
        """Drop the checkpoints (and their steps' rates) that no step from ``first`` on needs."""
        checkpoints, rates = self._checkpoints, self._rates
        while len(checkpoints) > 1 and checkpoints[1].state.step <= first:
            dropped = checkpoints.popleft()
            n = checkpoints[0].state.step - dropped.state.step
            for _ in range(n):
                rates.popleft()
            self.nbytes -= dropped.nbytes + n * STEP_OVERHEAD
