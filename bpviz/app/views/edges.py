"""Graphics items that paint many primitives with few QPainter calls.

Coordinates live in NumPy arrays laid out like QLineF (x1, y1, x2, y2) and QRectF
(x, y, w, h); each run of one pen or brush is handed to QPainter as a pointer and a
count, so a frame costs one drawLines / drawRects call per colour bucket and never
creates a Python object per edge.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import shiboken6
from PySide6 import QtCore, QtGui

from bpviz.app.views import palette

_EMPTY4 = np.zeros((0, 4))


def top_indices(a: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k largest entries of a 1-D array (all of them if it has ≤ k).

    For large arrays a threshold from a strided sample first narrows the candidates;
    if fewer than k pass it, fall back to a full partition, so the result is exact.
    """
    n = a.size
    if n <= k:
        return np.arange(n)
    if n > 64 * k:
        sample = a[:: max(1, n // 16384)]
        keep = min(len(sample) - 1, max(1, int(len(sample) * 4 * k / n)))
        threshold = np.partition(sample, len(sample) - keep)[len(sample) - keep]
        candidates = np.flatnonzero(a >= threshold)
        if len(candidates) >= k:
            return candidates[np.argpartition(a[candidates], len(candidates) - k)[-k:]]
    return np.argpartition(a, n - k)[-k:]


def strongest_edges(W: np.ndarray, b: np.ndarray | None, k: int):
    """(i, j, value) of the k largest |w| of W : (n_in, n_out) together with the
    bias row b : (n_out,) if given, whose edges get i = n_in."""
    n_in, n_out = W.shape
    flat = W.ravel()
    idx = top_indices(np.abs(flat), k)
    ii, jj = np.divmod(idx, n_out)
    v = flat[idx]
    if b is not None and b.size:
        ii = np.concatenate([ii, np.full(n_out, n_in)])
        jj = np.concatenate([jj, np.arange(n_out)])
        v = np.concatenate([v, b])
        keep = top_indices(np.abs(v), k)
        ii, jj, v = ii[keep], jj[keep], v[keep]
    return ii, jj, v


def _ptr(array: np.ndarray, start: int, klass):
    return shiboken6.wrapInstance(array.ctypes.data + start * array.strides[0], klass)


class _CanvasItem(pg.GraphicsObject):
    """An item covering the whole scene; the view sets its rectangle on layout."""

    def __init__(self):
        super().__init__()
        self._rect = QtCore.QRectF()

    def set_rect(self, rect: QtCore.QRectF) -> None:
        self.prepareGeometryChange()
        self._rect = QtCore.QRectF(rect)

    def boundingRect(self) -> QtCore.QRectF:
        return self._rect


class EdgesItem(_CanvasItem):
    """All edges: lines (N, 4) sorted by pen, drawn one drawLines per run."""

    def __init__(self):
        super().__init__()
        self._lines = _EMPTY4
        self._runs: list[tuple[QtGui.QPen, int, int]] = []
        self._antialias = True

    def set_lines(self, lines: np.ndarray, runs, antialias: bool) -> None:
        self._lines = np.ascontiguousarray(lines, dtype=np.float64)
        self._runs = runs
        self._antialias = antialias
        self.update()

    def paint(self, p, *args):
        p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, self._antialias)
        for pen, start, count in self._runs:
            p.setPen(pen)
            p.drawLines(_ptr(self._lines, start, QtCore.QLineF), count)


class NodesItem(_CanvasItem):
    """Small-layer nodes (circles filled from bucket brushes), bias nodes and δ bars."""

    def __init__(self):
        super().__init__()
        self._brushes = palette.brushes(palette.NODE_LUT)
        self._outline = QtGui.QPen(QtGui.QColor(40, 40, 40), 1.6)
        self._outline.setCosmetic(True)
        self._bias_brush = QtGui.QBrush(QtGui.QColor(225, 225, 225))
        self._bias_pen = QtGui.QPen(QtGui.QColor(90, 90, 90), 1.4, QtCore.Qt.PenStyle.DashLine)
        self._track_pen = QtGui.QPen(QtGui.QColor(150, 150, 150), 1.0)
        self._delta_brushes = (QtGui.QBrush(QtGui.QColor(*palette.DELTA_NEGATIVE)),
                               QtGui.QBrush(QtGui.QColor(*palette.DELTA_POSITIVE)))
        self._font = QtGui.QFont()
        self._rects: list[QtCore.QRectF] = []
        self._value_slots: list[int] = []
        self._values: list[str] = []
        self._value_pens = (QtGui.QPen(QtGui.QColor(20, 20, 20)), QtGui.QPen(QtGui.QColor(255, 255, 255)))
        self._fill: list[int] = []
        self._bias_rects: list[QtCore.QRectF] = []
        self._tracks = _EMPTY4
        self._bars = (_EMPTY4, _EMPTY4)

    def set_geometry(self, rects, bias_rects, tracks: np.ndarray, font: QtGui.QFont,
                     value_slots: list[int]) -> None:
        """value_slots : the nodes (indices into rects) that print their value inside."""
        self._rects = rects
        self._value_slots = value_slots
        self._values: list[str] = []
        self._fill = [palette.NODE_HALF] * len(rects)
        self._bias_rects = bias_rects
        self._tracks = np.ascontiguousarray(tracks, dtype=np.float64)
        self._bars = (_EMPTY4, _EMPTY4)
        self._font = font
        self.update()

    def set_values(self, fill: list[int], negative_bars: np.ndarray, positive_bars: np.ndarray):
        """fill : a bucket per node in ``rects`` order; bars : (n, 4) rectangles."""
        self._fill = fill
        self._bars = (np.ascontiguousarray(negative_bars, dtype=np.float64),
                      np.ascontiguousarray(positive_bars, dtype=np.float64))
        self.update()

    def set_labels(self, values: list[str]) -> None:
        """The texts printed inside the ``value_slots`` nodes, in that order."""
        self._values = values
        self.update()

    def paint(self, p, *args):
        p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, True)
        p.setPen(self._outline)
        brushes = self._brushes
        for rect, b in zip(self._rects, self._fill):
            p.setBrush(brushes[b])
            p.drawEllipse(rect)
        p.setFont(self._font)
        dark = 0.6 * palette.NODE_HALF
        for slot, text in zip(self._value_slots, self._values):
            p.setPen(self._value_pens[abs(self._fill[slot] - palette.NODE_HALF) > dark])
            p.drawText(self._rects[slot], QtCore.Qt.AlignmentFlag.AlignCenter, text)
        if self._bias_rects:
            p.setPen(self._bias_pen)
            p.setBrush(self._bias_brush)
            for rect in self._bias_rects:
                p.drawRoundedRect(rect, 4, 4)
                p.drawText(rect, QtCore.Qt.AlignmentFlag.AlignCenter, "+1")
        p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, False)
        if len(self._tracks):
            p.setPen(self._track_pen)
            p.setBrush(QtCore.Qt.BrushStyle.NoBrush)
            p.drawRects(_ptr(self._tracks, 0, QtCore.QRectF), len(self._tracks))
        p.setPen(QtCore.Qt.PenStyle.NoPen)
        for brush, bars in zip(self._delta_brushes, self._bars):
            if len(bars):
                p.setBrush(brush)
                p.drawRects(_ptr(bars, 0, QtCore.QRectF), len(bars))


class LegendItem(_CanvasItem):
    """The key along the bottom: weight colour bar with its scale, node fill, δ marks."""

    def __init__(self):
        super().__init__()
        self._scale = 1.0
        self._font = QtGui.QFont()
        stops = palette.WEIGHT_STOPS
        self._gradient_stops = [(i / (len(stops) - 1), QtGui.QColor(*c)) for i, c in enumerate(stops)]

    def set_font(self, font: QtGui.QFont) -> None:
        self._font = font
        self.update()

    def set_scale(self, scale: float) -> None:
        if scale != self._scale:
            self._scale = scale
            self.update()

    def paint(self, p, *args):
        r = self._rect
        if r.isEmpty():
            return
        p.setFont(self._font)
        fm = QtGui.QFontMetricsF(self._font)
        text_pen = QtGui.QPen(QtGui.QColor(20, 20, 20))
        y_mid = r.center().y()
        h = min(18.0, r.height() * 0.4)
        x = r.left() + 8
        p.setPen(text_pen)
        caption = "weight w"
        p.drawText(QtCore.QPointF(x, y_mid + fm.ascent() / 2 - 2), caption)
        x += fm.horizontalAdvance(caption) + 12
        s = self._scale
        labels = (f"−{s:g}", "0", f"+{s:g}")
        bar_w = max(160.0, fm.horizontalAdvance(labels[0]) * 3)
        grad = QtGui.QLinearGradient(x, 0, x + bar_w, 0)
        for pos, colour in self._gradient_stops:
            grad.setColorAt(pos, colour)
        bar = QtCore.QRectF(x, y_mid - h, bar_w, h)
        p.setPen(QtGui.QPen(QtGui.QColor(60, 60, 60), 1))
        p.setBrush(QtGui.QBrush(grad))
        p.drawRect(bar)
        p.setPen(text_pen)
        for frac, text in zip((0.0, 0.5, 1.0), labels):
            tw = fm.horizontalAdvance(text)
            tx = min(max(x + frac * bar_w - tw / 2, x - tw / 2), x + bar_w - tw / 2)
            p.drawText(QtCore.QPointF(tx, y_mid + fm.ascent() + 2), text)
        x += bar_w + 40
        note = "node fill: activation a (orange −, white 0, blue +)"
        p.drawText(QtCore.QPointF(x, y_mid + fm.ascent() / 2 - 2), note)
        x += fm.horizontalAdvance(note) + 36
        for colour, text in ((palette.DELTA_POSITIVE, "δ = ∂L/∂z > 0"),
                             (palette.DELTA_NEGATIVE, "δ < 0")):
            p.setPen(QtCore.Qt.PenStyle.NoPen)
            p.setBrush(QtGui.QBrush(QtGui.QColor(*colour)))
            p.drawRect(QtCore.QRectF(x, y_mid - 5, 28, 10))
            p.setPen(text_pen)
            p.drawText(QtCore.QPointF(x + 34, y_mid + fm.ascent() / 2 - 2), text)
            x += 34 + fm.horizontalAdvance(text) + 24
