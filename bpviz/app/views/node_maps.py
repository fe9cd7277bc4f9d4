"""Each neuron's map over the input plane, drawn inside its node (TensorFlow
Playground's thumbnails).

One item paints every map: per node a small disc inside the node's circle, so a
ring of the node's own fill (the shown sample's activation) stays visible around
it. The discs are rendered to pixmaps (scaled, clipped round, outlined) only when
new maps arrive (a few times a second) or the layout changes; the network view
repaints at display rate, and then each map costs one drawPixmap.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui

INNER_FRACTION = 0.74   # the map's disc radius over the node's radius


def _image(rgba: np.ndarray) -> QtGui.QImage:
    # Scene y grows downwards, the plane's y upwards: flip the rows.
    data = np.ascontiguousarray(rgba[::-1])
    image = QtGui.QImage(data.data, data.shape[1], data.shape[0], data.strides[0],
                         QtGui.QImage.Format.Format_RGBA8888)
    return image.copy()  # own the pixels; ``data`` is temporary


class NodeMapsItem(pg.GraphicsObject):
    def __init__(self):
        super().__init__()
        self._maps: dict[tuple[int, int], np.ndarray] = {}
        self._discs: dict[tuple[int, int], QtCore.QRectF] = {}
        self._pixmaps: dict[tuple[int, int], QtGui.QPixmap] = {}
        self._bounds = QtCore.QRectF()
        self._ring = QtGui.QPen(QtGui.QColor(60, 60, 60), 1.0)

    def set_maps(self, maps: dict[tuple[int, int], np.ndarray]) -> None:
        """maps : {(layer, i): (h, w, 4) uint8 RGBA, row 0 at the lowest input y}."""
        self._maps = maps
        self._render()

    def set_geometry(self, geo) -> None:
        """Node discs from the network view's layout (small layers only)."""
        self.prepareGeometryChange()
        self._discs = {}
        bounds = QtCore.QRectF()
        if geo is not None:
            for k, g in enumerate(geo.layers):
                if g.compact:
                    continue
                r = g.radius * INNER_FRACTION
                for i, (x, y) in enumerate(g.centres):
                    disc = QtCore.QRectF(x - r, y - r, 2 * r, 2 * r)
                    self._discs[(k, i)] = disc
                    bounds = bounds.united(disc)
        self._bounds = bounds
        self._render()

    def maps(self) -> dict[tuple[int, int], np.ndarray]:
        return self._maps

    def drawn_keys(self) -> list[tuple[int, int]]:
        """The nodes that show a map under the current layout."""
        return list(self._pixmaps)

    def _render(self) -> None:
        self._pixmaps = {}
        ratio = QtGui.QGuiApplication.instance().devicePixelRatio()
        for key, rgba in self._maps.items():
            disc = self._discs.get(key)
            if disc is None or disc.width() < 2:
                continue
            side = max(2, int(np.ceil(disc.width() * ratio)))
            pixmap = QtGui.QPixmap(side, side)
            pixmap.fill(QtCore.Qt.GlobalColor.transparent)
            p = QtGui.QPainter(pixmap)
            p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, True)
            p.setRenderHint(QtGui.QPainter.RenderHint.SmoothPixmapTransform, True)
            inner = QtCore.QRectF(0.5, 0.5, side - 1.0, side - 1.0)
            path = QtGui.QPainterPath()
            path.addEllipse(inner)
            p.setClipPath(path)
            p.drawImage(inner, _image(rgba))
            p.setClipping(False)
            ring = QtGui.QPen(self._ring)
            ring.setWidthF(ratio)
            p.setPen(ring)
            p.drawEllipse(inner)
            p.end()
            pixmap.setDevicePixelRatio(ratio)
            self._pixmaps[key] = pixmap
        self.update()

    def boundingRect(self) -> QtCore.QRectF:  # noqa: N802 - Qt override
        return self._bounds

    def paint(self, p, *args):
        for key, pixmap in self._pixmaps.items():
            p.drawPixmap(self._discs[key].topLeft(), pixmap)
