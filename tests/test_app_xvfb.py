"""The program on a real X server: Xvfb, the xcb platform plugin, a window that opens,
steps, plays, pauses and closes. The offscreen platform the other tests use cannot
catch a missing xcb library or a plugin that fails to load; this can.

Skipped only when the Xvfb binary is missing (.ci/run installs it)."""

import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

XVFB = shutil.which("Xvfb")

SCRIPT = textwrap.dedent("""
    import sys, warnings
    warnings.simplefilter("error", RuntimeWarning)
    from PySide6.QtCore import QTimer
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication
    from bpviz import logs
    from bpviz.app.main_window import MainWindow

    logs.setup(path=sys.argv[1])
    app = QApplication(sys.argv[:1])
    app.setOrganizationName("bpviz-test")
    platform = QGuiApplication.platformName()
    if platform != "xcb":
        print("platform", platform)
        sys.exit(2)
    window = MainWindow()
    window.show()
    seen = []
    window.snapshot_shown.connect(lambda s: seen.append(s.step))
    errors = []
    window.worker.training_failed.connect(errors.append)

    def wait_for(condition, then, deadline=[0]):
        def poll():
            if condition():
                then()
            else:
                QTimer.singleShot(20, poll)
        poll()

    def start():
        window.step_action.trigger()
        wait_for(lambda: seen and seen[-1] == 1, play)

    def play():
        window.play_action.trigger()
        wait_for(lambda: seen and seen[-1] > 20, pause)

    def pause():
        window.play_action.trigger()
        wait_for(lambda: not window._playing and not window.last_snapshot.playing, close)

    def close():
        assert window.isVisible() and window.windowHandle() is not None
        window.grab()  # paints every view once on the real display
        window.close()
        assert not window.thread.isRunning()
        app.quit()

    QTimer.singleShot(0, lambda: wait_for(lambda: window.last_snapshot is not None, start))
    QTimer.singleShot(60000, lambda: (print("timed out"), app.exit(3)))
    code = app.exec()
    if code == 0 and not errors:
        print("OK", platform, max(seen))
    sys.exit(code or bool(errors))
""")


@pytest.fixture
def x_display(tmp_path):
    """A private Xvfb server; yields its DISPLAY."""
    if XVFB is None:
        pytest.skip("Xvfb is not installed (Debian: apt-get install xvfb; .ci/run does)")
    for number in range(90 + os.getpid() % 50, 200):
        if not Path(f"/tmp/.X11-unix/X{number}").exists() and not Path(f"/tmp/.X{number}-lock").exists():
            break
    display = f":{number}"
    server = subprocess.Popen([XVFB, display, "-screen", "0", "1600x1000x24", "-nolisten", "tcp"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 10
        while not Path(f"/tmp/.X11-unix/X{number}").exists():
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"Xvfb did not start: {server.stderr.read().decode(errors='replace')}")
            time.sleep(0.05)
        yield display
    finally:
        server.terminate()
        try:
            server.wait(5)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def test_window_runs_on_a_real_x_server(x_display, tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="xcb", DISPLAY=x_display, XDG_STATE_HOME=str(tmp_path / "state"),
               XDG_CONFIG_HOME=str(tmp_path / "config"), XDG_RUNTIME_DIR=str(tmp_path / "runtime"))
    (tmp_path / "runtime").mkdir(mode=0o700)
    env.pop("WAYLAND_DISPLAY", None)
    log_path = tmp_path / "bpviz.log"
    result = subprocess.run([sys.executable, "-c", SCRIPT, str(log_path)], env=env, capture_output=True,
                            text=True, timeout=120)
    report = f"exit {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    assert result.returncode == 0, report
    assert result.stdout.startswith("OK xcb"), report
    assert "Traceback" not in result.stderr and "Warning" not in result.stderr, report
    # The window logged what it did.
    text = log_path.read_text()
    assert "new run" in text and " play" in text and " pause" in text and " step" in text
