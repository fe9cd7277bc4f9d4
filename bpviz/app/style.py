"""Application-wide look: fonts large enough for a projector, the style sheet from
``resources/``, and pyqtgraph's colours."""

from __future__ import annotations

from pathlib import Path

import pyqtgraph as pg
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication

RESOURCES = Path(__file__).resolve().parent.parent.parent / "resources"
BASE_POINT_SIZE = 11


def apply_style(app: QApplication, font_scale: float = 1.0) -> None:
    """Set the global font (scaled for a projector) and the style sheet."""
    pg.setConfigOptions(antialias=True, background="w", foreground="k")
    font = QFont(app.font())
    font.setPointSizeF(BASE_POINT_SIZE * font_scale)
    app.setFont(font)
    sheet = RESOURCES / "style.qss"
    if sheet.is_file():
        app.setStyleSheet(sheet.read_text(encoding="utf-8"))
