"""The mouse on the network view: zoom, pan, hover texts and clicks.

A mixin of NetworkView (listed before pg.GraphicsView, so its Qt event overrides
win). The wheel zooms around the cursor between the whole network and MAX_ZOOM,
dragging pans while zoomed and ``fit`` goes back; hovering shows the exact values
of the node or edge under the cursor; clicks and double-clicks emit the view's
node / edge signals. Hit-testing is geometry on arrays (network_layout.hit_test).
"""

from __future__ import annotations

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from bpviz.app.views import network_layout, network_phase, network_text

MAX_ZOOM = 8.0


class MouseMixin:
    """Needs of its class: the signals node_clicked, edge_clicked, node_double_clicked,
    edge_double_clicked; _ready, _zoom, _drag_from, _geo, _sizes, _snap, _phase,
    _in_names, _out_names, _edges, _edge_frame, edge_list(), _shown(), _relayout()."""

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

    def zoom(self) -> float:
        return self._zoom

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

    def current_tooltip(self) -> str:
        """The tooltip for the element under the mouse (what hovering shows)."""
        return self._edges.toolTip()

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

    def mousePressEvent(self, ev):
        super().mousePressEvent(ev)
        if ev.button() in (QtCore.Qt.MouseButton.LeftButton, QtCore.Qt.MouseButton.MiddleButton):
            self._drag_from = ev.position()  # dragging pans while zoomed
        self._emit_click(ev, self.node_clicked, self.edge_clicked, bias_edges=False)

    def mouseReleaseEvent(self, ev):
        super().mouseReleaseEvent(ev)
        self._drag_from = None
        if ev.button() == QtCore.Qt.MouseButton.LeftButton:
            ev.accept()

    def mouseDoubleClickEvent(self, ev):
        super().mouseDoubleClickEvent(ev)
        self._emit_click(ev, self.node_double_clicked, self.edge_double_clicked, bias_edges=True)

    # --- helpers ------------------------------------------------------------------

    def _emit_click(self, ev, node_signal, edge_signal, bias_edges: bool) -> None:
        """For a left button event over a node emit node_signal(k, i), over an edge
        edge_signal(k, i, j) (bias edges, i == sizes[k], only if ``bias_edges``)."""
        if ev.button() != QtCore.Qt.MouseButton.LeftButton:
            return
        ev.accept()
        p = self.mapToScene(ev.position().toPoint())
        hit = self._hit(p.x(), p.y())
        if hit is None:
            return
        if hit[0] == "node":
            node_signal.emit(hit[1], hit[2])
        elif hit[0] == "edge" and (bias_edges or hit[2] < self._sizes[hit[1]]):
            edge_signal.emit(hit[1], hit[2], hit[3])

    def _clamp_range(self):
        """Keep the zoomed window inside the drawing."""
        r, w, h = QtCore.QRectF(self.range), self.width(), self.height()
        r.moveLeft(min(max(r.left(), 0.0), max(0.0, w - r.width())))
        r.moveTop(min(max(r.top(), 0.0), max(0.0, h - r.height())))
        self.range = r
        self.updateMatrix()

    def _hit(self, x: float, y: float):
        if self._geo is None:
            return None
        return network_layout.hit_test(self._geo, self._edge_frame.lines, self.edge_list(), x, y)
