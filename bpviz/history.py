"""The rewind buffer: a copy of the trainer's whole state after each recent step.

Stepping back or scrubbing restores one of these copies with ``Trainer.restore``, so
weights, optimiser state and position come back exactly. The buffer is a ring with
two bounds: at most ``max_steps`` entries and at most ``max_bytes`` of arrays, the
older entries dropped first. With the defaults (10,000 entries, 200 MiB) a small
network keeps 10,000 steps (iris 4-5-3 with Adam: about 2.5 KB an entry, 25 MB in
all); a 784-128-10 network with Adam (2.4 MB an entry) keeps the last 80 or so.

The epoch's sample order and the shuffling RNG change once an epoch, so consecutive
entries share them instead of copying them every step. No Qt here.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from bpviz.engine.training import Trainer, TrainerState

DEFAULT_MAX_STEPS = 10_000
DEFAULT_MAX_BYTES = 200 * 2**20
# Python objects per entry besides the array data (the entry, the state, tuples,
# dicts and ~100 bytes per array header), a generous measured figure.
ENTRY_OVERHEAD = 1024


@dataclass(frozen=True)
class HistoryEntry:
    """The state after one step, with what the worker keeps beside the trainer.

    learning_rate : the rate the step was made with (to redo it exactly)
    n_epochs : finished epochs in the per-epoch history at that point
    epoch_grad_norms, epoch_steps : the running gradient-norm sums of the epoch
    nbytes : what this entry costs, as the buffer counts it
    """

    state: TrainerState
    learning_rate: float
    n_epochs: int
    epoch_grad_norms: np.ndarray
    epoch_steps: int
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
    """Entries for a run of consecutive steps, oldest first."""

    def __init__(self, max_steps: int | None = None, max_bytes: int | None = None) -> None:
        """max_steps, max_bytes : the bounds; None for DEFAULT_MAX_STEPS / DEFAULT_MAX_BYTES."""
        max_steps = DEFAULT_MAX_STEPS if max_steps is None else int(max_steps)
        if max_steps < 1:
            raise ValueError("the history must keep at least one step")
        self.max_steps = max_steps
        self.max_bytes = DEFAULT_MAX_BYTES if max_bytes is None else int(max_bytes)
        self._entries: deque[HistoryEntry] = deque()
        self.nbytes = 0
        self._order_source: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def first_step(self) -> int | None:
        return self._entries[0].step if self._entries else None

    @property
    def last_step(self) -> int | None:
        return self._entries[-1].step if self._entries else None

    def get(self, step: int) -> HistoryEntry | None:
        if not self._entries or not self.first_step <= step <= self.last_step:
            return None
        return self._entries[step - self.first_step]

    def capture(self, trainer: Trainer, *, n_epochs: int, epoch_grad_norms: np.ndarray,
                epoch_steps: int) -> HistoryEntry:
        """A copy of the trainer's state now (not yet recorded)."""
        last = self._entries[-1].state if self._entries else None
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
        norms = np.array(epoch_grad_norms, dtype=float)
        nbytes = (sum(a.nbytes for a in weights) + sum(a.nbytes for a in biases) + _array_bytes(optimizer)
                  + order_bytes + norms.nbytes + ENTRY_OVERHEAD)
        return HistoryEntry(state, float(trainer.optimizer.learning_rate), int(n_epochs), norms,
                            int(epoch_steps), nbytes)

    def record(self, entry: HistoryEntry) -> None:
        """Append the entry of the step after the newest, or of an earlier step, which
        drops the entries after it (a new branch after a rewind). An entry that does
        not follow on starts the buffer afresh."""
        while self._entries and self._entries[-1].step >= entry.step:
            self._pop(right=True)
        if self._entries and self._entries[-1].step != entry.step - 1:
            self.clear()
        self._entries.append(entry)
        self.nbytes += entry.nbytes
        while len(self._entries) > 1 and (len(self._entries) > self.max_steps or self.nbytes > self.max_bytes):
            self._pop(right=False)

    def truncate_after(self, step: int) -> None:
        """Drop the entries of steps after ``step``."""
        while self._entries and self._entries[-1].step > step:
            self._pop(right=True)

    def clear(self) -> None:
        self._entries.clear()
        self.nbytes = 0
        self._order_source = None

    def _pop(self, right: bool) -> None:
        entry = self._entries.pop() if right else self._entries.popleft()
        self.nbytes -= entry.nbytes
        if right or not self._entries:
            # The newest entries may have held the only copy of the current order.
            self._order_source = None
