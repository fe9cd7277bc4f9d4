"""The phases of one training step, for walking a lecture through it one press at a time.

One step, seen for one sample, is: the forward pass reaching layer 1, 2, …, L (the
output), the loss, the deltas from the output layer back to layer 1, and the update.
A window asks the worker for one whole step (whose snapshot keeps the weights from
before the update) and reveals it phase by phase; the view greys what the shown
phase has not computed yet. No Qt here.

Layers are numbered as everywhere else: 0 is the input, L = n_layers − 1 the output,
and weight matrix k links layer k to layer k + 1.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from bpviz.snapshot import Snapshot

KINDS = ("forward", "loss", "backward", "update")


@dataclass(frozen=True)
class Phase:
    """kind : one of KINDS. layer : the layer this phase computes — forward: the
    layer whose z and a it computes; loss: the output layer; backward: the layer
    whose δ it computes; update: None (every weight matrix at once)."""

    kind: str
    layer: int | None = None

    def activation_known(self, k: int) -> bool:
        """Whether layer k's z and a are computed by now (the input always is)."""
        return self.kind != "forward" or k <= self.layer

    def delta_known(self, k: int) -> bool:
        """Whether layer k's δ = ∂ℓ/∂z is computed by now (k ≥ 1)."""
        return self.kind == "update" or (self.kind == "backward" and k >= self.layer)

    def weights_used(self, k: int) -> bool:
        """Whether weight matrix k has taken part in the forward pass by now."""
        return self.activation_known(k + 1)

    def gradient_known(self, k: int) -> bool:
        """Whether ∂L/∂W of matrix k (= a_kᵀ·δ_{k+1}) is computed by now."""
        return self.delta_known(k + 1)

    @property
    def loss_known(self) -> bool:
        return self.kind != "forward"

    @property
    def updated(self) -> bool:
        return self.kind == "update"


def phases_for(n_layers: int) -> list[Phase]:
    """The phases of one step of a network of ``n_layers`` layers (input included):
    forward 1..L, loss, backward L..1, update — 2L + 2 phases."""
    if n_layers < 2:
        raise ValueError(f"a network needs at least 2 layers, got {n_layers}")
    L = n_layers - 1
    return ([Phase("forward", k) for k in range(1, L + 1)] + [Phase("loss", L)]
            + [Phase("backward", k) for k in range(L, 0, -1)] + [Phase("update")])


class PhaseWalk:
    """Where a walk through one step's phases stands; ``snapshot`` is that step's."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        self.phases = phases_for(snapshot.n_layers)
        self.index = 0

    @property
    def phase(self) -> Phase:
        return self.phases[self.index]

    @property
    def at_end(self) -> bool:
        return self.index == len(self.phases) - 1

    def advance(self) -> bool:
        """One phase on; False (and no move) at the update, the last phase."""
        if self.at_end:
            return False
        self.index += 1
        return True

    def back(self) -> bool:
        """One phase back; False (and no move) at the first phase."""
        if self.index == 0:
            return False
        self.index -= 1
        return True


def shown_snapshot(snapshot: Snapshot, phase: Phase | None) -> Snapshot:
    """What a view draws at ``phase``: before the update, the parameters the pass
    used (``weights_before``) and no changes; before the backward pass, no gradients
    either. None, the update, or a snapshot without ``weights_before`` (made while
    playing) show the snapshot as it is."""
    if phase is None or phase.updated or snapshot.weights_before is None:
        return snapshot
    grads = {} if phase.kind == "backward" else {"weight_grads": None, "bias_grads": None,
                                                 "weight_grad_norms": None}
    return replace(snapshot, weights=snapshot.weights_before, biases=snapshot.biases_before,
                   weight_changes=None, bias_changes=None, change_summary=None, **grads)


def _layer_name(k: int, n_layers: int) -> str:
    return "the output layer" if k == n_layers - 1 else f"hidden layer {k}"


def describe(phase: Phase, snapshot: Snapshot) -> str:
    """One line for the status bar: what ``phase`` computes, with its numbers."""
    n, total = snapshot.n_layers, len(phases_for(snapshot.n_layers))
    position = phases_for(n).index(phase) + 1
    head = f"Phase {position}/{total} · "
    if phase.kind == "forward":
        k = phase.layer
        act = snapshot.activation_names[k]
        return (head + f"forward: {_layer_name(k, n)} — z{k} = a{k - 1}·W{k - 1}"
                + (f" + b{k - 1}" if snapshot.has_bias else "") + f",  a{k} = {act}(z{k})")
    if phase.kind == "loss":
        return head + f"loss: ℓ = {snapshot.sample_loss:.6g} for sample #{snapshot.sample_index} against its target t"
    if phase.kind == "backward":
        k = phase.layer
        if k == n - 1:
            return head + f"backward: δ{k} = ∂ℓ/∂z{k} of the output layer"
        return head + f"backward: δ{k} = (δ{k + 1}·W{k}ᵀ) ⊙ f′(z{k}) for {_layer_name(k, n)}"
    return head + "update: w ← w + Δw;  " + describe_changes(snapshot)


def describe_changes(snapshot: Snapshot) -> str:
    """The largest and mean |Δw| of a step's update, with where the largest is."""
    summary = snapshot.change_summary
    if summary is None:
        return "no update"
    k, i, j = summary.largest_at
    return f"largest Δw = {summary.largest:+.4g} at w[{k}][{i}, {j}],  mean |Δw| = {summary.mean_abs:.3g}"
