"""NetworkView: the network drawn from a Snapshot, the centre of the window.

Edges are coloured by weight (palette.WEIGHT_STOPS, fixed scale unless auto) and
thicker as |w| grows; nodes are filled by their activation on the range of their
activation function; a bar beside every non-input node shows its δ = ∂L/∂z.
Layers of more than 40 nodes are grids of cells (the input as its image), and
only their TOP_EDGES strongest edges are drawn. Hovering shows exact values,
clicking emits ``node_clicked`` / ``edge_clicked``. Hit-testing is geometry on
arrays, so no item exists per node or edge. The wheel zooms around the cursor
(dragging pans while zoomed, ``fit`` goes back); fonts, palette and theme follow
``set_font_scale`` / ``set_palette`` / ``set_theme``. The mouse is network_mouse's,
the arrays and texts of a frame are computed by network_frame.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets
from PySide6.QtCore import Signal

from bpviz import phases
from bpviz.app.style import LIGHT
from bpviz.app.views import network_frame, network_layout, network_phase, palette
from bpviz.app.views.edges import EdgesItem, LegendItem, NodesItem
from bpviz.app.views.network_mouse import MouseMixin
from bpviz.app.views.node_maps import NodeMapsItem

ANTIALIAS_EDGES = 300     # antialias edges only when at most this many are drawn
LABEL_POINT_SIZE, TITLE_POINT_SIZE, VALUE_POINT_SIZE = 12.0, 13.0, 11.0


class NetworkView(MouseMixin, pg.GraphicsView):
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

    # --- read-only accessors (tests, inspector) ------------------------------------

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

    def weight_scale(self) -> float | None:
        return self._scale.value

    def edge_list(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(k, i, j) of every drawn edge; i == sizes[k] marks a bias edge."""
        return self._edge_frame.k, self._edge_frame.i, self._edge_frame.j

    def edge_values(self) -> np.ndarray:
        return self._edge_frame.values

    def edge_colors(self) -> np.ndarray:
        """(n_edges, 4) uint8 RGBA of every drawn edge, in ``edge_list`` order."""
        colours = self._colours.weight_lut[self._edge_frame.bucket]
        colours[self._edge_frame.pending] = self._pending_look.edge_rgba
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

    # --- layout -------------------------------------------------------------------

    def _bias_on(self) -> bool:
        return self._show_bias and self._has_bias

    def _clear_frame(self):
        self._edge_frame = network_frame.EdgeFrame()
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
        self._in_names = network_frame.names(self._dataset, "in", sizes[0])
        self._out_names = network_frame.names(self._dataset, "out", sizes[L])
        out_texts = [f"{n}\n{network_frame.target_text(-0.00123)}" for n in self._out_names]
        geo = network_layout.compute(sizes, rect.width(), rect.height(), self._bias_on(), fm,
                                     self._in_names, out_texts,
                                     network_frame.image_shape(self._dataset, sizes[0]),
                                     bottom=self._legend.height_for(rect.width()))
        self._geo = geo
        self._in_scale = network_frame.input_scale(self._dataset, sizes[0])
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
                t = network_frame.bar_thickness(g)
                for x, y in g.centres:
                    tracks.append((x + r + 3, y - t / 2, geo.bar_len, t))
        self._nodes.set_geometry(rects, bias_rects, np.array(tracks).reshape(-1, 4),
                                 self._value_font, value_slots)

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
        self._sources, self._full, n_drawn = network_frame.edge_sources(geo)
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
                item = self._text(f"{name}{self._out_sep}{network_frame.target_text(0.0)}", self._label_font)
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
        f = self._edge_frame = network_frame.edge_frame(snap, self._geo, self._sources, self._full,
                                                        bias_on, scale, self._phase, len(self._pens))
        runs = [(self._pens[key], start, count) for key, start, count in f.runs]
        self._edges.set_lines(f.lines, runs, self._antialias)

    def _draw_nodes(self, snap):
        f = network_frame.node_frame(snap, self._geo, self._phase, self._colours,
                                     self._pending_look, self._in_scale)
        self._node_vals, self._delta_vals = snap.activations, snap.deltas
        self._node_rgba, self._bar_lengths = f.rgba, f.bar_lengths
        for k, grids in f.grids.items():
            for (img, rect), image in zip(self._images[k], grids):
                img.setImage(image, autoLevels=False)
                img.setRect(rect)
        self._nodes.set_values(f.fill, f.neg, f.pos)

    def _draw_texts(self, snap):
        for k in range(len(self._sizes)):
            self._set_header(k, self._header(k))
        for item, name, t in zip(self._out_labels, self._out_shown, snap.target):
            text = f"{name}{self._out_sep}{network_frame.target_text(t)}"
            if item.text() != text:
                item.setText(text)
        self._nodes.set_labels(network_frame.value_texts(snap, self._sizes, self._value_layers, self._phase))

    def _header(self, k: int) -> tuple[str, str, str, str]:
        return network_frame.header(self._sizes, k, self._snap, self._narrow, self._phase)
