"""The multilayer perceptron: weights, biases, a recording forward and backward pass.

Layers are numbered 0 (input) to L (output). Every per-layer list follows one order:
``weights[k]`` has shape ``(sizes[k], sizes[k+1])`` and entry ``[i, j]`` links node i
of layer k to node j of layer k+1; ``biases[k]`` (shape ``(sizes[k+1],)``),
``pre_activations[k]``, ``deltas[k]``, ``weight_grads[k]`` and ``bias_grads[k]`` all
belong to layer k+1. Only ``activations`` has one more entry: ``activations[0]`` is
the input itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bpviz.engine.activations import Activation, get_activation
from bpviz.engine.losses import Loss, check_reduction, get_loss
from bpviz.errors import BpvizError

INITS = ("uniform", "normal", "xavier", "he")

DEFAULT_INIT_SCALE = {"uniform": 1.0, "normal": 0.1}

# A diverging run overflows to ±inf and then meets inf − inf; the trainer reports that
# in words (DivergenceError), so NumPy's RuntimeWarnings must never reach the user.
# Wrapping a function with this costs ~0.3 µs a call, against ~1.3 µs for entering a
# fresh ``with np.errstate(...)`` block, which builds its error state every time.
quiet_floats = np.errstate(over="ignore", invalid="ignore")


@dataclass(slots=True)
class StepRecord:
    """Everything one forward and backward pass computed, for a batch of n_samples.

    activations : list of (n_samples, sizes[k]) for k = 0..L (``[0]`` is the input)
    pre_activations, deltas : list of (n_samples, sizes[k+1]) for k = 0..L−1
    weight_grads : list of (sizes[k], sizes[k+1]); bias_grads : list of (sizes[k+1],)
    targets : (n_samples, sizes[L]); loss : the batch loss before any update
    """

    activations: list[np.ndarray]
    pre_activations: list[np.ndarray]
    deltas: list[np.ndarray]
    weight_grads: list[np.ndarray]
    bias_grads: list[np.ndarray]
    targets: np.ndarray
    loss: float

    @property
    def outputs(self) -> np.ndarray:
        return self.activations[-1]


def parse_sizes(sizes: Sequence[int]) -> tuple[int, ...]:
    """Check a list of layer sizes: at least two layers, each a whole number ≥ 1."""
    try:
        parsed = tuple(int(s) for s in sizes)
    except (TypeError, ValueError):
        raise BpvizError(f"layer sizes must be whole numbers, got {sizes!r}") from None
    if len(parsed) < 2:
        raise BpvizError("a network needs at least an input and an output layer")
    if any(s < 1 for s in parsed) or any(int(s) != s for s in sizes):
        raise BpvizError(f"every layer needs at least one node, got {'-'.join(map(str, sizes))}")
    return parsed


class Network:
    """A fully connected feed-forward network trained by backpropagation.

    Parameters
    ----------
    sizes : nodes per layer, input first, e.g. ``(4, 5, 3)``
    activation : hidden-layer activation (sigmoid, tanh, relu, leaky_relu, linear)
    output_activation : output activation (the same or softmax)
    loss : "squared" (½Σ(a−t)²), "cross_entropy" (softmax output),
        "binary_cross_entropy" (sigmoid output)
    bias : False leaves every bias at zero and never trains it
    init : "uniform" (±init_scale, default 1), "normal" (σ = init_scale, default 0.1),
        "xavier" (Glorot uniform), "he" (normal, σ = √(2/fan_in))
    bias_init : the constant every bias starts at
    seed : seeds NumPy's legacy ``RandomState``, which draws the weight matrices in
        layer order, so ``uniform`` with seed 1 replays ``2*np.random.random(shape)-1``
    reduction : "mean" or "sum" of the per-sample losses of a batch
    """

    def __init__(
        self,
        sizes: Sequence[int],
        activation: str = "sigmoid",
        output_activation: str = "sigmoid",
        loss: str = "squared",
        bias: bool = True,
        init: str = "xavier",
        init_scale: float | None = None,
        bias_init: float = 0.0,
        seed: int = 0,
        reduction: str = "mean",
    ) -> None:
        self.sizes = parse_sizes(sizes)
        self.activation: Activation = get_activation(activation, hidden=True)
        self.output_activation: Activation = get_activation(output_activation)
        self.loss: Loss = get_loss(loss, output_activation)
        self.reduction = check_reduction(reduction)
        self.bias = bool(bias)
        if init not in INITS:
            raise BpvizError(f"unknown init '{init}'; choose one of: {', '.join(INITS)}")
        if init_scale is not None and not (np.isfinite(init_scale) and init_scale > 0):
            raise BpvizError(f"the init scale must be a positive number, got {init_scale}")
        if not np.isfinite(bias_init):
            raise BpvizError(f"the bias init must be a finite number, got {bias_init}")
        self.init = init
        self.init_scale = init_scale
        self.bias_init = float(bias_init) if self.bias else 0.0
        self.seed = int(seed)
        self.weights, self.biases = self._initial_params()
        self._zero_bias_grads = [np.zeros(n) for n in self.sizes[1:]]
        for g in self._zero_bias_grads:
            g.flags.writeable = False

    @property
    def n_layers(self) -> int:
        """Number of layers including input and output."""
        return len(self.sizes)

    def layer_activation(self, k: int) -> Activation:
        """The activation of layer k (1..L)."""
        return self.output_activation if k == self.n_layers - 1 else self.activation

    def _initial_params(self) -> tuple[list[np.ndarray], list[np.ndarray]]:
        rng = np.random.RandomState(self.seed)
        scale = self.init_scale if self.init_scale is not None else DEFAULT_INIT_SCALE.get(self.init)
        weights = []
        for fan_in, fan_out in zip(self.sizes[:-1], self.sizes[1:]):
            shape = (fan_in, fan_out)
            if self.init == "uniform":
                w = 2 * scale * rng.random_sample(shape) - scale
            elif self.init == "normal":
                w = rng.normal(0.0, scale, shape)
            elif self.init == "xavier":
                r = np.sqrt(6.0 / (fan_in + fan_out)) * (scale or 1.0)
                w = rng.uniform(-r, r, shape)
            else:
                w = rng.normal(0.0, np.sqrt(2.0 / fan_in) * (scale or 1.0), shape)
            weights.append(w)
        biases = [np.full(n, self.bias_init) for n in self.sizes[1:]]
        return weights, biases

    # ----------------------------------------------------------------- passes
    def _check_batch(self, X: np.ndarray, T: np.ndarray | None = None) -> None:
        if X.ndim != 2 or X.shape[1] != self.sizes[0]:
            raise BpvizError(f"the input must have {self.sizes[0]} columns, got shape {X.shape}")
        if T is not None and (T.ndim != 2 or T.shape != (X.shape[0], self.sizes[-1])):
            raise BpvizError(
                f"the targets must have shape ({X.shape[0]}, {self.sizes[-1]}), got {T.shape}"
            )

    def forward(self, X: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Recording forward pass: (pre_activations, activations) for X (n_samples, sizes[0])."""
        self._check_batch(X)
        with np.errstate(over="ignore", invalid="ignore"):
            return self._forward(X)

    def _forward(self, X: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        activations = [X]
        pre_activations = []
        a = X
        last = len(self.weights) - 1
        for k, (W, b) in enumerate(zip(self.weights, self.biases)):
            # ndarray.dot is the same BLAS product as ``a @ W`` without the matmul
            # ufunc's dispatch: ~0.6 µs less per product, which is most of a tiny layer.
            z = a.dot(W)
            if self.bias:
                # b as a (1, n) row: for one sample z and b then have the same shape,
                # which skips NumPy's broadcasting set-up (~0.4 µs a layer).
                z += b[np.newaxis]
            a = (self.output_activation if k == last else self.activation).forward(z)
            pre_activations.append(z)
            activations.append(a)
        return pre_activations, activations

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Outputs (n_samples, sizes[-1]) for inputs X (n_samples, sizes[0]); records nothing."""
        self._check_batch(X)
        a = X
        last = len(self.weights) - 1
        with np.errstate(over="ignore", invalid="ignore"):
            for k, (W, b) in enumerate(zip(self.weights, self.biases)):
                z = a.dot(W)
                if self.bias:
                    z += b
                a = (self.output_activation if k == last else self.activation).forward(z)
        return a

    def backprop(self, X: np.ndarray, T: np.ndarray) -> StepRecord:
        """One forward and one backward pass on a batch; changes nothing.

        X : (n_samples, sizes[0]); T : (n_samples, sizes[-1]). For a single sample the
        bias gradients are views of the deltas (the sum over one row is the row).
        """
        self._check_batch(X, T)
        return self._quiet_backprop(X, T)

    def _backprop(self, X: np.ndarray, T: np.ndarray) -> StepRecord:
        """``backprop`` without the shape check and the floating-point guard, for a
        caller that has done both (the trainer checks its data once)."""
        pre, acts = self._forward(X)
        n_w = len(self.weights)
        deltas: list[np.ndarray] = [None] * n_w  # type: ignore[list-item]
        weight_grads: list[np.ndarray] = [None] * n_w  # type: ignore[list-item]
        bias_grads: list[np.ndarray] = list(self._zero_bias_grads)
        single = len(X) == 1
        loss, delta = self.loss.value_and_delta(pre[-1], acts[-1], T, self.output_activation, self.reduction)
        for k in range(n_w - 1, -1, -1):
            deltas[k] = delta
            weight_grads[k] = acts[k].T.dot(delta)                    # ∂L/∂W = aᵀ·δ
            if self.bias:
                bias_grads[k] = delta[0] if single else delta.sum(axis=0)   # ∂L/∂b = Σ δ
            if k:
                # δ of the layer below: (δ·Wᵀ) ⊙ f′(z)
                delta = self.activation.backward(pre[k - 1], acts[k], delta.dot(self.weights[k].T))
        return StepRecord(acts, pre, deltas, weight_grads, bias_grads, T, loss)

    _quiet_backprop = quiet_floats(_backprop)

    def loss_of(self, X: np.ndarray, T: np.ndarray) -> float:
        """The loss on a data set, with this network's reduction."""
        self._check_batch(X, T)
        with np.errstate(over="ignore", invalid="ignore"):
            pre, acts = self._forward(X)
            return self.loss.value(pre[-1], acts[-1], T, self.reduction)

    def update(self, record: StepRecord, learning_rate: float) -> None:
        """Plain gradient descent: w ← w − η·∂L/∂w (and the same for biases)."""
        for W, g in zip(self.weights, record.weight_grads):
            W -= learning_rate * g
        if self.bias:
            for b, g in zip(self.biases, record.bias_grads):
                b -= learning_rate * g

    # ------------------------------------------------------------- parameters
    @property
    def params(self) -> list[np.ndarray]:
        """The trainable arrays, weights first: the list optimisers work on."""
        return self.weights + self.biases if self.bias else list(self.weights)

    def grads(self, record: StepRecord) -> list[np.ndarray]:
        """The gradients of ``record`` in the order of ``params``."""
        return record.weight_grads + record.bias_grads if self.bias else list(record.weight_grads)

    def n_params(self) -> int:
        return sum(p.size for p in self.params)

    def get_params(self) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Copies of (weights, biases)."""
        return [w.copy() for w in self.weights], [b.copy() for b in self.biases]

    def set_params(self, weights: Sequence[np.ndarray], biases: Sequence[np.ndarray] | None = None) -> None:
        """Replace the parameters in place with exact values; shapes must fit.

        Raises BpvizError naming the first layer that does not fit, or a non-finite value;
        on error nothing is changed.
        """
        new_w = [np.asarray(w, dtype=np.float64) for w in weights]
        if len(new_w) != len(self.weights):
            raise BpvizError(
                f"expected {len(self.weights)} weight matrices for a {'-'.join(map(str, self.sizes))} "
                f"network, got {len(new_w)}"
            )
        for k, (w, old) in enumerate(zip(new_w, self.weights)):
            if w.shape != old.shape:
                raise BpvizError(f"weights of layer {k}→{k + 1} have shape {w.shape}, expected {old.shape}")
        new_b = None
        if biases is not None:
            new_b = [np.asarray(b, dtype=np.float64) for b in biases]
            if len(new_b) != len(self.biases):
                raise BpvizError(f"expected {len(self.biases)} bias vectors, got {len(new_b)}")
            for k, (b, old) in enumerate(zip(new_b, self.biases)):
                if b.shape != old.shape:
                    raise BpvizError(f"biases of layer {k + 1} have shape {b.shape}, expected {old.shape}")
                if not self.bias and np.any(b != 0):
                    raise BpvizError("this network has no biases; bias values must be zero")
        for arr in new_w + (new_b or []):
            if not np.all(np.isfinite(arr)):
                raise BpvizError("weights and biases must be finite numbers")
        for old, w in zip(self.weights, new_w):
            old[...] = w
        for old, b in zip(self.biases, new_b or []):
            old[...] = b

    def is_finite(self) -> bool:
        """True while every weight and bias is a finite number."""
        return all(np.isfinite(p).all() for p in self.weights + self.biases)

    def config(self) -> dict:
        """The constructor arguments, enough to build the same network again."""
        return {
            "sizes": list(self.sizes),
            "activation": self.activation.name,
            "output_activation": self.output_activation.name,
            "loss": self.loss.name,
            "bias": self.bias,
            "init": self.init,
            "init_scale": self.init_scale,
            "bias_init": self.bias_init,
            "seed": self.seed,
            "reduction": self.reduction,
        }

    def __repr__(self) -> str:
        return (
            f"Network({'-'.join(map(str, self.sizes))}, {self.activation.name}/"
            f"{self.output_activation.name}, loss={self.loss.name})"
        )
