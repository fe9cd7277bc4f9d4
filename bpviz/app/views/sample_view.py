"""The sample of the current step: its input, its target next to the network's
output, and its loss.

Reads ``snapshot.activations[0]`` (input), ``snapshot.target``,
``snapshot.activations[-1]`` (output), ``snapshot.sample_index`` and
``snapshot.sample_loss``. Table rows are built when the dataset changes; a snapshot
only rewrites cell texts.
"""

from __future__ import annotations

import html

import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPen
from PySide6.QtWidgets import (QAbstractItemView, QHeaderView, QLabel, QSizePolicy,
                               QStyledItemDelegate, QTableWidget, QTableWidgetItem,
                               QVBoxLayout, QWidget)

BASE_POINT_SIZE = 14
HEADER_POINT_SIZE = 17
DECIMALS = 4
# Okabe–Ito: bluish green for right, vermilion for wrong; the ✓/✗ carry it without colour.
RIGHT_COLOUR = "#009E73"
WRONG_COLOUR = "#D55E00"
PREDICTED_BAR = QColor(86, 180, 233, 200)   # sky blue
OTHER_BAR = QColor(190, 190, 190, 150)
# On a dark theme the numbers are light, so the bars behind them go darker.
DARK_PREDICTED_BAR = QColor(30, 100, 160, 230)
DARK_OTHER_BAR = QColor(95, 95, 95, 200)
TARGET_ROW = QColor(0, 158, 115, 45)
BAR_ROLE = Qt.ItemDataRole.UserRole + 1
IMAGE_SIDE = 176
MIN_WIDTH = 320  # three columns of 4-decimal numbers at BASE_POINT_SIZE
MAX_VISIBLE_ROWS = 12


def _fmt(value: float) -> str:
    return f"{value:.{DECIMALS}f}"


class _BarDelegate(QStyledItemDelegate):
    """Draws an output in [0, 1] as a bar behind its number, so the class
    probabilities read at a glance; the predicted class gets the stronger colour."""

    bars = (PREDICTED_BAR, OTHER_BAR)

    def paint(self, painter: QPainter, option, index) -> None:
        bar = index.data(BAR_ROLE)
        if bar is not None:
            fraction, predicted = bar
            rect = QRectF(option.rect).adjusted(2, 3, -2, -3)
            rect.setWidth(rect.width() * fraction)
            painter.fillRect(rect, self.bars[0] if predicted else self.bars[1])
        super().paint(painter, option, index)


class _PixelImage(QWidget):
    """A small greyscale image scaled up without smoothing, ink dark on white as
    the digits were written; pixels stay square."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._qimage: QImage | None = None
        self.setMinimumSize(IMAGE_SIDE, IMAGE_SIDE)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def set_image(self, grey: np.ndarray | None) -> None:
        """grey : (rows, cols) uint8, 0 white .. 255 black; None shows nothing."""
        if grey is None:
            self._qimage = None
        else:
            pixels = np.ascontiguousarray(255 - grey, dtype=np.uint8)
            rows, cols = pixels.shape
            # copy(): QImage would otherwise point into the NumPy buffer.
            self._qimage = QImage(pixels.data, cols, rows, cols, QImage.Format.Format_Grayscale8).copy()
        self.update()

    def paintEvent(self, event) -> None:
        if self._qimage is None:
            return
        painter = QPainter(self)
        side = min(self.width(), self.height()) - 2
        cols, rows = self._qimage.width(), self._qimage.height()
        cell = max(1, side // max(cols, rows))
        target = QRectF((self.width() - cell * cols) / 2, (self.height() - cell * rows) / 2,
                        cell * cols, cell * rows)
        painter.drawImage(target, self._qimage)
        painter.setPen(QPen(QColor("#888888"), 1))
        painter.drawRect(target.adjusted(-1, -1, 0, 0))
        painter.end()


def _table(columns: list[str]) -> QTableWidget:
    table = QTableWidget(0, len(columns))
    table.setHorizontalHeaderLabels(columns)
    table.verticalHeader().setVisible(False)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
    table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
    header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
    return table


def _fill_rows(table: QTableWidget, names: list[str]) -> None:
    table.setRowCount(len(names))
    for row, name in enumerate(names):
        table.setItem(row, 0, QTableWidgetItem(name))
        for col in range(1, table.columnCount()):
            item = QTableWidgetItem("")
            item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            table.setItem(row, col, item)


def _fit_height(table: QTableWidget) -> None:
    """As tall as its rows, up to MAX_VISIBLE_ROWS; beyond that it scrolls."""
    table.resizeRowsToContents()
    rows = min(table.rowCount(), MAX_VISIBLE_ROWS)
    row_height = table.rowHeight(0) if table.rowCount() else table.verticalHeader().defaultSectionSize()
    table.setFixedHeight(table.horizontalHeader().sizeHint().height()
                         + rows * row_height + 2 * table.frameWidth() + 2)


def _cell_texts(table: QTableWidget) -> list[tuple[str, ...]]:
    return [tuple(table.item(r, c).text() for c in range(table.columnCount()))
            for r in range(table.rowCount())]


class SampleView(QWidget):
    """The current training sample: input values (or its image), target beside
    output, the predicted class against the target class, and the sample's loss."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        font = self.font()
        font.setPointSize(BASE_POINT_SIZE)
        self.setFont(font)
        self.setMinimumWidth(MIN_WIDTH)
        self._dataset = None
        self._image: np.ndarray | None = None
        self._levels = (0.0, 1.0)
        self._target_row: int | None = None
        self._predicted_row: int | None = None
        self._structure: tuple | None = None

        self._header = QLabel()
        header_font = QFont(font)
        header_font.setPointSize(HEADER_POINT_SIZE)
        header_font.setBold(True)
        self._header.setFont(header_font)
        self._header.setWordWrap(True)

        self._input_title = QLabel("<b>Input</b>")
        self._inputs = _table(["feature", "value"])
        self._pixels = _PixelImage()
        self._output_title = QLabel("<b>Target and output</b>")
        for title in (self._input_title, self._output_title):
            title.setWordWrap(True)
        self._outputs = _table(["variable", "target", "output"])
        self._bar_delegate = _BarDelegate(self._outputs)
        self._outputs.setItemDelegateForColumn(2, self._bar_delegate)
        self._verdict = QLabel()
        self._verdict.setTextFormat(Qt.TextFormat.RichText)
        self._verdict.setWordWrap(True)
        self._verdict.setFont(header_font)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(4)
        layout.addWidget(self._header)
        layout.addWidget(self._input_title)
        layout.addWidget(self._inputs)
        layout.addWidget(self._pixels, 1)
        layout.addWidget(self._output_title)
        layout.addWidget(self._outputs)
        layout.addWidget(self._verdict)
        # Takes the spare height unless the image is shown (which then grows instead).
        self._spacer = QWidget()
        layout.addWidget(self._spacer, 1)
        self.clear()

    # --- public API -------------------------------------------------------------

    def set_dataset(self, dataset) -> None:
        self._dataset = dataset
        if dataset.image_shape is not None and dataset.n_train:
            low, high = float(dataset.X_train.min()), float(dataset.X_train.max())
            # One grey scale for every sample of the set, so samples compare.
            self._levels = (low, high if high > low else low + 1.0)
        self.clear()

    def show_snapshot(self, snapshot) -> None:
        x = np.asarray(snapshot.activations[0], dtype=np.float64)
        target = np.asarray(snapshot.target, dtype=np.float64)
        output = np.asarray(snapshot.activations[-1], dtype=np.float64)
        dataset = self._matching_dataset(len(x), len(output))
        self._build(dataset, len(x), len(output))

        self._header.setText(f"Training row {snapshot.sample_index} · "
                             f"loss {_fmt(snapshot.sample_loss)}")
        if self._structure[0] == "image":
            self._show_image(x.reshape(dataset.image_shape))
        else:
            for row, value in enumerate(x):
                self._inputs.item(row, 1).setText(_fmt(value))
        for row in range(len(output)):
            self._outputs.item(row, 1).setText(_fmt(target[row]))
            self._outputs.item(row, 2).setText(_fmt(output[row]))
        if dataset is not None and dataset.is_classification:
            self._show_classes(dataset, target, output)
        else:
            self._show_errors(target, output)

    def clear(self) -> None:
        self._structure = None
        self._target_row = self._predicted_row = None
        self._header.setText("No sample yet: take a step")
        self._inputs.setRowCount(0)
        self._outputs.setRowCount(0)
        self._show_image(None)
        image = self._dataset is not None and self._dataset.image_shape is not None
        self._show_input_kind(image)
        _fit_height(self._inputs)
        _fit_height(self._outputs)
        self._set_verdict("")

    def set_font_scale(self, scale: float) -> None:
        """Every text of the view at ``scale`` × its normal size."""
        font = QFont(self.font())
        font.setPointSizeF(BASE_POINT_SIZE * scale)
        self.setFont(font)
        header = QFont(self._header.font())
        header.setPointSizeF(HEADER_POINT_SIZE * scale)
        self._header.setFont(header)
        self._verdict.setFont(header)
        for row in range(self._outputs.rowCount()):
            for col in range(self._outputs.columnCount()):
                item = self._outputs.item(row, col)
                if item is not None:  # target rows carry their own (bold) font
                    item_font = QFont(font)
                    item_font.setBold(item.font().bold())
                    item.setFont(item_font)
        _fit_height(self._inputs)
        _fit_height(self._outputs)

    def set_theme(self, theme) -> None:
        """Bars behind the outputs that keep the theme's numbers readable (a style.Theme)."""
        self._bar_delegate.bars = ((DARK_PREDICTED_BAR, DARK_OTHER_BAR) if theme.dark
                                   else (PREDICTED_BAR, OTHER_BAR))
        self._outputs.viewport().update()

    # --- read-only accessors (tests) --------------------------------------------

    def font_size(self) -> float:
        """Point size of the header line (the other texts scale with it)."""
        return self._header.font().pointSizeF()

    def header_text(self) -> str:
        return self._header.text()

    def verdict_text(self) -> str:
        """The verdict line without its markup, e.g. "target setosa · predicted setosa ✓"."""
        return self._verdict_plain

    def shown_text(self) -> str:
        """Everything shown as text: header, input table, output table, verdict."""
        lines = [self.header_text()]
        lines += ["  ".join(row) for row in self.input_rows()]
        lines += ["  ".join(row) for row in self.output_rows()]
        lines.append(self.verdict_text())
        return "\n".join(lines)

    def input_rows(self) -> list[tuple[str, str]]:
        """(feature name, value text) per input; empty while an image is shown."""
        return [] if self._inputs.isHidden() else _cell_texts(self._inputs)

    def output_rows(self) -> list[tuple[str, str, str]]:
        """(name, target text, output text) per output unit."""
        return _cell_texts(self._outputs)

    def image(self) -> np.ndarray | None:
        """The shown input as an image (image datasets), in the input's own units."""
        return None if self._image is None else self._image.copy()

    def target_row(self) -> int | None:
        """Row of the output table holding the target class (multi-class outputs)."""
        return self._target_row

    def predicted_row(self) -> int | None:
        return self._predicted_row

    # --- internals --------------------------------------------------------------

    def _matching_dataset(self, n_inputs: int, n_outputs: int):
        """The dataset, unless a snapshot of another network is still in flight."""
        d = self._dataset
        if d is not None and d.n_features == n_inputs and d.n_outputs == n_outputs:
            return d
        return None

    def _build(self, dataset, n_inputs: int, n_outputs: int) -> None:
        image = dataset is not None and dataset.image_shape is not None
        structure = ("image" if image else "table", id(dataset), n_inputs, n_outputs)
        if structure == self._structure:
            return
        self._structure = structure
        self._target_row = self._predicted_row = None
        self._show_input_kind(image)
        if dataset is None:
            features = [f"x{i + 1}" for i in range(n_inputs)]
            outputs = [f"y{i + 1}" for i in range(n_outputs)]
        else:
            features, outputs = list(dataset.feature_names), list(dataset.target_names)
        classes = dataset is not None and dataset.is_classification and n_outputs > 1
        if image:
            rows, cols = dataset.image_shape
            self._input_title.setText(f"<b>Input</b> ({rows}×{cols} image; white {self._levels[0]:g}, "
                                      f"black {self._levels[1]:g})")
        else:
            self._input_title.setText(f"<b>Input</b> ({n_inputs} value{'s' if n_inputs > 1 else ''})")
        self._inputs.setRowCount(0)
        if not image:
            _fill_rows(self._inputs, features)
        self._outputs.setHorizontalHeaderLabels(["class" if classes else "variable", "target", "output"])
        _fill_rows(self._outputs, outputs)
        for table in (self._inputs, self._outputs):
            _fit_height(table)

    def _show_input_kind(self, image: bool) -> None:
        self._inputs.setVisible(not image)
        self._pixels.setVisible(image)
        self._spacer.setVisible(not image)

    def _show_image(self, pixels: np.ndarray | None) -> None:
        self._image = None if pixels is None else np.array(pixels, dtype=np.float64)
        if pixels is None:
            self._pixels.set_image(None)
            return
        low, high = self._levels
        grey = np.clip((self._image - low) / (high - low), 0.0, 1.0) * 255.0
        self._pixels.set_image(np.round(grey).astype(np.uint8))

    def _show_classes(self, dataset, target: np.ndarray, output: np.ndarray) -> None:
        true_class, predicted_class = dataset.labels(np.vstack([target, output]))
        names = dataset.class_names
        one_column = len(output) == 1
        self._target_row = None if one_column else int(true_class)
        self._predicted_row = None if one_column else int(predicted_class)
        bold = QFont(self.font())
        bold.setBold(True)
        for row in range(self._outputs.rowCount()):
            is_target = row == self._target_row
            is_predicted = one_column or row == self._predicted_row
            for col in range(3):
                item = self._outputs.item(row, col)
                item.setFont(bold if is_target else self.font())
                item.setBackground(TARGET_ROW if is_target and col < 2 else QColor(0, 0, 0, 0))
            fraction = float(np.clip(output[row], 0.0, 1.0)) if np.isfinite(output[row]) else 0.0
            self._outputs.item(row, 2).setData(BAR_ROLE, (fraction, is_predicted))
        right = true_class == predicted_class
        rule = " (output > 0.5)" if one_column and predicted_class == 1 else \
            " (output ≤ 0.5)" if one_column else ""
        colour, mark = (RIGHT_COLOUR, "✓ right") if right else (WRONG_COLOUR, "✗ wrong")
        self._set_verdict(f"target {names[true_class]} · predicted {names[predicted_class]}{rule}",
                          mark, colour)

    def _show_errors(self, target: np.ndarray, output: np.ndarray) -> None:
        error = output - target
        parts = [_fmt(e) for e in error]
        self._set_verdict(f"output − target = {', '.join(parts)}")

    def _set_verdict(self, text: str, mark: str = "", colour: str = "") -> None:
        self._verdict_plain = f"{text} {mark}".strip()
        coloured = f" <span style='color:{colour}'>{mark}</span>" if mark else ""
        self._verdict.setText(f"{html.escape(text)}{coloured}")

