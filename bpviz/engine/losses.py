"""Loss functions and the output-layer delta.

A loss sums over the output nodes of one sample; ``reduction`` then takes the mean
or the sum over the samples of a batch. The delta of the output layer is
δ = ∂L/∂z. For cross-entropy with softmax and binary cross-entropy with sigmoid the
chain rule collapses to δ = (a − t) / N, which is also the numerically safe form;
squared error goes through the activation's own derivative (its full Jacobian for
softmax).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from bpviz.engine.activations import Activation
from bpviz.errors import BpvizError

REDUCTIONS = ("mean", "sum")


def _squared(z: np.ndarray, a: np.ndarray, T: np.ndarray) -> np.ndarray:
    diff = a - T
    return 0.5 * np.einsum("ij,ij->i", diff, diff)


def _cross_entropy(z: np.ndarray, a: np.ndarray, T: np.ndarray) -> np.ndarray:
    # log softmax(z) = z − logsumexp(z), exact even where a underflows to 0.
    top = z.max(axis=1, keepdims=True)
    log_a = z - (top + np.log(np.exp(z - top).sum(axis=1, keepdims=True)))
    return -(T * log_a).sum(axis=1)


def _binary_cross_entropy(z: np.ndarray, a: np.ndarray, T: np.ndarray) -> np.ndarray:
    # −[t log σ(z) + (1−t) log(1−σ(z))] = softplus(z) − t·z, with no log(0).
    return (np.logaddexp(0.0, z) - T * z).sum(axis=1)


@dataclass(frozen=True)
class Loss:
    """A loss: ``per_sample(z, a, T)`` gives one value per row, shape ``(n_samples,)``.

    ``canonical`` names the output activation whose pairing gives δ = a − t; ``None``
    means any output activation goes, through its derivative.
    """

    name: str
    formula: str
    per_sample: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]
    canonical: str | None = None

    def __reduce__(self):
        return (_loss_named, (self.name,))  # by name, as activations are

    def allows(self, output_activation: str) -> bool:
        return self.canonical is None or self.canonical == output_activation

    def value(self, z: np.ndarray, a: np.ndarray, T: np.ndarray, reduction: str = "mean") -> float:
        """The loss of a batch: z, a, T of shape ``(n_samples, n_outputs)``."""
        per = self.per_sample(z, a, T)
        return float(per.mean() if reduction == "mean" else per.sum())

    def value_and_delta(
        self, z: np.ndarray, a: np.ndarray, T: np.ndarray, activation: Activation, reduction: str = "mean"
    ) -> tuple[float, np.ndarray]:
        """The batch loss and δ = ∂L/∂z of the output layer, shape ``(n_samples, n_outputs)``."""
        diff = a - T
        if self.name == "squared":
            loss = 0.5 * float(np.vdot(diff, diff))  # ½ Σ (a − t)² over the whole batch
        else:
            loss = float(self.per_sample(z, a, T).sum())
        if reduction == "mean":
            n = len(T)
            loss /= n
            if n != 1:
                diff /= n
        if self.canonical is not None:
            return loss, diff
        return loss, activation.backward(z, a, diff)


LOSSES: dict[str, Loss] = {
    loss.name: loss
    for loss in (
        Loss("squared", "L = ½ Σ (a − t)²", _squared),
        Loss("cross_entropy", "L = −Σ t·log a", _cross_entropy, canonical="softmax"),
        Loss("binary_cross_entropy", "L = −Σ [t·log a + (1 − t)·log(1 − a)]",
             _binary_cross_entropy, canonical="sigmoid"),
    )
}


def _loss_named(name: str) -> Loss:
    return LOSSES[name]


def get_loss(name: str, output_activation: str) -> Loss:
    """Look up a loss and check it suits the output activation."""
    if name not in LOSSES:
        raise BpvizError(f"unknown loss '{name}'; choose one of: {', '.join(LOSSES)}")
    loss = LOSSES[name]
    if not loss.allows(output_activation):
        raise BpvizError(
            f"the {name.replace('_', ' ')} loss needs a {loss.canonical} output layer, "
            f"not {output_activation}"
        )
    return loss


def check_reduction(reduction: str) -> str:
    if reduction not in REDUCTIONS:
        raise BpvizError(f"unknown reduction '{reduction}'; choose 'mean' or 'sum'")
    return reduction
