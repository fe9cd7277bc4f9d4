"""Run a slow function (reading a large file, a forward pass over a large data set)
off the GUI thread.

The function runs on Qt's global thread pool; its result or its BpvizError message
comes back to the GUI thread through a queued signal. Python holds the GIL while
it parses, so the window stays responsive only between parsing steps, which is
enough for a busy indicator to move and the window to repaint; NumPy's matrix
products and large ufuncs release the GIL, so a forward pass hardly holds it.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable

import shiboken6
from PySide6.QtCore import QObject, Qt, QThreadPool, Signal

from bpviz.errors import BpvizError

log = logging.getLogger(__name__)

_running: set[_Relay] = set()  # keeps each relay alive until its answer is delivered


class _Relay(QObject):
    finished = Signal(object, object)  # (result, None) or (None, message)


def run_in_background(work: Callable[[], object], on_done: Callable[[object], None],
                      on_failed: Callable[[str], None], owner: QObject | None = None) -> None:
    """Call ``work()`` on a pool thread; then ``on_done(result)`` or, for a BpvizError
    (or any other error, logged with its traceback), ``on_failed(message)`` on the
    GUI thread. Call from the GUI thread. With ``owner``, neither is called once the
    owner has been deleted (a view closed while its work ran)."""
    relay = _Relay()

    def deliver(result, message) -> None:
        _running.discard(relay)
        if owner is not None and not shiboken6.isValid(owner):
            return
        if message is None:
            on_done(result)
        else:
            on_failed(message)

    relay.finished.connect(deliver, Qt.ConnectionType.QueuedConnection)
    _running.add(relay)

    def job() -> None:
        try:
            result = work()
        except BpvizError as exc:
            relay.finished.emit(None, str(exc))
        except Exception as exc:  # noqa: BLE001 - the GUI must hear of any failure
            log.error("background work failed:\n%s", traceback.format_exc())
            relay.finished.emit(None, f"unexpected error: {type(exc).__name__}: {exc}")
        else:
            relay.finished.emit(result, None)

    QThreadPool.globalInstance().start(job)


def busy() -> bool:
    """Whether any background work has not been delivered yet (tests wait on this)."""
    return bool(_running)
