"""Timeline: a slider over the steps the worker has recorded (bpviz.history).

Dragging asks for the step under the handle at most every ``interval_ms`` (the first
move at once, the last one when the drag rests or ends), so scrubbing never floods
the worker with restores. The window moves the handle as snapshots arrive, without
that counting as a request.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSlider, QWidget

from bpviz.history import DEFAULT_MAX_BYTES, DEFAULT_MAX_STEPS


class Timeline(QWidget):
    step_requested = Signal(int)

    def __init__(self, interval_ms: int = 80, parent=None) -> None:
        super().__init__(parent)
        self.slider = QSlider(Qt.Horizontal)
        self.slider.setRange(0, 0)
        self.slider.setMinimumWidth(320)
        self.slider.setToolTip(
            f"Scrub through the recorded steps (the last {DEFAULT_MAX_STEPS:,}, or fewer for a large network: "
            f"at most {DEFAULT_MAX_BYTES // 2**20} MB); dragging pauses training and restores that step exactly")
        self.label = QLabel()
        self.label.setMinimumWidth(200)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 0)
        layout.addWidget(QLabel("Timeline"))
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.label)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._flush)
        self._pending: int | None = None
        self._moving = False
        self.slider.valueChanged.connect(self._on_value_changed)
        self.slider.sliderReleased.connect(self._flush)
        self.set_position(0, None)

    def set_position(self, step: int, recorded: tuple[int, int] | None) -> None:
        """Show ``step`` within the ``recorded`` (first, last) steps, or none recorded."""
        first, last = recorded if recorded is not None and recorded[0] is not None else (step, step)
        self._moving = True
        try:
            self.slider.setRange(first, last)
            if not self.slider.isSliderDown() and self._pending is None:
                self.slider.setValue(step)
        finally:
            self._moving = False
        self.slider.setEnabled(last > first)
        since = f" (from step {first:,})" if first > 0 else ""
        self.label.setText(f"step {step:,} of {last:,} recorded{since}")

    def _on_value_changed(self, value: int) -> None:
        if self._moving:
            return
        self._pending = value
        if not self._timer.isActive():
            self._flush()

    def _flush(self) -> None:
        if self._pending is None:
            return
        step, self._pending = self._pending, None
        self.step_requested.emit(step)
        self._timer.start()
