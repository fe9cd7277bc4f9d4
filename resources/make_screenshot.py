"""Render bpviz's main window offscreen and save the README screenshot.

    python resources/make_screenshot.py [PRESET] [OUT.png] [STEPS]

Builds the window with a preset, trains a few epochs in the training process, steps
once so deltas and changes show, and saves ``resources/screenshot.png``.
"""

import os
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QEventLoop  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from bpviz.app.main_window import MainWindow  # noqa: E402
from bpviz.app.style import apply_style  # noqa: E402
from bpviz.presets import get_preset  # noqa: E402


def wait_until(app, condition, timeout_s=20.0):
    """Run the event loop until ``condition()`` holds (snapshots arrive queued)."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the window did not reach the expected state")
        app.processEvents(QEventLoop.AllEvents, 50)
        time.sleep(0.005)


def main() -> int:
    preset = sys.argv[1] if len(sys.argv) > 1 else "iris-4-5-3"
    out = Path(sys.argv[2] if len(sys.argv) > 2 else Path(__file__).with_name("screenshot.png"))
    epochs = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    app = QApplication.instance() or QApplication(sys.argv)
    apply_style(app)
    window = MainWindow(get_preset(preset).settings)
    window.resize(1600, 1000)
    window.show()
    wait_until(app, lambda: window.last_snapshot is not None)
    for _ in range(epochs):
        window.step_epoch()
        target = window.last_snapshot.epoch + 1
        wait_until(app, lambda: window.last_snapshot.epoch >= target)
    step = window.last_snapshot.step
    window.step()
    wait_until(app, lambda: window.last_snapshot.step > step)
    app.processEvents()
    window.grab().save(str(out))
    window.close()
    print(f"saved {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
