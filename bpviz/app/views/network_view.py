"""NetworkView: the network drawn from a Snapshot, the centre of the window.

Edges are coloured by weight (palette.WEIGHT_STOPS, fixed scale unless auto) and
thicker as |w| grows; nodes are filled by their activation on the range of their
activation function; a bar beside every non-input node shows its δ = ∂L/∂z.
Layers of more than 40 nodes are grids of cells (the input as its image), and
only their TOP_EDGES strongest edges are drawn. Hovering shows exact values,
clicking emits ``node_clicked`` / ``edge_clicked``. Hit-testing is geometry on
arrays, so no item exists per node or edge. The wheel zooms around the cursor
(dragging pans while zoomed, ``fit`` goes back); fonts, palette and theme follow
``set_font_scale`` / ``set_palette`` / ``set_theme``.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets
from PySide6.QtCore import Signal

from bpviz import phases
from bpviz.app.style import LIGHT
from bpviz.app.views import network_layout, network_phase, network_text, palette
from bpviz.app.views.edges import EdgesItem, LegendItem, NodesItem, strongest_edges
from bpviz.app.views.node_maps import NodeMapsItem
from bpviz.engine.activations import ACTIVATIONS

TOP_EDGES = 300           # per weight matrix touching a compact layer
ANTIALIAS_EDGES = 300     # antialias edges only when at most this many are drawn
MAX_ZOOM = 8.0
LABEL_POINT_SIZE, TITLE_POINT_SIZE, VALUE_POINT_SIZE = 12.0, 13.0, 11.0
_SHORT_ACT = {"sigmoid": "σ", "leaky_relu": "lrelu", "softmax": "smax", "linear": "lin"}


def _target_text(t: float) -> str:
    return f"t = {t:.3g}".replace("-", "−")


class NetworkView(pg.GraphicsView):
    node_clicked = Signal(int, int)
    edge_clicked = Signal(int, int, int)
    # Double-clicks ask to edit: a node its bias, an edge its weight (i == sizes[k]:
    # the bias edge of node j of layer k + 1).
    node_double_clicked = Signal(int, int)
    edge_double_clicked = Signal(int, int, int)
    _ready = False  # pg.GraphicsView calls resizeEvent from its __init__

    def __init__(self, parent=None):
        super().__init__(parent, background=LIGHT.background)
        self.setMinimumSize(400, 300)
        self._font_scale = 1.0
        self._make_fonts()
        self._theme = LIGHT
        self._ink = QtGui.QColor(LIGHT.ink)
        self._palette_name = palette.DEFAULT_PALETTE
        self._colours = palette.colours()
        self._zoom = 1.0
        self._drag_from: QtCore.QPointF | None = None
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
        self._nodes.set_colours(self._colours, self._theme)
        self._legend.set_colours(self._colours, self._theme)
        for z, item in enumerate((self._edges, self._nodes, self._legend)):
            item.setZValue(z * 2)
            self.addItem(item)
        self._node_maps = NodeMapsItem()
        self._node_maps.setZValue(2.5)  # over the node fills, under grid images and texts
        self.addItem(self._node_maps)
        self._phase = None
        self._shown_for = (None, None, None)
        self._pending_look = network_phase.PendingLook(LIGHT)
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

    def set_phase(self, phase) -> None:
        """Show the snapshot as of ``phase`` of its step (a bpviz.phases.Phase): the
        parameters before the update until the update phase, and grey what is not
        computed yet. None shows everything."""
        if phase != self._phase:
            self._phase = phase
            if self._snap is not None:
                self._draw()

    def phase(self):
        return self._phase

    def _shown(self):
        """The snapshot as the current phase shows it (cached per snapshot and phase)."""
        snap, phase, shown = self._shown_for
        if snap is not self._snap or phase != self._phase:
            shown = None if self._snap is None else phases.shown_snapshot(self._snap, self._phase)
            self._shown_for = (self._snap, self._phase, shown)
        return shown

    def set_font_scale(self, scale: float) -> None:
        """Labels, headers, node values and the key at ``scale`` × their normal size."""
        self._font_scale = float(scale)
        self._make_fonts()
        self._legend.set_font(self._label_font)
        self._relayout()

    def set_palette(self, name: str) -> None:
        """Colour edges, nodes and δ with palette ``name`` (a key of palette.PALETTES)."""
        self._palette_name = name
        self._apply_colours()

    def set_theme(self, theme) -> None:
        """Background, text and outlines of ``theme`` (a style.Theme); on a dark
        theme the palette's dark variant, so weak edges still fade out."""
        self._theme = theme
        self._ink = QtGui.QColor(theme.ink)
        self.setBackground(theme.background)
        self._apply_colours()

    def zoom_by(self, factor: float, anchor: QtCore.QPointF | None = None) -> None:
        """Magnify by ``factor`` around the scene point ``anchor`` (the centre if None),
        between the whole network (1) and MAX_ZOOM."""
        zoom = float(np.clip(self._zoom * factor, 1.0, MAX_ZOOM))
        if zoom == self._zoom:
            return
        if zoom == 1.0:
            self.fit()
            return
        f, self._zoom = zoom / self._zoom, zoom
        self.autoPixelRange = False
        self.scale(f, f, center=anchor)
        self._clamp_range()

    def fit(self) -> None:
        """Show the whole network again."""
        self._zoom = 1.0
        self.autoPixelRange = True
        self.range = QtCore.QRectF(0, 0, self.size().width(), self.size().height())
        self.updateMatrix()

    # --- read-only accessors (tests, inspector) ------------------------------------

    def zoom(self) -> float:
        return self._zoom

    def font_scale(self) -> float:
        return self._font_scale

    def label_font(self) -> QtGui.QFont:
        """The font of node labels, header lines and the key."""
        return QtGui.QFont(self._label_font)

    def palette_name(self) -> str:
        return self._palette_name

    def background_colour(self) -> QtGui.QColor:
        return self.backgroundBrush().color()

    def text_colour(self) -> QtGui.QColor:
        """The colour of labels and headers."""
        return QtGui.QColor(self._ink)

    def set_node_thumbnails(self, maps: dict) -> None:
        """Draw each neuron's map over the input plane inside its node: maps is
        {(layer, i): (h, w, 4) uint8 RGBA, row 0 at the lowest input y}; {} clears."""
        self._node_maps.set_maps(maps)

    def node_thumbnails(self) -> list[tuple[int, int]]:
        """The (layer, i) of every node that currently shows its map."""
        return self._node_maps.drawn_keys()

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
        colours = self._colours.weight_lut[self._edge_bucket]
        colours[self._edge_pending] = self._pending_look.edge_rgba
        return colours

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
        snap, phase = self._shown(), self._phase
        if phase is not None and hit[0] == "node":
            name = network_text.node_name(len(snap.sizes), self._in_names, self._out_names, hit[1], hit[2])
            text = network_phase.node_tooltip(phase, hit[1], name)
            if text:
                return text
        if phase is not None and hit[0] == "edge" and not phase.gradient_known(hit[1]):
            snap = network_phase.without_gradients(snap)
        return network_text.tooltip(snap, hit, self._in_names, self._out_names)

    # --- Qt overrides -------------------------------------------------------------

    def resizeEvent(self, ev):
        if self._ready and self._zoom > 1.0 and not ev.oldSize().isEmpty():
            # Keep the magnification and the point in the middle of the view.
            c, old = self.range.center(), ev.oldSize()
            w, h = self.width() / self._zoom, self.height() / self._zoom
            self.range = QtCore.QRectF(c.x() / old.width() * self.width() - w / 2,
                                       c.y() / old.height() * self.height() - h / 2, w, h)
        super().resizeEvent(ev)
        if self._ready and not self.closed:
            self._relayout()
            if self._zoom > 1.0:
                self._clamp_range()

    def wheelEvent(self, ev):
        delta = ev.angleDelta().y() or ev.angleDelta().x()
        if delta:
            self.zoom_by(1.0015 ** delta, self.mapToScene(ev.position().toPoint()))
        ev.accept()

    def mouseMoveEvent(self, ev):
        super().mouseMoveEvent(ev)
        if self._drag_from is not None and self._zoom > 1.0:
            d = ev.position() - self._drag_from
            self._drag_from = ev.position()
            self.translate(-d.x() / self._zoom, -d.y() / self._zoom)
            self._clamp_range()
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
        if ev.button() in (QtCore.Qt.MouseButton.LeftButton, QtCore.Qt.MouseButton.MiddleButton):
            self._drag_from = ev.position()  # dragging pans while zoomed
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
        self._drag_from = None
        if ev.button() == QtCore.Qt.MouseButton.LeftButton:
            ev.accept()

    def mouseDoubleClickEvent(self, ev):
        super().mouseDoubleClickEvent(ev)
        if ev.button() != QtCore.Qt.MouseButton.LeftButton:
            return
        ev.accept()
        p = self.mapToScene(ev.position().toPoint())
        hit = self._hit(p.x(), p.y())
        if hit is None:
            return
        if hit[0] == "node":
            self.node_double_clicked.emit(hit[1], hit[2])
        elif hit[0] == "edge":
            self.edge_double_clicked.emit(hit[1], hit[2], hit[3])

    # --- presentation -------------------------------------------------------------

    def _make_fonts(self):
        s = self._font_scale
        self._label_font = QtGui.QFont()
        self._label_font.setPointSizeF(LABEL_POINT_SIZE * s)
        self._title_font = QtGui.QFont(self._label_font)
        self._title_font.setPointSizeF(TITLE_POINT_SIZE * s)
        self._title_font.setBold(True)
        self._value_font = QtGui.QFont()
        self._value_font.setPointSizeF(VALUE_POINT_SIZE * s)

    def _apply_colours(self):
        self._colours = palette.colours(self._palette_name, self._theme.dark)
        self._nodes.set_colours(self._colours, self._theme)
        self._legend.set_colours(self._colours, self._theme)
        self._relayout()

    def _clamp_range(self):
        """Keep the zoomed window inside the drawing."""
        r, w, h = QtCore.QRectF(self.range), self.width(), self.height()
        r.moveLeft(min(max(r.left(), 0.0), max(0.0, w - r.width())))
        r.moveTop(min(max(r.top(), 0.0), max(0.0, h - r.height())))
        self.range = r
        self.updateMatrix()

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
        pending = network_phase.header(self._phase, k, narrow)
        if pending is not None:
            return lines + pending
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
        self._edge_pending = np.zeros(0, dtype=bool)
        self._edge_lines = np.zeros((0, 4))
        self._node_vals = ()
        self._node_rgba = []
        self._delta_vals = ()
        self._bar_lengths = {}
        self._headers = []

    def _text(self, text: str, font: QtGui.QFont) -> QtWidgets.QGraphicsSimpleTextItem:
        item = QtWidgets.QGraphicsSimpleTextItem(text)
        item.setFont(font)
        item.setBrush(self._ink)
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
        out_texts = [f"{n}\n{_target_text(-0.00123)}" for n in self._out_names]
        geo = network_layout.compute(sizes, rect.width(), rect.height(), self._bias_on(), fm,
                                     self._in_names, out_texts, self._image_shape(),
                                     bottom=self._legend.height_for(rect.width()))
        self._geo = geo
        self._in_scale = self._input_scale()
        self._legend.set_rect(QtCore.QRectF(0, rect.height() - geo.bottom, rect.width(), geo.bottom))
        self._build_nodes(geo, fm)
        self._build_edges(geo)
        self._build_texts(geo, fm)
        self._node_maps.set_geometry(geo)
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
        return float(np.clip(g.radius * 0.8, 4.0, 20.0))

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
            frame.setPen(QtGui.QPen(QtGui.QColor(self._theme.muted), 1))
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
        self._pens = palette.edge_pens(5.0 if n_drawn <= 300 else 3.5 if n_drawn <= 1500 else 2.5,
                                       self._colours.weight_lut)
        self._pending_look = network_phase.PendingLook(self._theme)
        self._pens.append(self._pending_look.edge_pen)  # the last key: not yet used

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
        self._out_labels, self._out_shown, self._out_sep = [], [], "  "
        elide = QtCore.Qt.TextElideMode.ElideRight
        if not geo.layers[0].compact:
            g = geo.layers[0]
            room = g.x - g.radius - 8 - 4
            for name, (x, y) in zip(self._in_names, g.centres):
                item = self._text(fm.elidedText(name, elide, room), self._label_font)
                br = item.boundingRect()
                item.setPos(x - g.radius - 8 - br.width(), y - br.height() / 2)
        if not geo.layers[L].compact:
            g = geo.layers[L]
            x_label = g.x + g.radius + geo.bar_len + 12
            room = geo.width - x_label - 4
            # Name above target when the nodes are far enough apart for two lines.
            spacing = float(np.diff(g.centres[:, 1]).min()) if g.n > 1 else np.inf
            self._out_sep = "\n" if spacing >= 2 * lh + 4 else "  "
            self._out_shown = [fm.elidedText(name, elide, room) for name in self._out_names]
            for name, (x, y) in zip(self._out_shown, g.centres):
                item = self._text(f"{name}{self._out_sep}{_target_text(0.0)}", self._label_font)
                item.setPos(x_label, y - item.boundingRect().height() / 2)
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
        snap = self._shown()
        bias_on = self._bias_on()
        max_w = palette.finite_abs_max(snap.weights)
        if bias_on:
            max_w = max(max_w, palette.finite_abs_max(snap.biases))
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
        pending = network_phase.pending_edges(self._phase, np.concatenate(ks))
        keys[pending] = len(self._pens) - 1
        order = np.argsort(keys, kind="stable")
        self._edge_pending = pending[order]
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
            m = palette.finite_abs_max([a])
            return m if m > 0 else 1.0
        return max(abs(lo), abs(hi))

    def _draw_nodes(self, snap):
        geo = self._geo
        self._node_vals = snap.activations
        self._delta_vals = snap.deltas
        d_max = palette.finite_abs_max(snap.deltas)
        d_max = d_max if d_max > 0 else 1.0
        fill, neg, pos, rgba = [], [], [], []
        self._bar_lengths = {}
        for k, g in enumerate(geo.layers):
            a = snap.activations[k]
            m = self._node_scale(k, a)
            if not g.compact:
                if self._phase is not None and not self._phase.activation_known(k):
                    fill.extend([network_phase.PENDING_FILL] * g.n)
                    rgba.append(self._pending_look.grey(g.n))
                else:
                    b = palette.buckets(a, m, palette.NODE_HALF)
                    fill.extend(b.tolist())
                    rgba.append(self._colours.node_lut[b])
                if k > 0:
                    d = snap.deltas[k - 1]
                    if self._phase is not None and not self._phase.delta_known(k):
                        d = np.zeros_like(d)
                    self._delta_bars(g, d, d_max, neg, pos, k)
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
        phase = self._phase
        if phase is None or phase.activation_known(k):
            a_rgba = palette.image_rgba(a * (1.0 / m), 1.0, self._colours.image_lut)
        else:
            a_rgba = self._pending_look.grey(g.n)
        images = self._images[k]
        grids = [a_rgba]
        if k > 0 and (phase is None or phase.delta_known(k)):
            grids.append(palette.image_rgba(snap.deltas[k - 1], d_max, self._colours.delta_image_lut))
        elif k > 0:
            grids.append(self._pending_look.grey(g.n))
        for (img, rect), colours in zip(images, grids):
            full = np.concatenate([colours, np.zeros((pad, 4), np.uint8)]) if pad else colours
            img.setImage(full.reshape(rows, cols, 4), autoLevels=False)
            img.setRect(rect)
        return a_rgba

    def _draw_texts(self, snap):
        for k in range(len(self._sizes)):
            self._set_header(k, self._header(k))
        for item, name, t in zip(self._out_labels, self._out_shown, snap.target):
            text = f"{name}{self._out_sep}{_target_text(t)}"
            if item.text() != text:
                item.setText(text)
        values = []
        for k in self._value_layers:
            if self._phase is not None and not self._phase.activation_known(k):
                values.extend([network_phase.PENDING_TEXT] * self._sizes[k])
                continue
            values.extend(f"{v:.2f}".replace("-", "−") for v in snap.activations[k])
        self._nodes.set_labels(values)

    # --- hit-testing and tooltips --------------------------------------------------

    def _hit(self, x: float, y: float):
        if self._geo is None:
            return None
        return network_layout.hit_test(self._geo, self._edge_lines, self.edge_list(), x, y)
