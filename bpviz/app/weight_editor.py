"""Setting a weight or bias by hand: the dialog, and the window's lecture-mode wiring.

``ParameterDialog`` asks for one number and refuses text that is not a finite
number, with a message. ``LectureMode`` connects the network view, the inspector
and the worker: clicks select, double-clicks (or "Edit…") open the dialog, the
value goes to the worker as a command; it also adds File ▸ Load weights… and the
step exports. The worker applies every change between steps and publishes a
fresh preview, so the window never writes into the arrays it is training.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import (
    QDialog, QDialogButtonBox, QDockWidget, QFileDialog, QLabel, QMenu, QVBoxLayout, QWidget,
)

from bpviz import step_table
from bpviz.app.widgets import ParsedLineEdit, number_parser
from bpviz.app.views.inspector import Inspector, equation_font
from bpviz.equations import RunInfo
from bpviz.errors import BpvizError
from bpviz.snapshot import Snapshot


EQUATIONS_HEIGHT = 330


class ParameterDialog(QDialog):
    """One number for one parameter; ``value()`` after ``accepted``."""

    def __init__(self, description: str, current: float, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Set a parameter")
        self.setMinimumWidth(460)
        self._value: float | None = None
        self.field = ParsedLineEdit(number_parser("the new value"))
        self.field.set_value(float(current))
        self.field.setFont(equation_font(14))
        self.field.selectAll()
        self.message = QLabel()
        self.message.setStyleSheet("color: #b00000;")
        self.message.setWordWrap(True)
        self.field.problem_changed.connect(self.message.setText)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self._on_ok)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        label = QLabel(f"{description}\nnow {current!r}")
        label.setWordWrap(True)
        layout.addWidget(label)
        layout.addWidget(self.field)
        layout.addWidget(self.message)
        layout.addWidget(buttons)

    def value(self) -> float | None:
        return self._value

    def _on_ok(self) -> None:
        try:
            self._value = number_parser("the new value")(self.field.text())
        except BpvizError as exc:
            self.field.set_problem(str(exc))
            self.field.setFocus()
            return
        self.accept()


def describe(kind: str, k: int, i: int, j: int) -> str:
    """The view's indices, and the matrix name of the weight files (W1, b1: 1-based)."""
    if kind == "bias":
        return f"bias b[{k}][{j}] of layer {k + 1}, node {j}  (b{k + 1} in weight files)"
    return f"weight w[{k}][{i}, {j}]: layer {k} node {i} → layer {k + 1} node {j}  (W{k + 1} in weight files)"


class LectureMode(QObject):
    """The inspector's wiring in a MainWindow (which owns ``inspector``)."""

    def __init__(self, window, inspector: Inspector) -> None:
        super().__init__(window)
        self.window, self.inspector = window, inspector
        self.edit_dialog: ParameterDialog | None = None
        self._settings = None
        self._learning_rate: float | None = None
        # The equations sit under the network, as wide as it is; the side docks keep
        # their full height. The dock opens at the first click on a node or edge.
        window.setCorner(Qt.Corner.BottomLeftCorner, Qt.DockWidgetArea.LeftDockWidgetArea)
        window.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)
        self._dock_sized = False
        if self._dock() is not None:
            self._dock().hide()
        view = window.network_view
        view.node_clicked.connect(self._on_node_clicked)
        view.edge_clicked.connect(self._on_edge_clicked)
        view.node_double_clicked.connect(self._on_node_double_clicked)
        view.edge_double_clicked.connect(self._on_edge_double_clicked)
        inspector.edit_requested.connect(self.edit)
        window.snapshot_shown.connect(self._on_snapshot_shown)
        window.controls.learning_rate_changed.connect(self._on_learning_rate_changed)
        window.worker.command_failed.connect(self._on_command_failed)

    def add_file_actions(self, menu: QMenu) -> None:
        window = self.window
        self.load_weights_action = window._action("Load weights…", self._ask_load_weights, tip=(
            "Set every weight and bias from a weights file (.json or .npz, as exported)"))
        self.export_csv_action = window._action("Export step as CSV…", self._ask_export_csv, tip=(
            "Every a, z, δ, w, ∂L/∂w and Δw of the shown step, exact"))
        self.export_latex_action = window._action("Export step as LaTeX…", self._ask_export_latex, tip=(
            "A LaTeX table of the shown step, with the inspector's decimals"))
        for action in (self.load_weights_action, self.export_csv_action, self.export_latex_action):
            menu.addAction(action)

    # --------------------------------------------------------------- commands
    def edit(self, kind: str, k: int, i: int, j: int) -> None:
        """Open the dialog for weights[k][i, j] or biases[k][j]; OK sends it to the worker."""
        snap = self.window.last_snapshot
        if snap is None:
            return
        current = snap.biases[k][j] if kind == "bias" else snap.weights[k][i, j]
        dialog = ParameterDialog(describe(kind, k, i, j), float(current), self.window)
        dialog.accepted.connect(lambda: self.window.worker.set_parameter(kind, k, i, j, dialog.value()))
        self.edit_dialog = dialog
        dialog.open()

    def load_weights(self, path) -> None:
        self.window.worker.load_weights(path)

    def export_csv(self, path) -> Snapshot:
        """Write the shown step's table; returns the snapshot written."""
        snap = self.window.last_snapshot
        if snap is None:
            raise BpvizError("there is no step to export yet")
        step_table.export_csv(path, snap)
        return snap

    def export_latex(self, path) -> Snapshot:
        """Write the shown step (the inspector's scope) as LaTeX; returns the snapshot written."""
        snap = self.window.last_snapshot
        if snap is None:
            raise BpvizError("there is no step to export yet")
        step_table.export_latex(path, snap, self.inspector.latex_scope(), self.inspector.precision())
        return snap

    # ------------------------------------------------------------------ slots
    def _dock(self) -> QDockWidget | None:
        dock = self.inspector.parentWidget()
        while dock is not None and not isinstance(dock, QDockWidget):
            dock = dock.parentWidget()
        return dock

    def _raise_inspector(self) -> None:
        dock = self._dock()
        if dock is not None:
            dock.show()
            dock.raise_()
            if not self._dock_sized:
                self._dock_sized = True
                self.window.resizeDocks([dock], [EQUATIONS_HEIGHT], Qt.Orientation.Vertical)

    def _on_node_clicked(self, layer: int, i: int) -> None:
        self.inspector.show_node(layer, i)
        self._raise_inspector()

    def _on_edge_clicked(self, k: int, i: int, j: int) -> None:
        self.inspector.show_edge(k, i, j)
        self._raise_inspector()

    def _on_node_double_clicked(self, layer: int, i: int) -> None:
        snap = self.window.last_snapshot
        if snap is None:
            return
        if layer == 0:
            self.window.statusBar().showMessage("An input node has no bias; its value comes from the data.", 6000)
        elif not snap.has_bias:
            self.window.statusBar().showMessage("This network has no biases.", 6000)
        else:
            self.edit("bias", layer - 1, 0, i)

    def _on_edge_double_clicked(self, k: int, i: int, j: int) -> None:
        snap = self.window.last_snapshot
        if snap is None:
            return
        if i == snap.sizes[k]:
            self.edit("bias", k, 0, j)
        else:
            self.edit("weight", k, i, j)

    def _on_learning_rate_changed(self, learning_rate: float) -> None:
        self._learning_rate = float(learning_rate)
        self._update_run_info()

    def _on_snapshot_shown(self, snapshot) -> None:
        if self.window.settings is not self._settings:
            self._settings, self._learning_rate = self.window.settings, None
            self.inspector.set_dataset(self.window.dataset)
        self._update_run_info()
        self.inspector.show_snapshot(snapshot)

    def _update_run_info(self) -> None:
        settings, dataset = self.window.settings, self.window.dataset
        if settings is not None and dataset is not None:
            self.inspector.set_run_info(RunInfo.from_settings(settings, dataset.n_train, self._learning_rate))

    def _on_command_failed(self, message: str) -> None:
        self.window.show_error("The weights were not changed", message)

    # ------------------------------------------------------------ file dialogs
    def _ask_load_weights(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.window, "Load weights", "",
                                              "Weights (*.json *.npz);;All files (*)")
        if path:
            self.load_weights(path)

    def _ask_export(self, title: str, suffix: str, name_filter: str, export) -> None:
        path, _ = QFileDialog.getSaveFileName(self.window, title, f"step{suffix}", name_filter)
        if not path:
            return
        try:
            snap = export(path)
        except BpvizError as exc:
            self.window.show_error("Export failed", str(exc))
            return
        message = step_table.with_gaps(f"Saved {path}", snap)
        self.window.statusBar().showMessage(message, 6000 if message == f"Saved {path}" else 15000)

    def _ask_export_csv(self) -> None:
        self._ask_export("Export step as CSV", ".csv", "CSV (*.csv)", self.export_csv)

    def _ask_export_latex(self) -> None:
        self._ask_export("Export step as LaTeX", ".tex", "LaTeX (*.tex)", self.export_latex)
