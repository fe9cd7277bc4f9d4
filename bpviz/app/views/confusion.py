"""Confusion matrices of the training and test data, live.

Rows are the true class, columns the predicted one. Each cell prints its count and
is tinted by its share of the row (blue on the diagonal: right; orange off it:
wrong), so a lecturer can point at the classes the network mixes up. Predictions
come from a snapshot's copied weights (one forward pass over the data, on a pool
thread: 50,000 MNIST-sized rows take ~0.6 s), at most CONFUSION_RATE_HZ times a
second and only when the weights changed.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPen
from PySide6.QtWidgets import QWidget

from bpviz import forward
from bpviz.app.views.throttle import SnapshotThrottle

CONFUSION_RATE_HZ = 4
RIGHT = np.array([8.0, 119.0, 189.0])     # Playground blue
WRONG = np.array([230.0, 97.0, 0.0])      # a deep orange
WHITE = np.array([255.0, 255.0, 255.0])
TEXT = QColor(20, 20, 20)
GRID = QColor(150, 150, 150)
ZERO = QColor(190, 190, 190)
TITLE_POINT_SIZE = 14
LABEL_POINT_SIZE = 12
PADDING = 10
MAX_COUNT_POINT_SIZE = 22.0


def cell_colour(fraction: float, diagonal: bool) -> QColor:
    """Tint of a cell holding ``fraction`` of its row."""
    rgb = WHITE + ((RIGHT if diagonal else WRONG) - WHITE) * float(np.clip(fraction, 0.0, 1.0))
    return QColor(*np.rint(rgb).astype(int))


class ConfusionView(QWidget):
    """Train and test confusion matrices (test only when there is a test set)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setMinimumSize(240, 160)
        self._dataset = None
        self._counts: dict[str, np.ndarray] = {}
        self._throttle = SnapshotThrottle(self._count, CONFUSION_RATE_HZ, self, deliver=self._show_counts)
        self._title_font = QFont()
        self._title_font.setPointSizeF(TITLE_POINT_SIZE)
        self._title_font.setBold(True)
        self._label_font = QFont()
        self._label_font.setPointSizeF(LABEL_POINT_SIZE)

    # --- public API ---------------------------------------------------------------

    def set_dataset(self, dataset) -> None:
        self._dataset = dataset
        self._counts = {}
        self._throttle.cancel()
        self.update()

    def show_snapshot(self, snapshot) -> None:
        if self._dataset is None or not self._dataset.is_classification:
            return
        if self.isVisible():
            self._throttle.submit(snapshot)
        else:
            self._throttle.hold(snapshot)

    def flush(self) -> None:
        """Start counting the latest snapshot now; ``counting()`` is True until it is shown."""
        self._throttle.flush()

    def counting(self) -> bool:
        return self._throttle.running()

    # --- read-only accessors (tests) ------------------------------------------------

    def counts(self, part: str) -> np.ndarray | None:
        """(n_classes, n_classes) counts for "train" or "test"; rows true, columns predicted."""
        return self._counts.get(part)

    def parts(self) -> list[str]:
        return list(self._counts)

    def note_text(self) -> str:
        d = self._dataset
        if d is None:
            return "No data yet."
        if not d.is_classification:
            return f"{d.name} is a regression set: there are no classes to confuse."
        if not self._counts:
            return "Waiting for the network…"
        return ""

    # --- Qt overrides -----------------------------------------------------------------

    def showEvent(self, event):  # noqa: N802 - Qt override
        super().showEvent(event)
        self._throttle.resubmit_if_stale()

    def paintEvent(self, event):  # noqa: N802 - Qt override
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(255, 255, 255))
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        note = self.note_text()
        if note:
            p.setFont(self._title_font)
            p.setPen(QColor(90, 90, 90))
            p.drawText(QRectF(self.rect()).adjusted(20, 20, -20, -20),
                       Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, note)
            return
        panels = self._panels()
        cell = min(self._geometry(rect, labels)[0] for rect, labels in panels)  # one size for all
        for part, (rect, labels) in zip(self._counts, panels):
            self._paint_matrix(p, rect, part, labels, cell)

    # --- internals --------------------------------------------------------------------

    def _count(self, snapshot) -> Callable[[], tuple[object, dict[str, np.ndarray]]]:
        """The work for a pool thread: (this data set, {part: counts})."""
        d = self._dataset

        def work() -> tuple[object, dict[str, np.ndarray]]:
            n_classes = len(d.class_names)
            counts = {}
            for part, X, T in (("train", d.X_train, d.T_train), ("test", d.X_test, d.T_test)):
                if len(X):
                    predicted = d.labels(forward.snapshot_outputs(snapshot, X))
                    counts[part] = forward.confusion_matrix(d.labels(T), predicted, n_classes)
            return d, counts

        return work

    def _show_counts(self, counted: tuple[object, dict[str, np.ndarray]]) -> None:
        dataset, counts = counted
        if dataset is not self._dataset:
            return  # counted for data that has been replaced since
        # Late in training the counts rarely change; skip the repaint then.
        if counts.keys() != self._counts.keys() or any(
                not np.array_equal(counts[part], self._counts[part]) for part in counts):
            self._counts = counts
            self.update()

    def _panels(self) -> list[tuple[QRectF, bool]]:
        """(rectangle, with row labels) per matrix: side by side, where the second
        shares the first's row labels, or stacked; whichever gives bigger cells."""
        n = len(self._counts)
        w, h = float(self.width()), float(self.height())
        stacked = [(QRectF(0, i * h / n, w, h / n), True) for i in range(n)]
        if n == 1:
            return stacked
        k = len(self._dataset.class_names)
        labels_w = self._labels_width(QRectF(0, 0, w / 2, h))
        split = (w - labels_w) / 2 + labels_w   # equal room for the two grids
        beside = [(QRectF(0, 0, split, h), True), (QRectF(split, 0, w - split, h), False)]
        pad = lambda panels: [(r.adjusted(PADDING, PADDING / 2, -PADDING, -PADDING / 2), lab)  # noqa: E731
                              for r, lab in panels]
        stacked, beside = pad(stacked), pad(beside)
        cells = [min(self._geometry(r, lab)[0] for r, lab in panels) for panels in (beside, stacked)]
        return beside if cells[0] >= cells[1] or k == 0 else stacked

    def _labels_width(self, rect: QRectF) -> float:
        """Room for the rotated "true →" and the row names left of a grid."""
        lfm = QFontMetricsF(self._label_font)
        names = self._dataset.class_names
        return lfm.height() + 4 + min(max(lfm.horizontalAdvance(n) for n in names) + 10, 0.35 * rect.width())

    def _geometry(self, rect: QRectF, labels: bool = True) -> tuple[float, float, float, float, float]:
        """(cell, x0, y0, top, row_label_width) of a matrix drawn in ``rect``."""
        k = len(self._dataset.class_names)
        tfm, lfm = QFontMetricsF(self._title_font), QFontMetricsF(self._label_font)
        left = self._labels_width(rect) if labels else 0.0
        row_label_w = left - lfm.height() - 4 if labels else 0.0
        head_h = 2 * lfm.height() + 4   # "predicted →" and the column names
        top = rect.top() + tfm.height() + 4
        cell = min((rect.width() - left) / k, (rect.bottom() - top - head_h) / k)
        return cell, rect.left() + left, top + head_h, top, row_label_w

    def _paint_matrix(self, p: QPainter, rect: QRectF, part: str, labels: bool, cell: float) -> None:
        counts = self._counts[part]
        names = self._dataset.class_names
        k = len(names)
        total = int(counts.sum())
        right = int(np.trace(counts))
        _, x0, y0, top, row_label_w = self._geometry(rect, labels)
        tfm, lfm = QFontMetricsF(self._title_font), QFontMetricsF(self._label_font)
        title = f"{part.capitalize()} {right}/{total} · {right / max(total, 1):.1%}"
        p.setFont(self._title_font)
        p.setPen(TEXT)
        p.drawText(QRectF(rect.left(), rect.top(), rect.width(), tfm.height()),
                   Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                   tfm.elidedText(title, Qt.TextElideMode.ElideRight, rect.width()))
        if cell < 4:
            return

        p.setFont(self._label_font)
        p.setPen(QColor(80, 80, 80))
        p.drawText(QRectF(x0, top, k * cell, lfm.height()), Qt.AlignmentFlag.AlignCenter, "predicted →")
        if labels:
            p.save()
            p.translate(rect.left(), y0 + k * cell / 2)
            p.rotate(-90)
            p.drawText(QRectF(-k * cell / 2, 0, k * cell, lfm.height()), Qt.AlignmentFlag.AlignCenter, "true →")
            p.restore()
        p.setPen(TEXT)
        for i, name in enumerate(names):
            shown = lfm.elidedText(name, Qt.TextElideMode.ElideRight, cell - 2)
            p.drawText(QRectF(x0 + i * cell, top + lfm.height() + 2, cell, lfm.height()),
                       Qt.AlignmentFlag.AlignCenter, shown)
            if labels:
                shown = lfm.elidedText(name, Qt.TextElideMode.ElideRight, row_label_w - 8)
                p.drawText(QRectF(x0 - row_label_w, y0 + i * cell, row_label_w - 8, cell),
                           Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, shown)

        p.setFont(self._count_font(str(int(counts.max())), cell))
        rows = counts.sum(axis=1)
        grid_pen = QPen(GRID, 1)
        for i in range(k):
            for j in range(k):
                fraction = counts[i, j] / rows[i] if rows[i] else 0.0
                cell_rect = QRectF(x0 + j * cell, y0 + i * cell, cell, cell)
                p.setPen(grid_pen)
                p.setBrush(cell_colour(fraction, i == j))
                p.drawRect(cell_rect)
                # Zeros recede, so the mistakes stand out.
                p.setPen(QColor(255, 255, 255) if fraction > 0.55 else TEXT if counts[i, j] else ZERO)
                p.drawText(cell_rect, Qt.AlignmentFlag.AlignCenter, str(int(counts[i, j])))

    def _count_font(self, widest: str, cell: float) -> QFont:
        """A bold font in which the widest count fills at most ~70 % of a cell."""
        font = QFont(self._label_font)
        font.setBold(True)
        font.setPointSizeF(MAX_COUNT_POINT_SIZE)
        fm = QFontMetricsF(font)
        fit = min(0.7 * cell / max(fm.horizontalAdvance(widest), 1.0), 0.6 * cell / fm.height())
        font.setPointSizeF(float(np.clip(MAX_COUNT_POINT_SIZE * min(fit, 1.0), 6.0, MAX_COUNT_POINT_SIZE)))
        return font
