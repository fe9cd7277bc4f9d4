"""What the network learned, drawn over its input space.

Two inputs: the output over the plane as an image behind the data (training points
filled, test points as rings) — a decision boundary for classification, a height
map for regression. One input: the fitted curve over the data points. Clicking a
node in the network view (``select_neuron``) shows that neuron's own activation
instead. Other datasets get a note saying why there is nothing to draw.

Everything is computed from a snapshot's copied weights (``bpviz.forward``): one
batched forward pass over the grid per redraw, at most BOUNDARY_RATE_HZ times a
second and only when the weights changed. The same pass gives every hidden
neuron's activation over the plane, which ``thumbnails_ready`` hands on (at most
THUMBNAIL_RATE_HZ) for the network view's per-node maps.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from bpviz import forward
from bpviz.app.views import palette
from bpviz.app.views.plots import TEST_COLOUR, TRAIN_COLOUR
from bpviz.app.views.learned_colours import (CLASS_COLOURS, THUMBNAIL_MAX_NODES, class_rgb, node_thumbnails,
                                             output_rgba, pale_neuron_rgba)
from bpviz.app.views.throttle import SnapshotThrottle, Throttle
from bpviz.engine.activations import ACTIVATIONS

BOUNDARY_RATE_HZ = 10
THUMBNAIL_RATE_HZ = 4
OUTPUT_CURVE = "#222222"
NEURON_COLOUR = "#8E44AD"
HEADER_POINT_SIZE = 14
TICK_POINT_SIZE = 12
LABEL_CSS = {"font-size": "14pt", "color": "#222"}


def _font(point_size: float, bold: bool = False) -> QFont:
    font = QFont()
    font.setPointSizeF(point_size)
    font.setBold(bold)
    return font


def _dot(colour: str, hollow: bool = False) -> str:
    glyph = "○" if hollow else "●"
    return f'<span style="color:{colour}; font-size:17pt">{glyph}</span>'


def node_name(layer: int, index: int, n_layers: int) -> str:
    return f"output {index + 1}" if layer == n_layers - 1 else f"hidden {layer}, neuron {index + 1}"


class BoundaryView(QWidget):
    """The decision boundary (2 inputs), the fit (1 input), or a note (otherwise)."""

    title_changed = Signal(str)
    thumbnails_ready = Signal(object)   # dict[(layer, i)] -> (h, w, 4) uint8; {} clears
    drawable_changed = Signal(bool)     # a dataset with 1 or 2 inputs came or went

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._dataset = None
        self._mode: str | None = None
        self._grid: forward.PlaneGrid | None = None
        self._line_x: np.ndarray | None = None
        self._acts: list[np.ndarray] | None = None
        self._selected: tuple[int, int] | None = None
        self._title = "Decision boundary"
        self._throttle = SnapshotThrottle(self._render, BOUNDARY_RATE_HZ, self)
        self._thumb_throttle = Throttle(self._emit_thumbnails, THUMBNAIL_RATE_HZ, self)

        self._caption = QLabel()
        self._caption.setTextFormat(Qt.TextFormat.RichText)
        self._caption.setWordWrap(True)
        self._caption.setFont(_font(HEADER_POINT_SIZE))
        self._back = QPushButton("◀ Back to output")
        self._back.setToolTip("Show the network's output again instead of one neuron")
        self._back.setFont(_font(HEADER_POINT_SIZE - 2))
        self._back.clicked.connect(self.show_output)
        self._back.hide()
        self._maps_box = QCheckBox("Maps in the network")
        self._maps_box.setToolTip("Draw every neuron's activation over the input plane inside its node "
                                  f"in the network (layers of up to {THUMBNAIL_MAX_NODES} neurons)")
        self._maps_box.setChecked(True)
        self._maps_box.toggled.connect(self._on_maps_toggled)
        header = QHBoxLayout()
        header.setContentsMargins(6, 2, 6, 0)
        header.addWidget(self._caption, 1)
        header.addWidget(self._back, 0, Qt.AlignmentFlag.AlignTop)
        footer = QHBoxLayout()
        footer.setContentsMargins(6, 0, 6, 0)
        footer.addStretch(1)
        footer.addWidget(self._maps_box)

        self._plot_widget = pg.PlotWidget(background="w")
        self._plot_widget.setMinimumSize(160, 160)
        self._plot: pg.PlotItem = self._plot_widget.getPlotItem()
        self._plot.setMenuEnabled(False)
        self._plot.hideButtons()
        tick_font = _font(TICK_POINT_SIZE)
        for name in ("left", "bottom"):
            axis = self._plot.getAxis(name)
            axis.setPen(pg.mkPen("#222", width=1))
            axis.setTextPen(pg.mkPen("#222"))
            axis.setTickFont(tick_font)
            axis.enableAutoSIPrefix(False)
        self._image = pg.ImageItem(axisOrder="row-major")
        self._image.setZValue(-10)
        self._isocurve = pg.IsocurveItem(level=0.5, pen=pg.mkPen("#333333", width=2))
        self._isocurve.setParentItem(self._image)
        self._line_curves: list[pg.PlotDataItem] = []
        self._neuron_curve = pg.PlotDataItem(pen=pg.mkPen(NEURON_COLOUR, width=3, style=Qt.PenStyle.DashLine))
        self._neuron_curve.setZValue(7)
        self._scatters: list[pg.ScatterPlotItem] = []

        self._note = QLabel()
        self._note.setWordWrap(True)
        self._note.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._note.setFont(_font(HEADER_POINT_SIZE))
        self._note.setStyleSheet("color: #555; padding: 24px;")
        self._note.hide()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(2)
        layout.addLayout(header)
        layout.addWidget(self._plot_widget, 1)
        layout.addWidget(self._note, 1)
        layout.addLayout(footer)

    # --- public API ---------------------------------------------------------------

    def set_dataset(self, dataset) -> None:
        """Choose what to draw for this dataset; clears the picture and the selection."""
        was_drawable = self._mode is not None if self._dataset is not None else None
        self._dataset = dataset
        self._acts = None
        self._selected = None
        self._throttle.cancel()
        self._thumb_throttle.cancel()
        self._plot.clear()
        self._line_curves = []
        self._scatters = []
        if dataset.n_features <= 2:  # only then is there anything to draw (and to stack)
            X = np.vstack([dataset.X_train, dataset.X_test])
        if dataset.n_features == 2:
            self._mode = "plane"
            self._grid = forward.plane_grid(X)
            self._line_x = None
            self._build_plane(dataset)
            self._title = "Decision boundary" if dataset.is_classification else "Output over the plane"
        elif dataset.n_features == 1:
            self._mode = "line"
            self._grid = None
            self._line_x = forward.line_grid(X)
            self._build_line(dataset)
            self._title = "Fit"
        else:
            self._mode = None
            self._grid = self._line_x = None
            self._title = "Decision boundary"
            self._note.setText(
                f"<b>Nothing to draw for {dataset.name}</b><br><br>Its inputs have {dataset.n_features} "
                "dimensions. The decision boundary needs two inputs (circle, xor2d, gaussian, spiral, "
                "blobs, xor, plane) and the fitted curve one (sine).")
        drawable = self._mode is not None
        self._plot_widget.setVisible(drawable)
        self._caption.setVisible(drawable)
        self._note.setVisible(not drawable)
        self._maps_box.setVisible(self._mode == "plane")
        self._back.hide()
        self._update_caption()
        self.thumbnails_ready.emit({})
        self.title_changed.emit(self._title)
        if drawable != was_drawable:
            self.drawable_changed.emit(drawable)

    def show_snapshot(self, snapshot) -> None:
        if self._mode is None:
            return
        self._throttle.submit(snapshot)

    def flush(self) -> None:
        """Draw the latest snapshot now instead of at the next throttled moment."""
        self._throttle.flush()
        self._thumb_throttle.flush()

    def select_neuron(self, layer: int, index: int) -> None:
        """Show neuron ``index`` of ``layer`` (1..L) instead of the output; layer 0 is ignored."""
        snapshot = self._throttle.latest
        if self._mode is None or layer < 1 or snapshot is None:
            return
        if layer >= len(snapshot.sizes) or not 0 <= index < snapshot.sizes[layer]:
            return
        self._selected = (layer, index)
        self._back.show()
        self._draw()

    def show_output(self) -> None:
        self._selected = None
        self._back.hide()
        self._draw()

    def set_thumbnails_enabled(self, on: bool) -> None:
        self._maps_box.setChecked(on)

    # --- read-only accessors (tests, the window) -------------------------------------

    def title(self) -> str:
        return self._title

    def mode(self) -> str | None:
        """"plane", "line" or None (nothing drawable for this dataset)."""
        return self._mode

    def note_text(self) -> str:
        return self._note.text() if self._mode is None else ""

    def caption_text(self) -> str:
        return self._caption.text()

    def selected_neuron(self) -> tuple[int, int] | None:
        return self._selected

    def thumbnails_enabled(self) -> bool:
        return self._maps_box.isChecked()

    def grid(self) -> forward.PlaneGrid | None:
        return self._grid

    def line_inputs(self) -> np.ndarray | None:
        """(n, 1) the inputs the fitted curve is evaluated at."""
        return self._line_x

    def shown_values(self) -> np.ndarray | None:
        """What the picture is computed from: on the plane (ny, nx, n_outputs) outputs
        or (ny, nx) of the selected neuron; on the line (n, n_outputs) or (n,)."""
        if self._acts is None:
            return None
        values = self._acts[-1] if self._selected is None else self._acts[self._selected[0]][:, self._selected[1]]
        if self._mode == "plane":
            return values.reshape(self._grid.shape + values.shape[1:])
        return values

    def image_rgba(self) -> np.ndarray | None:
        """(ny, nx, 4) uint8 as drawn; row r, column c is the point (xs[c], ys[r])."""
        return None if self._mode != "plane" or self._image.image is None else np.array(self._image.image)

    def curve_data(self, output: int = 0) -> tuple[np.ndarray, np.ndarray]:
        return self._curve_xy(self._line_curves[output])

    def neuron_curve_data(self) -> tuple[np.ndarray, np.ndarray]:
        return self._curve_xy(self._neuron_curve)

    # --- Qt overrides -------------------------------------------------------------------

    def showEvent(self, event):  # noqa: N802 - Qt override
        super().showEvent(event)
        self._throttle.resubmit_if_stale()

    # --- building -----------------------------------------------------------------------

    def _build_plane(self, dataset) -> None:
        self._plot.addItem(self._image)
        self._image.setImage(np.full((2, 2, 4), 255, np.uint8), autoLevels=False)
        self._image.setRect(*self._grid.rect)
        self._isocurve.setData(None)
        self._plot.setAspectLocked(True)
        self._plot.showGrid(x=False, y=False)
        self._plot.setLabel("bottom", dataset.feature_names[0], **LABEL_CSS)
        self._plot.setLabel("left", dataset.feature_names[1], **LABEL_CSS)
        size = _point_size(dataset.n_train + dataset.n_test)
        if dataset.is_classification:
            colours = class_rgb(len(dataset.class_names))
            for X, T, test in ((dataset.X_train, dataset.T_train, False), (dataset.X_test, dataset.T_test, True)):
                if not len(X):
                    continue
                labels = dataset.labels(T)
                for c, rgb in enumerate(colours):
                    rows = labels == c
                    if rows.any():
                        self._add_points(X[rows], QColor(*map(int, rgb)), size, test)
        else:
            scale = self._regression_scale()
            for X, T, test in ((dataset.X_train, dataset.T_train, False), (dataset.X_test, dataset.T_test, True)):
                if not len(X):
                    continue
                # One brush or pen per distinct colour, shared by the points that have it.
                colours, index = np.unique(palette.image_rgba(T[:, 0] - scale[0], scale[1]),
                                           axis=0, return_inverse=True)
                index = index.ravel()
                item = pg.ScatterPlotItem(X[:, 0], X[:, 1], size=size, pxMode=True)
                if test:
                    pens = [pg.mkPen(*map(int, c[:3]), width=3) for c in colours]
                    item.setPen([pens[i] for i in index])
                    item.setBrush(pg.mkBrush(255, 255, 255, 150))
                else:
                    brushes = [pg.mkBrush(*map(int, c)) for c in colours]
                    item.setBrush([brushes[i] for i in index])
                    item.setPen(pg.mkPen("#333333", width=1))
                self._plot.addItem(item)
                self._scatters.append(item)
        x0, y0, w, h = self._grid.rect
        self._plot.setRange(xRange=(x0, x0 + w), yRange=(y0, y0 + h), padding=0.0)

    def _build_line(self, dataset) -> None:
        self._plot.setAspectLocked(False)
        self._plot.showGrid(x=True, y=True, alpha=0.25)
        self._plot.setLabel("bottom", dataset.feature_names[0], **LABEL_CSS)
        self._plot.setLabel("left", ", ".join(dataset.target_names), **LABEL_CSS)
        size = _point_size(dataset.n_train + dataset.n_test)
        for X, T, test in ((dataset.X_train, dataset.T_train, False), (dataset.X_test, dataset.T_test, True)):
            for j in range(T.shape[1]):
                if len(X):
                    self._add_points(np.column_stack([X[:, 0], T[:, j]]),
                                     QColor(TEST_COLOUR if test else TRAIN_COLOUR), size, test)
        self._line_curves = []
        for _ in range(dataset.n_outputs):
            curve = pg.PlotDataItem(pen=pg.mkPen(OUTPUT_CURVE, width=4))
            curve.setZValue(6)  # over the points: the fit is what the picture is about
            self._plot.addItem(curve)
            self._line_curves.append(curve)
        self._neuron_curve.setData([], [])
        self._plot.addItem(self._neuron_curve)
        self._plot.enableAutoRange()

    def _add_points(self, XY: np.ndarray, colour: QColor, size: float, test: bool) -> None:
        if test:
            item = pg.ScatterPlotItem(XY[:, 0], XY[:, 1], size=size, pxMode=True,
                                      pen=pg.mkPen(colour, width=2.5), brush=pg.mkBrush(255, 255, 255, 150))
        else:
            item = pg.ScatterPlotItem(XY[:, 0], XY[:, 1], size=size, pxMode=True,
                                      pen=pg.mkPen("w", width=1.2), brush=pg.mkBrush(colour))
        item.setZValue(5 if test else 4)
        self._plot.addItem(item)
        self._scatters.append(item)

    def _regression_scale(self) -> tuple[float, float]:
        """(centre, half-range) of the training targets, for colouring regression values."""
        T = self._dataset.T_train[:, 0]
        lo, hi = (float(T.min()), float(T.max())) if len(T) else (0.0, 1.0)
        half = (hi - lo) / 2 if hi > lo else 1.0
        return (lo + hi) / 2, half

    # --- drawing --------------------------------------------------------------------------

    def _render(self, snapshot) -> None:
        """One forward pass over the grid (or line), then the picture and the node maps."""
        thumbs = self._mode == "plane" and self._maps_box.isChecked()
        if not self.isVisible() and not thumbs:
            self._throttle.stale = True
            return
        self._throttle.stale = False
        inputs = self._grid.points if self._mode == "plane" else self._line_x
        self._acts = forward.forward_all(snapshot.weights, snapshot.biases, snapshot.activation_names, inputs)
        if self._selected is not None and not self._selection_fits(snapshot):
            self._selected = None
            self._back.hide()
        self._draw()
        if thumbs:
            self._thumb_throttle.submit((snapshot, self._acts))

    def _selection_fits(self, snapshot) -> bool:
        layer, index = self._selected
        return layer < len(snapshot.sizes) and index < snapshot.sizes[layer]

    def _draw(self) -> None:
        if self._acts is None:
            self._update_caption()
            return
        if self._mode == "plane":
            self._draw_plane()
        else:
            self._draw_line()
        self._update_caption()

    def _draw_plane(self) -> None:
        values = self.shown_values()
        shape = self._grid.shape
        d = self._dataset
        level = None
        if self._selected is not None:
            name = self._throttle.latest.activation_names[self._selected[0]]
            rgba = pale_neuron_rgba(values.ravel(), name).reshape(*shape, 4)
        elif d.is_classification:
            rgba = output_rgba(values.reshape(-1, values.shape[-1]), len(d.class_names)).reshape(*shape, 4)
            level = 0.5 if values.shape[-1] == 1 else None
        else:
            centre, half = self._regression_scale()
            rgba = palette.image_rgba(values[..., 0] - centre, half)
        self._image.setImage(rgba, autoLevels=False)
        self._image.setRect(*self._grid.rect)
        if level is None:
            self._isocurve.setData(None)
        else:
            # IsocurveItem reads data as (x, y) and draws in image pixel coordinates.
            self._isocurve.setData(np.nan_to_num(values[..., 0], nan=0.5).T, level)

    def _draw_line(self) -> None:
        x = self._line_x[:, 0]
        outputs = self._acts[-1]
        for j, curve in enumerate(self._line_curves):
            curve.setData(x, outputs[:, j])
            curve.setPen(pg.mkPen(OUTPUT_CURVE if self._selected is None else "#aaaaaa", width=4))
        if self._selected is None:
            self._neuron_curve.setData([], [])
        else:
            self._neuron_curve.setData(x, self.shown_values())

    def _update_caption(self) -> None:
        d = self._dataset
        if d is None or self._mode is None:
            self._caption.setText("")
            return
        snapshot = self._throttle.latest
        if self._selected is not None and snapshot is not None:
            layer, index = self._selected
            name = snapshot.activation_names[layer]
            who = node_name(layer, index, len(snapshot.sizes))
            if self._mode == "plane":
                rng = ACTIVATIONS[name].display_range
                low = "0" if rng[0] == 0 else "−"
                text = (f"<b>{who}</b> ({name}) &nbsp;"
                        f'<span style="color:#b35806">■</span>&nbsp;{low} &nbsp;□&nbsp;0 &nbsp;'
                        f'<span style="color:#2166ac">■</span>&nbsp;+')
            else:
                text = (f'<b>{who}</b> ({name}) <span style="color:{NEURON_COLOUR}">╍ its activation</span>'
                        ' &nbsp;<span style="color:#999">━ output</span>')
        elif self._mode == "plane" and d.is_classification:
            dots = " &nbsp;".join(f"{_dot(CLASS_COLOURS[c % len(CLASS_COLOURS)])} {name}"
                                  for c, name in enumerate(d.class_names))
            line = " &nbsp;━&nbsp;0.5" if d.n_outputs == 1 else ""
            text = f"{dots} &nbsp;&nbsp;{_dot('#444')}&nbsp;train {_dot('#444', True)}&nbsp;test{line}"
        elif self._mode == "plane":
            text = (f"<b>Output {d.target_names[0]}</b>, coloured as the targets "
                    f"&nbsp;&nbsp;{_dot('#444')}&nbsp;train {_dot('#444', True)}&nbsp;test")
        else:
            text = (f"━&nbsp;network output &nbsp;&nbsp;{_dot(TRAIN_COLOUR)}&nbsp;train "
                    f"{_dot(TEST_COLOUR, True)}&nbsp;test")
        self._caption.setText(text)

    # --- node maps --------------------------------------------------------------------

    def _on_maps_toggled(self, on: bool) -> None:
        if not on:
            self._thumb_throttle.cancel()
            self.thumbnails_ready.emit({})
        elif self._mode == "plane":
            self._throttle.resubmit()

    def _emit_thumbnails(self, item) -> None:
        snapshot, acts = item
        if not self._maps_box.isChecked() or self._mode != "plane":
            return
        self.thumbnails_ready.emit(node_thumbnails(acts, snapshot.activation_names, self._grid.shape))

    @staticmethod
    def _curve_xy(curve: pg.PlotDataItem) -> tuple[np.ndarray, np.ndarray]:
        x, y = curve.getOriginalDataset()
        return (np.empty(0) if x is None else np.array(x), np.empty(0) if y is None else np.array(y))


def _point_size(n: int) -> float:
    return 11.0 if n <= 400 else 8.0 if n <= 1500 else 5.0
