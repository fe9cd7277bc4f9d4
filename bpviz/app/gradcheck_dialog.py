"""The gradient-check dialog: backpropagation against central differences, per layer.

It checks a copy of the network built from a snapshot's weights (never the network
being trained) on a few training rows and shows, as in the classic
gradient-checking tutorial, each layer's relative error
‖g_bp − g_num‖ / (‖g_bp‖ + ‖g_num‖) with PASS or FAIL, and the entry-wise figures
beside it. Small networks are checked at once; larger ones on a Python thread so the
window stays responsive (two loss evaluations per parameter add up).
"""

from __future__ import annotations

import threading
import time

import numpy as np
from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView, QDialog, QDialogButtonBox, QHeaderView, QLabel, QTableWidget, QTableWidgetItem,
    QVBoxLayout,
)

from bpviz import forward
from bpviz.cli import GRADCHECK_THRESHOLD
from bpviz.engine.gradcheck import LayerCheck, gradcheck
from bpviz.errors import BpvizError

N_ROWS = 5
# About 90 µs per parameter on a few rows: below this many it takes under ~0.1 s.
SYNC_PARAMS = 1_000
MAX_PARAMS = 100_000
PASS_COLOUR = "#00875a"
FAIL_COLOUR = "#c23b00"
COLUMNS = ("weights", "relative error", "result", "largest entry-wise\nrel. error (W)",
           "largest entry-wise\nrel. error (b)", "largest\n|difference|")


def check_rows(n_train: int, n_rows: int = N_ROWS) -> np.ndarray:
    """Row indices spread over the training set, so a class-sorted set gives every class."""
    return np.unique(np.linspace(0, n_train - 1, min(n_rows, n_train)).round().astype(int))


class _Relay(QObject):
    """Carries the result from the checking thread to the GUI thread (queued)."""

    finished = Signal(object)


class GradcheckDialog(QDialog):
    """Runs the check on construction; ``checks()`` holds the result when done."""

    check_done = Signal()

    def __init__(self, snapshot, dataset, loss: str, reduction: str, parent=None,
                 n_rows: int = N_ROWS, threshold: float = GRADCHECK_THRESHOLD):
        super().__init__(parent)
        self.setWindowTitle("Gradient check")
        self.setModal(False)
        self.resize(980, 420)
        self.threshold = threshold
        self._checks: list[LayerCheck] | None = None
        self._error: str | None = None
        self._relay = _Relay(self)
        self._relay.finished.connect(self._on_finished, Qt.ConnectionType.QueuedConnection)
        if parent is not None:
            parent.installEventFilter(self)  # close with the window, not linger after it

        big = QFont()
        big.setPointSizeF(13)
        self._intro = QLabel()
        self._intro.setWordWrap(True)
        self._intro.setFont(big)
        self._table = QTableWidget(0, len(COLUMNS))
        self._table.setHorizontalHeaderLabels(COLUMNS)
        self._table.verticalHeader().hide()
        self._table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self._table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self._table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self._table.setFont(big)
        self._table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self._verdict = QLabel("Checking…")
        verdict_font = QFont(big)
        verdict_font.setPointSizeF(16)
        verdict_font.setBold(True)
        self._verdict.setFont(verdict_font)
        self._verdict.setWordWrap(True)
        guide = QLabel(
            "Rule of thumb for the relative error: below 1e-7 the gradient is right; up to 1e-4 "
            "it is suspicious, unless the network has kinks (ReLU) near the checked points; "
            "above 1e-2 it is wrong. The entry-wise figures only inform: an entry that is tiny "
            "next to the rounding noise of the differences can show a large relative error.")
        guide.setWordWrap(True)
        guide.setStyleSheet("color: #444;")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(self._intro)
        layout.addWidget(self._table, 1)
        layout.addWidget(self._verdict)
        layout.addWidget(guide)
        layout.addWidget(buttons)
        self._start(snapshot, dataset, loss, reduction, n_rows)

    # --- read-only accessors (tests) ------------------------------------------------

    def checks(self) -> list[LayerCheck] | None:
        return self._checks

    def is_done(self) -> bool:
        return self._checks is not None or self._error is not None

    def passed(self) -> bool | None:
        if self._checks is None:
            return None
        return all(c.rel_error < self.threshold for c in self._checks)

    def verdict_text(self) -> str:
        return self._verdict.text()

    def cell_text(self, row: int, column: int) -> str:
        item = self._table.item(row, column)
        return "" if item is None else item.text()

    def row_count(self) -> int:
        return self._table.rowCount()

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt override
        if obj is self.parent() and event.type() == QEvent.Type.Close:
            self.close()
        return False

    # --- internals --------------------------------------------------------------------

    def _start(self, snapshot, dataset, loss, reduction, n_rows) -> None:
        try:
            net = forward.network_from_snapshot(snapshot, loss, reduction)
        except BpvizError as exc:
            self._fail(str(exc))
            return
        n_params = net.n_params()
        if n_params > MAX_PARAMS:
            self._fail(f"This network has {n_params:,} parameters; checking each by central "
                       f"differences here would take minutes. Check a smaller network, or use "
                       f"'python -m bpviz gradcheck' on the command line.")
            return
        rows = check_rows(dataset.n_train, n_rows)
        X, T = dataset.X_train[rows], dataset.T_train[rows]
        where = "the initial weights" if snapshot.step == 0 else f"the weights after step {snapshot.step:,}"
        self._intro.setText(
            f"Backpropagation's gradient of every weight and bias against the central difference "
            f"(L(θ+ε) − L(θ−ε)) / 2ε, on {len(rows)} training rows of {dataset.name}, at {where}. "
            f"A copy of the {'-'.join(map(str, snapshot.sizes))} network is checked "
            f"({n_params:,} parameters, {loss} loss); training is not touched.")
        if n_params <= SYNC_PARAMS:
            self._on_finished(self._run(net, X, T))
            return
        self._verdict.setText(f"Checking {n_params:,} parameters…")
        threading.Thread(target=self._run_in_thread, args=(net, X, T), daemon=True,
                         name="bpviz-gradcheck").start()

    @staticmethod
    def _run(net, X, T):
        started = time.perf_counter()
        try:
            return gradcheck(net, X, T), time.perf_counter() - started
        except BpvizError as exc:
            return str(exc), 0.0

    def _run_in_thread(self, net, X, T) -> None:
        result = self._run(net, X, T)
        try:
            self._relay.finished.emit(result)
        except RuntimeError:  # the dialog was closed and deleted meanwhile
            pass

    def _fail(self, message: str) -> None:
        self._error = message
        self._verdict.setText(message)
        self._verdict.setStyleSheet(f"color: {FAIL_COLOUR};")
        self.check_done.emit()

    def _on_finished(self, result) -> None:
        checks, seconds = result
        if isinstance(checks, str):
            self._fail(checks)
            return
        self._checks = checks
        self._table.setRowCount(len(checks))
        for row, c in enumerate(checks):
            ok = c.rel_error < self.threshold
            biases = "—" if c.max_rel_error_biases is None else f"{c.max_rel_error_biases:.2e}"
            texts = (f"layer {c.layer - 1} → {c.layer}", f"{c.rel_error:.2e}", "PASS" if ok else "FAIL",
                     f"{c.max_rel_error_weights:.2e}", biases, f"{c.max_abs_error:.1e}")
            for column, text in enumerate(texts):
                item = QTableWidgetItem(text)
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                if column == 2:
                    item.setForeground(QColor(PASS_COLOUR if ok else FAIL_COLOUR))
                    font = item.font()
                    font.setBold(True)
                    item.setFont(font)
                self._table.setItem(row, column, item)
        self._table.resizeRowsToContents()
        worst = max(c.rel_error for c in checks)
        passed = self.passed()
        self._verdict.setText(
            f"{'PASS' if passed else 'FAIL'}: the largest relative error, {worst:.2e}, is "
            f"{'below' if passed else 'not below'} {self.threshold:g}  ({seconds:.2f} s)")
        self._verdict.setStyleSheet(f"color: {PASS_COLOUR if passed else FAIL_COLOUR};")
        self.check_done.emit()
