"""Training curves: loss, accuracy and per-layer gradient norms per epoch.

Reads only ``snapshot.history``. Curves are created once and updated in place with
``setData``; a snapshot whose history has as many epochs as the one shown is skipped,
so the window may call ``show_snapshot`` at display rate. While playing, new epochs
are drawn at most PLAYING_RATE_HZ times a second (a fast run ends many epochs a
second, and each redraw repaints three plots); a paused snapshot draws at once.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QFont, QPen
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from bpviz.app.style import LIGHT
from bpviz.app.views import palette
from bpviz.app.views.throttle import Throttle

PLAYING_RATE_HZ = 2
# Epoch axis spans at least 1..MIN_EPOCH_SPAN; runs of up to DOT_EPOCHS epochs get dots.
MIN_EPOCH_SPAN = 10
DOT_EPOCHS = 30

# Okabe–Ito: distinguishable with the common colour-vision deficiencies.
TRAIN_COLOUR = "#0072B2"
TEST_COLOUR = "#E69F00"
LAYER_COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000")
# Past seven weight layers the colours repeat, so the dash pattern tells them apart.
LAYER_STYLES = (Qt.PenStyle.SolidLine, Qt.PenStyle.DashLine, Qt.PenStyle.DotLine)

LINE_WIDTH = 3
TICK_POINT_SIZE = 13
HEADER_POINT_SIZE = 14
LABEL_CSS = {"font-size": "15pt", "color": "#222"}
LEFT_AXIS_WIDTH = 78
FOREGROUND = "#222222"


def _finite_or_empty(values: np.ndarray) -> np.ndarray:
    """The array itself, or an empty one when nothing in it can be drawn: an all-NaN
    curve would otherwise pull NaN into pyqtgraph's auto-range."""
    return values if np.isfinite(values).any() else np.empty(0)


class _Axis(pg.AxisItem):
    """An axis whose logarithmic ticks stay readable on a short plot: pyqtgraph
    labels every 2…9 × 10^k, which overlap when the plot spans a decade or two."""

    def tickStrings(self, values, scale, spacing):
        strings = super().tickStrings(values, scale, spacing)
        if not self.logMode or spacing is not None:
            return strings
        # spacing None: the level of in-between ticks; label fewer as the span grows.
        decades = abs(self.range[1] - self.range[0])
        keep = (1, 2, 5) if decades < 1.3 else (1, 2) if decades < 2 else (1,)
        mantissas = np.round(10.0 ** (np.asarray(values, dtype=np.float64) % 1.0)).astype(int)
        return [text if m in keep else "" for text, m in zip(strings, mantissas)]

    # pyqtgraph computes 10 ** range on log axes, which overflows (with a NumPy warning
    # on stderr) once a diverging run's gradients pass 1e308; those ticks are just inf.
    def generateDrawSpecs(self, p):
        with np.errstate(over="ignore"):
            return super().generateDrawSpecs(p)

    def updateAutoSIPrefix(self):
        with np.errstate(over="ignore"):
            return super().updateAutoSIPrefix()


class _EpochAxis(pg.AxisItem):
    """An epoch axis: ticks on whole epochs only (no 1.5 between epoch 1 and 2)."""

    def tickSpacing(self, minVal, maxVal, size):
        levels = [(spacing, offset) for spacing, offset in super().tickSpacing(minVal, maxVal, size)
                  if spacing >= 1 and float(spacing).is_integer()]
        return levels or [(1.0, 0.0)]


def _pen(colour: str, style: Qt.PenStyle = Qt.PenStyle.SolidLine) -> QPen:
    pen = pg.mkPen(colour, width=LINE_WIDTH)
    pen.setStyle(style)
    return pen


class _Plot:
    """A projector-styled PlotWidget under a header line that names the plot and,
    in place of a legend, shows each curve's colour, name and latest value. A legend
    inside a plot this small would cover the curves."""

    def __init__(self, title: str, y_label: str, value_format: str, *, log_y: bool = False):
        self._title = title
        self._value_format = value_format
        self.header = QLabel()
        self.header.setTextFormat(Qt.TextFormat.RichText)
        self.header.setWordWrap(True)
        font = self.header.font()
        font.setPointSize(HEADER_POINT_SIZE)
        self.header.setFont(font)
        self.header_row = QHBoxLayout()
        self.header_row.setContentsMargins(6, 0, 6, 0)
        self.header_row.addWidget(self.header, 1)

        self.plot_widget = pg.PlotWidget(background="w", axisItems={"left": _Axis("left"),
                                                                    "bottom": _EpochAxis("bottom")})
        self.plot_widget.setMinimumHeight(120)
        self.item: pg.PlotItem = self.plot_widget.getPlotItem()
        # No grid: pyqtgraph draws it as part of each axis, stretched over the plot,
        # so every new epoch replayed it and a redraw of the three plots cost twice
        # as much (~30 ms, long enough to delay a click); the header reads the values.
        self.item.setMenuEnabled(False)
        tick_font = QFont()
        tick_font.setPointSize(TICK_POINT_SIZE)
        for name in ("left", "bottom"):
            axis = self.item.getAxis(name)
            axis.setPen(pg.mkPen(FOREGROUND, width=1))
            axis.setTextPen(pg.mkPen(FOREGROUND))
            axis.setTickFont(tick_font)
            axis.enableAutoSIPrefix(False)
        self.item.getAxis("left").setWidth(LEFT_AXIS_WIDTH)
        # A tick label that would stick out of the plot is left out, not cut in half.
        self.item.getAxis("left").setStyle(hideOverlappingLabels=True)
        self.item.setLabel("left", y_label, **LABEL_CSS)
        self.item.setLogMode(x=False, y=log_y)
        self.item.setClipToView(True)
        self.item.setDownsampling(auto=True, mode="peak")

        self.widget = QWidget()
        layout = QVBoxLayout(self.widget)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(self.header_row)
        layout.addWidget(self.plot_widget, 1)

        self.curves: dict[str, pg.PlotDataItem] = {}
        self._labels: dict[str, str] = {}
        self._glyphs: dict[str, str] = {}
        self._last: dict[str, float | None] = {}
        self.refresh_header()

    def add_curve(self, key: str, label: str, pen: QPen) -> None:
        self.curves[key] = self.item.plot([], [], pen=pen, connect="finite")
        self._labels[key] = label
        glyph = "━" if pen.style() == Qt.PenStyle.SolidLine else "╍"
        self._glyphs[key] = f'<span style="color:{pen.color().name()}">{glyph}</span>'
        self._last[key] = None
        self.refresh_header()

    def set_pen(self, key: str, pen: QPen) -> None:
        self.curves[key].setPen(pen)
        glyph = "━" if pen.style() == Qt.PenStyle.SolidLine else "╍"
        self._glyphs[key] = f'<span style="color:{pen.color().name()}">{glyph}</span>'
        self.refresh_header()

    def restyle(self, theme, scale: float) -> None:
        """Canvas, axes and texts in ``theme`` (a style.Theme) at ``scale`` × the normal sizes."""
        self.plot_widget.setBackground(theme.background)
        font = self.header.font()
        font.setPointSizeF(HEADER_POINT_SIZE * scale)
        self.header.setFont(font)
        tick_font = QFont()
        tick_font.setPointSizeF(TICK_POINT_SIZE * scale)
        css = {**LABEL_CSS, "font-size": f"{15 * scale:.3g}pt", "color": theme.ink}
        for name in ("left", "bottom"):
            axis = self.item.getAxis(name)
            axis.setPen(pg.mkPen(theme.ink, width=1))
            axis.setTextPen(pg.mkPen(theme.ink))
            axis.setTickFont(tick_font)
            if axis.labelText:
                axis.setLabel(axis.labelText, **css)
            else:
                axis.labelStyle = css
        self.item.getAxis("left").setWidth(round(LEFT_AXIS_WIDTH * max(1.0, scale)))

    def remove_curve(self, key: str) -> None:
        self.item.removeItem(self.curves.pop(key))
        for table in (self._labels, self._glyphs, self._last):
            table.pop(key)
        self.refresh_header()

    def show_curve(self, key: str, shown: bool) -> None:
        self.curves[key].setVisible(shown)
        self.refresh_header()

    def set_curve(self, key: str, x: np.ndarray, y: np.ndarray) -> None:
        y = _finite_or_empty(y)
        curve = self.curves[key]
        # Dots while there are few epochs: one epoch is a point, not an invisible line.
        dots = len(y) <= DOT_EPOCHS
        curve.setData(x[:len(y)], y, symbol="o" if dots else None, symbolSize=8,
                      symbolPen=None, symbolBrush=curve.opts["pen"].color())
        finite = y[np.isfinite(y)]
        self._last[key] = float(finite[-1]) if len(finite) else None

    def clear_curves(self) -> None:
        for key, curve in self.curves.items():
            curve.setData([], [])
            self._last[key] = None
        self.refresh_header()

    def legend_text(self, key: str) -> str:
        """The curve's name and its latest value, as the header shows them."""
        last = self._last[key]
        value = "" if last is None else f" {last:{self._value_format}}"
        return f"{self._labels[key]}{value}"

    def refresh_header(self) -> None:
        entries = [f"{self._glyphs[key]}&nbsp;{self.legend_text(key).replace(' ', '&nbsp;')}"
                   for key, curve in self.curves.items() if curve.isVisible()]
        self.header.setText(f"<b>{self._title}</b>&nbsp; " + " &nbsp; ".join(entries))


class TrainingPlots(QWidget):
    """Loss (train, test), accuracy (train, test; classification only) and the mean
    gradient norm of each weight matrix, all per epoch on a shared epoch axis."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._shown_epochs = -1
        self._epoch_span = None
        self._generation = 0
        self._throttle = Throttle(lambda history: self._draw_history(history, staggered=True),
                                  PLAYING_RATE_HZ, self)
        self._n_grad_layers = 0
        self._font_scale = 1.0
        self._theme = LIGHT
        self._palette_name = palette.DEFAULT_PALETTE
        self._series = LAYER_COLOURS

        self._loss = _Plot("Loss", "loss", ".4f")
        self._loss.add_curve("train_loss", "train", _pen(TRAIN_COLOUR))
        self._loss.add_curve("test_loss", "test", _pen(TEST_COLOUR))
        self._log_loss = QCheckBox("log")
        self._log_loss.setToolTip("Logarithmic loss axis: shows progress once the loss is small")
        font = self._log_loss.font()
        font.setPointSize(HEADER_POINT_SIZE)
        self._log_loss.setFont(font)
        self._log_loss.toggled.connect(self._on_log_loss_toggled)
        self._loss.header_row.addWidget(self._log_loss, 0, Qt.AlignmentFlag.AlignTop)

        self._accuracy = _Plot("Accuracy", "accuracy", ".4f")
        self._accuracy.add_curve("train_accuracy", "train", _pen(TRAIN_COLOUR))
        self._accuracy.add_curve("test_accuracy", "test", _pen(TEST_COLOUR))
        # The margin lets the "0" and "1" labels fit: pyqtgraph drops a label that
        # would stick out of the plot.
        self._accuracy.item.setYRange(-0.1, 1.1, padding=0.0)
        self._accuracy.item.enableAutoRange(y=False)
        self._accuracy.item.getAxis("left").setTicks(
            [[(0.0, "0"), (0.5, "0.5"), (1.0, "1")], [(0.25, ""), (0.75, "")]])

        # Log scale: vanishing gradients show as curves decades apart.
        self._grads = _Plot("Gradient norm", "‖∂L/∂W‖", ".3g", log_y=True)
        self._grads.item.setLabel("bottom", "epoch", **LABEL_CSS)
        self._grads.plot_widget.setToolTip(
            "‖∂L/∂W‖ of each weight matrix: the size of the training-set loss's gradient at\n"
            "the end of each epoch, the step a full batch would take. It falls towards 0 as\n"
            "training converges; a layer decades below the others learns slowly.")

        for plot in (self._accuracy, self._grads):
            plot.item.setXLink(self._loss.item)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(4)
        layout.addWidget(self._loss.widget, 3)
        layout.addWidget(self._accuracy.widget, 2)
        layout.addWidget(self._grads.widget, 2)

    # --- public API -------------------------------------------------------------

    def set_dataset(self, dataset) -> None:
        """Clear the curves; show accuracy only for classification and the test
        curves only when there is a test set."""
        self.clear()
        self._accuracy.widget.setVisible(dataset.is_classification)
        has_test = dataset.n_test > 0
        self._loss.show_curve("test_loss", has_test)
        self._accuracy.show_curve("test_accuracy", has_test)

    def show_snapshot(self, snapshot) -> None:
        if snapshot.history.n_epochs == self._shown_epochs:
            self._throttle.cancel()
        elif snapshot.playing:
            self._throttle.submit(snapshot.history)
        else:
            self._throttle.cancel()
            self._draw_history(snapshot.history)

    def _draw_history(self, history, staggered: bool = False) -> None:
        """Draw ``history``'s curves; ``staggered`` (while playing) one plot at a time, a
        millisecond apart: timers and input get their turn in between, instead of
        waiting for all three (~35 ms together; a zero-delay timer would run first)."""
        if history.n_epochs == self._shown_epochs:
            return
        self._set_epoch_span(history.n_epochs)
        self._shown_epochs = history.n_epochs
        x = np.arange(1, history.n_epochs + 1, dtype=np.float64)
        parts = [lambda: self._draw_curves(self._loss, ("train_loss", "test_loss"), history, x),
                 lambda: self._draw_curves(self._accuracy, ("train_accuracy", "test_accuracy"), history, x),
                 lambda: self._draw_gradients(history, x)]
        self._generation += 1  # parts still waiting from an earlier history are dropped
        if staggered:
            self._draw_parts(parts, self._generation)
        else:
            for part in parts:
                part()

    def _draw_parts(self, parts, generation: int) -> None:
        if generation != self._generation:
            return
        parts[0]()
        if len(parts) > 1:
            QTimer.singleShot(1, self, lambda: self._draw_parts(parts[1:], generation))

    @staticmethod
    def _draw_curves(plot, keys, history, x) -> None:
        for key in keys:
            plot.set_curve(key, x, np.asarray(getattr(history, key), dtype=np.float64))
        plot.refresh_header()

    def _draw_gradients(self, history, x) -> None:
        grad_norms = np.asarray(history.grad_norms, dtype=np.float64)
        n_layers = grad_norms.shape[1] if grad_norms.ndim == 2 and len(grad_norms) else 0
        self._ensure_grad_curves(n_layers)
        with np.errstate(invalid="ignore"):
            # A norm of exactly 0 (dead units) has no logarithm: leave a gap there.
            drawable = np.where(grad_norms > 0, grad_norms, np.nan)
        for k in range(n_layers):
            self._grads.set_curve(f"W{k + 1}", x, drawable[:, k])
        self._grads.refresh_header()

    def _set_epoch_span(self, n_epochs: int) -> None:
        """Epochs 1..10 until the run is longer (a single epoch auto-ranged would sit
        alone on an axis from −3 to 5), then 1 to the next 2, 2.5, 5 × 10^k: the axis
        moves now and then, not with every epoch, and every move re-lays the ticks of
        all three plots."""
        span = max(MIN_EPOCH_SPAN, palette.nice_ceil(n_epochs))
        if span != self._epoch_span:
            self._epoch_span = span
            self._loss.item.setXRange(1, span, padding=0.05)

    def clear(self) -> None:
        self._throttle.cancel()
        self._generation += 1
        self._shown_epochs = -1
        for plot in (self._loss, self._accuracy, self._grads):
            plot.clear_curves()
        self._ensure_grad_curves(0)
        # Whole epochs from the start, not the 0..1 an empty plot would show.
        self._epoch_span = None
        self._set_epoch_span(0)

    def set_font_scale(self, scale: float) -> None:
        """Titles, tick labels and axis labels at ``scale`` × their normal size."""
        self._font_scale = float(scale)
        self._restyle()

    def set_theme(self, theme) -> None:
        """Canvas and axis colours of ``theme`` (a style.Theme); curves in the palette's
        colours for that background."""
        self._theme = theme
        self._restyle()

    def set_palette(self, name: str) -> None:
        """Curve colours from palette ``name`` (a key of palette.PALETTES)."""
        self._palette_name = name
        self._restyle()

    # --- read-only accessors (tests, the window's status line) ------------------

    def curve_colour(self, name: str) -> str:
        """"#rrggbb" of the curve ``name``."""
        return self._plot_of(name).curves[name].opts["pen"].color().name()

    def background_colour(self) -> str:
        return self._loss.plot_widget.backgroundBrush().color().name()

    def tick_font_size(self) -> float:
        return self._loss.item.getAxis("left").style["tickFont"].pointSizeF()

    def title_font_size(self) -> float:
        return self._loss.header.font().pointSizeF()

    def curve_names(self) -> list[str]:
        return [*self._loss.curves, *self._accuracy.curves, *self._grads.curves]

    def curve_data(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """(epochs, values) as drawn by the curve ``name``: "train_loss", "test_loss",
        "train_accuracy", "test_accuracy" or "W1", "W2", …; empty when nothing is
        drawable (all NaN), zero gradient norms as NaN."""
        x, y = self._plot_of(name).curves[name].getOriginalDataset()
        return (np.empty(0) if x is None else np.array(x),
                np.empty(0) if y is None else np.array(y))

    def curve_shown(self, name: str) -> bool:
        plot = self._plot_of(name)
        return not plot.widget.isHidden() and plot.curves[name].isVisible()

    def legend_text(self, name: str) -> str:
        """The curve's name and latest value as its header shows them, e.g. "train 0.1234"."""
        return self._plot_of(name).legend_text(name)

    def epoch_range(self) -> tuple[float, float]:
        """The epochs the shared epoch axis spans (without its padding)."""
        return 1.0, float(self._epoch_span)

    def accuracy_shown(self) -> bool:
        return not self._accuracy.widget.isHidden()

    def exportable_plots(self) -> dict[str, tuple[pg.PlotItem, str]]:
        """name -> (plot item, its header as rich text) of every plot shown, for
        exporting pictures ("loss", "accuracy", "gradients")."""
        plots = {"loss": self._loss, "accuracy": self._accuracy, "gradients": self._grads}
        return {name: (plot.item, plot.header.text()) for name, plot in plots.items()
                if not plot.widget.isHidden()}

    def loss_log_scale(self) -> bool:
        return self._log_loss.isChecked()

    def set_loss_log_scale(self, on: bool) -> None:
        self._log_loss.setChecked(on)

    # --- internals --------------------------------------------------------------

    def _plot_of(self, name: str) -> _Plot:
        for plot in (self._loss, self._accuracy, self._grads):
            if name in plot.curves:
                return plot
        raise KeyError(f"no curve named {name!r}; curves: {', '.join(self.curve_names())}")

    def _on_log_loss_toggled(self, on: bool) -> None:
        self._loss.item.setLogMode(x=False, y=on)
        self._loss.item.enableAutoRange(y=True)

    def _restyle(self) -> None:
        self._series = palette.colours(self._palette_name, self._theme.dark).series
        for plot in (self._loss, self._accuracy, self._grads):
            plot.restyle(self._theme, self._font_scale)
        for plot, train, test in ((self._loss, "train_loss", "test_loss"),
                                  (self._accuracy, "train_accuracy", "test_accuracy")):
            plot.set_pen(train, _pen(self._series[0]))
            plot.set_pen(test, _pen(self._series[1]))
        for k in range(self._n_grad_layers):
            style = LAYER_STYLES[(k // len(self._series)) % len(LAYER_STYLES)]
            self._grads.set_pen(f"W{k + 1}", _pen(self._series[k % len(self._series)], style))
        font = self._log_loss.font()
        font.setPointSizeF(HEADER_POINT_SIZE * self._font_scale)
        self._log_loss.setFont(font)

    def _ensure_grad_curves(self, n_layers: int) -> None:
        """One curve per weight matrix; rebuilt only when the network's depth changes."""
        if n_layers == self._n_grad_layers:
            return
        for k in range(self._n_grad_layers):
            self._grads.remove_curve(f"W{k + 1}")
        for k in range(n_layers):
            style = LAYER_STYLES[(k // len(LAYER_COLOURS)) % len(LAYER_STYLES)]
            self._grads.add_curve(f"W{k + 1}", f"W{k + 1}",
                                  _pen(self._series[k % len(self._series)], style))
        self._n_grad_layers = n_layers
