"""Lecture aids of the View menu: text size, themes, palettes, the remembered layout,
full screen, network zoom and the generated shortcuts dialog, driven through the
window's keys and actions."""

import numpy as np
import pytest
from PySide6.QtCore import QCoreApplication, QPoint, QPointF, QSettings, Qt
from PySide6.QtGui import QAction, QPalette, QWheelEvent
from PySide6.QtWidgets import QApplication

from bpviz.app import style
from bpviz.app.views import palette

TIMEOUT = 5000


@pytest.fixture(autouse=True)
def private_settings(tmp_path):
    """Settings in a folder of this test under a test-only organisation, never the
    user's; the application's look is put back afterwards (it is global)."""
    names = QCoreApplication.organizationName(), QCoreApplication.applicationName()
    fmt = QSettings.defaultFormat()
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path))
    QCoreApplication.setOrganizationName("bpviz-tests")
    QCoreApplication.setApplicationName("presentation")
    yield tmp_path
    QCoreApplication.setOrganizationName(names[0])
    QCoreApplication.setApplicationName(names[1])
    QSettings.setDefaultFormat(fmt)
    app = QApplication.instance()
    if app is not None:
        style.apply_style(app)


@pytest.fixture
def window(make_window):
    return make_window(size=None)


def press(qtbot, window, key, modifier=Qt.KeyboardModifier.NoModifier):
    window.network_view.setFocus()
    qtbot.keyClick(window, key, modifier)


def font_sizes(window):
    """Point sizes of the application font and each view's own fonts."""
    return np.array([QApplication.font().pointSizeF(), window.controls.font().pointSizeF(),
                     window.network_view.label_font().pointSizeF(),
                     window.plots.tick_font_size(), window.plots.title_font_size(),
                     window.sample_view.font_size()])


CTRL = Qt.KeyboardModifier.ControlModifier


def test_ctrl_plus_enlarges_every_font_and_ctrl_0_resets(qtbot, window):
    normal = font_sizes(window)
    assert window.presentation.font_scale == 1.0
    press(qtbot, window, Qt.Key.Key_Plus, CTRL)
    assert window.presentation.font_scale == 1.1
    np.testing.assert_allclose(font_sizes(window), normal * 1.1, rtol=0.02)
    press(qtbot, window, Qt.Key.Key_Equal, CTRL)  # the "+" key without Shift
    assert window.presentation.font_scale == 1.25
    press(qtbot, window, Qt.Key.Key_0, CTRL)
    assert window.presentation.font_scale == 1.0
    np.testing.assert_allclose(font_sizes(window), normal, rtol=1e-6)
    press(qtbot, window, Qt.Key.Key_Minus, CTRL)
    assert window.presentation.font_scale == 0.9
    assert (font_sizes(window) < normal).all()


def test_font_scale_stops_at_70_and_250_percent(qtbot, window):
    normal = font_sizes(window)
    for _ in range(8):  # 1.1, 1.25, 1.5, 1.75, 2, 2.25, 2.5 and one more
        press(qtbot, window, Qt.Key.Key_Plus, CTRL)
    assert window.presentation.font_scale == 2.5
    assert not window.presentation.zoom_in_action.isEnabled()
    np.testing.assert_allclose(font_sizes(window), normal * 2.5, rtol=0.02)
    for _ in range(11):
        press(qtbot, window, Qt.Key.Key_Minus, CTRL)
    assert window.presentation.font_scale == 0.7
    assert not window.presentation.zoom_out_action.isEnabled()


def test_switching_theme_changes_canvases_and_style_sheet(window):
    p = window.presentation
    light_sheet = QApplication.instance().styleSheet()
    assert window.network_view.background_colour().name() == style.LIGHT.background
    assert window.plots.background_colour() == style.LIGHT.background
    p.theme_actions["dark"].trigger()
    assert p.theme is style.DARK and p.theme_actions["dark"].isChecked()
    assert window.network_view.background_colour().name() == style.DARK.background
    assert window.plots.background_colour() == style.DARK.background
    dark_sheet = QApplication.instance().styleSheet()
    assert dark_sheet != light_sheet
    assert dark_sheet.startswith((style.RESOURCES / "style-dark.qss").read_text(encoding="utf-8"))
    assert QApplication.palette().color(QPalette.ColorRole.Window).lightness() < 80
    p.theme_actions["light"].trigger()
    assert window.network_view.background_colour().name() == style.LIGHT.background
    assert window.plots.background_colour() == style.LIGHT.background
    assert QApplication.instance().styleSheet() == light_sheet
    assert QApplication.palette().color(QPalette.ColorRole.Window).lightness() > 180


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_text_is_legible_on_either_theme(window, theme):
    window.presentation.set_theme(theme)
    t = style.THEMES[theme]
    bg = window.network_view.background_colour().getRgb()
    assert palette.contrast(window.network_view.text_colour().getRgb(), bg) >= 7
    assert palette.contrast(QApplication.palette().color(QPalette.ColorRole.WindowText).getRgb(),
                            QApplication.palette().color(QPalette.ColorRole.Window).getRgb()) >= 7
    axis = window.plots._loss.item.getAxis("left")
    assert palette.contrast(axis.textPen().color().getRgb(), bg) >= 7
    # Weak weights fade into the canvas, strong ones stand out from it.
    for name in palette.PALETTES:
        lut = palette.colours(name, t.dark).weight_lut
        canvas = np.array(bg[:3])
        assert palette.contrast(lut[palette.EDGE_HALF], canvas) < 1.5
        assert palette.contrast(lut[0], canvas) >= 2.5
        assert palette.contrast(lut[-1], canvas) >= 2.5


def test_switching_palette_recolours_the_same_weights(qtbot, window):
    view = window.network_view
    values, before = view.edge_values().copy(), view.edge_colors().copy()
    scale = view.weight_scale()
    train_before = window.plots.curve_colour("train_loss")
    window.presentation.palette_actions["red-blue"].trigger()
    assert window.presentation.palette == "red-blue" and view.palette_name() == "red-blue"
    np.testing.assert_array_equal(view.edge_values(), values)
    after = view.edge_colors()
    assert not np.array_equal(after, before)
    np.testing.assert_array_equal(
        after, palette.weight_rgba(values, scale, palette.colours("red-blue").weight_lut))
    negative = values < -0.5 * scale
    if negative.any():  # strongly negative edges turn from orange to red
        assert (after[negative, 0] > after[negative, 1] + 60).all()
    assert window.plots.curve_colour("train_loss") != train_before or \
        window.plots.curve_colour("test_loss") == palette.PALETTES["red-blue"].series[1].lower()
    window.presentation.palette_actions["orange-blue"].trigger()
    np.testing.assert_array_equal(view.edge_colors(), before)


def test_layout_look_and_size_are_restored_in_a_new_window(make_window, qtbot, private_settings):
    first = make_window(size=None)
    docks = first._docks
    first.removeDockWidget(docks["plots"])
    first.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, docks["plots"])
    docks["plots"].show()
    docks["sample"].hide()
    first.presentation.set_font_scale(1.5)
    first.presentation.set_theme("dark")
    first.presentation.set_palette("red-blue")
    first.close()
    assert (private_settings / "bpviz-tests" / "presentation.ini").is_file()
    style.apply_style(QApplication.instance())  # as a fresh start would be

    second = make_window(size=None)
    try:
        docks = second._docks
        assert second.dockWidgetArea(docks["plots"]) == Qt.DockWidgetArea.LeftDockWidgetArea
        assert docks["plots"].isVisible() and not docks["sample"].isVisible()
        p = second.presentation
        assert (p.font_scale, p.theme.name, p.palette) == (1.5, "dark", "red-blue")
        assert QApplication.font().pointSizeF() == pytest.approx(style.BASE_POINT_SIZE * 1.5)
        assert second.network_view.font_scale() == 1.5
        assert second.network_view.background_colour().name() == style.DARK.background
        assert p.theme_actions["dark"].isChecked() and p.palette_actions["red-blue"].isChecked()

        p.reset_layout_action.trigger()
        assert second.dockWidgetArea(docks["plots"]) == Qt.DockWidgetArea.RightDockWidgetArea
        assert docks["sample"].isVisible()
        assert p.font_scale == 1.5  # a layout reset keeps the look
    finally:
        second.close()


def test_docks_can_be_moved_floated_and_hidden(window):
    for dock in window._docks.values():
        features = dock.features()
        assert features & dock.DockWidgetFeature.DockWidgetMovable
        assert features & dock.DockWidgetFeature.DockWidgetFloatable
        assert features & dock.DockWidgetFeature.DockWidgetClosable
        assert dock.objectName()  # saveState needs it


def test_full_screen_with_f11_and_back_with_escape(qtbot, window):
    assert not window.presentation.leave_full_screen_action.isEnabled()
    press(qtbot, window, Qt.Key.Key_F11)
    qtbot.waitUntil(window.isFullScreen, timeout=TIMEOUT)
    assert window.presentation.leave_full_screen_action.isEnabled()
    press(qtbot, window, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not window.isFullScreen(), timeout=TIMEOUT)
    assert not window.presentation.leave_full_screen_action.isEnabled()


def wheel(view, steps, at=None):
    pos = QPointF(at if at is not None else view.viewport().rect().center())
    event = QWheelEvent(pos, QPointF(view.viewport().mapToGlobal(pos.toPoint())), QPoint(0, 0),
                        QPoint(0, 120 * steps), Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                        Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(view.viewport(), event)


def test_wheel_zooms_the_network_and_home_fits_it(qtbot, window):
    view = window.network_view
    node = view.node_position(1, 0)
    under_cursor = view.mapFromScene(node)
    wheel(view, 3, under_cursor)
    assert view.zoom() > 1.5
    # The node under the cursor stays under it; the view shows less of the scene.
    after = view.mapFromScene(node)
    assert (after.x(), after.y()) == pytest.approx((under_cursor.x(), under_cursor.y()), abs=3)
    assert view.viewRect().width() < view.viewport().width() / 1.5
    press(qtbot, window, Qt.Key.Key_Home)
    assert view.zoom() == 1.0
    assert view.viewRect().width() == pytest.approx(view.viewport().width(), abs=4)
    wheel(view, -3)  # not below the whole network
    assert view.zoom() == 1.0


def test_zoom_survives_a_resize(qtbot, window):
    view = window.network_view
    view.zoom_by(2.0)
    window.resize(window.width() - 100, window.height() - 60)
    qtbot.waitUntil(lambda: abs(view.viewRect().width() - view.width() / 2) < 4, timeout=TIMEOUT)
    assert view.zoom() == 2.0


def test_shortcuts_dialog_lists_every_action_with_a_shortcut(qtbot, window):
    extra = QAction("Something new", window)
    extra.setShortcut("Ctrl+Shift+J")
    extra.setToolTip("A feature added after the dialog was written")
    window.addAction(extra)
    window.show_shortcuts()
    dialog = window.presentation.shortcuts_dialog
    assert dialog.isVisible() and not dialog.isModal()
    text = window.presentation._shortcuts_label.text()
    actions = {id(a): a for a in [*window.actions(), *window.findChildren(QAction)]
               if not a.shortcut().isEmpty()}
    assert len(actions) >= 10
    for action in actions.values():
        for key in action.shortcuts():
            assert key.toString(key.SequenceFormat.NativeText).replace("+", "") in text.replace("+", "")
    rows = dict(window.presentation.shortcut_rows())
    assert rows["Space"] == "Play or pause training"
    assert rows["R"] == "Back to the initial weights"
    assert rows["F11"] == "Full screen"
    assert rows["Ctrl+Shift+J"] == "A feature added after the dialog was written"
    assert any(k.startswith("Ctrl++") for k in rows) and "Ctrl+0" in rows and "Home" in rows
    assert "Esc" in rows


@pytest.mark.qt_log_ignore("This plugin does not support raise")  # offscreen, floating docks
def test_a_floating_dock_closes_with_the_window_and_floats_again_next_time(make_window, qtbot):
    first = make_window(size=None)
    first._docks["sample"].setFloating(True)
    first.show_shortcuts()
    first.close()
    assert not first._docks["sample"].isVisible()
    assert not first.presentation.shortcuts_dialog.isVisible()
    second = make_window(size=None)
    try:
        assert second._docks["sample"].isFloating() and second._docks["sample"].isVisible()
    finally:
        second.close()
