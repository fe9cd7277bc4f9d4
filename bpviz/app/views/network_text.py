"""The words and numbers of the network view: node names and hover texts."""

from __future__ import annotations

import numpy as np


def exact(x) -> str:
    """Exact value: Python's shortest round-trip repr of the float."""
    return repr(float(x))


def short(x, digits: int = 3) -> str:
    return "—" if x is None or not np.isfinite(x) else f"{x:.{digits}g}"


def node_name(n_layers: int, in_names, out_names, k: int, i: int) -> str:
    if k == 0:
        return f"input {i} “{in_names[i]}”"
    if k == n_layers - 1:
        return f"output {i} “{out_names[i]}”"
    return f"hidden {k} node {i}"


def tooltip(snap, hit, in_names, out_names) -> str:
    """The hover text for a hit from network_layout.hit_test, with exact values."""
    L = len(snap.sizes)

    def name(k, i):
        return node_name(L, in_names, out_names, k, i)

    def maybe(arrays, k, *index):
        if arrays is None:
            return "—"
        if arrays[k] is None:
            return "— when paused (not sent for a large layer while playing)"
        return exact(arrays[k][index])

    if hit[0] == "bias":
        return (f"bias node of layer {hit[1]}: a constant input +1;\n"
                f"its edges carry the biases of layer {hit[1] + 1}")
    if hit[0] == "node":
        _, k, i = hit
        if k == 0:
            return f"{name(0, i)}\nx = a = {exact(snap.activations[0][i])}"
        lines = [name(k, i), f"activation: {snap.activation_names[k]}",
                 f"a = {exact(snap.activations[k][i])}",
                 f"z = {exact(snap.pre_activations[k - 1][i])}",
                 f"δ = ∂L/∂z = {exact(snap.deltas[k - 1][i])}"]
        if snap.has_bias:
            lines.append(f"bias b = {exact(snap.biases[k - 1][i])}")
        if k == L - 1:
            lines.append(f"target t = {exact(snap.target[i])}")
        return "\n".join(lines)
    _, k, i, j = hit
    if i == snap.sizes[k]:
        return "\n".join([f"bias b[{k}][{j}] into {name(k + 1, j)}",
                          f"b = {exact(snap.biases[k][j])}",
                          f"∂L/∂b = {maybe(snap.bias_grads, k, j)}",
                          f"last Δb = {maybe(snap.bias_changes, k, j)}"])
    return "\n".join([f"weight w[{k}][{i}, {j}]",
                      f"{name(k, i)} → {name(k + 1, j)}",
                      f"w = {exact(snap.weights[k][i, j])}",
                      f"∂L/∂w = {maybe(snap.weight_grads, k, i, j)}",
                      f"last Δw = {maybe(snap.weight_changes, k, i, j)}"])
