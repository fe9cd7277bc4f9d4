"""File ▸ Open dataset…: preview a CSV file, choose its target and how to split and
scale it, then load it off the GUI thread.

The preview is csv_data.read_table's: the first rows, the row count and each
column's detected kind; changing the delimiter or header choice reads it again.
Loading runs csv_data through CsvSource.load in the background; a bad file's
message (naming row and column) is shown in the dialog, which stays open, and
nothing else changes. On success ``dataset_loaded(CsvChoice)`` is emitted.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox,
                               QFileDialog, QFormLayout, QHBoxLayout, QLabel, QLineEdit,
                               QProgressBar, QPushButton, QSpinBox, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)

from bpviz import datasets
from bpviz.app.background import run_in_background
from bpviz.csv_data import DEFAULT_TEST_FRACTION, CsvSource, CsvTable, read_table
from bpviz.datasets import Dataset
from bpviz.settings import Settings

CSV_FILTER = "CSV files (*.csv *.tsv *.txt);;All files (*)"
_ERROR_STYLE = "color: #a00000; font-weight: bold;"
_MAX_SEED = 2**31 - 1
_DELIMITER_LABELS = {",": "comma", ";": "semicolon", "\t": "tab"}


@dataclass(frozen=True)
class CsvChoice:
    """What the dialog loaded: the source, the loader options and the dataset."""

    source: CsvSource
    scaling: str
    test_fraction: float
    data_seed: int
    dataset: Dataset

    def settings(self, base: Settings) -> Settings:
        """``base`` on this data, adjusted to suit it (Settings.for_dataset)."""
        return base.with_(csv_source=self.source, scaling=self.scaling,
                          test_fraction=self.test_fraction,
                          data_seed=self.data_seed).for_dataset(self.dataset)


def _combo(entries) -> QComboBox:
    combo = QComboBox()
    for label, data in entries:
        combo.addItem(label, data)
    return combo


class CsvDialog(QDialog):
    """The preview-and-load dialog; ``set_path`` starts the preview."""

    dataset_loaded = Signal(object)

    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Open your own data (CSV)")
        self.resize(900, 680)
        self.path: str | None = None
        self.table_info: CsvTable | None = None
        self._generation = 0  # answers to older reads are dropped
        self._loading = False
        own = settings.csv_source

        self.path_label = QLabel("no file chosen")
        self.path_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.choose_button = QPushButton("Choose file…")
        self.choose_button.clicked.connect(self._choose_file)
        self.delimiter_combo = _combo([("detect", None), ("comma  ,", ","), ("semicolon  ;", ";"),
                                       ("tab", "\t")])
        self.header_combo = _combo([("detect", None), ("yes, the first row names the columns", True),
                                    ("no, every row is data", False)])
        for combo in (self.delimiter_combo, self.header_combo):
            combo.activated.connect(lambda _: self._reread())
        self.table = QTableWidget()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setToolTip("The first rows of the file, as bpviz reads them; under each "
                              "column name the kind detected: number or text")
        self.detected_label = QLabel()
        self.detected_label.setWordWrap(True)

        self.target_combo = QComboBox()
        self.target_combo.setToolTip("The column the network learns to predict; every other "
                                     "column is an input and must hold numbers")
        self.target_combo.activated.connect(lambda _: self._on_target_changed())
        self.classes_check = QCheckBox("treat a numeric target as classes")
        self.classes_check.setToolTip("Numbers in the target column are class labels (0, 1, 2, …), "
                                      "not values to fit: one output per class")
        self.scaling_combo = _combo([("none", "none"), ("min-max to 0…1", "minmax"),
                                     ("z-score", "zscore")])
        self.scaling_combo.setCurrentIndex(max(0, self.scaling_combo.findData(settings.scaling)))
        self.scaling_combo.setToolTip("Rescale the inputs, with statistics of the training rows only")
        self.test_fraction_spin = QDoubleSpinBox()
        self.test_fraction_spin.setRange(0.0, datasets.MAX_TEST_FRACTION)
        self.test_fraction_spin.setSingleStep(0.05)
        self.test_fraction_spin.setDecimals(2)
        self.test_fraction_spin.setValue(DEFAULT_TEST_FRACTION if settings.test_fraction is None
                                         else settings.test_fraction)
        self.test_fraction_spin.setToolTip("The share of rows kept back for testing (split by class)")
        self.seed_spin = QSpinBox()
        self.seed_spin.setRange(0, _MAX_SEED)
        self.seed_spin.setValue(min(settings.data_seed, _MAX_SEED))
        self.seed_spin.setToolTip("The seed of the split: the same seed gives the same split")
        self.test_file_check = QCheckBox("use a second file as the test set")
        self.test_file_check.toggled.connect(self._on_test_file_toggled)
        self.test_path_edit = QLineEdit()
        self.test_path_edit.setReadOnly(True)
        self.test_path_edit.setPlaceholderText("a file with the same columns")
        self.test_choose_button = QPushButton("Choose…")
        self.test_choose_button.clicked.connect(self._choose_test_file)

        self.busy_bar = QProgressBar()
        self.busy_bar.setRange(0, 0)  # a moving "busy" bar
        self.busy_bar.setMaximumHeight(14)
        self.busy_bar.setVisible(False)
        self.status_label = QLabel()
        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet(_ERROR_STYLE)
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_label.setVisible(False)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.load_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.load_button.setText("Load")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        file_row = QHBoxLayout()
        file_row.addWidget(self.path_label, 1)
        file_row.addWidget(self.choose_button)
        read_form = QFormLayout()
        read_form.addRow("Between fields", self.delimiter_combo)
        read_form.addRow("Header row", self.header_combo)
        test_row = QHBoxLayout()
        test_row.addWidget(self.test_path_edit, 1)
        test_row.addWidget(self.test_choose_button)
        data_form = QFormLayout()
        data_form.addRow("Target column", self.target_combo)
        data_form.addRow("", self.classes_check)
        data_form.addRow("Scaling", self.scaling_combo)
        data_form.addRow("Test fraction", self.test_fraction_spin)
        data_form.addRow("Split seed", self.seed_spin)
        data_form.addRow(self.test_file_check)
        data_form.addRow("Test file", test_row)
        layout = QVBoxLayout(self)
        layout.addLayout(file_row)
        layout.addLayout(read_form)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.detected_label)
        layout.addLayout(data_form)
        layout.addWidget(self.error_label)
        busy_row = QHBoxLayout()
        busy_row.addWidget(self.busy_bar, 1)
        busy_row.addWidget(self.status_label, 2)
        layout.addLayout(busy_row)
        layout.addWidget(self.buttons)

        if own is not None:
            self.delimiter_combo.setCurrentIndex(self.delimiter_combo.findData(own.delimiter))
            self.header_combo.setCurrentIndex(self.header_combo.findData(own.has_header))
            self.classes_check.setChecked(bool(own.target_is_class))
            if own.test_path:
                self.test_path_edit.setText(own.test_path)
                self.test_file_check.setChecked(True)
        self._wanted_target = own.target if own is not None else None
        self._on_test_file_toggled(self.test_file_check.isChecked())
        self._update_buttons()

    # --- public API ----------------------------------------------------------------

    def set_path(self, path) -> None:
        """Show ``path`` and read its preview (in the background)."""
        self.path = str(path)
        self.path_label.setText(self.path)
        self._reread()

    def is_busy(self) -> bool:
        return self.busy_bar.isVisible()

    def error_text(self) -> str:
        return self.error_label.text() if self.error_label.isVisible() else ""

    def select_target(self, column: str | int) -> None:
        """Choose the target column by name or index, as a user would in the combo."""
        index = column if isinstance(column, int) else self.target_combo.findText(column)
        if not 0 <= index < self.target_combo.count():
            raise ValueError(f"no column {column!r} in the preview")
        self.target_combo.setCurrentIndex(index)
        self._on_target_changed()

    def source(self) -> CsvSource:
        """The CsvSource the current choices describe."""
        table = self.table_info
        index = self.target_combo.currentIndex()
        name = table.columns[index]
        unique = table.has_header and table.columns.count(name) == 1
        numeric = table.kinds[index] == "number"
        return CsvSource(
            self.path, name if unique else index,
            delimiter=self.delimiter_combo.currentData(),
            has_header=self.header_combo.currentData(),
            target_is_class=True if numeric and self.classes_check.isChecked() else None,
            test_path=self.test_path_edit.text() or None if self.test_file_check.isChecked() else None)

    # --- reading --------------------------------------------------------------------

    def _choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a CSV file", self.path or "", CSV_FILTER)
        if path:
            self.set_path(path)

    def _choose_test_file(self) -> None:
        start = str(Path(self.path).parent) if self.path else ""
        path, _ = QFileDialog.getOpenFileName(self, "The test set: a CSV file with the same columns",
                                              start, CSV_FILTER)
        if path:
            self.test_path_edit.setText(path)
            self.test_file_check.setChecked(True)
        self._update_buttons()

    def _set_busy(self, text: str) -> int:
        self._generation += 1
        self.busy_bar.setVisible(bool(text))
        self.status_label.setText(text)
        self._update_buttons()
        return self._generation

    def _show_error(self, message: str) -> None:
        self.error_label.setText(message)
        self.error_label.setVisible(bool(message))

    def _reread(self) -> None:
        if not self.path:
            return
        path = self.path
        delimiter, header = self.delimiter_combo.currentData(), self.header_combo.currentData()
        generation = self._set_busy(f"Reading {Path(path).name}…")
        self._show_error("")

        def done(table: CsvTable) -> None:
            if generation == self._generation:
                self._set_busy("")
                self._show_table(table)

        def failed(message: str) -> None:
            if generation == self._generation:
                self._set_busy("")
                self.table_info = None
                self.table.clear()
                self.table.setRowCount(0)
                self.table.setColumnCount(0)
                self.target_combo.clear()
                self.detected_label.setText("")
                self._show_error(message)
                self._update_buttons()

        run_in_background(lambda: read_table(path, delimiter=delimiter, has_header=header),
                          done, failed)

    def _show_table(self, table: CsvTable) -> None:
        previous = self.target_combo.currentText() if self.table_info else None
        self.table_info = table
        self.table.clear()
        self.table.setColumnCount(len(table.columns))
        self.table.setRowCount(len(table.rows))
        self.table.setHorizontalHeaderLabels([f"{name}\n{kind}" for name, kind in
                                              zip(table.columns, table.kinds)])
        for i, row in enumerate(table.rows):
            for j, cell in enumerate(row):
                self.table.setItem(i, j, QTableWidgetItem(cell))
        self.table.resizeColumnsToContents()
        self.target_combo.clear()
        for name, kind in zip(table.columns, table.kinds):
            self.target_combo.addItem(name)
            self.target_combo.setItemData(self.target_combo.count() - 1, kind, Qt.ItemDataRole.ToolTipRole)
        wanted = self._wanted_target if self._wanted_target is not None else previous
        self._wanted_target = None
        index = (wanted if isinstance(wanted, int) and -len(table.columns) <= wanted < len(table.columns)
                 else self.target_combo.findText(wanted) if isinstance(wanted, str) else -1)
        self.target_combo.setCurrentIndex(index % len(table.columns) if index != -1 else len(table.columns) - 1)
        self.detected_label.setText(
            f"{table.n_rows:,} data rows, {len(table.columns)} columns; fields separated by a "
            f"{_DELIMITER_LABELS[table.delimiter]}; "
            f"{'a header row' if table.has_header else 'no header row'}. Kinds: "
            + ", ".join(f"{name} ({kind})" for name, kind in zip(table.columns, table.kinds)))
        self._on_target_changed()

    def _on_target_changed(self) -> None:
        table = self.table_info
        if table is not None and self.target_combo.currentIndex() >= 0:
            index = self.target_combo.currentIndex()
            numeric = table.kinds[index] == "number"
            self.classes_check.setEnabled(numeric)
            self.classes_check.setToolTip(
                "Numbers in the target column are class labels (0, 1, 2, …), not values to fit"
                if numeric else "A text target always gives classes")
            for j in range(self.table.columnCount()):
                item = self.table.horizontalHeaderItem(j)
                if item is not None:
                    font = QFont(item.font())
                    font.setBold(j == index)
                    item.setFont(font)
        self._update_buttons()

    def _on_test_file_toggled(self, on: bool) -> None:
        self.test_path_edit.setEnabled(on)
        self.test_choose_button.setEnabled(on)
        self.test_fraction_spin.setEnabled(not on)
        self._update_buttons()

    def _update_buttons(self) -> None:
        ready = (self.table_info is not None and not self.busy_bar.isVisible()
                 and self.target_combo.currentIndex() >= 0
                 and (not self.test_file_check.isChecked() or bool(self.test_path_edit.text())))
        self.load_button.setEnabled(ready)
        for widget in (self.delimiter_combo, self.header_combo, self.choose_button):
            widget.setEnabled(not self._loading)

    # --- loading --------------------------------------------------------------------

    def accept(self) -> None:  # the Load button: read the whole file, then close
        if not self.load_button.isEnabled():
            return
        source = self.source()
        scaling = self.scaling_combo.currentData()
        test_fraction = round(self.test_fraction_spin.value(), 4)
        seed = self.seed_spin.value()
        self._loading = True
        generation = self._set_busy(f"Loading {Path(source.path).name}…")
        self._show_error("")

        def done(dataset: Dataset) -> None:
            if generation != self._generation:
                return
            self._loading = False
            self._set_busy("")
            self.dataset_loaded.emit(CsvChoice(source, scaling, test_fraction, seed, dataset))
            super(CsvDialog, self).accept()

        def failed(message: str) -> None:
            if generation != self._generation:
                return
            self._loading = False
            self._set_busy("")
            self._show_error(message)

        run_in_background(lambda: source.load(scaling=scaling, test_fraction=test_fraction, seed=seed),
                          done, failed)

    def reject(self) -> None:
        self._generation += 1  # a load still running is forgotten
        self._loading = False
        super().reject()
