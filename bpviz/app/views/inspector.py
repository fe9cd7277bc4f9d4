"""Inspector: the equations of the clicked node or edge, with this step's numbers.

The text comes from :mod:`bpviz.equations` (one equation per line, in a large
monospace font that a projector carries to the back row); the precision spin box
sets the decimals of every number shown. Buttons copy the step's numbers as CSV
(everything, exact) or as a LaTeX table (:mod:`bpviz.step_table`), and "Edit…"
asks to change the selected weight or bias (``edit_requested``).
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QFont, QFontDatabase, QFontMetricsF, QGuiApplication
from PySide6.QtWidgets import (
    QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QSpinBox, QVBoxLayout, QWidget,
)

from bpviz import equations, step_table
from bpviz.equations import RunInfo
from bpviz.snapshot import Snapshot

EQUATION_POINT_SIZE = 15
HINT = ("Click a node or an edge in the network to see its equations with the "
        "numbers of this step.\n\nDouble-click one (or press Edit…) to set a weight "
        "or bias by hand.")


def equation_font(point_size: float = EQUATION_POINT_SIZE) -> QFont:
    font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
    for family in ("DejaVu Sans Mono", "Menlo", "Consolas"):
        if family in QFontDatabase.families():
            font = QFont(family)
            break
    font.setStyleHint(QFont.StyleHint.Monospace)
    font.setPointSizeF(point_size)
    return font


class Inspector(QWidget):
    """Shows ``equations.node_panel`` / ``edge_panel`` for the selection and the
    latest snapshot. ``edit_requested(kind, k, i, j)``: kind "weight" (weights[k][i, j])
    or "bias" (biases[k][j])."""

    edit_requested = Signal(str, int, int, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._snap: Snapshot | None = None
        self._info = RunInfo()
        self._selection: tuple | None = None
        self._in_names = self._out_names = None

        self.title = QLabel()
        self.title.setWordWrap(True)
        title_font = QFont(self.title.font())
        title_font.setPointSizeF(title_font.pointSizeF() * 1.25)
        title_font.setBold(True)
        self.title.setFont(title_font)

        self.precision_box = QSpinBox()
        self.precision_box.setRange(equations.MIN_PRECISION, equations.MAX_PRECISION)
        self.precision_box.setValue(equations.DEFAULT_PRECISION)
        self.precision_box.setSuffix(" decimals")
        self.precision_box.setToolTip("Decimals of every number in the equations and the LaTeX table")
        self.precision_box.valueChanged.connect(self._refresh)
        self.edit_button = QPushButton("Edit…")
        self.edit_button.setToolTip("Set the selected weight (or the selected node's bias) by hand")
        self.edit_button.clicked.connect(self._on_edit_clicked)
        self.csv_button = QPushButton("Copy as CSV")
        self.csv_button.setToolTip("Copy every a, z, δ, w, ∂L/∂w and Δw of this step, exact, as CSV")
        self.csv_button.clicked.connect(self.copy_csv)
        self.latex_button = QPushButton("Copy as LaTeX")
        self.latex_button.setToolTip("Copy a LaTeX (booktabs) table of this step: the whole network "
                                     "when it fits a slide, else the selection")
        self.latex_button.clicked.connect(self.copy_latex)
        self.note = QLabel()
        self.note.setWordWrap(True)

        self.body = QPlainTextEdit()
        self.body.setReadOnly(True)
        self.body.setFont(equation_font())
        self.body.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.body.setPlainText(HINT)

        row = QHBoxLayout()
        row.addWidget(self.precision_box)
        row.addWidget(self.edit_button)
        row.addStretch(1)
        row.addWidget(self.csv_button)
        row.addWidget(self.latex_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addLayout(row)
        layout.addWidget(self.body, 1)
        layout.addWidget(self.note)
        self._refresh()

    # ------------------------------------------------------------------ input
    def set_dataset(self, dataset) -> None:
        self._in_names = None if dataset is None else dataset.feature_names
        self._out_names = None if dataset is None else dataset.target_names
        self._selection = None
        self._refresh()

    def set_run_info(self, info: RunInfo) -> None:
        if info != self._info:
            self._info = info
            self._refresh()

    def show_snapshot(self, snapshot: Snapshot) -> None:
        if self._snap is not None and snapshot.sizes != self._snap.sizes:
            self._selection = None
        self._snap = snapshot
        self._refresh()

    def show_node(self, layer: int, index: int) -> None:
        self._selection = ("node", int(layer), int(index))
        self._refresh()

    def show_edge(self, k: int, i: int, j: int) -> None:
        self._selection = ("edge", int(k), int(i), int(j))
        self._refresh()

    def set_precision(self, decimals: int) -> None:
        self.precision_box.setValue(int(decimals))

    # ------------------------------------------------------------------ output
    def precision(self) -> int:
        return self.precision_box.value()

    def selection(self) -> tuple | None:
        """("node", layer, i), ("edge", k, i, j) or None."""
        return self._selection

    def text(self) -> str:
        """The title and the equations as shown."""
        return f"{self.title.text()}\n{self.body.toPlainText()}"

    def panel(self) -> equations.Panel | None:
        snap, sel = self._snap, self._selection
        if snap is None or sel is None:
            return None
        p = self.precision()
        if sel[0] == "node":
            return equations.node_panel(snap, self._info, sel[1], sel[2], p, self._in_names, self._out_names)
        return equations.edge_panel(snap, self._info, sel[1], sel[2], sel[3], p, self._in_names, self._out_names)

    def edit_target(self) -> tuple[str, int, int, int] | None:
        """What "Edit…" changes: ("weight", k, i, j) or ("bias", k, 0, j); None if nothing."""
        snap, sel = self._snap, self._selection
        if snap is None or sel is None:
            return None
        if sel[0] == "node":
            _, layer, i = sel
            return ("bias", layer - 1, 0, i) if layer > 0 and snap.has_bias else None
        _, k, i, j = sel
        if i == snap.sizes[k]:
            return ("bias", k, 0, j) if snap.has_bias else None
        return ("weight", k, i, j)

    def latex_scope(self) -> step_table.Scope:
        snap, sel = self._snap, self._selection
        if snap is None or step_table.fits_slide(snap):
            return step_table.Scope("all")
        if sel is None:
            return step_table.Scope("layer", snap.n_layers - 1)
        if sel[0] == "node":
            return step_table.Scope("node", sel[1], sel[2])
        return step_table.Scope("edge", sel[1], sel[2], sel[3])

    def csv_text(self) -> str:
        return "" if self._snap is None else step_table.to_csv(self._snap)

    def latex_text(self) -> str:
        if self._snap is None:
            return ""
        return step_table.to_latex(self._snap, self.latex_scope(), self.precision())

    def copy_csv(self) -> None:
        text = self.csv_text()
        if text:
            QGuiApplication.clipboard().setText(text)
            self.note.setText(step_table.with_gaps(f"Copied {text.count(chr(10)) - 1:,} rows of CSV", self._snap))

    def copy_latex(self) -> None:
        text = self.latex_text()
        if text:
            QGuiApplication.clipboard().setText(text)
            scope = self.latex_scope().kind
            self.note.setText(step_table.with_gaps("Copied a LaTeX table of "
                                         + ("the whole network" if scope == "all" else f"the {scope}"), self._snap))

    # ------------------------------------------------------------------ internals
    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        self._refresh()

    def _width(self) -> int:
        """How many characters fit on a line of the body."""
        advance = QFontMetricsF(self.body.font()).horizontalAdvance("0")
        return max(30, int((self.body.viewport().width() - 12) / advance))

    def _on_edit_clicked(self) -> None:
        target = self.edit_target()
        if target is not None:
            self.edit_requested.emit(*target)

    def _refresh(self) -> None:
        panel = self.panel()
        has_snap = self._snap is not None
        for button in (self.csv_button, self.latex_button):
            button.setEnabled(has_snap)
        self.edit_button.setEnabled(self.edit_target() is not None)
        if panel is None:
            title, body = "Equations", HINT
        else:
            title, body = panel.title, panel.body(self._width())
        if self.title.text() != title:
            self.title.setText(title)
        if self.body.toPlainText() != body:
            scroll = self.body.verticalScrollBar().value()
            self.body.setPlainText(body)
            self.body.verticalScrollBar().setValue(scroll)

