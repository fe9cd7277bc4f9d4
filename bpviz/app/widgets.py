"""Reusable input widgets: a line edit that checks its text as the user types but
hands on only parsed values, a logarithmic slider, number parsers with messages
written for people, and small helpers for combos and spin boxes."""

from __future__ import annotations

import math
from typing import Any, Callable

from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QComboBox, QLineEdit, QSlider, QSpinBox, QWidget

from bpviz.errors import BpvizError

INVALID_STYLE = "background-color: #ffd8d8; border: 2px solid #c00000;"

Parser = Callable[[str], Any]


def format_number(value: int | float | None) -> str:
    """Text that parses back to exactly ``value`` ('' for None)."""
    if value is None:
        return ""
    return repr(value) if isinstance(value, float) else str(value)


def number_parser(what: str, *, whole: bool = False, low: float | None = None,
                  high: float | None = None, low_open: bool = False,
                  optional: bool = False) -> Parser:
    """A parser for one number: ``what`` names it in messages ("the noise").

    whole: only whole numbers; low/high: inclusive bounds (``low_open`` makes the
    lower bound exclusive); optional: empty text means None ("use the default").
    """
    def parse(text: str):
        text = text.strip()
        if not text:
            if optional:
                return None
            raise BpvizError(f"{what} is empty; type a number")
        try:
            value = float(text)
        except ValueError:
            raise BpvizError(f"'{text}' is not a number") from None
        if not math.isfinite(value):
            raise BpvizError(f"{what} must be a finite number, got '{text}'")
        if whole:
            if not value.is_integer():
                raise BpvizError(f"'{text}' is not a whole number")
            value = int(value)
        too_low = low is not None and (value <= low if low_open else value < low)
        too_high = high is not None and value > high
        if too_low or too_high:
            if low is not None and high is not None:
                bound = f"above {low:g}" if low_open else f"at least {low:g}"
                raise BpvizError(f"{what} must be {bound} and at most {high:g}, got {text}")
            if low is not None:
                raise BpvizError(f"{what} must be {'above' if low_open else 'at least'} {low:g}, got {text}")
            raise BpvizError(f"{what} must be at most {high:g}, got {text}")
        return value
    return parse


class ParsedLineEdit(QLineEdit):
    """A line edit whose text goes through ``parse`` (which raises BpvizError).

    While the user types, the field turns red and ``problem_changed`` carries the
    message when the text does not parse ('' once it does). On Enter or focus-out
    a parsable text is handed on as ``committed(value)``; bad text is never handed
    on. Escape puts back the last value shown with ``set_value``.
    """

    problem_changed = Signal(str)
    committed = Signal(object)

    def __init__(self, parse: Parser, format: Callable[[Any], str] = format_number,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._parse = parse
        self._format = format
        self._shown = ""
        self._committed = ""
        self._problem = ""
        self.textEdited.connect(self._on_text_edited)
        self.returnPressed.connect(self._commit)
        self.editingFinished.connect(self._on_editing_finished)

    def problem(self) -> str:
        return self._problem

    def set_value(self, value: Any) -> None:
        """Show ``value`` (no signal) and clear any problem."""
        self._shown = self._format(value)
        self.setText(self._shown)
        self.set_problem("")

    def set_problem(self, message: str) -> None:
        """Mark the field red with ``message``, or clear it with ''."""
        self.setStyleSheet(INVALID_STYLE if message else "")
        if message != self._problem:
            self._problem = message
            self.problem_changed.emit(message)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape and self.text() != self._shown:
            self.setText(self._shown)
            self.set_problem("")
            return
        super().keyPressEvent(event)

    def _on_text_edited(self, text: str) -> None:
        try:
            self._parse(text)
        except BpvizError as exc:
            self.set_problem(str(exc))
        else:
            self.set_problem("")

    def _on_editing_finished(self) -> None:
        # Enter already committed through returnPressed; this catches focus-out.
        if self.text() not in (self._shown, self._committed):
            self._commit()

    def _commit(self) -> None:
        try:
            value = self._parse(self.text())
        except BpvizError as exc:
            self.set_problem(str(exc))
            return
        self.set_problem("")
        self._committed = self.text()
        self.committed.emit(value)


class LogSlider(QSlider):
    """A horizontal slider over [low, high] on a log scale.

    ``log_value_changed(value)`` fires when the user moves it; values are rounded
    to three significant figures so the number shown next to it stays readable.
    """

    log_value_changed = Signal(float)

    def __init__(self, low: float, high: float, steps_per_decade: int = 100,
                 parent: QWidget | None = None) -> None:
        super().__init__(Qt.Orientation.Horizontal, parent)
        self._log_low = math.log10(low)
        self._steps = steps_per_decade
        self._low, self._high = low, high
        self.setRange(0, round((math.log10(high) - self._log_low) * steps_per_decade))
        self.setSingleStep(steps_per_decade // 20 or 1)
        self.setPageStep(steps_per_decade)
        self.valueChanged.connect(self._on_value_changed)

    def log_value(self) -> float:
        value = 10 ** (self._log_low + self.value() / self._steps)
        return min(max(float(f"{value:.3g}"), self._low), self._high)

    def set_log_value(self, value: float) -> None:
        """Move the handle to the nearest position (no signal)."""
        position = round((math.log10(value) - self._log_low) * self._steps)
        blocked = self.blockSignals(True)
        self.setValue(min(max(position, self.minimum()), self.maximum()))
        self.blockSignals(blocked)

    def _on_value_changed(self, _position: int) -> None:
        self.log_value_changed.emit(self.log_value())


def choice_combo(entries: list[tuple[str, str | None, str]], tooltip: str) -> QComboBox:
    """A combo of (label, key, tooltip) entries; the key is the item data and a
    None key makes a separator."""
    combo = QComboBox()
    set_choices(combo, entries)
    combo.setToolTip(tooltip)
    return combo


def set_choices(combo: QComboBox, entries: list[tuple[str, str | None, str]]) -> None:
    """Replace the entries (no signal). The combo may shrink with a narrow dock while
    its open list stays wide enough to read."""
    with QSignalBlocker(combo):
        combo.clear()
        for label, key, tip in entries:
            if key is None:
                combo.insertSeparator(combo.count())
                continue
            combo.addItem(label, key)
            combo.setItemData(combo.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(8)
    combo.view().setMinimumWidth(combo.view().sizeHintForColumn(0) + 24)


def select(combo: QComboBox, key: str) -> None:
    """Show the entry whose data is ``key`` (no signal)."""
    with QSignalBlocker(combo):
        combo.setCurrentIndex(combo.findData(key))


def whole_spin(low: int, high: int, tooltip: str, special: str = "") -> QSpinBox:
    """A spin box that reports a typed number once, on Enter; arrows act at once."""
    spin = QSpinBox()
    spin.setRange(low, high)
    spin.setSpecialValueText(special)
    spin.setKeyboardTracking(False)
    spin.setToolTip(tooltip)
    return spin
