"""The backpropagation equations of one node or one weight, with the numbers filled in.

Everything here reads a :class:`~bpviz.snapshot.Snapshot` and never recomputes what
the engine already did: every result on the right of the last "=" is the engine's
own number (z, a, δ, ∂L/∂w, the new weight), and the terms in front of it are the
snapshot's inputs to that step (``forward_params``, activations, deltas). So the
arithmetic on screen is the arithmetic the engine did, to the last digit shown.

The snapshot does not say which loss, optimiser, learning rate or batch size made
it; :class:`RunInfo` carries those. No Qt here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from bpviz.engine.activations import ACTIVATIONS, LEAKY_SLOPE
from bpviz.snapshot import Snapshot

MIN_PRECISION, MAX_PRECISION = 2, 10
DEFAULT_PRECISION = 4
MAX_TERMS = 12         # a sum of more terms shows the first SHOWN_TERMS and a count
SHOWN_TERMS = 6
WIDTH = 60             # default line width in characters; the inspector passes its own

PAUSED_MESSAGE = "pause or step to see the arithmetic"

_DERIVATIVE = {  # f′(z) in the lecture's notation
    "sigmoid": "a·(1 − a)", "tanh": "(1 − a²)", "relu": "[z > 0]",
    "leaky_relu": f"(1 if z > 0 else {LEAKY_SLOPE})", "linear": "1",
}


@dataclass(frozen=True)
class RunInfo:
    """What a snapshot leaves out: the loss, the reduction over a batch, the
    optimiser and its learning rate (and momentum), the batch size and the number
    of training samples (for the last, possibly shorter, batch of an epoch)."""

    loss: str = "squared"
    reduction: str = "mean"
    optimizer: str = "sgd"
    learning_rate: float = 0.1
    momentum: float = 0.9
    batch_size: int = 1
    n_train: int = 1

    @classmethod
    def from_settings(cls, settings, n_train: int, learning_rate: float | None = None) -> RunInfo:
        """From a :class:`bpviz.settings.Settings`; ``learning_rate`` overrides its
        learning rate (the control panel changes it live, without a rebuild)."""
        from bpviz.engine.training import batch_size_for

        return cls(settings.loss, settings.reduction, settings.optimizer,
                   float(settings.learning_rate if learning_rate is None else learning_rate),
                   float(settings.momentum), batch_size_for(settings.mode, settings.batch_size, n_train),
                   int(n_train))


def _wrap(form: str, width: int) -> list[str]:
    """Break a form at its top-level " + " so that lines stay within ``width``;
    continuation lines start with "+ "."""
    parts, depth, start = [], 0, 0
    for n, ch in enumerate(form):
        depth += ch in "(["
        depth -= ch in ")]"
        if depth == 0 and form.startswith(" + ", n):
            parts.append(form[start:n])
            start = n + 3
    parts.append(form[start:])
    lines = [parts[0]]
    for part in parts[1:]:
        if len(lines[-1]) + 3 + len(part) <= width:
            lines[-1] += " + " + part
        else:
            lines.append("+ " + part)
    return lines


@dataclass(frozen=True)
class Equation:
    """One equation: ``lhs = forms[0] = forms[1] = …``; the last form is the result
    (``value``)."""

    lhs: str
    forms: tuple[str, ...]
    value: float | None = None

    def lines(self, width: int = WIDTH) -> list[str]:
        """One line when it fits in ``width`` characters, else one form per line with
        the '=' signs aligned and long sums broken after a whole term."""
        one = f"{self.lhs} = " + " = ".join(self.forms)
        if len(one) <= width:
            return [one]
        pad = " " * len(self.lhs)
        out = []
        for n, form in enumerate(self.forms):
            first, *rest = _wrap(form, max(width - len(pad) - 3, 20))
            out.append(f"{self.lhs if n == 0 else pad} = {first}")
            out.extend(f"{pad}   {line}" for line in rest)
        return out

    def text(self, width: int = WIDTH) -> str:
        return "\n".join(self.lines(width))


@dataclass(frozen=True)
class Panel:
    """What the inspector shows for one node or edge: a title, equations and notes,
    in display order (``items`` holds Equation or str)."""

    title: str
    items: tuple[Equation | str, ...]

    def equations(self) -> list[Equation]:
        return [item for item in self.items if isinstance(item, Equation)]

    def equation(self, lhs: str) -> Equation:
        for eq in self.equations():
            if eq.lhs == lhs:
                return eq
        raise KeyError(lhs)

    def body(self, width: int = WIDTH) -> str:
        return "\n".join(item.text(width) if isinstance(item, Equation) else item for item in self.items)

    def text(self, width: int = WIDTH) -> str:
        return f"{self.title}\n\n{self.body(width)}"


# ------------------------------------------------------------------ numbers
def check_precision(precision: int) -> int:
    return min(max(int(precision), MIN_PRECISION), MAX_PRECISION)


def number(x: float, precision: int) -> str:
    """Fixed decimals with a real minus sign; '−0.0000' becomes '0.0000'."""
    x = float(x)
    if not math.isfinite(x):
        return "NaN" if math.isnan(x) else ("∞" if x > 0 else "−∞")
    text = f"{x:.{precision}f}"
    if text.startswith("-"):
        text = text[1:] if float(text) == 0 else "−" + text[1:]
    return text


def factor(x: float, precision: int) -> str:
    """A number as a factor or term: negative numbers in parentheses."""
    text = number(x, precision)
    return f"({text})" if text.startswith("−") else text


def setting(x: float) -> str:
    """A setting such as η: its exact short form, never rounded away."""
    return repr(float(x)).replace("-", "−")


def _sum_of(terms: list[str], total_count: int | None = None) -> str:
    """'t1 + t2 + …'; ``total_count`` > len(terms) adds '… (n more)'."""
    text = " + ".join(terms)
    if total_count is not None and total_count > len(terms):
        text += f" + … ({total_count - len(terms)} more)"
    return text


def _products(left: np.ndarray, right: np.ndarray, p: int) -> tuple[list[str], int]:
    n = len(left)
    shown = n if n <= MAX_TERMS else SHOWN_TERMS
    return [f"{factor(left[m], p)}×{factor(right[m], p)}" for m in range(shown)], n


# ------------------------------------------------------------------ naming
def node_name(snap: Snapshot, k: int, i: int, in_names=None, out_names=None) -> str:
    L = snap.n_layers - 1
    if k == 0:
        label = in_names[i] if in_names is not None and i < len(in_names) else f"x{i + 1}"
        return f"input node {i} “{label}”"
    act = snap.activation_names[k]
    if k == L:
        label = out_names[i] if out_names is not None and i < len(out_names) else f"y{i + 1}"
        return f"output node {i} “{label}” ({act})"
    return f"hidden layer {k}, node {i} ({act})"


def _batch(snap: Snapshot, info: RunInfo) -> int:
    """The size of the batch the shown pass belongs to (the last one of an epoch may
    be shorter). A step snapshot's counters already point past its batch."""
    bs = max(int(info.batch_size), 1)
    if bs == 1 or snap.n_batches <= 1:
        return min(bs, max(info.n_train, 1))
    index = snap.batch_index if snap.is_preview else (snap.batch_index - 1) % snap.n_batches
    if index == snap.n_batches - 1:
        return max(info.n_train - (snap.n_batches - 1) * bs, 1)
    return bs


def _batch_sum(n: int, info: RunInfo) -> str:
    return "Σₙ" if info.reduction == "sum" or n == 1 else f"(1/{n})·Σₙ"


# ------------------------------------------------------------------ nodes
def _activation_equation(name: str, z: float, a: float, zs: np.ndarray, j: int, p: int) -> Equation:
    zt = number(z, p)
    if name == "sigmoid":
        return Equation("a", ("σ(z) = 1 / (1 + e^(−z))", f"1 / (1 + e^({'−' if z >= 0 else ''}{number(abs(z), p)}))",
                              number(a, p)), a)
    if name == "tanh":
        return Equation("a", ("tanh(z)", f"tanh({zt})", number(a, p)), a)
    if name == "relu":
        return Equation("a", ("max(0, z)", f"max(0, {zt})", number(a, p)), a)
    if name == "leaky_relu":
        return Equation("a", (f"z if z > 0 else {LEAKY_SLOPE}·z", ("" if z > 0 else f"{LEAKY_SLOPE}×") + factor(z, p),
                              number(a, p)), a)
    if name == "linear":
        return Equation("a", ("z", number(a, p)), a)
    # softmax: e^z over the layer's sum; shifted by max z where e^z would overflow.
    top = float(np.max(zs))
    shift = top if top > 700 else 0.0
    e = np.exp(zs - shift)
    if shift:
        sym = "e^(zⱼ − max z) / Σₖ e^(zₖ − max z)"
    else:
        sym = "e^(zⱼ) / Σₖ e^(zₖ)"
    return Equation("a", (sym, f"{number(e[j], p)} / {number(float(e.sum()), p)}", number(a, p)), a)


def _fprime(act: str, z: float, a: float) -> float:
    """f′(z) of one node, through the engine's own derivative."""
    return float(ACTIVATIONS[act].derivative(np.array([z]), np.array([a]))[0])


def _output_delta(snap: Snapshot, info: RunInfo, j: int, p: int) -> list[Equation | str]:
    act = snap.activation_names[-1]
    a, t, z = snap.activations[-1], snap.target, snap.pre_activations[-1]
    d = float(snap.deltas[-1][j])
    aj, tj = float(a[j]), float(t[j])
    diff = f"({number(aj, p)} − {number(tj, p)})"
    if info.loss in ("cross_entropy", "binary_cross_entropy"):
        why = "softmax with cross-entropy" if act == "softmax" else "sigmoid with binary cross-entropy"
        return [Equation("δ", ("∂ℓ/∂z = a − t", f"{number(aj, p)} − {number(tj, p)}", number(d, p)), d),
                f"  ({why}: the activation's derivative cancels)"]
    if act == "softmax":
        g = a - t
        s = float(np.dot(a, g))
        terms, n = _products(a, g, p)
        return [
            Equation("δ", ("Σₖ (∂aₖ/∂zⱼ)·(aₖ − tₖ),  ∂aₖ/∂zⱼ = aₖ·([k = j] − aⱼ)",
                           "aⱼ·((aⱼ − tⱼ) − Σₖ aₖ·(aₖ − tₖ))",
                           f"{factor(aj, p)}×({number(aj - tj, p)} − {factor(s, p)})", number(d, p)), d),
            Equation("Σₖ aₖ·(aₖ − tₖ)", (_sum_of(terms, n), number(s, p)), s),
        ]
    fprime = _fprime(act, float(z[j]), aj)
    if act == "sigmoid":
        filled = f"{diff}×{factor(aj, p)}×(1 − {number(aj, p)})"
    elif act == "tanh":
        filled = f"{diff}×(1 − {factor(aj, p)}²)"
    else:
        filled = f"{diff}×{number(fprime, p)}"
    forms = ("∂ℓ/∂z = (a − t)·f′(z)", f"(a − t)·{_DERIVATIVE[act]}", filled, number(d, p))
    return [Equation("δ", forms, d)]


def _hidden_delta(snap: Snapshot, k: int, j: int, p: int) -> list[Equation | str]:
    weights = snap.forward_params[0][k]            # (sizes[k], sizes[k+1]): row j leaves node j
    act = snap.activation_names[k]
    a, z = float(snap.activations[k][j]), float(snap.pre_activations[k - 1][j])
    w_out, d_next = weights[j], snap.deltas[k]
    s = float(np.dot(w_out, d_next))
    fprime = _fprime(act, z, a)
    d = float(snap.deltas[k - 1][j])
    terms, n = _products(w_out, d_next, p)
    items: list[Equation | str] = [
        Equation("δ", ("f′(z)·Σₖ wⱼₖ·δₖ", f"{_DERIVATIVE[act]}·Σₖ wⱼₖ·δₖ",
                       f"{factor(fprime, p)}×{factor(s, p)}", number(d, p)), d),
        Equation("f′(z)", (_DERIVATIVE[act], number(fprime, p)), fprime),
        Equation("Σₖ wⱼₖ·δₖ", (_sum_of(terms, n), number(s, p)), s),
        f"  (k runs over the {n} nodes of layer {k + 1})",
    ]
    return items


def _bias_items(snap: Snapshot, info: RunInfo, k: int, j: int, p: int) -> list[Equation | str]:
    """∂L/∂b and the update of the bias of node j of layer k (k ≥ 1)."""
    if not snap.has_bias:
        return ["no bias (this network has none)"]
    d = float(snap.deltas[k - 1][j])
    if snap.bias_grads is None:
        return [Equation("∂ℓ/∂b", ("δ", number(d, p)), d),
                "  (this sample; the update comes with the next step)"]
    n = _batch(snap, info)
    g = float(snap.bias_grads[k - 1][j])
    if n == 1:
        items: list[Equation | str] = [Equation("∂L/∂b", ("δ", number(g, p)), g)]
    else:
        items = [Equation("∂L/∂b", (f"{_batch_sum(n, info)} δ⁽ⁿ⁾", number(g, p)), g),
                 f"  (over the batch of {n}; this sample's δ = {number(d, p)})"]
    old = None if snap.biases_before is None else float(snap.biases_before[k - 1][j])
    change = float(snap.bias_changes[k - 1][j])
    items += _update_items("b", old, g, change, float(snap.biases[k - 1][j]), info, p)
    return items


def _update_items(sym: str, old: float | None, g: float, change: float, new: float,
                  info: RunInfo, p: int) -> list[Equation | str]:
    if old is None:
        return [f"{sym} is now {number(new, p)} (Δ{sym} = {number(change, p)})"]
    if info.optimizer == "sgd":
        eta = setting(info.learning_rate)
        return [Equation(f"new {sym}", (f"{sym} − η·∂L/∂{sym}", f"{number(old, p)} − {eta}×{factor(g, p)}",
                                      number(new, p)), new)]
    from bpviz.engine.optimizers import make_optimizer

    rule = make_optimizer(info.optimizer, info.learning_rate).rule.replace("w", sym)
    label = {"momentum": f"momentum (η = {setting(info.learning_rate)}, μ = {setting(info.momentum)})",
             "adam": f"Adam (η = {setting(info.learning_rate)})"}.get(info.optimizer, info.optimizer)
    return [f"{label}: {rule}",
            Equation(f"Δ{sym}", (number(change, p),), change),
            Equation(f"new {sym}", (f"{sym} + Δ{sym}", f"{number(old, p)} + {factor(change, p)}", number(new, p)), new)]


def node_panel(snap: Snapshot, info: RunInfo, k: int, j: int, precision: int = DEFAULT_PRECISION,
               in_names=None, out_names=None) -> Panel:
    """Node j of layer k: its forward equations, its δ, its bias gradient and update."""
    p = check_precision(precision)
    title = node_name(snap, k, j, in_names, out_names)
    if k == 0:
        x = float(snap.activations[0][j])
        return Panel(title, (Equation("a", ("x", number(x, p)), x),
                             f"  (sample #{snap.sample_index})"))
    if snap.forward_params is None:
        return Panel(title, (PAUSED_MESSAGE,))
    weights, biases = snap.forward_params
    w_in, a_in = weights[k - 1][:, j], snap.activations[k - 1]
    z = float(snap.pre_activations[k - 1][j])
    terms, n = _products(w_in, a_in, p)
    if snap.has_bias:
        terms.append(factor(biases[k - 1][j], p))
        sym = "Σᵢ wᵢⱼ·aᵢ + b"
    else:
        sym = "Σᵢ wᵢⱼ·aᵢ"
    # The bias goes last, after any '… (n more)'.
    if n > MAX_TERMS and snap.has_bias:
        body = _sum_of(terms[:-1], n) + f" + {terms[-1]}"
    else:
        body = _sum_of(terms, n)
    items: list[Equation | str] = [f"sample #{snap.sample_index}, step {snap.step}",
                                   Equation("z", (sym, body, number(z, p)), z)]
    act = snap.activation_names[k]
    items.append(_activation_equation(act, z, float(snap.activations[k][j]), snap.pre_activations[k - 1], j, p))
    if k == snap.n_layers - 1:
        items.append(f"t = {number(float(snap.target[j]), p)}   ℓ = {info.loss.replace('_', ' ')} loss")
        items += _output_delta(snap, info, j, p)
    else:
        items += _hidden_delta(snap, k, j, p)
    items += _bias_items(snap, info, k, j, p)
    return Panel(title, tuple(items))


# ------------------------------------------------------------------ edges
def edge_panel(snap: Snapshot, info: RunInfo, k: int, i: int, j: int, precision: int = DEFAULT_PRECISION,
               in_names=None, out_names=None) -> Panel:
    """The weight from node i of layer k to node j of layer k+1 (i == sizes[k]: the bias of
    node j): its gradient and its update."""
    p = check_precision(precision)
    if i == snap.sizes[k]:
        title = f"bias b of {node_name(snap, k + 1, j, in_names, out_names)}"
        if snap.forward_params is None:
            return Panel(title, (PAUSED_MESSAGE,))
        return Panel(title, tuple(_bias_items(snap, info, k + 1, j, p)))
    title = (f"weight w[{k}][{i}, {j}]: {node_name(snap, k, i, in_names, out_names)} → "
             f"{node_name(snap, k + 1, j, in_names, out_names)}")
    if snap.forward_params is None:
        return Panel(title, (PAUSED_MESSAGE,))
    a = float(snap.activations[k][i])
    d = float(snap.deltas[k][j])
    own = a * d
    w_used = float(snap.forward_params[0][k][i, j])
    items: list[Equation | str] = [f"sample #{snap.sample_index}, step {snap.step}",
                                   Equation("w", (number(w_used, p),), w_used),
                                   f"aᵢ = {number(a, p)} (from layer {k}),  δⱼ = {number(d, p)} (layer {k + 1})"]
    if snap.weight_grads is None:
        items += [Equation("∂ℓ/∂w", ("aᵢ·δⱼ", f"{factor(a, p)}×{factor(d, p)}", number(own, p)), own),
                  "  (this sample; the update comes with the next step)"]
        return Panel(title, tuple(items))
    g = float(snap.weight_grads[k][i, j])
    n = _batch(snap, info)
    if n == 1:
        items.append(Equation("∂L/∂w", ("aᵢ·δⱼ", f"{factor(a, p)}×{factor(d, p)}", number(g, p)), g))
    else:
        items += [Equation("∂L/∂w", (f"{_batch_sum(n, info)} aᵢ⁽ⁿ⁾·δⱼ⁽ⁿ⁾", number(g, p)), g),
                  f"  (over the batch of {n}, {info.reduction} reduction)",
                  Equation("this sample's aᵢ·δⱼ", (f"{factor(a, p)}×{factor(d, p)}", number(own, p)), own)]
    old = None if snap.weights_before is None else float(snap.weights_before[k][i, j])
    items += _update_items("w", old, g, float(snap.weight_changes[k][i, j]), float(snap.weights[k][i, j]), info, p)
    return Panel(title, tuple(items))
