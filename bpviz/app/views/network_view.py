"""NetworkView: the network drawn from a Snapshot, the centre of the window.

Edges are coloured by weight (palette.WEIGHT_STOPS, fixed scale unless auto) and
thicker as |w| grows; nodes are filled by their activation on the range of their
activation function; a bar beside every non-input node shows its δ = ∂L/∂z.
Layers of more than 40 nodes are grids of cells (the input as its image), and
only their TOP_EDGES strongest edges are drawn. Hovering shows exact values,
clicking emits ``node_clicked`` / ``edge_clicked``. Hit-testing is geometry on
arrays, so no item exists per node or edge.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets
from PySide6.QtCore import Signal

from bpviz.app.views import network_layout, network_text, palette
from bpviz.app.views.edges import EdgesItem, LegendItem, NodesItem, strongest_edges
from bpviz.engine.activations import ACTIVATIONS

TOP_EDGES = 300           # per weight matrix touching a compact layer
ANTIALIAS_EDGES = 300     # antialias edges only when at most this many are drawn
TEXT = QtGui.QColor(20, 20, 20)
_SHORT_ACT = {"sigmoid": "σ", "leaky_relu": "lrelu", "softmax": "smax", "linear": "lin"}


class NetworkView(pg.GraphicsView):
    node_clicked = Signal(int, int)
    edge_clicked = Signal(int, int, int)
    _ready = False  # pg.GraphicsView calls resizeEvent from its __init__

    def __init__(self, parent=None):
        super().__init__(parent, background="w")
        self.setMinimumSize(400, 300)
        self._label_font = QtGui.QFont()
        self._label_font.setPointSizeF(12)
        self._title_font = QtGui.QFont(self._label_font)
        self._title_font.setPointSizeF(13)
        self._title_font.setBold(True)
        self._value_font = QtGui.QFont()
        self._value_font.setPointSizeF(11)
        self._scale = palette.WeightScale()
        self._show_bias = True
        self._dataset = None
        self._sizes: tuple[int, ...] = ()
        self._has_bias = False
        self._snap = None
        self._geo = None
        self._narrow = False
        self._temp_items: list[QtWidgets.QGraphicsItem] = []
        self._edges = EdgesItem()
        self._nodes = NodesItem()
        self._legend = LegendItem()
        self._legend.set_font(self._label_font)
        for z, item in enumerate((self._edges, self._nodes, self._legend)):
            item.setZValue(z * 2)
            self.addItem(item)
        self._clear_frame()
        self._ready = True

    # --- public API -------------------------------------------------------------

    def set_dataset(self, dataset) -> None:
        self._dataset = dataset
        self._relayout()

    def show_snapshot(self, snapshot) -> None:
        if snapshot.sizes != self._sizes or snapshot.has_bias != self._has_bias:
            self._sizes, self._has_bias = tuple(snapshot.sizes), snapshot.has_bias
            self._snap = snapshot
            self._relayout()
            return
        self._snap = snapshot
        self._draw()

    def set_show_bias(self, on: bool) -> None:
        if bool(on) != self._show_bias:
            self._show_bias = bool(on)
            self._relayout()

    def set_auto_scale(self, on: bool) -> None:
        self._scale.auto = bool(on)
        if self._snap is not None:
            self._draw()

    def reset_scale(self) -> None:
        self._scale.reset()

    # --- read-only accessors (tests, inspector) ------------------------------------

    def weight_scale(self) -> float | None:
        return self._scale.value

    def edge_list(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(k, i, j) of every drawn edge; i == sizes[k] marks a bias edge."""
        return self._edge_k, self._edge_i, self._edge_j

    def edge_values(self) -> np.ndarray:
        return self._edge_vals

    def edge_colors(self) -> np.ndarray:
        """(n_edges, 4) uint8 RGBA of every drawn edge, in ``edge_list`` order."""
        return palette.WEIGHT_LUT[self._edge_bucket]

    def node_values(self) -> tuple[np.ndarray, ...]:
        """The activation each layer's nodes are filled by."""
        return self._node_vals

    def node_colors(self, layer: int) -> np.ndarray:
        """(sizes[layer], 4) uint8 RGBA fill of each node or cell of a layer."""
        return self._node_rgba[layer]

    def delta_values(self) -> tuple[np.ndarray, ...]:
        """The δ shown for layers 1..L (entry k belongs to layer k + 1)."""
        return self._delta_vals

    def delta_bar_lengths(self, layer: int) -> np.ndarray:
        """Signed length in pixels of each δ bar of a small layer (layer ≥ 1)."""
        return self._bar_lengths[layer]

    def is_compact(self, layer: int) -> bool:
        return self._geo.layers[layer].compact

    def node_position(self, layer: int, index: int) -> QtCore.QPointF:
        x, y = self._geo.layers[layer].centres[index]
        return QtCore.QPointF(float(x), float(y))

    def header_text(self, layer: int) -> str:
        return "\n".join(item.text() for item in self._headers[layer])

    def tooltip_at(self, scene_pos: QtCore.QPointF) -> str:
        hit = self._hit(scene_pos.x(), scene_pos.y())
        if hit is None or self._snap is None:
            return ""
        return network_text.tooltip(self._snap, hit, self._in_names, self._out_names)

    # --- Qt overrides -------------------------------------------------------------

    def resizeEvent(self, ev):
        super().resizeEvent(ev)
        if self._ready and not self.closed:
            self._relayout()

    def mouseMoveEvent(self, ev):
        super().mouseMoveEvent(ev)
        # The scene shows the tooltip of the canvas item under the cursor. (The
        # scene's own sigMouseMoved drops rapid moves, which would leave it stale.)
        text = self.tooltip_at(self.mapToScene(ev.position().toPoint()))
        if text == self._edges.toolTip():
            return
        self._edges.setToolTip(text)
        if QtWidgets.QToolTip.isVisible():
            if text:
                QtWidgets.QToolTip.showText(QtGui.QCursor.pos(), text, self.viewport())
            else:
                QtWidgets.QToolTip.hideText()

    def current_tooltip(self) -> str:
        """The tooltip for the element under the mouse (what hovering shows)."""
        return self._edges.toolTip()

    def mousePressEvent(self, ev):
        super().mousePressEvent(ev)
        if ev.button() != QtCore.Qt.MouseButton.LeftButton:
            return
        ev.accept()
        p = self.mapToScene(ev.position().toPoint())
        hit = self._hit(p.x(), p.y())
        if hit is None:
            return
        if hit[0] == "node":
            self.node_clicked.emit(hit[1], hit[2])
        elif hit[0] == "edge" and hit[2] < self._sizes[hit[1]]:
            self.edge_clicked.emit(hit[1], hit[2], hit[3])

    def mouseReleaseEvent(self, ev):
        super().mouseReleaseEvent(ev)
        if ev.button() == QtCore.Qt.MouseButton.LeftButton:
            ev.accept()

    # --- layout -------------------------------------------------------------------

    def _bias_on(self) -> bool:
        return self._show_bias and self._has_bias

    def _names(self, which: str, n: int) -> tuple[str, ...]:
        d = self._dataset
        names = None
        if d is not None:
            names = d.feature_names if which == "in" else d.target_names
        if names is None or len(names) != n:
            names = tuple(f"{'x' if which == 'in' else 'y'}{i + 1}" for i in range(n))
        return names

    def _image_shape(self):
        d = self._dataset
        return None if d is None or d.n_features != self._sizes[0] else d.image_shape

    def _input_scale(self):
        """Per-feature max|x| of the training data for small input layers, a global
        one for images; None (scale per frame) without a matching dataset."""
        d = self._dataset
        if d is None or d.n_features != self._sizes[0] or d.n_train == 0:
            return None
        m = np.abs(d.X_train).max(axis=0)
        if self._sizes[0] > network_layout.SMALL_LIMIT:
            m = np.full_like(m, m.max())
        return np.where(m > 0, m, 1.0)

    def _header(self, k: int) -> tuple[str, str, str, str]:
        """The four header lines of layer k; abbreviated when columns are narrow."""
        L, n, snap, narrow = len(self._sizes) - 1, self._sizes[k], self._snap, self._narrow
        if k == 0:
            if narrow:  # the other columns print bare numbers; name their rows here
                return ("in", "" if snap is None else f"#{snap.sample_index}", "|δ| →", "‖∇W‖ →")
            if snap is None:
                return ("input", f"{n} features", "", "")
            return ("input", f"{n} features", f"sample #{snap.sample_index}", f"step {snap.step}")
        act = snap.activation_names[k] if snap is not None else ""
        if narrow:
            lines = ("out" if k == L else f"h{k}", f"{_SHORT_ACT.get(act, act)} {n}")
        else:
            lines = ("output" if k == L else f"hidden {k}", f"{act} · {n}")
        if snap is None:
            return lines + ("", "")
        d = snap.deltas[k - 1]
        mean_d = float(np.mean(np.abs(d))) if d.size else None
        grad = None if snap.weight_grads is None else network_text.frobenius(snap.weight_grads[k - 1])
        if narrow:
            return lines + (network_text.short(mean_d, 2), network_text.short(grad, 2))
        return lines + (f"mean |δ| {network_text.short(mean_d)}",
                        f"‖∂L/∂W‖ {network_text.short(grad)}")

    def _clear_frame(self):
        self._edge_k = self._edge_i = self._edge_j = np.zeros(0, dtype=np.intp)
        self._edge_vals = np.zeros(0)
        self._edge_bucket = np.zeros(0, dtype=np.intp)
        self._edge_lines = np.zeros((0, 4))
        self._node_vals = ()
        self._node_rgba = []
        self._delta_vals = ()
        self._bar_lengths = {}
        self._headers = []

    def _text(self, text: str, font: QtGui.QFont) -> QtWidgets.QGraphicsSimpleTextItem:
        item = QtWidgets.QGraphicsSimpleTextItem(text)
        item.setFont(font)
        item.setBrush(TEXT)
        item.setZValue(8)
        self.scene().addItem(item)
        self._temp_items.append(item)
        return item

    def _relayout(self):
        if self.closed:  # pg.GraphicsView.close() has deleted every item
            return
        scene = self.scene()
        for item in self._temp_items:
            scene.removeItem(item)
        self._temp_items = []
        self._clear_frame()
        rect = QtCore.QRectF(0, 0, self.viewport().width(), self.viewport().height())
        for item in (self._edges, self._nodes, self._legend):
            item.set_rect(rect)
        if not self._sizes:
            self._geo = None
            return
        sizes, L = self._sizes, len(self._sizes) - 1
        fm = QtGui.QFontMetricsF(self._label_font)
        self._in_names, self._out_names = self._names("in", sizes[0]), self._names("out", sizes[L])
        out_texts = [f"{n}  (t = 0.00)" for n in self._out_names]
        geo = network_layout.compute(sizes, rect.width(), rect.height(), self._bias_on(), fm,
                                     self._in_names, out_texts, self._image_shape())
        self._geo = geo
        self._in_scale = self._input_scale()
        self._legend.set_rect(QtCore.QRectF(0, rect.height() - geo.bottom, rect.width(), geo.bottom))
        self._build_nodes(geo, fm)
        self._build_edges(geo)
        self._build_texts(geo, fm)
        if self._snap is not None:
            self._draw()

    def _build_nodes(self, geo, fm):
        rects, bias_rects, tracks, value_slots = [], [], [], []
        self._images = {}
        vfm = QtGui.QFontMetricsF(self._value_font)
        self._value_layers = [k for k, g in enumerate(geo.layers) if not g.compact
                              and vfm.horizontalAdvance("−0.00") <= 1.8 * g.radius]
        for k, g in enumerate(geo.layers):
            if g.bias is not None:
                s = g.bias_size
                bias_rects.append(QtCore.QRectF(g.bias[0] - s / 2, g.bias[1] - s / 2, s, s))
            if g.compact:
                self._add_grid_images(k, g)
                continue
            r = g.radius
            if k in self._value_layers:
                value_slots.extend(range(len(rects), len(rects) + g.n))
            for x, y in g.centres:
                rects.append(QtCore.QRectF(x - r, y - r, 2 * r, 2 * r))
            if k > 0:
                t = self._bar_thickness(g)
                for x, y in g.centres:
                    tracks.append((x + r + 3, y - t / 2, geo.bar_len, t))
        self._nodes.set_geometry(rects, bias_rects, np.array(tracks).reshape(-1, 4),
                                 self._value_font, value_slots)

    @staticmethod
    def _bar_thickness(g) -> float:
        return float(np.clip(g.radius * 0.6, 3.0, 12.0))

    def _add_grid_images(self, k, g):
        pair = []
        for rect, caption in ((g.a_rect, "a"), (g.d_rect, "δ")):
            if rect is None:
                continue
            img = pg.ImageItem(axisOrder="row-major")
            img.setZValue(3)
            self.addItem(img)
            self._temp_items.append(img)
            frame = QtWidgets.QGraphicsRectItem(rect)
            frame.setPen(QtGui.QPen(QtGui.QColor(60, 60, 60), 1))
            frame.setZValue(3.5)
            self.scene().addItem(frame)
            self._temp_items.append(frame)
            if k > 0:
                label = self._text(caption, self._label_font)
                label.setPos(rect.left() - label.boundingRect().width() - 6, rect.top())
            pair.append((img, rect))
        self._images[k] = pair

    def _build_edges(self, geo):
        """Per weight matrix: its sources (with the bias node as row sizes[k]) and, for
        matrices between small layers, every edge's line in row-major (i, j) order."""
        n_drawn = 0
        self._sources, self._full = [], {}
        for k in range(len(geo.layers) - 1):
            src, dst = geo.layers[k], geo.layers[k + 1]
            pts = src.centres if src.bias is None else np.vstack([src.centres, src.bias])
            self._sources.append(pts)
            if src.compact or dst.compact:
                n_drawn += TOP_EDGES
                continue
            ii, jj = np.divmod(np.arange(len(pts) * dst.n), dst.n)
            self._full[k] = (np.hstack([pts[ii], dst.centres[jj]]), ii, jj)
            n_drawn += len(ii)
        self._antialias = n_drawn <= ANTIALIAS_EDGES
        self._pens = palette.edge_pens(5.0 if n_drawn <= 300 else 3.5 if n_drawn <= 1500 else 2.5)

    def _build_texts(self, geo, fm):
        L = len(geo.layers) - 1
        lh = fm.height()
        gap = geo.layers[1].x - geo.layers[0].x
        self._narrow = fm.horizontalAdvance("‖∂L/∂W‖ 0.000123") > 0.95 * gap
        self._headers = []
        for k, g in enumerate(geo.layers):
            lines = [self._text("", self._title_font)] + [self._text("", self._label_font)
                                                         for _ in range(3)]
            for row, item in enumerate(lines):
                item.setPos(g.x, 6 + row * (lh + 1))
            self._headers.append(lines)
            self._set_header(k, self._header(k))
        self._out_labels = []
        if not geo.layers[0].compact:
            g = geo.layers[0]
            for name, (x, y) in zip(self._in_names, g.centres):
                item = self._text(name, self._label_font)
                br = item.boundingRect()
                item.setPos(x - g.radius - 8 - br.width(), y - br.height() / 2)
        if not geo.layers[L].compact:
            g = geo.layers[L]
            for name, (x, y) in zip(self._out_names, g.centres):
                item = self._text(name, self._label_font)
                item.setPos(x + g.radius + geo.bar_len + 12, y - item.boundingRect().height() / 2)
                self._out_labels.append(item)

    def _set_header(self, k: int, texts) -> None:
        x = self._geo.layers[k].x
        for item, text in zip(self._headers[k], texts):
            if item.text() != text:
                item.setText(text)
            w = item.boundingRect().width()
            item.setX(min(max(x - w / 2, 4.0), self._geo.width - w - 4))

    # --- per frame ------------------------------------------------------------------

    def _draw(self):
        if self._geo is None or self._snap is None or self.closed:
            return
        snap = self._snap
        bias_on = self._bias_on()
        max_w = max(max(float(np.nanmax(W)), -float(np.nanmin(W))) for W in snap.weights)
        if bias_on:
            max_w = max([max_w] + [float(np.nanmax(np.abs(b))) for b in snap.biases if b.size])
        scale = self._scale.update(max_w)
        self._legend.set_scale(scale)
        self._draw_edges(snap, scale, bias_on)
        self._draw_nodes(snap)
        self._draw_texts(snap)

    def _draw_edges(self, snap, scale, bias_on):
        ks, iis, jjs, vals, lines = [], [], [], [], []
        for k, W in enumerate(snap.weights):
            b = snap.biases[k] if bias_on else None
            if k in self._full:
                coords, ii, jj = self._full[k]
                v = W.ravel() if b is None else np.concatenate([W.ravel(), b])
            else:
                ii, jj, v = strongest_edges(W, b, TOP_EDGES)
                coords = np.hstack([self._sources[k][ii], self._geo.layers[k + 1].centres[jj]])
            ks.append(np.full(len(ii), k, dtype=np.intp))
            iis.append(ii)
            jjs.append(jj)
            vals.append(v)
            lines.append(coords)
        bucket = palette.buckets(np.concatenate(vals), scale, palette.EDGE_HALF)
        keys = palette.edge_draw_keys(bucket)
        order = np.argsort(keys, kind="stable")
        self._edge_k, self._edge_i, self._edge_j = (np.concatenate(a)[order] for a in (ks, iis, jjs))
        self._edge_vals = np.concatenate(vals)[order]
        self._edge_bucket = bucket[order]
        self._edge_lines = np.concatenate(lines)[order]
        counts = np.bincount(keys, minlength=len(self._pens))
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        runs = [(self._pens[key], int(starts[key]), int(c))
                for key, c in enumerate(counts) if c and key > 1]
        self._edges.set_lines(self._edge_lines, runs, self._antialias)

    def _node_scale(self, k, a):
        if k == 0 and self._in_scale is not None:
            return self._in_scale
        lo, hi = (None, None) if k == 0 else ACTIVATIONS[self._snap.activation_names[k]].display_range
        if lo is None or hi is None:
            m = float(np.nanmax(np.abs(a))) if a.size else 0.0
            return m if np.isfinite(m) and m > 0 else 1.0
        return max(abs(lo), abs(hi))

    def _draw_nodes(self, snap):
        geo = self._geo
        self._node_vals = snap.activations
        self._delta_vals = snap.deltas
        d_max = max((float(np.nanmax(np.abs(d))) for d in snap.deltas if d.size), default=0.0)
        d_max = d_max if np.isfinite(d_max) and d_max > 0 else 1.0
        fill, neg, pos, rgba = [], [], [], []
        self._bar_lengths = {}
        for k, g in enumerate(geo.layers):
            a = snap.activations[k]
            m = self._node_scale(k, a)
            if not g.compact:
                b = palette.buckets(a, m, palette.NODE_HALF)
                fill.extend(b.tolist())
                rgba.append(palette.NODE_LUT[b])
                if k > 0:
                    self._delta_bars(g, snap.deltas[k - 1], d_max, neg, pos, k)
                continue
            rgba.append(self._draw_grid(k, g, a, m, snap, d_max))
        self._node_rgba = rgba
        empty = np.zeros((0, 4))
        self._nodes.set_values(fill, np.vstack(neg) if neg else empty, np.vstack(pos) if pos else empty)

    def _delta_bars(self, g, d, d_max, neg, pos, k):
        length = self._geo.bar_len * palette.signed_fraction(d, d_max)
        length = np.where((length != 0) & (np.abs(length) < 1.0), np.sign(length), length)
        self._bar_lengths[k] = length
        t = self._bar_thickness(g)
        x0 = g.centres[:, 0] + g.radius + 3
        rects = np.column_stack([x0, g.centres[:, 1] - t / 2, np.abs(length), np.full(g.n, t)])
        neg.append(rects[length < 0])
        pos.append(rects[length > 0])

    def _draw_grid(self, k, g, a, m, snap, d_max):
        rows, cols = g.grid
        pad = rows * cols - g.n
        a_rgba = palette.image_rgba(a * (1.0 / m), 1.0)
        images = self._images[k]
        grids = [a_rgba]
        if k > 0:
            grids.append(palette.image_rgba(snap.deltas[k - 1], d_max, palette.DELTA_IMAGE_LUT))
        for (img, rect), colours in zip(images, grids):
            full = np.concatenate([colours, np.zeros((pad, 4), np.uint8)]) if pad else colours
            img.setImage(full.reshape(rows, cols, 4), autoLevels=False)
            img.setRect(rect)
        return a_rgba

    def _draw_texts(self, snap):
        for k in range(len(self._sizes)):
            self._set_header(k, self._header(k))
        for item, name, t in zip(self._out_labels, self._out_names, snap.target):
            text = f"{name}  (t = {t:.3g})"
            if item.text() != text:
                item.setText(text)
        values = []
        for k in self._value_layers:
            values.extend(f"{v:.2f}".replace("-", "−") for v in snap.activations[k])
        self._nodes.set_labels(values)

    # --- hit-testing and tooltips --------------------------------------------------

    def _hit(self, x: float, y: float):
        if self._geo is None:
            return None
        return network_layout.hit_test(self._geo, self._edge_lines, self.edge_list(), x, y)
