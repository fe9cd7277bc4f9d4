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

from bpviz.app.style import LIGHT
from bpviz.app.views import palette
from bpviz.app.views.network_phase import PENDING_FILL, PendingLook

_EMPTY4 = np.zeros((0, 4))
# Numbers inside a node are white on fills darker than this relative luminance,
# black otherwise: the one with the higher WCAG contrast, whatever the palette.
WHITE_TEXT_BELOW = 0.179
# Room around a node's circle in its stamp for the outline's antialiased edge.
STAMP_MARGIN = 2.0
_WHOLE_PIXEL_MOVES = (QtGui.QTransform.TransformationType.TxNone, QtGui.QTransform.TransformationType.TxTranslate)


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
        self._track_pen = QtGui.QPen(QtGui.QColor(120, 120, 120), 1.0)
        self._track_brush = QtGui.QBrush(QtGui.QColor(255, 255, 255))
        self._delta_brushes = (QtGui.QBrush(QtGui.QColor(*palette.DELTA_NEGATIVE)),
                               QtGui.QBrush(QtGui.QColor(*palette.DELTA_POSITIVE)))
        self._font = QtGui.QFont()
        self._rects: list[QtCore.QRectF] = []
        self._value_slots: list[int] = []
        self._values: list[str] = []
        self._value_pens = (QtGui.QPen(QtGui.QColor(20, 20, 20)), QtGui.QPen(QtGui.QColor(255, 255, 255)))
        self._white_text = (palette.luminance(palette.NODE_LUT) < WHITE_TEXT_BELOW).tolist()
        self._pending = PendingLook(LIGHT)
        self._fill: list[int] = []
        self._bias_rects: list[QtCore.QRectF] = []
        self._tracks = _EMPTY4
        self._bars = (_EMPTY4, _EMPTY4)
        self._sprites: dict[tuple, QtGui.QPixmap] = {}

    def set_colours(self, colours: palette.Colours, theme) -> None:
        """Fills from ``colours``; outlines, bias nodes and δ gauges from ``theme`` (style.Theme)."""
        self._brushes = palette.brushes(colours.node_lut)
        self._outline = QtGui.QPen(QtGui.QColor(theme.outline), 1.6)
        self._outline.setCosmetic(True)
        self._bias_brush = QtGui.QBrush(QtGui.QColor(theme.bias_fill))
        self._bias_pen = QtGui.QPen(QtGui.QColor(theme.muted), 1.4, QtCore.Qt.PenStyle.DashLine)
        self._track_pen = QtGui.QPen(QtGui.QColor(theme.muted), 1.0)
        self._track_brush = QtGui.QBrush(QtGui.QColor(theme.background))
        self._delta_brushes = (QtGui.QBrush(QtGui.QColor(*colours.delta_negative)),
                               QtGui.QBrush(QtGui.QColor(*colours.delta_positive)))
        self._white_text = (palette.luminance(colours.node_lut) < WHITE_TEXT_BELOW).tolist()
        self._pending = PendingLook(theme)
        self._sprites = {}
        self.update()

    def set_geometry(self, rects, bias_rects, tracks: np.ndarray, font: QtGui.QFont,
                     value_slots: list[int]) -> None:
        """value_slots : the nodes (indices into rects) that print their value inside."""
        self._rects = rects
        self._sprites = {}
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
        ratio = p.device().devicePixelRatioF() if self._stamps_look_the_same(p) else None
        for rect, b in zip(self._rects, self._fill):
            if b == PENDING_FILL:  # not yet computed in a phase walk: grey, dashed
                p.setPen(self._pending.node_pen)
                p.setBrush(self._pending.node_brush)
                p.drawEllipse(rect)
                p.setPen(self._outline)
            elif ratio is not None:
                self._stamp(p, rect, b, ratio)
            else:
                p.setBrush(brushes[b])
                p.drawEllipse(rect)
        p.setFont(self._font)
        for slot, text in zip(self._value_slots, self._values):
            b = self._fill[slot]
            p.setPen(self._pending.text_pen if b == PENDING_FILL else self._value_pens[self._white_text[b]])
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
            p.setBrush(self._track_brush)  # a white gauge keeps the bar readable over edges
            p.drawRects(_ptr(self._tracks, 0, QtCore.QRectF), len(self._tracks))
        p.setPen(QtCore.Qt.PenStyle.NoPen)
        for brush, bars in zip(self._delta_brushes, self._bars):
            if len(bars):
                p.setBrush(brush)
                p.drawRects(_ptr(bars, 0, QtCore.QRectF), len(bars))

    # --- nodes as stamps --------------------------------------------------------------
    # An antialiased circle with an outline costs QPainter ~30 µs; copying a picture
    # of it ~2 µs. So on screen (and into PNGs) every node is a copy of a circle drawn
    # once per colour and size; a vector device (SVG) still gets circles.

    @staticmethod
    def _stamps_look_the_same(p: QtGui.QPainter) -> bool:
        return (p.paintEngine().type() == QtGui.QPaintEngine.Type.Raster
                and p.transform().type() in _WHOLE_PIXEL_MOVES)

    def _stamp(self, p: QtGui.QPainter, rect: QtCore.QRectF, bucket: int, ratio: float) -> None:
        key = (bucket, rect.width(), rect.height(), ratio)
        sprite = self._sprites.get(key)
        if sprite is None:
            sprite = self._sprites[key] = self._draw_stamp(rect, bucket, ratio)
        p.drawPixmap(QtCore.QPointF(rect.x() - STAMP_MARGIN, rect.y() - STAMP_MARGIN), sprite)

    def _draw_stamp(self, rect: QtCore.QRectF, bucket: int, ratio: float) -> QtGui.QPixmap:
        size = QtCore.QSizeF(rect.width() + 2 * STAMP_MARGIN, rect.height() + 2 * STAMP_MARGIN) * ratio
        sprite = QtGui.QPixmap(size.toSize() + QtCore.QSize(1, 1))
        sprite.setDevicePixelRatio(ratio)
        sprite.fill(QtCore.Qt.GlobalColor.transparent)
        painter = QtGui.QPainter(sprite)
        painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, True)
        painter.setPen(self._outline)
        painter.setBrush(self._brushes[bucket])
        painter.drawEllipse(QtCore.QRectF(STAMP_MARGIN, STAMP_MARGIN, rect.width(), rect.height()))
        painter.end()
        return sprite


class LegendItem(_CanvasItem):
    """The key along the bottom: weight colour bar with its scale, node fill, δ marks.

    Its three parts flow into as many rows as the width needs (``height_for``), so a
    narrow view wraps the key instead of cutting it off."""

    GAP = 36.0       # between parts on one row
    PAD = 6.0

    def __init__(self):
        super().__init__()
        self._scale = 1.0
        self._font = QtGui.QFont()
        self._fm = QtGui.QFontMetricsF(self._font)
        self._text_pen = QtGui.QPen(QtGui.QColor(20, 20, 20))
        self._light_pen = QtGui.QPen(QtGui.QColor(255, 255, 255))
        self._frame_pen = QtGui.QPen(QtGui.QColor(60, 60, 60), 1)
        self._delta_brushes = [QtGui.QBrush(QtGui.QColor(*c))
                               for c in (palette.DELTA_POSITIVE, palette.DELTA_NEGATIVE)]
        stops = palette.WEIGHT_STOPS
        self._gradient_stops = [(i / (len(stops) - 1), QtGui.QColor(*c)) for i, c in enumerate(stops)]
        self._node_brushes = [QtGui.QBrush(QtGui.QColor(*c)) for c in (stops[0], stops[2], stops[-1])]

    def set_font(self, font: QtGui.QFont) -> None:
        self._font = font
        self._fm = QtGui.QFontMetricsF(font)
        self.update()

    def set_colours(self, colours: palette.Colours, theme) -> None:
        """The key's colours from ``colours``, its text and frames from ``theme``."""
        self._text_pen = QtGui.QPen(QtGui.QColor(theme.ink))
        self._frame_pen = QtGui.QPen(QtGui.QColor(theme.muted), 1)
        self._delta_brushes = [QtGui.QBrush(QtGui.QColor(*c))
                               for c in (colours.delta_positive, colours.delta_negative)]
        stops = colours.weight_stops
        self._gradient_stops = [(i / (len(stops) - 1), QtGui.QColor(*c)) for i, c in enumerate(stops)]
        self._node_brushes = [QtGui.QBrush(QtGui.QColor(*c)) for c in (stops[0], stops[2], stops[-1])]
        self.update()

    def set_scale(self, scale: float) -> None:
        if scale != self._scale:
            self._scale = scale
            self.update()

    def set_rect(self, rect: QtCore.QRectF) -> None:
        super().set_rect(rect)
        self.update()

    # Each part: (width, height) from the font, painted by _paint_<part> at its top left.
    def _parts(self):
        fm = self._fm
        lh = fm.height()
        return (
            ("weights", fm.horizontalAdvance("weight w") + 12 + self._bar_width(), self._bar_h() + lh + 4),
            ("nodes", fm.horizontalAdvance("node fill: activation a ") + 6 + 3 * (lh + 4), lh + 4),
            ("deltas", 2 * (34 + 24) + fm.horizontalAdvance("δ = ∂L/∂z > 0") + fm.horizontalAdvance("δ < 0"),
             lh + 4),
        )

    def _bar_h(self) -> float:
        return max(14.0, 0.9 * self._fm.height())

    def _bar_width(self) -> float:
        return max(160.0, self._fm.horizontalAdvance("−0.25") * 3.5)

    def _rows(self, width: float):
        """[(height, [(part, x, w)])]: the parts left to right, wrapped to ``width``."""
        rows, x = [], None
        for name, w, h in self._parts():
            if x is None or x + w > width - self.PAD:
                rows.append([0.0, []])
                x = self.PAD + 2
            rows[-1][0] = max(rows[-1][0], h)
            rows[-1][1].append((name, x, w))
            x += w + self.GAP
        return rows

    def height_for(self, width: float) -> float:
        """The height the key needs at ``width``."""
        return sum(h for h, _ in self._rows(width)) + 2 * self.PAD

    def paint(self, p, *args):
        r = self._rect
        if r.isEmpty():
            return
        p.setFont(self._font)
        y = r.top() + self.PAD
        for h, parts in self._rows(r.width()):
            for name, x, _ in parts:
                getattr(self, f"_paint_{name}")(p, r.left() + x, y + (h - self._part_h(name)) / 2)
            y += h

    def _part_h(self, name: str) -> float:
        return self._bar_h() + self._fm.height() + 4 if name == "weights" else self._fm.height() + 4

    def _paint_weights(self, p, x, y):
        fm, h = self._fm, self._bar_h()
        p.setPen(self._text_pen)
        caption = "weight w"
        p.drawText(QtCore.QPointF(x, y + h / 2 + fm.ascent() / 2 - 2), caption)
        x += fm.horizontalAdvance(caption) + 12
        s, bar_w = self._scale, self._bar_width()
        grad = QtGui.QLinearGradient(x, 0, x + bar_w, 0)
        for pos, colour in self._gradient_stops:
            grad.setColorAt(pos, colour)
        p.setPen(self._frame_pen)
        p.setBrush(QtGui.QBrush(grad))
        p.drawRect(QtCore.QRectF(x, y, bar_w, h))
        p.setPen(self._text_pen)
        for frac, text in zip((0.0, 0.5, 1.0), (f"−{s:g}", "0", f"+{s:g}")):
            tw = fm.horizontalAdvance(text)
            tx = min(max(x + frac * bar_w - tw / 2, x), x + bar_w - tw)
            p.drawText(QtCore.QPointF(tx, y + h + fm.ascent() + 2), text)

    def _paint_nodes(self, p, x, y):
        fm = self._fm
        d = fm.height()
        base = y + d / 2 + fm.ascent() / 2 - 1
        p.setPen(self._text_pen)
        p.drawText(QtCore.QPointF(x, base), "node fill: activation a")
        x += fm.horizontalAdvance("node fill: activation a ") + 6
        for brush, sign in zip(self._node_brushes, ("−", "0", "+")):
            p.setPen(self._frame_pen)
            p.setBrush(brush)
            p.drawEllipse(QtCore.QRectF(x, y + 1, d, d))
            p.setPen(self._text_pen if sign == "0" else self._light_pen)
            tw = fm.horizontalAdvance(sign)
            p.drawText(QtCore.QPointF(x + (d - tw) / 2, base), sign)
            x += d + 4

    def _paint_deltas(self, p, x, y):
        fm = self._fm
        base = y + fm.height() / 2 + fm.ascent() / 2 - 1
        for brush, text in zip(self._delta_brushes, ("δ = ∂L/∂z > 0", "δ < 0")):
            p.setPen(QtCore.Qt.PenStyle.NoPen)
            p.setBrush(brush)
            p.drawRect(QtCore.QRectF(x, y + fm.height() / 2 - 6, 28, 12))
            p.setPen(self._text_pen)
            p.drawText(QtCore.QPointF(x + 34, base), text)
            x += 34 + fm.horizontalAdvance(text) + 24
