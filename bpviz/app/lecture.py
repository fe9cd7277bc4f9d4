"""Lecture mode: walking one step phase by phase, stepping back, the timeline.

"Step phase" asks the worker for one whole step (its snapshot keeps the weights from
before the update) and then reveals that one snapshot a phase per press: forward
through layers 1..L, the loss, the deltas from the output back to layer 1, the
update (bpviz.phases). "Step back" undoes phases of the current walk, then whole
steps, which the worker restores exactly from its rewind buffer (bpviz.history);
the timeline scrubs through that buffer. Step or Play during a walk finishes it.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QLabel

from bpviz.app.timeline import Timeline
from bpviz.phases import Phase, PhaseWalk, describe, describe_changes
from bpviz.snapshot import Snapshot

AWAIT_LIMIT_S = 2.0


class PhaseStepper(QObject):
    """Owns the phase walk; wired to a MainWindow's view, worker and status bar."""

    phase_changed = Signal(object)  # Phase, or None when everything is shown

    def __init__(self, window) -> None:
        super().__init__(window)
        self._window = window
        self.walk: PhaseWalk | None = None
        self._awaiting_run: int | None = None  # a walk's step was asked for in this run
        self._asked_at = 0.0
        self.step_phase_action = window._action(
            "Step phase", self.step_phase, "Shift+Right",
            "One phase of one sample: forward layer by layer, loss, deltas back, update")
        self.step_back_action = window._action(
            "◀ Back", self.step_back, "Left", "Undo the last phase, or the last step exactly")
        self.timeline = Timeline()
        self.timeline.step_requested.connect(self.go_to_step)
        self.phase_label = QLabel()
        font = QFont(self.phase_label.font())
        font.setBold(True)
        self.phase_label.setFont(font)

    # ------------------------------------------------------------ user actions
    def step_phase(self) -> None:
        if self.walk is not None and not self.walk.at_end:
            self.walk.advance()
            self._show_phase()
        elif self._awaiting_run is None or time.monotonic() - self._asked_at > AWAIT_LIMIT_S:
            # (a step that never arrives, e.g. stopped by a divergence, blocks only briefly)
            self._awaiting_run, self._asked_at = self._window._run_id, time.monotonic()
            self._window.worker.step()

    def step_back(self) -> None:
        if self.walk is not None and self.walk.back():
            self._show_phase()
            return
        self._end_walk()
        self._window.worker.step_back()

    def go_to_step(self, step: int) -> None:
        self._end_walk()
        self._window.worker.go_to_step(step)

    def finish_walk(self) -> bool:
        """Show the walk's step whole; True if a walk was under way (not yet at its
        update, which already shows everything)."""
        under_way = self.walk is not None and not self.walk.at_end
        self._end_walk()
        return under_way

    @property
    def phase(self) -> Phase | None:
        return None if self.walk is None else self.walk.phase

    # ------------------------------------------------------------- snapshots
    def on_snapshot(self, snapshot: Snapshot) -> None:
        """Before the views draw ``snapshot``: a walk's step starts the walk at its
        first phase; any other snapshot ends a walk."""
        if (self._awaiting_run is not None and snapshot.run_id == self._awaiting_run
                and snapshot.weights_before is not None):
            self._awaiting_run = None
            self.walk = PhaseWalk(snapshot)
            self._show_phase()
        elif self.walk is not None:
            self._end_walk()
        if snapshot.run_id != self._awaiting_run:  # a new run: that step will not come
            self._awaiting_run = None
        self.timeline.set_position(snapshot.step, snapshot.recorded_steps)
        recorded = snapshot.recorded_steps
        self.step_back_action.setEnabled(
            self.walk is not None or (recorded is not None and recorded[0] is not None
                                      and recorded[0] < snapshot.step))
        if self.walk is None:
            self._set_label(describe_changes(snapshot) if snapshot.change_summary is not None
                            and not snapshot.playing else "")

    def _show_phase(self) -> None:
        walk = self.walk
        self._window.network_view.set_phase(walk.phase)
        self._set_label(describe(walk.phase, walk.snapshot))
        self.step_back_action.setEnabled(True)
        self.phase_changed.emit(walk.phase)

    def _end_walk(self) -> None:
        if self.walk is None:
            return
        self.walk = None
        self._window.network_view.set_phase(None)
        self._set_label("")
        self.phase_changed.emit(None)

    def _set_label(self, text: str) -> None:
        if self.phase_label.text() != text:
            self.phase_label.setText(text)
