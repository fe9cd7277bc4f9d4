"""Pictures out: the network view and the plots as PNG (at a slide width) or SVG,
and a recorded sequence of training frames as numbered PNGs.

pyqtgraph's exporters draw the scene again at the requested size, so a 3840 px
PNG is sharp, not an enlarged screenshot. Files are written atomically. An
animated GIF is left out on purpose: Qt cannot write one, and a dependency
(Pillow, imageio) for what ``ffmpeg -i frame_%04d.png`` does better is not worth it.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from pathlib import Path

import pyqtgraph as pg
import pyqtgraph.exporters  # noqa: F401 - registers pg.exporters
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QObject, Signal

from bpviz.errors import BpvizError
from bpviz.files import atomic_write

log = logging.getLogger(__name__)

SLIDE_WIDTHS = (1920, 3840)
MAX_FRAMES = 10_000


def _source(view_or_item):
    """What pyqtgraph exports: a plot item as it is, a GraphicsView's whole scene."""
    return view_or_item.scene() if isinstance(view_or_item, pg.GraphicsView) else view_or_item


def png_bytes(view_or_item, width: int) -> bytes:
    """A PNG of ``view_or_item`` (a pg.GraphicsView or a plot item) ``width`` px wide."""
    if not 16 <= width <= 16384:
        raise BpvizError(f"a picture must be 16 to 16384 pixels wide, got {width}")
    exporter = pg.exporters.ImageExporter(_source(view_or_item))
    exporter.parameters()["width"] = int(width)  # the height follows the aspect ratio
    image = exporter.export(toBytes=True)
    if image is None or image.isNull():
        raise BpvizError("the picture could not be drawn (is the view empty?)")
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buffer, "PNG"):
        raise BpvizError("the picture could not be encoded as PNG")
    buffer.close()
    return bytes(data)


def export_png(path, view_or_item, width: int = SLIDE_WIDTHS[0]) -> None:
    data = png_bytes(view_or_item, width)
    with atomic_write(path, "wb") as handle:
        handle.write(data)


def export_svg(path, view_or_item) -> None:
    """An SVG of ``view_or_item``: scalable, editable in Inkscape or PowerPoint."""
    data = pg.exporters.SVGExporter(_source(view_or_item)).export(toBytes=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    with atomic_write(path, "wb") as handle:
        handle.write(bytes(data))


@contextmanager
def titled(item: pg.PlotItem, title: str):
    """The plot with its on-screen header as a title, so an exported plot names its curves."""
    item.setTitle(title)
    try:
        yield item
    finally:
        item.setTitle(None)


class FrameRecorder(QObject):
    """Saves the network view as frame_0001.png, frame_0002.png, ... for each of the
    next ``n_frames`` snapshots the window shows, then stops by itself.

    progressed(int): frames saved so far; done(str): a summary; failed(str): a
    message (recording stops at the first file that cannot be written).
    """

    progressed = Signal(int)
    done = Signal(str)
    failed = Signal(str)

    def __init__(self, window, folder, n_frames: int, width: int = SLIDE_WIDTHS[0]) -> None:
        super().__init__(window)
        if not 1 <= n_frames <= MAX_FRAMES:
            raise BpvizError(f"record 1 to {MAX_FRAMES:,} frames, not {n_frames}")
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise BpvizError(f"{self.folder} is not a folder")
        self.window, self.n_frames, self.width = window, n_frames, width
        self.saved: list[Path] = []
        window.snapshot_shown.connect(self._on_snapshot_shown)

    @property
    def recording(self) -> bool:
        return len(self.saved) < self.n_frames

    def stop(self) -> None:
        try:
            self.window.snapshot_shown.disconnect(self._on_snapshot_shown)
        except (RuntimeError, TypeError):
            pass  # already disconnected

    def _on_snapshot_shown(self, _snapshot) -> None:
        if not self.recording:
            return
        path = self.folder / f"frame_{len(self.saved) + 1:04d}.png"
        try:
            export_png(path, self.window.network_view, self.width)
        except BpvizError as exc:
            self.stop()
            self.failed.emit(str(exc))
            return
        self.saved.append(path)
        self.progressed.emit(len(self.saved))
        if not self.recording:
            self.stop()
            log.info("recorded %d frames in %s", len(self.saved), self.folder)
            self.done.emit(f"Saved {len(self.saved)} frames in {self.folder}")
