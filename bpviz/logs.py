"""Logging: what the program does goes to a rotating log file in a per-user place,
problems also go to stderr.

The log file is ``$XDG_STATE_HOME/bpviz/bpviz.log`` (``~/.local/state/bpviz/bpviz.log``
when that is not set); its folder and the file itself are made only when the first
record is written. ``setup(verbose=True)`` logs debugging details to both. Calling
``setup`` again replaces the handlers it installed before, so tests and a reopened
window never log twice.
"""

from __future__ import annotations

import logging
import os
import sys
from logging.handlers import RotatingFileHandler
from pathlib import Path

LOGGER_NAME = "bpviz"
MAX_BYTES = 1_000_000
BACKUP_COUNT = 3
FILE_FORMAT = "%(asctime)s %(levelname)-7s %(threadName)s %(name)s: %(message)s"
STDERR_FORMAT = "bpviz: %(levelname)s: %(message)s"


def default_log_path() -> Path:
    """Where the log file goes: under $XDG_STATE_HOME, else ~/.local/state."""
    state = os.environ.get("XDG_STATE_HOME", "").strip()
    # The XDG spec says a relative path is invalid and must be ignored.
    base = Path(state) if state and os.path.isabs(state) else Path.home() / ".local" / "state"
    return base / "bpviz" / "bpviz.log"


class _FileHandler(RotatingFileHandler):
    """A rotating file that makes its folder on the first record, and that gives up
    quietly (one line on stderr) when the file cannot be written, instead of printing a
    traceback for every record."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, maxBytes=MAX_BYTES, backupCount=BACKUP_COUNT,
                         encoding="utf-8", delay=True)
        self.failed = False

    def _open(self):
        Path(self.baseFilename).parent.mkdir(parents=True, exist_ok=True)
        return super()._open()

    def emit(self, record: logging.LogRecord) -> None:
        if not self.failed:
            super().emit(record)

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 - logging's name
        if not self.failed:
            self.failed = True
            error = sys.exc_info()[1]
            print(f"bpviz: cannot write the log file {self.baseFilename}: {error}", file=sys.stderr)


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the time (pytest and IDEs replace it)."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


def _installed(logger: logging.Logger) -> list[logging.Handler]:
    return [h for h in logger.handlers if getattr(h, "_bpviz", False)]


def setup(verbose: bool = False, path: Path | str | None = None, to_file: bool = True) -> Path | None:
    """Log INFO (DEBUG if ``verbose``) to the log file and WARNING (DEBUG if
    ``verbose``) to stderr. Returns the log file's path, or None without one."""
    logger = logging.getLogger(LOGGER_NAME)
    remove()
    logger.setLevel(logging.DEBUG if verbose else logging.INFO)
    stderr = _StderrHandler()
    stderr.setLevel(logging.DEBUG if verbose else logging.WARNING)
    stderr.setFormatter(logging.Formatter(STDERR_FORMAT))
    handlers: list[logging.Handler] = [stderr]
    log_path = None
    if to_file:
        log_path = Path(path) if path is not None else default_log_path()
        file_handler = _FileHandler(log_path)
        file_handler.setLevel(logging.DEBUG if verbose else logging.INFO)
        file_handler.setFormatter(logging.Formatter(FILE_FORMAT))
        handlers.append(file_handler)
    for handler in handlers:
        handler._bpviz = True
        logger.addHandler(handler)
    return log_path


def log_file() -> Path | None:
    """The file the log is written to now, or None when logging is not set up."""
    for handler in _installed(logging.getLogger(LOGGER_NAME)):
        if isinstance(handler, _FileHandler):
            return Path(handler.baseFilename)
    return None


def remove() -> None:
    """Take out the handlers ``setup`` installed (closing the log file)."""
    logger = logging.getLogger(LOGGER_NAME)
    for handler in _installed(logger):
        logger.removeHandler(handler)
        handler.close()
    logger.setLevel(logging.NOTSET)
