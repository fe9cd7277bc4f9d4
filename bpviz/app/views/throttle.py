"""Throttle: hand the latest value to a callback at a bounded rate.

Views whose redraw costs a forward pass over many points (the decision boundary,
the confusion matrix) receive every snapshot but redraw at most ``max_rate_hz``
times a second, and never spend more than ``max_duty`` of the GUI thread's time on
it: a redraw that took d seconds is followed by a pause of at least
d · (1 / max_duty − 1), so a slow machine or a large network redraws less often
instead of starving the window. A value
that arrives while the view is idle is drawn at once (single steps show without
delay); later ones replace each other until the pause is over, and the last one is
always drawn.

With ``deliver``, the callback (on the GUI thread) returns the work instead of doing
it: a function for a pool thread (bpviz.app.background) whose result ``deliver``
receives on the GUI thread. One such function runs at a time, and ``max_duty`` then
bounds the share of a core it takes (the window's other core trains).

SnapshotThrottle adds what such views share: a snapshot with the same weights as the
latest one is dropped (a pause or a preview re-sends them), and a redraw the view
skipped while hidden is made when it shows again.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Callable

from PySide6.QtCore import QObject, QTimer

from bpviz import forward
from bpviz.app.background import run_in_background

log = logging.getLogger(__name__)

_NOTHING = object()


class Throttle(QObject):
    def __init__(self, callback: Callable[[Any], None], max_rate_hz: float, parent: QObject | None = None,
                 max_duty: float = 0.25, deliver: Callable[[Any], None] | None = None):
        super().__init__(parent)
        self._callback = callback
        self._deliver = deliver
        self._running = False
        self.interval_s = 1.0 / max_rate_hz
        self.max_duty = max_duty
        self.last_duration_s = 0.0
        self._pending: Any = _NOTHING
        self._next_allowed = -float("inf")
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.flush)

    def submit(self, value: Any) -> None:
        self._pending = value
        if self._timer.isActive() or self._running:
            return
        wait = self._next_allowed - time.monotonic()
        if wait <= 0:
            self.flush()
        else:
            self._timer.start(max(1, int(wait * 1000)))

    def flush(self) -> None:
        """Hand over the pending value now, if there is one (in the background: once
        the call still running has returned)."""
        self._timer.stop()
        if self._pending is _NOTHING or self._running:
            return
        value, self._pending = self._pending, _NOTHING
        started = time.monotonic()
        if self._deliver is None:
            try:
                self._callback(value)
            finally:
                self._ended(started)
            return
        self._running = True
        run_in_background(self._callback(value), lambda result: self._delivered(started, result),
                          lambda message: self._delivered(started, None, message), owner=self)

    def running(self) -> bool:
        """Whether a background call has not been delivered yet."""
        return self._running

    def _delivered(self, started: float, result: Any, failure: str | None = None) -> None:
        self._running = False
        self._ended(started)
        if failure is None:
            self._deliver(result)
        else:
            log.warning("%s", failure)
        if self._pending is not _NOTHING:
            self.submit(self._pending)

    def _ended(self, started: float) -> None:
        ended = time.monotonic()
        self.last_duration_s = ended - started
        pause = self.last_duration_s * (1.0 / self.max_duty - 1.0)
        self._next_allowed = started + max(self.interval_s, self.last_duration_s + pause)

    def cancel(self) -> None:
        self._timer.stop()
        self._pending = _NOTHING


class SnapshotThrottle(Throttle):
    """A Throttle of snapshots that remembers the latest one (``latest``).

    A hidden view sets ``stale`` when its callback skips a redraw, or ``hold``s the
    snapshot instead of submitting it; its showEvent then calls ``resubmit_if_stale``.
    """

    def __init__(self, callback: Callable[[Any], Any], max_rate_hz: float, parent: QObject | None = None,
                 deliver: Callable[[Any], None] | None = None):
        super().__init__(callback, max_rate_hz, parent, deliver=deliver)
        self.latest = None
        self.stale = False

    def submit(self, snapshot) -> None:
        if self.latest is not None and forward.same_parameters(snapshot, self.latest):
            return
        self.latest = snapshot
        super().submit(snapshot)

    def hold(self, snapshot) -> None:
        """Keep ``snapshot`` as the latest without drawing it (the view is hidden); it
        is drawn when the view shows again."""
        self.latest = snapshot
        self.stale = True

    def resubmit(self) -> None:
        """Draw the latest snapshot again (the view's own options changed)."""
        if self.latest is not None:
            super().submit(self.latest)

    def resubmit_if_stale(self) -> None:
        if self.stale:
            self.stale = False
            self.resubmit()

    def cancel(self) -> None:
        """Drop the pending snapshot and forget the latest (a new dataset)."""
        super().cancel()
        self.latest = None
        self.stale = False
