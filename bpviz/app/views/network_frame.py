"""What the network view shows of one snapshot, as arrays and strings.

Pure functions of a Snapshot, the layout (network_layout.Layout) and the step's
phase: the drawn edges with their colour buckets (every edge between small layers,
the TOP_EDGES strongest of a matrix touching a compact layer), node fills, δ bars,
the cell images of compact layers, header lines and node value texts. NetworkView
hands the results to its canvas items; nothing here creates a Qt item.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from bpviz.app.views import network_layout, network_phase, network_text, palette
from bpviz.app.views.edges import strongest_edges
from bpviz.engine.activations import ACTIVATIONS

TOP_EDGES = 300           # per weight matrix touching a compact layer
SHORT_ACT = {"sigmoid": "σ", "leaky_relu": "lrelu", "softmax": "smax", "linear": "lin"}


def target_text(t: float) -> str:
    return f"t = {t:.3g}".replace("-", "−")


# --- from the dataset ---------------------------------------------------------------

def names(dataset, which: str, n: int) -> tuple[str, ...]:
    """The n input (``which == "in"``) or output names: the dataset's, else x1.. / y1.."""
    result = None
    if dataset is not None:
        result = dataset.feature_names if which == "in" else dataset.target_names
    if result is None or len(result) != n:
        result = tuple(f"{'x' if which == 'in' else 'y'}{i + 1}" for i in range(n))
    return result


def image_shape(dataset, n_inputs: int):
    return None if dataset is None or dataset.n_features != n_inputs else dataset.image_shape


def input_scale(dataset, n_inputs: int):
    """Per-feature max|x| of the training data for small input layers, a global
    one for images; None (scale per frame) without a matching dataset."""
    if dataset is None or dataset.n_features != n_inputs or dataset.n_train == 0:
        return None
    X = dataset.X_train
    m = np.maximum(X.max(axis=0), -X.min(axis=0))  # max |x| without a copy of |X|
    if n_inputs > network_layout.SMALL_LIMIT:
        m = np.full_like(m, m.max())
    return np.where(m > 0, m, 1.0)


# --- edges --------------------------------------------------------------------------

def edge_sources(geo):
    """Per weight matrix: its sources (with the bias node as row sizes[k]) and, for
    matrices between small layers, every edge's line in row-major (i, j) order; and
    how many edges will be drawn at most: (sources, {k: (lines, ii, jj)}, n_drawn)."""
    n_drawn = 0
    sources, full = [], {}
    for k in range(len(geo.layers) - 1):
        src, dst = geo.layers[k], geo.layers[k + 1]
        pts = src.centres if src.bias is None else np.vstack([src.centres, src.bias])
        sources.append(pts)
        if src.compact or dst.compact:
            n_drawn += TOP_EDGES
            continue
        ii, jj = np.divmod(np.arange(len(pts) * dst.n), dst.n)
        full[k] = (np.hstack([pts[ii], dst.centres[jj]]), ii, jj)
        n_drawn += len(ii)
    return sources, full, n_drawn


@dataclass
class EdgeFrame:
    """Every drawn edge, sorted by draw key (so each key's edges are one run)."""
    k: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.intp))
    i: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.intp))
    j: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.intp))
    values: np.ndarray = field(default_factory=lambda: np.zeros(0))
    bucket: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.intp))
    pending: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    lines: np.ndarray = field(default_factory=lambda: np.zeros((0, 4)))
    runs: list = field(default_factory=list)   # (draw key, start, count), keys > 1 only


def edge_frame(snap, geo, sources, full, bias_on: bool, scale, phase, n_keys: int) -> EdgeFrame:
    """The edges of ``snap`` on layout ``geo``: sources[k] are matrix k's source points
    (bias node last), full[k] = (lines, ii, jj) for matrices drawn whole; n_keys is the
    number of edge pens, the last one for edges the phase has not used yet."""
    ks, iis, jjs, vals, lines = [], [], [], [], []
    for k, W in enumerate(snap.weights):
        b = snap.biases[k] if bias_on else None
        if k in full:
            coords, ii, jj = full[k]
            v = W.ravel() if b is None else np.concatenate([W.ravel(), b])
        else:
            ii, jj, v = strongest_edges(W, b, TOP_EDGES)
            coords = np.hstack([sources[k][ii], geo.layers[k + 1].centres[jj]])
        ks.append(np.full(len(ii), k, dtype=np.intp))
        iis.append(ii)
        jjs.append(jj)
        vals.append(v)
        lines.append(coords)
    bucket = palette.buckets(np.concatenate(vals), scale, palette.EDGE_HALF)
    keys = palette.edge_draw_keys(bucket)
    pending = network_phase.pending_edges(phase, np.concatenate(ks))
    keys[pending] = n_keys - 1
    order = np.argsort(keys, kind="stable")
    counts = np.bincount(keys, minlength=n_keys)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    k_, i_, j_ = (np.concatenate(a)[order] for a in (ks, iis, jjs))
    return EdgeFrame(k_, i_, j_, np.concatenate(vals)[order], bucket[order], pending[order],
                     np.concatenate(lines)[order],
                     [(key, int(starts[key]), int(c)) for key, c in enumerate(counts) if c and key > 1])


# --- nodes --------------------------------------------------------------------------

def bar_thickness(g) -> float:
    return float(np.clip(g.radius * 0.8, 4.0, 20.0))


def node_scale(k: int, a: np.ndarray, in_scale, activation_name: str | None):
    """What a node value of layer k is divided by for its colour: the input scale,
    the activation's display range, else the layer's max|a|."""
    if k == 0 and in_scale is not None:
        return in_scale
    lo, hi = (None, None) if k == 0 else ACTIVATIONS[activation_name].display_range
    if lo is None or hi is None:
        m = palette.finite_abs_max([a])
        return m if m > 0 else 1.0
    return max(abs(lo), abs(hi))


@dataclass
class NodeFrame:
    fill: list            # bucket (or network_phase.PENDING_FILL) of every small-layer node
    rgba: list            # per layer: (n, 4) uint8 fill of its nodes or cells
    bar_lengths: dict     # small layer k ≥ 1 -> signed δ bar length in pixels
    neg: np.ndarray       # (m, 4) x, y, w, h of the negative δ bars
    pos: np.ndarray       # ... and of the positive ones
    grids: dict           # compact layer k -> [(rows, cols, 4) uint8 of a, (of δ)]


def delta_bars(g, d, d_max, bar_len):
    """Signed lengths and rects (x, y, w, h) of a small layer's δ bars."""
    length = bar_len * palette.signed_fraction(d, d_max)
    length = np.where((length != 0) & (np.abs(length) < 1.0), np.sign(length), length)
    t = bar_thickness(g)
    x0 = g.centres[:, 0] + g.radius + 3
    rects = np.column_stack([x0, g.centres[:, 1] - t / 2, np.abs(length), np.full(g.n, t)])
    return length, rects


def node_frame(snap, geo, phase, colours, pending_look, in_scale) -> NodeFrame:
    d_max = palette.finite_abs_max(snap.deltas)
    d_max = d_max if d_max > 0 else 1.0
    fill, neg, pos, rgba, bar_lengths, grids = [], [], [], [], {}, {}
    for k, g in enumerate(geo.layers):
        a = snap.activations[k]
        m = node_scale(k, a, in_scale, snap.activation_names[k] if k else None)
        if g.compact:
            grids[k], a_rgba = _grid_images(k, g, a, m, snap, d_max, phase, colours, pending_look)
            rgba.append(a_rgba)
            continue
        if phase is not None and not phase.activation_known(k):
            fill.extend([network_phase.PENDING_FILL] * g.n)
            rgba.append(pending_look.grey(g.n))
        else:
            b = palette.buckets(a, m, palette.NODE_HALF)
            fill.extend(b.tolist())
            rgba.append(colours.node_lut[b])
        if k > 0:
            d = snap.deltas[k - 1]
            if phase is not None and not phase.delta_known(k):
                d = np.zeros_like(d)
            length, rects = delta_bars(g, d, d_max, geo.bar_len)
            bar_lengths[k] = length
            neg.append(rects[length < 0])
            pos.append(rects[length > 0])
    empty = np.zeros((0, 4))
    return NodeFrame(fill, rgba, bar_lengths, np.vstack(neg) if neg else empty,
                     np.vstack(pos) if pos else empty, grids)


def _grid_images(k, g, a, m, snap, d_max, phase, colours, pending_look):
    """The (rows, cols, 4) images of a compact layer's a (and δ for k ≥ 1), and
    the (n, 4) colours of its a cells."""
    rows, cols = g.grid
    pad = rows * cols - g.n
    if phase is None or phase.activation_known(k):
        a_rgba = palette.image_rgba(a * (1.0 / m), 1.0, colours.image_lut)
    else:
        a_rgba = pending_look.grey(g.n)
    grids = [a_rgba]
    if k > 0 and (phase is None or phase.delta_known(k)):
        grids.append(palette.image_rgba(snap.deltas[k - 1], d_max, colours.delta_image_lut))
    elif k > 0:
        grids.append(pending_look.grey(g.n))
    images = []
    for cells in grids:
        full = np.concatenate([cells, np.zeros((pad, 4), np.uint8)]) if pad else cells
        images.append(full.reshape(rows, cols, 4))
    return images, a_rgba


# --- texts --------------------------------------------------------------------------

def header(sizes, k: int, snap, narrow: bool, phase) -> tuple[str, str, str, str]:
    """The four header lines of layer k; abbreviated when columns are narrow."""
    L, n = len(sizes) - 1, sizes[k]
    if k == 0:
        if narrow:  # the other columns print bare numbers; name their rows here
            return ("in", "" if snap is None else f"#{snap.sample_index}", "|δ| →", "‖∇W‖ →")
        if snap is None:
            return ("input", f"{n} features", "", "")
        return ("input", f"{n} features", f"sample #{snap.sample_index}", f"step {snap.step}")
    act = snap.activation_names[k] if snap is not None else ""
    if narrow:
        lines = ("out" if k == L else f"h{k}", f"{SHORT_ACT.get(act, act)} {n}")
    else:
        lines = ("output" if k == L else f"hidden {k}", f"{act} · {n}")
    if snap is None:
        return lines + ("", "")
    pending = network_phase.header(phase, k, narrow)
    if pending is not None:
        return lines + pending
    d = snap.deltas[k - 1]
    mean_d = float(np.mean(np.abs(d))) if d.size else None
    grad = None if snap.weight_grad_norms is None else snap.weight_grad_norms[k - 1]
    if narrow:
        return lines + (network_text.short(mean_d, 2), network_text.short(grad, 2))
    return lines + (f"mean |δ| {network_text.short(mean_d)}",
                    f"‖∂L/∂W‖ {network_text.short(grad)}")


def value_texts(snap, sizes, value_layers, phase) -> list[str]:
    """The value printed in every node of ``value_layers`` (a "?" until computed)."""
    values = []
    for k in value_layers:
        if phase is not None and not phase.activation_known(k):
            values.extend([network_phase.PENDING_TEXT] * sizes[k])
            continue
        values.extend(f"{v:.2f}".replace("-", "−") for v in snap.activations[k])
    return values
