"""Lecture aids of the View menu: text size for a projector, light or dark theme,
colour palette, fitting the network, a remembered panel layout, and the keyboard
shortcuts dialog generated from the window's own actions.

``install(window)`` adds the actions to the window's View menu, restores what was
saved (QSettings: geometry, dock layout, font scale, theme, palette) and returns
the ``Presentation``; the window calls ``save()`` when it closes. Views take part
by defining any of ``set_font_scale(scale)``, ``set_theme(theme)`` (a style.Theme)
and ``set_palette(name)`` (a key of palette.PALETTES).
"""

from __future__ import annotations

import html
import re

import pyqtgraph as pg
from PySide6.QtCore import QByteArray, QEvent, QObject, QSettings, Qt, Signal
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import (QApplication, QDialog, QDialogButtonBox, QDockWidget, QLabel,
                               QMainWindow, QMenu, QScrollArea, QVBoxLayout)

from bpviz.app import style
from bpviz.app.views import palette

KEY_GEOMETRY = "window/geometry"
KEY_STATE = "window/state"
KEY_FONT_SCALE = "view/font_scale"
KEY_THEME = "view/theme"
KEY_PALETTE = "view/palette"
# Bumped when the docks change so an old saved layout is not forced on new panels.
STATE_VERSION = 1
ZOOM_STEP = 1.25


class Presentation(QObject):
    """The presentation state of one main window and the actions that change it."""

    font_scale_changed = Signal(float)
    theme_changed = Signal(str)
    palette_changed = Signal(str)

    def __init__(self, window: QMainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.font_scale = 1.0
        self.theme = style.LIGHT
        self.palette = palette.DEFAULT_PALETTE
        self.shortcuts_dialog: QDialog | None = None
        self._default_state = window.saveState(STATE_VERSION)
        self._build_actions()
        window.installEventFilter(self)

    # ------------------------------------------------------------------ actions
    def _action(self, text: str, slot, shortcuts=(), tip: str = "") -> QAction:
        action = QAction(text, self.window)
        keys = [QKeySequence(s) for s in shortcuts]
        if keys:
            action.setShortcuts(keys)
            action.setShortcutContext(Qt.WindowShortcut)
            names = keys[0].toString(QKeySequence.NativeText)
            action.setToolTip(f"{tip or text} ({names})")
        else:
            action.setToolTip(tip or text)
        action.triggered.connect(slot)
        self.window.addAction(action)
        return action

    def _choice_actions(self, choose, choices) -> dict[str, QAction]:
        """{name: action}: one checkable action per (name, label, tip), of which at most one
        is checked; triggering one calls ``choose(name)``."""
        group = QActionGroup(self)
        actions = {}
        for name, label, tip in choices:
            action = self._action(label, lambda _=False, n=name: choose(n), (), tip)
            action.setCheckable(True)
            group.addAction(action)
            actions[name] = action
        return actions

    def _build_actions(self) -> None:
        # Ctrl+= as well: on most layouts "+" needs Shift, and people press Ctrl and the "=" key.
        self.zoom_in_action = self._action("Larger text", self.zoom_in, (QKeySequence.ZoomIn, "Ctrl+="),
                                           "Larger text everywhere, for the back of the hall")
        self.zoom_out_action = self._action("Smaller text", self.zoom_out, (QKeySequence.ZoomOut,),
                                            "Smaller text everywhere")
        self.zoom_reset_action = self._action("Normal text size", self.reset_font_scale, ("Ctrl+0",),
                                              "Text back to 100%")
        self.fit_action = self._action("Fit network", self.fit_network, ("Home",),
                                       "Show the whole network again after zooming it with the mouse wheel")
        self.leave_full_screen_action = self._action("Leave full screen", self.leave_full_screen, ("Esc",))
        self.leave_full_screen_action.setEnabled(False)
        self.reset_layout_action = self._action("Reset layout", self.reset_layout, (),
                                                "Every panel back in its place and shown")

        self.theme_actions = self._choice_actions(
            self.set_theme, [(t.name, t.label, f"{t.label} theme") for t in style.THEMES.values()])
        self.palette_actions = self._choice_actions(
            self.set_palette, [(p.name, p.label, f"Weights {p.negative} (negative) to {p.positive} (positive)")
                               for p in palette.PALETTES.values()])

        menu = self._view_menu()
        menu.addSeparator()
        for action in (self.zoom_in_action, self.zoom_out_action, self.zoom_reset_action, self.fit_action):
            menu.addAction(action)
        self.theme_menu = menu.addMenu("Theme")
        self.theme_menu.addActions(list(self.theme_actions.values()))
        self.palette_menu = menu.addMenu("Palette")
        self.palette_menu.addActions(list(self.palette_actions.values()))
        menu.addSeparator()
        menu.addAction(self.reset_layout_action)

    def _view_menu(self) -> QMenu:
        bar = self.window.menuBar()
        for menu in bar.findChildren(QMenu):
            if menu.title().replace("&", "") == "View" and menu.menuAction() in bar.actions():
                return menu
        return bar.addMenu("&View")

    # ------------------------------------------------------------ font scale
    def set_font_scale(self, scale: float) -> None:
        """The application font and every view's own fonts at ``scale`` × normal
        (snapped to style.FONT_SCALES, 70 % … 250 %)."""
        scale = style.nearest_font_scale(scale)
        changed = scale != self.font_scale
        self.font_scale = scale
        self._apply_style()
        for view in self._views("set_font_scale"):
            view.set_font_scale(scale)
        self.zoom_in_action.setEnabled(scale < style.FONT_SCALES[-1])
        self.zoom_out_action.setEnabled(scale > style.FONT_SCALES[0])
        if changed:
            self.font_scale_changed.emit(scale)

    def zoom_in(self) -> None:
        bigger = [s for s in style.FONT_SCALES if s > self.font_scale]
        if bigger:
            self.set_font_scale(bigger[0])

    def zoom_out(self) -> None:
        smaller = [s for s in style.FONT_SCALES if s < self.font_scale]
        if smaller:
            self.set_font_scale(smaller[-1])

    def reset_font_scale(self) -> None:
        self.set_font_scale(1.0)

    # ------------------------------------------------------------ theme, palette
    def set_theme(self, name: str) -> None:
        """Switch to theme ``name`` ("light" or "dark") live: style sheet, Qt palette,
        plot and network canvases."""
        self.theme = style.theme(name)
        self.theme_actions[self.theme.name].setChecked(True)
        self._apply_style()
        for view in self._views("set_theme"):
            view.set_theme(self.theme)
        self._theme_plain_plots()
        self.theme_changed.emit(self.theme.name)

    def set_palette(self, name: str) -> None:
        """Colour weights, activations, δ and curves with palette ``name``."""
        self.palette = name if name in palette.PALETTES else palette.DEFAULT_PALETTE
        self.palette_actions[self.palette].setChecked(True)
        for view in self._views("set_palette"):
            view.set_palette(self.palette)
        self.palette_changed.emit(self.palette)

    def _apply_style(self) -> None:
        style.apply_style(QApplication.instance(), self.font_scale, self.theme)

    def _views(self, hook: str) -> list:
        """Every view of the window with the method ``hook``: window.views, the
        central widget and the docks' widgets, each once."""
        w = self.window
        candidates = [*getattr(w, "views", ()), w.centralWidget(),
                      *(dock.widget() for dock in w.findChildren(QDockWidget))]
        seen, views = set(), []
        for view in candidates:
            if view is not None and id(view) not in seen and callable(getattr(view, hook, None)):
                seen.add(id(view))
                views.append(view)
        return views

    def _theme_plain_plots(self) -> None:
        """Plots of views without ``set_theme`` at least get the canvas and axis colours."""
        themed = self._views("set_theme")
        for plot in self.window.findChildren(pg.PlotWidget):
            if any(view is plot or view.isAncestorOf(plot) for view in themed):
                continue
            plot.setBackground(self.theme.background)
            for axis in plot.getPlotItem().axes.values():
                axis["item"].setPen(pg.mkPen(self.theme.ink))
                axis["item"].setTextPen(pg.mkPen(self.theme.ink))

    # ------------------------------------------------------------ network, screen
    def fit_network(self) -> None:
        fit = getattr(self.window.centralWidget(), "fit", None)
        if callable(fit):
            fit()

    def leave_full_screen(self) -> None:
        if self.window.isFullScreen():
            self.window.showNormal()

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt override
        if obj is self.window and event.type() == QEvent.Type.WindowStateChange:
            # Esc means "leave full screen" only in full screen; otherwise it stays
            # with the widgets (a line edit puts its old value back).
            self.leave_full_screen_action.setEnabled(self.window.isFullScreen())
        elif obj is self.window and event.type() == QEvent.Type.Hide and not event.spontaneous():
            # Closed (after save): floating docks and the shortcuts dialog are top-level
            # windows of their own and would stay on screen without the window.
            if self.shortcuts_dialog is not None:
                self.shortcuts_dialog.close()
            for dock in self.window.findChildren(QDockWidget):
                if dock.isFloating():
                    dock.hide()
        return False

    # ------------------------------------------------------------ layout
    def reset_layout(self) -> None:
        """Every dock back where it started, shown and docked."""
        self.window.restoreState(self._default_state, STATE_VERSION)
        for dock in self.window.findChildren(QDockWidget):
            dock.setFloating(False)
            dock.show()
        self.fit_network()

    def save(self, settings: QSettings | None = None) -> None:
        """Geometry, dock layout, font scale, theme and palette into ``settings``
        (the application's QSettings if None)."""
        s = settings if settings is not None else QSettings()
        s.setValue(KEY_GEOMETRY, self.window.saveGeometry())
        s.setValue(KEY_STATE, self.window.saveState(STATE_VERSION))
        s.setValue(KEY_FONT_SCALE, float(self.font_scale))
        s.setValue(KEY_THEME, self.theme.name)
        s.setValue(KEY_PALETTE, self.palette)
        s.sync()

    def restore(self, settings: QSettings | None = None) -> None:
        """Apply what ``save`` stored; anything missing or unreadable keeps its default."""
        s = settings if settings is not None else QSettings()
        geometry, state = s.value(KEY_GEOMETRY), s.value(KEY_STATE)
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.window.restoreGeometry(geometry)
        if isinstance(state, QByteArray) and not state.isEmpty():
            self.window.restoreState(state, STATE_VERSION)
        try:
            scale = float(s.value(KEY_FONT_SCALE, 1.0))
        except (TypeError, ValueError):
            scale = 1.0
        self.set_palette(str(s.value(KEY_PALETTE, palette.DEFAULT_PALETTE)))
        self.set_theme(str(s.value(KEY_THEME, style.LIGHT.name)))
        self.set_font_scale(scale)

    # ------------------------------------------------------------ shortcuts
    def shortcut_actions(self) -> list[QAction]:
        """Every action of the window that has a shortcut, in the order created."""
        seen, found = set(), []
        for action in [*self.window.actions(), *self.window.findChildren(QAction)]:
            if id(action) not in seen and not action.shortcut().isEmpty():
                seen.add(id(action))
                found.append(action)
        return found

    def shortcut_rows(self) -> list[tuple[str, str]]:
        """(keys, what they do) per action with a shortcut, as the dialog lists them."""
        return [(" or ".join(k.toString(QKeySequence.NativeText) for k in a.shortcuts()), describe(a))
                for a in self.shortcut_actions()]

    def show_shortcuts(self) -> QDialog:
        """The keyboard shortcuts dialog (not modal: it can stay open while teaching)."""
        if self.shortcuts_dialog is None:
            dialog = QDialog(self.window)
            dialog.setWindowTitle("Keyboard shortcuts")
            self._shortcuts_label = QLabel()
            self._shortcuts_label.setTextFormat(Qt.RichText)
            scroll = QScrollArea()
            scroll.setWidgetResizable(True)
            scroll.setWidget(self._shortcuts_label)
            buttons = QDialogButtonBox(QDialogButtonBox.Close)
            buttons.rejected.connect(dialog.close)
            layout = QVBoxLayout(dialog)
            layout.addWidget(scroll)
            layout.addWidget(buttons)
            self.shortcuts_dialog = dialog
        rows = "".join(f"<tr><td style='padding:2px 16px 2px 0'><b>{html.escape(k)}</b></td>"
                       f"<td>{html.escape(v)}</td></tr>" for k, v in self.shortcut_rows())
        self._shortcuts_label.setText(f"<table>{rows}</table>")
        self._shortcuts_label.adjustSize()
        hint = self._shortcuts_label.sizeHint()
        self.shortcuts_dialog.resize(hint.width() + 60, min(hint.height() + 90, 800))
        self.shortcuts_dialog.show()
        self.shortcuts_dialog.activateWindow()
        return self.shortcuts_dialog


def describe(action: QAction) -> str:
    """What an action does, for the shortcuts list: its tooltip without the "(keys)"
    the window appends, or its text without menu accelerators."""
    tip = action.toolTip()
    keys = action.shortcut().toString(QKeySequence.NativeText)
    for suffix in (f" ({keys})", f" ({action.shortcut().toString()})"):
        if tip.endswith(suffix):
            tip = tip[: -len(suffix)]
    text = re.sub(r"&(?!&)", "", action.text()).strip()
    return tip or text


def install(window: QMainWindow) -> Presentation:
    """Add the View menu's presentation actions to ``window`` and restore the saved
    layout and look. Call once, after every dock and toolbar exists."""
    presentation = Presentation(window)
    presentation.restore()
    return presentation

