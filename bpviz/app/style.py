"""Application-wide look: fonts large enough for a projector (scaled as a whole
for lecture halls), the light or dark theme (a style sheet from ``resources/``, a
Qt palette, pyqtgraph's default colours) and the colours views take from a theme."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyqtgraph as pg
from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication

RESOURCES = Path(__file__).resolve().parent.parent.parent / "resources"
BASE_POINT_SIZE = 11
FONT_SCALES = (0.7, 0.8, 0.9, 1.0, 1.1, 1.25, 1.5, 1.75, 2.0, 2.25, 2.5)


@dataclass(frozen=True)
class Theme:
    """The chrome around the data colours: canvases, text, outlines."""
    name: str
    label: str
    dark: bool
    style_sheet: str        # file in resources/
    background: str         # plot and network canvases
    ink: str                # text, axes, labels
    muted: str              # frames, δ tracks, secondary marks
    outline: str            # node outlines
    bias_fill: str


LIGHT = Theme("light", "Light", False, "style.qss", background="#ffffff", ink="#202020",
              muted="#8c8c8c", outline="#282828", bias_fill="#e1e1e1")
DARK = Theme("dark", "Dark", True, "style-dark.qss", background="#1c1e22", ink="#ececec",
             muted="#8f959e", outline="#c8c8c8", bias_fill="#3c4046")
THEMES = {t.name: t for t in (LIGHT, DARK)}
_LIGHT_LOOK: dict = {}

_DARK_ROLES = {
    QPalette.ColorRole.Window: "#2a2d32", QPalette.ColorRole.WindowText: "#ececec",
    QPalette.ColorRole.Base: "#1f2125", QPalette.ColorRole.AlternateBase: "#2f3237",
    QPalette.ColorRole.ToolTipBase: "#fdfdf0", QPalette.ColorRole.ToolTipText: "#202020",
    QPalette.ColorRole.PlaceholderText: "#9aa0a8", QPalette.ColorRole.Text: "#ececec",
    QPalette.ColorRole.Button: "#363a40", QPalette.ColorRole.ButtonText: "#ececec",
    QPalette.ColorRole.BrightText: "#ff6b6b", QPalette.ColorRole.Light: "#4a4f56",
    QPalette.ColorRole.Midlight: "#3f434a", QPalette.ColorRole.Mid: "#30333a",
    QPalette.ColorRole.Dark: "#181a1d", QPalette.ColorRole.Shadow: "#000000",
    QPalette.ColorRole.Highlight: "#3d7ab8", QPalette.ColorRole.HighlightedText: "#ffffff",
    QPalette.ColorRole.Link: "#7cb7ff", QPalette.ColorRole.LinkVisited: "#c39bff",
}
_DISABLED_DARK = {QPalette.ColorRole.WindowText: "#80858c", QPalette.ColorRole.Text: "#80858c",
                  QPalette.ColorRole.ButtonText: "#80858c", QPalette.ColorRole.Base: "#26282c"}


def _dark_palette() -> QPalette:
    palette = QPalette()
    for role, colour in _DARK_ROLES.items():
        palette.setColor(role, QColor(colour))
    for role, colour in _DISABLED_DARK.items():
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor(colour))
    return palette


def theme(name: str) -> Theme:
    """The theme called ``name``; the light one for an unknown name (an old settings file)."""
    return THEMES.get(name, LIGHT)


def nearest_font_scale(scale: float) -> float:
    return min(FONT_SCALES, key=lambda s: abs(s - scale))


def apply_style(app: QApplication, font_scale: float = 1.0, theme: Theme = LIGHT) -> None:
    """Set the global font (scaled for a projector), the theme's Qt palette and
    style sheet, and pyqtgraph's colours for plots created from now on. Views
    already built follow through their own ``set_theme`` / ``set_font_scale``."""
    pg.setConfigOptions(antialias=True, background=theme.background, foreground=theme.ink)
    # The platform's own style and palette, remembered once so light can come back.
    if not _LIGHT_LOOK:
        _LIGHT_LOOK.update(style=app.style().name(), palette=QPalette(app.palette()))
    if theme.dark:
        # Fusion draws every widget from the palette; native styles ignore much of it.
        if app.style().name().lower() != "fusion":
            app.setStyle("Fusion")
        app.setPalette(_dark_palette())
    else:
        if app.style().name() != _LIGHT_LOOK["style"]:
            app.setStyle(_LIGHT_LOOK["style"])
        app.setPalette(_LIGHT_LOOK["palette"])
    font = QFont(app.font())
    resized = font.pointSizeF() != BASE_POINT_SIZE * font_scale
    font.setPointSizeF(BASE_POINT_SIZE * font_scale)
    app.setFont(font)
    sheet = RESOURCES / theme.style_sheet
    text = sheet.read_text(encoding="utf-8") if sheet.is_file() else ""
    # A dock paints its title in the platform's fixed title font unless its own font
    # differs from the application's: this one does, so titles follow the scale.
    text += f"\nQDockWidget {{ font-size: {font.pointSizeF():.3g}pt; font-weight: bold; }}\n"
    # Setting a sheet re-polishes every widget (a few hundred ms), so only when needed:
    # a new sheet, or a new size, which polished widgets take up only when polished again.
    if text != app.styleSheet() or resized:
        app.setStyleSheet(text)
