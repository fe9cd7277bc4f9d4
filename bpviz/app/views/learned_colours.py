"""Colours of what the network learned over its input plane: the class colours, the
output image behind the data, a neuron's values in the network view's node colours,
and the per-node thumbnails the network view draws inside its nodes.

NumPy and QColor only; the boundary view (``boundary.py``) draws with them.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QColor

from bpviz.app.views import palette
from bpviz.engine.activations import ACTIVATIONS

THUMBNAIL_MAX_NODES = 12   # per layer; larger layers get no maps
THUMBNAIL_STRIDE = 3       # every third grid point: 34 × 34 maps
# TensorFlow Playground's class colours; more classes continue with Okabe–Ito.
CLASS_COLOURS = ("#f59322", "#0877bd", "#009E73", "#CC79A7", "#D55E00", "#56B4E9",
                 "#E6C200", "#555555", "#8C564B", "#9467BD")
BACKGROUND_STRENGTH = 0.7  # the image never reaches the full class colour, so points stand out
NEURON_PALENESS = 0.75     # a neuron's map keeps this much of the node colours' strength
WHITE = np.array([255.0, 255.0, 255.0])


def class_rgb(n_classes: int) -> np.ndarray:
    """(n_classes, 3) float RGB of each class, cycling past ten."""
    return np.array([QColor(CLASS_COLOURS[c % len(CLASS_COLOURS)]).getRgb()[:3]
                     for c in range(n_classes)], dtype=np.float64)


def output_rgba(outputs: np.ndarray, n_classes: int) -> np.ndarray:
    """(n, 4) uint8 background colour for network outputs (n, n_outputs).

    One output column: a diverging map, class 0's colour at 0, white at 0.5, class
    1's at 1. Several: the argmax class's colour, stronger as the largest output
    rises from chance (1/k) to 1.
    """
    colours = class_rgb(n_classes)
    with np.errstate(invalid="ignore"):
        if outputs.shape[1] == 1:
            p = np.clip(np.nan_to_num(outputs[:, 0], nan=0.5), 0.0, 1.0)
            cls = (p > 0.5).astype(np.intp)
            strength = np.abs(2.0 * p - 1.0)
        else:
            clean = np.nan_to_num(outputs, nan=0.0)
            cls = np.argmax(clean, axis=1)
            chance = 1.0 / outputs.shape[1]
            strength = np.clip((clean[np.arange(len(cls)), cls] - chance) / (1.0 - chance), 0.0, 1.0)
    strength = BACKGROUND_STRENGTH * strength[:, None]
    rgb = WHITE + (colours[cls] - WHITE) * strength
    return np.column_stack([np.rint(rgb), np.full(len(rgb), 255.0)]).astype(np.uint8)


def activation_scale(name: str, values: np.ndarray) -> float:
    """The ±scale a neuron's values are coloured on, the network view's rule: the
    activation's display range, or the largest |value| for unbounded ones."""
    lo, hi = ACTIVATIONS[name].display_range if name in ACTIVATIONS else (None, None)
    if lo is None or hi is None:
        m = palette.finite_abs_max([values])
        return m if m > 0 else 1.0
    return max(abs(lo), abs(hi))


def neuron_rgba(values: np.ndarray, activation_name: str) -> np.ndarray:
    """(..., 4) uint8: a neuron's values in the network view's node colours."""
    return palette.image_rgba(values, activation_scale(activation_name, values))


def pale_neuron_rgba(values: np.ndarray, activation_name: str) -> np.ndarray:
    """``neuron_rgba`` paler, as the boundary view's background: the data points stay
    visible on it."""
    rgba = neuron_rgba(values, activation_name).copy()
    rgba[..., :3] = np.rint(255.0 - NEURON_PALENESS * (255.0 - rgba[..., :3])).astype(np.uint8)
    return rgba


def node_thumbnails(acts: list[np.ndarray], activation_names, shape: tuple[int, int],
                    stride: int = THUMBNAIL_STRIDE) -> dict[tuple[int, int], np.ndarray]:
    """{(layer, i): (h, w, 4) uint8} for every node of the layers of at most
    THUMBNAIL_MAX_NODES nodes (inputs and outputs too): its activation on every
    ``stride``-th grid point, coloured like the network view's nodes. Row 0 is the
    lowest y."""
    maps = {}
    for layer in range(len(acts)):
        a = acts[layer]
        if a.shape[1] > THUMBNAIL_MAX_NODES:
            continue
        name = activation_names[layer]
        small = a.reshape(*shape, a.shape[1])[::stride, ::stride]
        for i in range(a.shape[1]):
            maps[(layer, i)] = neuron_rgba(small[..., i], name)
    return maps
