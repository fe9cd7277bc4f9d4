"""Evaluating a snapshot's network away from the engine: forward passes on grids.

Views draw what a network computes over the input plane (or line) from a
``Snapshot``'s copied weights, never from the live ``Network`` the worker trains.
The pass here performs the same operations in the same order as
``Network.predict``, so its outputs are bit-identical to it. No Qt here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bpviz.engine.activations import ACTIVATIONS
from bpviz.engine.network import Network

PLANE_RESOLUTION = 100
LINE_RESOLUTION = 240
MARGIN = 0.1


def forward_all(weights: Sequence[np.ndarray], biases: Sequence[np.ndarray],
                activation_names: Sequence[str], X: np.ndarray) -> list[np.ndarray]:
    """Every layer's activations for X : (n_samples, sizes[0]).

    activation_names : per layer as in ``Snapshot.activation_names`` (entry 0, the
    input, is ignored). Returns L + 1 arrays (n_samples, sizes[k]), the input first.
    """
    a = np.asarray(X, dtype=np.float64)
    activations = [a]
    with np.errstate(over="ignore", invalid="ignore"):
        for k, (W, b) in enumerate(zip(weights, biases)):
            z = a.dot(W)
            z += b
            a = ACTIVATIONS[activation_names[k + 1]].forward(z)
            activations.append(a)
    return activations


def predict(weights, biases, activation_names, X: np.ndarray) -> np.ndarray:
    """The outputs (n_samples, sizes[-1]) of ``forward_all``."""
    return forward_all(weights, biases, activation_names, X)[-1]


def snapshot_outputs(snapshot, X: np.ndarray) -> np.ndarray:
    """A snapshot's network's outputs (n_samples, sizes[-1]) for X : (n_samples, sizes[0])."""
    return predict(snapshot.weights, snapshot.biases, snapshot.activation_names, X)


def same_parameters(a, b) -> bool:
    """True when two snapshots hold the same network with the same weights and biases
    (a pause or a preview re-sends them), so a redraw would show nothing new."""
    if a.run_id != b.run_id or a.sizes != b.sizes or a.activation_names != b.activation_names:
        return False
    return all(np.array_equal(x, y) for x, y in zip(a.weights + a.biases, b.weights + b.biases))


def network_from_snapshot(snapshot, loss: str = "squared", reduction: str = "mean") -> Network:
    """A fresh ``Network`` holding a copy of the snapshot's parameters, for work that
    needs the engine (a gradient check) without touching the network being trained.
    The loss is not part of a snapshot, so the caller names it."""
    names = snapshot.activation_names
    hidden = names[1] if len(names) > 2 else "sigmoid"
    net = Network(snapshot.sizes, hidden, names[-1], loss, bias=snapshot.has_bias, reduction=reduction)
    net.set_params([np.array(w) for w in snapshot.weights], [np.array(b) for b in snapshot.biases])
    return net


def _padded_range(values: np.ndarray, margin: float) -> tuple[float, float]:
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return -1.0, 1.0
    lo, hi = float(finite.min()), float(finite.max())
    span = hi - lo if hi > lo else max(abs(lo), 1.0)
    return lo - margin * span, hi + margin * span


@dataclass(frozen=True)
class PlaneGrid:
    """A regular grid over the input plane.

    xs : (nx,), ys : (ny,) the sample coordinates (pixel centres); points :
    (ny * nx, 2) row-major, so ``values.reshape(ny, nx)[r, c]`` belongs to
    (xs[c], ys[r]). ``rect`` (x0, y0, width, height) covers the pixels' extent.
    """

    xs: np.ndarray
    ys: np.ndarray
    points: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.ys), len(self.xs)

    @property
    def rect(self) -> tuple[float, float, float, float]:
        dx = (self.xs[-1] - self.xs[0]) / max(len(self.xs) - 1, 1)
        dy = (self.ys[-1] - self.ys[0]) / max(len(self.ys) - 1, 1)
        return (float(self.xs[0] - dx / 2), float(self.ys[0] - dy / 2),
                float(self.xs[-1] - self.xs[0] + dx), float(self.ys[-1] - self.ys[0] + dy))


def plane_grid(X: np.ndarray, resolution: int = PLANE_RESOLUTION, margin: float = MARGIN) -> PlaneGrid:
    """A resolution × resolution grid covering the points X : (n, 2) plus a margin
    of ``margin`` times their spread on every side."""
    X = np.asarray(X, dtype=np.float64)
    xs = np.linspace(*_padded_range(X[:, 0], margin), resolution)
    ys = np.linspace(*_padded_range(X[:, 1], margin), resolution)
    gx, gy = np.meshgrid(xs, ys)
    return PlaneGrid(xs, ys, np.column_stack([gx.ravel(), gy.ravel()]))


def line_grid(x: np.ndarray, resolution: int = LINE_RESOLUTION, margin: float = MARGIN) -> np.ndarray:
    """(resolution, 1) evenly spaced inputs covering x : (n,) or (n, 1) plus a margin."""
    return np.linspace(*_padded_range(np.asarray(x, dtype=np.float64).ravel(), margin), resolution)[:, None]


def confusion_matrix(true_labels: np.ndarray, predicted: np.ndarray, n_classes: int) -> np.ndarray:
    """(n_classes, n_classes) int counts: row = true class, column = predicted class."""
    index = np.asarray(true_labels, dtype=np.intp) * n_classes + np.asarray(predicted, dtype=np.intp)
    return np.bincount(index, minlength=n_classes * n_classes).reshape(n_classes, n_classes)
