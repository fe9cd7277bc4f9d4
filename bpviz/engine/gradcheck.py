"""Gradient checking: central differences against backpropagation.

For every weight and bias θ the numeric gradient is (L(θ+ε) − L(θ−ε)) / 2ε. Each
layer gets the relative error of the classic gradient-checking tutorial,
‖g_bp − g_num‖ / (‖g_bp‖ + ‖g_num‖) over all its weights and biases, which decides
pass or fail; the largest entry-wise relative error is reported beside it, but an
entry that is tiny next to the rounding noise of the differences (~1e-11) can show a
large entry-wise error while the gradient is right, so it only informs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bpviz.engine.network import Network

# Below this a gradient is numerically zero; relative error is then meaningless.
_TINY = 1e-12


@dataclass(frozen=True)
class LayerCheck:
    """The comparison for the parameters feeding layer ``layer`` (1..L)."""

    layer: int
    rel_error: float
    max_rel_error_weights: float
    max_rel_error_biases: float | None
    max_abs_error: float

    @property
    def max_rel_error(self) -> float:
        return max(self.max_rel_error_weights, self.max_rel_error_biases or 0.0)


def _rel_error(analytic: np.ndarray, numeric: np.ndarray) -> np.ndarray:
    return np.abs(analytic - numeric) / np.maximum(np.abs(analytic) + np.abs(numeric), _TINY)


def numeric_gradient(net: Network, X: np.ndarray, T: np.ndarray, param: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central-difference gradient of the loss with respect to ``param`` (one of
    ``net.weights`` or ``net.biases``), perturbing each entry in place and restoring it."""
    grad = np.empty_like(param)
    flat, out = param.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        original = flat[i]
        flat[i] = original + eps
        plus = net.loss_of(X, T)
        flat[i] = original - eps
        minus = net.loss_of(X, T)
        flat[i] = original
        out[i] = (plus - minus) / (2 * eps)
    return grad


def gradcheck(net: Network, X: np.ndarray, T: np.ndarray, eps: float = 1e-5) -> list[LayerCheck]:
    """Compare backprop with central differences for every parameter of ``net``.

    X : (n_samples, sizes[0]); T : (n_samples, sizes[-1]). The network is unchanged.
    """
    record = net.backprop(X, T)
    checks = []
    for k, (W, b) in enumerate(zip(net.weights, net.biases)):
        num_w = numeric_gradient(net, X, T, W, eps)
        rel_w = _rel_error(record.weight_grads[k], num_w)
        abs_err = float(np.abs(record.weight_grads[k] - num_w).max())
        analytic, numeric = [record.weight_grads[k].ravel()], [num_w.ravel()]
        rel_b = None
        if net.bias:
            num_b = numeric_gradient(net, X, T, b, eps)
            rel_b = float(_rel_error(record.bias_grads[k], num_b).max())
            abs_err = max(abs_err, float(np.abs(record.bias_grads[k] - num_b).max()))
            analytic.append(record.bias_grads[k].ravel())
            numeric.append(num_b.ravel())
        a, n = np.concatenate(analytic), np.concatenate(numeric)
        rel = float(np.sqrt(np.vdot(a - n, a - n)) / max(np.sqrt(np.vdot(a, a)) + np.sqrt(np.vdot(n, n)), _TINY))
        checks.append(LayerCheck(k + 1, rel, float(rel_w.max()), rel_b, abs_err))
    return checks
