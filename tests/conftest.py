"""Shared test setup: headless Qt, a --runslow option, a guard against tests that
leave a QThread running, and the real main window (``make_window``, ``window``)."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402


def pytest_addoption(parser):
    parser.addoption("--runslow", action="store_true", help="also run the larger, slow checks")
    parser.addoption("--monkey-actions", type=int, default=None, metavar="N",
                     help="random actions in tests/test_app_monkey.py (default: a few hundred, "
                          "a few thousand with --runslow)")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--runslow"):
        return
    skip = pytest.mark.skip(reason="a larger check; run with --runslow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def log_to_a_temp_dir(tmp_path_factory, monkeypatch):
    """The program's log file (see bpviz.logs) goes to a temporary folder, never the user's."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path_factory.getbasetemp() / "state"))
    yield
    from bpviz import logs
    logs.remove()


@pytest.fixture(autouse=True)
def qsettings_in_a_temp_dir(request, tmp_path_factory):
    """QSettings (recent files, the last settings, geometry) go to a fresh INI file per
    Qt test, never the user's."""
    if "qtbot" not in request.fixturenames and "qapp" not in request.fixturenames:
        yield None
        return
    from PySide6.QtCore import QSettings

    folder = tmp_path_factory.mktemp("qsettings")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder))
    yield folder
    # The View menu's font scale, theme and pyqtgraph colours are application-wide:
    # put them back so the next test starts from the default look.
    from PySide6.QtWidgets import QApplication

    from bpviz.app.style import apply_style

    if QApplication.instance() is not None:
        apply_style(QApplication.instance())


@pytest.fixture(autouse=True)
def no_running_qthreads(request, monkeypatch):
    """Fail any test that leaves a QThread running (napari does the same)."""
    if "qtbot" not in request.fixturenames and "qapp" not in request.fixturenames:
        yield
        return
    from PySide6.QtCore import QThread

    started = []
    original = QThread.start

    def recording_start(self, *args):
        started.append(self)
        return original(self, *args)

    monkeypatch.setattr(QThread, "start", recording_start)
    yield
    running = []
    for thread in started:
        try:
            if thread.isRunning():
                running.append(thread.objectName() or repr(thread))
        except RuntimeError:  # the C++ object is gone, so the thread was joined and deleted
            continue
    for thread in started:
        try:
            if thread.isRunning():
                thread.quit()
                thread.wait(2000)
        except RuntimeError:
            continue
    assert not running, f"test left QThread(s) running: {running}"



WINDOW_TIMEOUT = 10000  # ms for a new window to become active and show its first snapshot


@pytest.fixture
def make_window(qtbot):
    """make_window(settings=None, size=(1400, 900), **kwargs): a MainWindow (``kwargs``
    as MainWindow takes them), shown, active and showing its first snapshot.
    ``size=None`` keeps the size the window chose itself (e.g. a restored layout).
    Every window made is closed at teardown, and its training thread must have stopped."""
    from PySide6.QtWidgets import QApplication

    from bpviz.app.main_window import MainWindow

    windows = []

    def make(settings=None, size=(1400, 900), **kwargs):
        window = MainWindow(settings, **kwargs)
        windows.append(window)
        qtbot.addWidget(window)
        if size is not None:
            window.resize(*size)
        window.show()
        qtbot.waitExposed(window)
        window.activateWindow()
        qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=WINDOW_TIMEOUT)
        qtbot.waitUntil(lambda: window.last_snapshot is not None, timeout=WINDOW_TIMEOUT)
        return window

    yield make
    for window in windows:
        window.close()
        assert not window.thread.isRunning()


@pytest.fixture
def window(make_window):
    """The main window with the default settings."""
    return make_window()
