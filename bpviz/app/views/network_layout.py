"""Where every node, cell and label of the network view goes, in scene pixels.

Layers are columns, input on the left. A layer of up to SMALL_LIMIT nodes is a
column of circles; a larger one is drawn compactly as a grid of cells (the input
as an image when the dataset has an image shape), with a second grid below it for
the deltas. A bias is a small "+1" node at the foot of the column it feeds from.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PySide6 import QtCore, QtGui

SMALL_LIMIT = 40
EDGE_HIT_PX = 5.0
MAX_RADIUS = 30.0
BAR_MAX = 64.0      # δ bars are read from the back of a lecture hall: long, but not into the next column


@dataclass
class LayerGeometry:
    n: int
    x: float
    compact: bool
    centres: np.ndarray                  # (n, 2) where edges attach
    radius: float = 0.0                  # small layers
    bias: np.ndarray | None = None       # (2,) centre of this column's bias node
    bias_size: float = 0.0
    grid: tuple[int, int] | None = None  # (rows, cols) for compact layers
    cell: float = 0.0
    a_rect: QtCore.QRectF | None = None
    d_rect: QtCore.QRectF | None = None

    def cell_at(self, rect: QtCore.QRectF | None, x: float, y: float) -> int | None:
        if rect is None or not rect.contains(QtCore.QPointF(x, y)):
            return None
        rows, cols = self.grid
        r = min(int((y - rect.top()) / self.cell), rows - 1)
        c = min(int((x - rect.left()) / self.cell), cols - 1)
        i = r * cols + c
        return i if i < self.n else None


@dataclass
class Layout:
    width: float
    height: float
    top: float
    bottom: float
    layers: list[LayerGeometry]
    bar_len: float
    label_left: float     # input labels end here (right-aligned)
    label_right: float    # output labels start here


def grid_shape(n: int, image_shape: tuple[int, int] | None) -> tuple[int, int]:
    if image_shape is not None and image_shape[0] * image_shape[1] == n:
        return tuple(image_shape)
    cols = max(1, math.ceil(math.sqrt(n / 2.0)))
    return math.ceil(n / cols), cols


def compute(sizes, width: float, height: float, bias_on: bool, fm: QtGui.QFontMetricsF,
            input_labels, output_labels, image_shape, bottom: float | None = None) -> Layout:
    """input_labels / output_labels : the texts beside small input / output layers (an
    output label may have several lines); bottom : the height kept free below the
    network for the legend (a default of about two text lines if None)."""
    L = len(sizes) - 1
    line_h = fm.height()
    top = 4 * line_h + 20
    if bottom is None:
        bottom = max(48.0, 2.4 * line_h)
    avail = max(60.0, height - top - bottom - 12)
    compact = [n > SMALL_LIMIT for n in sizes]

    if compact[0]:
        left = min(0.18 * width, 240.0)
    else:
        left = min(max(fm.horizontalAdvance(t) for t in input_labels) + 44, 0.25 * width)
    if compact[L]:
        right = min(0.12 * width, 150.0)
    else:
        # Room for the largest node radius, its δ bar and the longest label line; a
        # longer name is elided by the view rather than pushed off the canvas.
        label_w = max(fm.horizontalAdvance(line) for t in output_labels for line in t.split("\n"))
        right = min(MAX_RADIUS + BAR_MAX + 16 + label_w + 8, 0.34 * width)
    gap = (width - left - right) / L
    bar_len = float(np.clip(gap * 0.22, 16.0, BAR_MAX))

    layers = []
    for k, n in enumerate(sizes):
        x = left + gap * k
        has_bias = bias_on and k < L
        if not compact[k]:
            layers.append(_small_column(n, x, has_bias, top, avail, gap))
            continue
        max_w = 0.45 * gap if 0 < k < L else 0.6 * gap
        if k == 0:
            max_w = min(max_w, 2 * (left - 16))
        if k == L:
            max_w = min(max_w, 2 * (right - 16))
        layers.append(_compact_column(n, x, k > 0, has_bias, top, avail, max_w,
                                      grid_shape(n, image_shape if k == 0 else None), line_h))
    return Layout(width, height, top, bottom, layers, bar_len,
                  label_left=left, label_right=width - right)


def _small_column(n, x, has_bias, top, avail, gap) -> LayerGeometry:
    slots = n + (1.5 if has_bias else 0.0)
    spacing = min(avail / slots, 110.0)
    r = float(min(0.36 * spacing, MAX_RADIUS, 0.14 * gap))
    y0 = top + (avail - spacing * slots) / 2 + spacing / 2
    ys = y0 + spacing * np.arange(n)
    geo = LayerGeometry(n, x, False, np.column_stack([np.full(n, x), ys]), radius=max(r, 3.0))
    if has_bias:
        geo.bias = np.array([x, y0 + spacing * (n + 0.5)])
        geo.bias_size = float(np.clip(1.7 * r, 20.0, 34.0))
    return geo


def _compact_column(n, x, with_deltas, has_bias, top, avail, max_w, shape, line_h):
    rows, cols = shape
    bias_space = 46.0 if has_bias else 0.0
    grids = 2 if with_deltas else 1
    grid_gap = line_h + 8
    grid_h = (avail - bias_space - grid_gap * (grids - 1)) / grids
    cell = float(min(grid_h / rows, max_w / cols, 32.0))
    w, h = cell * cols, cell * rows
    block = h * grids + grid_gap * (grids - 1) + bias_space
    y = top + (avail - block) / 2
    a_rect = QtCore.QRectF(x - w / 2, y, w, h)
    d_rect = QtCore.QRectF(x - w / 2, y + h + grid_gap, w, h) if with_deltas else None
    idx = np.arange(n)
    r, c = np.divmod(idx, cols)
    centres = np.column_stack([a_rect.left() + (c + 0.5) * cell, a_rect.top() + (r + 0.5) * cell])
    geo = LayerGeometry(n, x, True, centres, grid=(rows, cols), cell=cell,
                        a_rect=a_rect, d_rect=d_rect)
    if has_bias:
        geo.bias = np.array([x, y + block - 17.0])
        geo.bias_size = 28.0
    return geo


def hit_test(layout: Layout, lines: np.ndarray, edges, x: float, y: float):
    """What is at scene point (x, y): ("node", layer, index), ("bias", layer),
    ("edge", k, i, j) or None. lines : (n, 4) drawn edges in paint order, edges :
    their (k, i, j) arrays. Nodes win over edges; among edges within EDGE_HIT_PX
    the nearest, and of equals the later one, which is painted on top."""
    for k, g in enumerate(layout.layers):
        if g.compact:
            for rect in (g.a_rect, g.d_rect):
                i = g.cell_at(rect, x, y)
                if i is not None:
                    return ("node", k, i)
        else:
            d = np.hypot(g.centres[:, 0] - x, g.centres[:, 1] - y)
            i = int(np.argmin(d))
            if d[i] <= g.radius + 3:
                return ("node", k, i)
        if g.bias is not None and max(abs(g.bias[0] - x), abs(g.bias[1] - y)) <= g.bias_size / 2:
            return ("bias", k)
    if not len(lines):
        return None
    a, ab = lines[:, :2], lines[:, 2:] - lines[:, :2]
    p = np.array([x, y])
    with np.errstate(all="ignore"):
        t = np.clip(np.nan_to_num(((p - a) * ab).sum(1) / (ab * ab).sum(1)), 0.0, 1.0)
    dist = np.hypot(*(a + t[:, None] * ab - p).T)
    i = len(dist) - 1 - int(np.argmin(dist[::-1]))
    if dist[i] > EDGE_HIT_PX:
        return None
    ks, iis, jjs = edges
    return ("edge", int(ks[i]), int(iis[i]), int(jjs[i]))
