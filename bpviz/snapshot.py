"""Snapshots: immutable copies of what the views show, made by the training loop.

A snapshot owns its arrays (copies, marked read-only, also after crossing from the
training process in a pickle), so training can go on while the window draws. It holds the weights after the shown step and the
activations, pre-activations and deltas of one sample of that step. No Qt here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields

import numpy as np

from bpviz.engine.network import Network, StepRecord
from bpviz.engine.training import TrainStep


# While playing at full speed, a layer with more weights than this has its gradient
# and change matrices left out of the frame: the views need only their summaries
# then (‖∂L/∂W‖, the largest and mean |Δw|), and for a 784-256-256-10 network the
# two would be 4 MB of a 6.5 MB frame, 60 times a second.
LIGHT_LAYER_WEIGHTS = 10_000


def frobenius(a: np.ndarray) -> float:
    """‖a‖, the root of the sum of the squared entries (the Frobenius norm)."""
    return math.sqrt(np.vdot(a, a))


def frozen_copy(a: np.ndarray) -> np.ndarray:
    c = np.array(a, dtype=np.float64, copy=True)
    c.flags.writeable = False
    return c


def _frozen(arrays) -> tuple[np.ndarray, ...]:
    return tuple(frozen_copy(a) for a in arrays)


def _frozen_own(arrays) -> tuple[np.ndarray, ...]:
    """Arrays a step made for itself (its gradients, the optimiser's changes: fresh
    every step, never written again) marked read-only where they are, without the
    copy: 4 MB a frame for a 784-256-256-10 network."""
    arrays = tuple(arrays)
    _freeze(arrays)
    return arrays


def _freeze(value) -> None:
    """Mark every array in ``value`` (an array or nested tuples of them) read-only."""
    if isinstance(value, np.ndarray):
        value.flags.writeable = False
    elif isinstance(value, tuple):
        for item in value:
            _freeze(item)


@dataclass(frozen=True)
class ChangeSummary:
    """A step's update of the weights in two figures: the change of largest magnitude
    (signed) with its place ``(k, i, j)`` in ``weights``, and the mean |Δw| over every
    weight of the network."""

    largest: float
    largest_at: tuple[int, int, int]
    mean_abs: float

    @classmethod
    def of(cls, changes) -> ChangeSummary:
        """The summary of the weight changes ``changes[k]`` (no layer is empty)."""
        peaks, total, count = [], 0.0, 0
        for c in changes:
            size = np.abs(c)
            at = int(size.argmax())
            peaks.append((float(size.flat[at]), at))
            total += float(size.sum())
            count += c.size
        k = max(range(len(peaks)), key=lambda k: peaks[k][0])
        i, j = np.unravel_index(peaks[k][1], changes[k].shape)
        return cls(float(changes[k][i, j]), (k, int(i), int(j)), total / count)


@dataclass(frozen=True)
class History:
    """Per-epoch figures, one entry per finished epoch (arrays of shape (n_epochs,)).
    Accuracies are NaN for regression; the test entries are NaN without a test set.
    ``grad_norms`` has shape (n_epochs, n_weight_layers): for each weight matrix the
    norm ‖∂L/∂W_k‖ of the training-set loss's gradient at the epoch's end (the step a
    full batch would take; it falls towards 0 as training converges)."""

    train_loss: np.ndarray = field(default_factory=lambda: np.empty(0))
    test_loss: np.ndarray = field(default_factory=lambda: np.empty(0))
    train_accuracy: np.ndarray = field(default_factory=lambda: np.empty(0))
    test_accuracy: np.ndarray = field(default_factory=lambda: np.empty(0))
    grad_norms: np.ndarray = field(default_factory=lambda: np.empty((0, 0)))

    @property
    def n_epochs(self) -> int:
        return len(self.train_loss)


@dataclass(frozen=True)
class Snapshot:
    """What the window shows after one step (or before the first).

    sizes : nodes per layer; activation_names : per layer, "input" for layer 0
    weights[k] : (sizes[k], sizes[k+1]) after the step; biases[k] : (sizes[k+1],)
    weights_before, biases_before : the parameters before the step's update; only
        present for single steps (None while playing, where copying every step would
        slow training down)
    weight_grads, bias_grads, weight_changes, bias_changes : of the step's whole batch
        (None before the first step). A light frame (made while playing at full speed)
        has None in place of the gradient and change matrices of every layer with more
        than LIGHT_LAYER_WEIGHTS weights
    weight_grad_norms : ‖∂L/∂W_k‖ for every weight matrix, and change_summary: the
        largest and mean |Δw|, whenever weight_grads, and weight_changes, are there
    sample_index : the training-set row shown (the first row of the step's batch)
    activations : L+1 arrays of (sizes[k],) for that sample; pre_activations, deltas :
        L arrays of (sizes[k+1],). ``deltas`` are that sample's own ∂ℓ/∂z (for a
        mean-reduced batch the batch deltas times the batch size)
    target : (sizes[-1],) the sample's target; sample_loss : its own loss
    step, epoch, batch_index, n_batches : the position in training after this step
    run_id : which built network this belongs to, so a window can drop stale frames
    recorded_steps : (first, last) steps the worker can rewind to (bpviz.history),
        or None
    history_start : 0 when ``history`` is the whole history; as the training process
        sends it, the epoch its entries start at (the window has the ones before:
        HistoryJoiner puts them together), so a frame carries what is new, not every
        epoch so far
    """

    sizes: tuple[int, ...]
    activation_names: tuple[str, ...]
    has_bias: bool
    weights: tuple[np.ndarray, ...]
    biases: tuple[np.ndarray, ...]
    activations: tuple[np.ndarray, ...]
    pre_activations: tuple[np.ndarray, ...]
    deltas: tuple[np.ndarray, ...]
    target: np.ndarray
    sample_index: int
    sample_loss: float
    step: int = 0
    epoch: int = 0
    batch_index: int = 0
    n_batches: int = 1
    batch_loss: float | None = None
    weight_grads: tuple[np.ndarray, ...] | None = None
    bias_grads: tuple[np.ndarray, ...] | None = None
    weight_changes: tuple[np.ndarray, ...] | None = None
    bias_changes: tuple[np.ndarray, ...] | None = None
    weight_grad_norms: tuple[float, ...] | None = None
    change_summary: ChangeSummary | None = None
    weights_before: tuple[np.ndarray, ...] | None = None
    biases_before: tuple[np.ndarray, ...] | None = None
    history: History = field(default_factory=History)
    samples_per_second: float = 0.0
    playing: bool = False
    epochs_limit: int | None = None
    run_id: int = 0
    recorded_steps: tuple[int, int] | None = None
    history_start: int = 0

    @property
    def n_layers(self) -> int:
        return len(self.sizes)

    def __setstate__(self, state: dict) -> None:
        # Unpickled arrays are writeable; a snapshot's never are.
        self.__dict__.update(state)
        for value in state.values():
            _freeze(value)

    @property
    def is_preview(self) -> bool:
        """True when no update followed the shown pass (before the first step, after a
        pause or a reset): the activations and deltas belong to ``weights``."""
        return self.weight_changes is None

    @property
    def forward_params(self) -> tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...]] | None:
        """(weights, biases) the shown activations and deltas were computed with, or
        None while playing, where the pre-update copy is not kept."""
        if self.weights_before is not None:
            return self.weights_before, self.biases_before
        if self.is_preview:
            return self.weights, self.biases
        return None


# The per-epoch curves in History's order: the 1-D ones, then grad_norms.
HISTORY_FIELDS = tuple(f.name for f in fields(History))


class HistoryJoiner:
    """Puts the whole history back together from the tails the training process sends.

    ``join(start, tail)`` returns the History whose epochs before ``start`` are the ones
    it returned last and whose others are ``tail``'s. The arrays grow in place, so a
    frame costs what is new; a tail that rewrites epochs an earlier History holds (after
    a rewind, or a new run, whose tails start at 0) goes into new arrays, so every
    History handed out stays as it was. No Qt here.
    """

    def __init__(self) -> None:
        self._arrays: dict[str, np.ndarray] = {}
        self._n = 0

    def join(self, start: int, tail: History) -> History:
        if not 0 <= start <= self._n:
            raise ValueError(f"a history tail from epoch {start} after {self._n} known epochs")
        n = start + tail.n_epochs
        rewrite = start < self._n
        for name in HISTORY_FIELDS:
            new = getattr(tail, name)
            old = self._arrays.get(name)
            if old is None or old.shape[1:] != new.shape[1:] or rewrite or n > len(old):
                grown = np.empty((max(n, 2 * start, 64),) + new.shape[1:])
                if old is not None and old.shape[1:] == new.shape[1:]:
                    grown[:start] = old[:start]
                old = self._arrays[name] = grown
            old[start:n] = new
        self._n = n
        return History(*_frozen_own(self._arrays[name][:n] for name in HISTORY_FIELDS))


def _sample_view(net: Network, record: StepRecord, row: int):
    """One row of a batch record, with the deltas scaled back to that sample's own."""
    n = len(record.targets)
    scale = n if net.reduction == "mean" else 1
    acts = tuple(frozen_copy(a[row]) for a in record.activations)
    pres = tuple(frozen_copy(z[row]) for z in record.pre_activations)
    deltas = tuple(frozen_copy(d[row] * scale) for d in record.deltas)
    target = frozen_copy(record.targets[row])
    z_out, a_out = record.pre_activations[-1][row:row + 1], record.activations[-1][row:row + 1]
    with np.errstate(all="ignore"):
        loss = net.loss.value(z_out, a_out, record.targets[row:row + 1], "sum")
    return acts, pres, deltas, target, loss


def make_snapshot(
    net: Network,
    record: StepRecord,
    sample_index: int,
    train_step: TrainStep | None = None,
    before: tuple[list[np.ndarray], list[np.ndarray]] | None = None,
    light: bool = False,
    **extra,
) -> Snapshot:
    """Copy what the views need from a network, the record of its last pass and,
    after an update, the ``TrainStep``; ``light`` leaves out the gradient and change
    matrices of layers above LIGHT_LAYER_WEIGHTS weights (see Snapshot). ``extra``
    sets the counters and history."""
    acts, pres, deltas, target, loss = _sample_view(net, record, 0)
    n_w = len(net.weights)
    grads = changes = norms = summary = None
    if train_step is not None:
        changes = train_step.changes
        norms = tuple(frobenius(g) for g in record.weight_grads)
        summary = ChangeSummary.of(changes[:n_w])
        sent = [not (light and w.size > LIGHT_LAYER_WEIGHTS) for w in net.weights]
        changes = [c if keep else None for c, keep in zip(changes[:n_w], sent)] + list(changes[n_w:])
        grads = (_frozen_own(g if keep else None for g, keep in zip(record.weight_grads, sent)),
                 _frozen_own(record.bias_grads))
    return Snapshot(
        sizes=net.sizes,
        activation_names=("input",) + tuple(net.layer_activation(k).name for k in range(1, net.n_layers)),
        has_bias=net.bias,
        weights=_frozen(net.weights),
        biases=_frozen(net.biases),
        activations=acts,
        pre_activations=pres,
        deltas=deltas,
        target=target,
        sample_index=int(sample_index),
        sample_loss=loss,
        batch_loss=None if train_step is None else float(record.loss),
        weight_grads=None if grads is None else grads[0],
        bias_grads=None if grads is None else grads[1],
        weight_grad_norms=norms,
        change_summary=summary,
        weight_changes=None if changes is None else _frozen_own(changes[:n_w]),
        bias_changes=None if changes is None else (
            _frozen_own(changes[n_w:]) if net.bias else _frozen_own([np.zeros(n) for n in net.sizes[1:]])),
        weights_before=None if before is None else _frozen(before[0]),
        biases_before=None if before is None else _frozen(before[1]),
        **extra,
    )
