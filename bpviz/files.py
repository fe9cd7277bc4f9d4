"""Reading and atomic writing of users' files, shared by sessions, exports and CSV data.

A failed read becomes a BpvizError naming the file (:func:`reading`). A save either replaces the old file completely or leaves it byte-identical: the
data goes to a temporary file in the same directory (so ``os.replace`` is a rename
on one file system), is flushed and fsynced, and only then replaces the target.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO

from bpviz.errors import BpvizError

log = logging.getLogger(__name__)

_NEW_FILE_MODE = 0o644


@contextmanager
def reading(path) -> Iterator[None]:
    """Report a failed read of ``path`` inside the block as a BpvizError naming it: a
    missing file, one the system will not open, a path it refuses (an embedded NUL).
    BpvizErrors raised in the block pass unchanged."""
    try:
        yield
    except BpvizError:
        raise
    except FileNotFoundError:
        raise BpvizError(f"there is no file {path}") from None
    except OSError as exc:
        raise BpvizError(f"cannot read {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise BpvizError(f"cannot read {path!r}: {exc}") from None


@contextmanager
def atomic_write(path, mode: str = "wb") -> Iterator[IO]:
    """Open a temporary file for writing; on success it replaces ``path``.

    ``mode`` is "wb" or "w" (text: UTF-8, no newline translation, as the csv
    module wants). On any exception inside the block the temporary file is
    removed, ``path`` is untouched and the exception propagates; an OSError
    becomes a BpvizError naming the file.
    """
    if mode not in ("wb", "w"):
        raise BpvizError(f"atomic_write mode must be 'wb' or 'w', got {mode!r}")
    target = Path(os.fspath(path))
    try:
        fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp",
                                    dir=target.parent)
    except OSError as exc:
        raise BpvizError(f"cannot write {target}: {exc.strerror or exc}") from None
    try:
        text = {} if mode == "wb" else {"encoding": "utf-8", "newline": ""}
        with os.fdopen(fd, mode, **text) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        _copy_mode(target, temp)
        os.replace(temp, target)
    except BaseException as exc:
        with suppress(OSError):
            os.unlink(temp)
        if isinstance(exc, OSError):
            raise BpvizError(f"cannot write {target}: {exc.strerror or exc}") from None
        raise
    _sync_directory(target.parent)
    log.info("wrote %s", target)


def _copy_mode(target: Path, temp: str) -> None:
    """mkstemp creates 0600; keep an existing file's mode, else use 0644."""
    try:
        mode = target.stat().st_mode & 0o7777
    except OSError:
        mode = _NEW_FILE_MODE
    os.chmod(temp, mode)


def _sync_directory(directory: Path) -> None:
    """Make the rename itself durable where the platform allows it (POSIX)."""
    if os.name != "posix":
        return
    with suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
