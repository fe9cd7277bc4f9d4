"""The numbers of the shown step as a table: CSV (everything, exact) and LaTeX.

The CSV has one row per node (a, z, δ, and t for outputs) and one per weight and
bias (value, value before the step, ∂L/∂w, Δw), every number as Python's exact
repr, so a spreadsheet or a script reads back what the engine had. The LaTeX table
is for slides: booktabs rows with a chosen number of decimals, either the whole
network (small networks) or a part of it (a layer, a node with its incoming
weights, one edge). No Qt here.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

import numpy as np

from bpviz.equations import check_precision, number
from bpviz.files import atomic_write
from bpviz.snapshot import LIGHT_LAYER_WEIGHTS, Snapshot

CSV_COLUMNS = ("kind", "name", "layer", "i", "j", "a", "z", "delta", "target",
               "value", "value_before", "grad", "change")

# Beyond these a whole-network LaTeX table is too long for a slide.
LATEX_MAX_NODES = 40
LATEX_MAX_EDGES = 60


@dataclass(frozen=True)
class Scope:
    """Which part of the network a LaTeX table holds: "all", "layer" (k), "node"
    (k, i: the node and its incoming weights and bias) or "edge" (k, i, j; i ==
    sizes[k] for a bias)."""

    kind: str = "all"
    k: int = 0
    i: int = 0
    j: int = 0


def _exact(x) -> str:
    return "" if x is None else repr(float(x))


def _at(arrays, k, *index):
    """arrays[k][index], or None where there is no such array (before the first step;
    a large layer's gradients and changes in a light frame)."""
    return None if arrays is None or arrays[k] is None else arrays[k][index]


def csv_rows(snap: Snapshot) -> list[list[str]]:
    """The header and one row per node, weight and bias (layer order, then i, j)."""
    rows = [list(CSV_COLUMNS)]
    L = snap.n_layers - 1
    for k in range(L + 1):
        for i in range(snap.sizes[k]):
            a = snap.activations[k][i]
            z = None if k == 0 else snap.pre_activations[k - 1][i]
            d = None if k == 0 else snap.deltas[k - 1][i]
            t = snap.target[i] if k == L else None
            rows.append(["node", "", str(k), str(i), "", _exact(a), _exact(z), _exact(d), _exact(t),
                         "", "", "", ""])
    for k in range(L):
        n_in, n_out = snap.weights[k].shape
        for i in range(n_in):
            for j in range(n_out):
                rows.append(["weight", f"W{k + 1}", str(k), str(i), str(j), "", "", "", "",
                             _exact(snap.weights[k][i, j]), _exact(_at(snap.weights_before, k, i, j)),
                             _exact(_at(snap.weight_grads, k, i, j)), _exact(_at(snap.weight_changes, k, i, j))])
        if snap.has_bias:
            for j in range(n_out):
                rows.append(["bias", f"b{k + 1}", str(k), "bias", str(j), "", "", "", "",
                             _exact(snap.biases[k][j]), _exact(_at(snap.biases_before, k, j)),
                             _exact(_at(snap.bias_grads, k, j)), _exact(_at(snap.bias_changes, k, j))])
    return rows


def with_gaps(message: str, snap: Snapshot) -> str:
    """``message`` about a copied or exported step, and for a light frame (sampled
    while playing, see bpviz.snapshot) which cells of the table are empty and why."""
    layers = [f"W{k + 1}" for k, g in enumerate(snap.weight_grads or ()) if g is None]
    if not layers:
        return message
    return (f"{message}; the ∂L/∂w and Δw cells of {', '.join(layers)} are empty: a step sampled while "
            f"playing leaves out the gradients of layers above {LIGHT_LAYER_WEIGHTS:,} weights; "
            "pause or step to have them")


def to_csv(snap: Snapshot) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(csv_rows(snap))
    return out.getvalue()


def export_csv(path, snap: Snapshot) -> None:
    with atomic_write(path, "w") as handle:
        handle.write(to_csv(snap))


# ------------------------------------------------------------------ LaTeX
def fits_slide(snap: Snapshot) -> bool:
    """True when the whole network fits one LaTeX table."""
    n_edges = sum(w.size + (w.shape[1] if snap.has_bias else 0) for w in snap.weights)
    return sum(snap.sizes) <= LATEX_MAX_NODES and n_edges <= LATEX_MAX_EDGES


def _tex(x, p: int) -> str:
    if x is None:
        return "--"
    return f"${number(x, p).replace('−', '-')}$"


def _node_rows(snap: Snapshot, nodes, p: int) -> list[str]:
    L = snap.n_layers - 1
    rows = []
    for k, i in nodes:
        z = None if k == 0 else snap.pre_activations[k - 1][i]
        d = None if k == 0 else snap.deltas[k - 1][i]
        t = snap.target[i] if k == L else None
        rows.append(f"{k} & {i} & {_tex(snap.activations[k][i], p)} & {_tex(z, p)} & "
                    f"{_tex(d, p)} & {_tex(t, p)} \\\\")
    return rows


def _edge_rows(snap: Snapshot, edges, p: int) -> list[str]:
    rows = []
    for k, i, j in edges:
        if i == snap.sizes[k]:
            name = f"$b^{{({k + 1})}}_{{{j}}}$"
            values = (snap.biases[k][j], _at(snap.biases_before, k, j),
                      _at(snap.bias_grads, k, j), _at(snap.bias_changes, k, j))
        else:
            name = f"$w^{{({k + 1})}}_{{{i}{j}}}$" if max(i, j) < 10 else f"$w^{{({k + 1})}}_{{{i},{j}}}$"
            values = (snap.weights[k][i, j], _at(snap.weights_before, k, i, j),
                      _at(snap.weight_grads, k, i, j), _at(snap.weight_changes, k, i, j))
        rows.append(f"{name} & " + " & ".join(_tex(v, p) for v in values) + " \\\\")
    return rows


def _all_edges(snap: Snapshot, k: int):
    n_in, n_out = snap.weights[k].shape
    edges = [(k, i, j) for i in range(n_in) for j in range(n_out)]
    if snap.has_bias:
        edges += [(k, n_in, j) for j in range(n_out)]
    return edges


def _selection(snap: Snapshot, scope: Scope):
    if scope.kind == "all":
        nodes = [(k, i) for k in range(snap.n_layers) for i in range(snap.sizes[k])]
        return nodes, [e for k in range(len(snap.weights)) for e in _all_edges(snap, k)]
    if scope.kind == "layer":
        nodes = [(scope.k, i) for i in range(snap.sizes[scope.k])]
        return nodes, ([] if scope.k == 0 else _all_edges(snap, scope.k - 1))
    if scope.kind == "node":
        k, i = scope.k, scope.i
        if k == 0:
            return [(0, i)], []
        edges = [(k - 1, m, i) for m in range(snap.sizes[k - 1])]
        if snap.has_bias:
            edges.append((k - 1, snap.sizes[k - 1], i))
        return [(k, i)], edges
    if scope.kind == "edge":
        k, i, j = scope.k, scope.i, scope.j
        nodes = [(k, i)] if i < snap.sizes[k] else []
        return nodes + [(k + 1, j)], [(k, i, j)]
    raise ValueError(f"unknown scope {scope.kind!r}")


def to_latex(snap: Snapshot, scope: Scope = Scope(), precision: int = 4) -> str:
    """A booktabs table (needs \\usepackage{booktabs}) of the nodes and then the
    weights of ``scope``; '--' marks what this step does not have."""
    p = check_precision(precision)
    nodes, edges = _selection(snap, scope)
    lines = [f"% bpviz: step {snap.step}, sample \\#{snap.sample_index}",
             "\\begin{tabular}{rrrrrr}", "\\toprule",
             "layer & node & $a$ & $z$ & $\\delta$ & $t$ \\\\", "\\midrule"]
    lines += _node_rows(snap, nodes, p)
    lines.append("\\bottomrule")
    lines.append("\\end{tabular}")
    if edges:
        lines += ["", "\\begin{tabular}{lrrrr}", "\\toprule",
                  "& $w$ & $w$ before & $\\partial L/\\partial w$ & $\\Delta w$ \\\\", "\\midrule"]
        lines += _edge_rows(snap, edges, p)
        lines += ["\\bottomrule", "\\end{tabular}"]
    return "\n".join(lines) + "\n"


def export_latex(path, snap: Snapshot, scope: Scope = Scope(), precision: int = 4) -> None:
    with atomic_write(path, "w") as handle:
        handle.write(to_latex(snap, scope, precision))


def parse_csv(text: str) -> list[dict[str, str]]:
    """The rows of ``to_csv`` as dicts keyed by column (for tests and scripts)."""
    return list(csv.DictReader(io.StringIO(text)))


def column(rows: list[dict[str, str]], kind: str, key: str) -> np.ndarray:
    """One numeric column of the rows of one kind, in file order."""
    return np.array([float(r[key]) for r in rows if r["kind"] == kind])
