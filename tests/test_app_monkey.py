"""A monkey drives the real window: random clicks on every action, button and check
box, random valid and invalid text in every field, combo changes, keyboard shortcuts,
resizes, and closing and reopening the window, with a fixed seed.

Actions are discovered from the window itself (QAction, QAbstractButton, QLineEdit,
QComboBox, ...), so parts added later join in without changing this file. Dialogs that
would block (file dialogs, modal message boxes) are made to return at once.

Afterwards: no exception in any slot (pytest-qt fails the test), no Qt warning (the
ini fails on them), no NumPy warning (an error here), no error from the worker, the
worker idle once paused, finite weights, and the network view showing exactly the
engine's weights. ``--monkey-actions N`` sets the number of actions; ``--runslow``
runs a few thousand.
"""

import random

import numpy as np
import pytest
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QAction, QKeyEvent
from PySide6.QtWidgets import (QAbstractButton, QAbstractSpinBox, QApplication, QComboBox,
                               QDialog, QFileDialog, QInputDialog, QLineEdit, QMenu, QMessageBox,
                               QSlider)

from bpviz.app.main_window import MainWindow

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")

TIMEOUT = 10000
CI_ACTIONS, SLOW_ACTIONS = 300, 3000

# Actions the monkey never triggers itself: Quit closes the window (the monkey closes
# and reopens on its own, checking the thread each time).
SKIP_ACTIONS = {"Quit"}

TEXTS = ["", " ", "0", "1", "2", "5", "8-8", "3-3-3", "12", "0.1", "0.5", "1e-3", "10", "100",
         "-1", "abc", "1e9", "nan", "inf", "-inf", "²", "5--3", "0.9", "1.5", "64", "2000",
         "4,4", "3x3", "1e-7", "  7  ", "0.0001", "1e400", "٣", "\t", "9" * 30]
KEYS = [(Qt.Key.Key_Space, Qt.KeyboardModifier.NoModifier),
        (Qt.Key.Key_Right, Qt.KeyboardModifier.NoModifier),
        (Qt.Key.Key_Left, Qt.KeyboardModifier.NoModifier),
        (Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier),
        (Qt.Key.Key_Right, Qt.KeyboardModifier.ControlModifier),
        (Qt.Key.Key_R, Qt.KeyboardModifier.NoModifier)]


def type_text(qtbot, widget, text):
    """Type ``text`` as a keyboard would. QTest only knows Latin-1 keys (it asserts on
    others), so other characters arrive as key events that carry just their text."""
    for char in text:
        if ord(char) < 256:
            qtbot.keyClicks(widget, char)
        else:
            for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
                QApplication.sendEvent(widget, QKeyEvent(kind, 0, Qt.KeyboardModifier.NoModifier, char))


@pytest.fixture
def no_blocking_dialogs(monkeypatch):
    """Every dialog that would wait for the user returns at once, as if cancelled."""
    cancelled = {"getOpenFileName": ("", ""), "getSaveFileName": ("", ""),
                 "getOpenFileNames": ([], ""), "getExistingDirectory": ""}
    for name, value in cancelled.items():
        monkeypatch.setattr(QFileDialog, name, staticmethod(lambda *a, _v=value, **k: _v))
    for name in ("information", "warning", "critical", "question"):
        monkeypatch.setattr(QMessageBox, name, staticmethod(lambda *a, **k: QMessageBox.StandardButton.Cancel))
    monkeypatch.setattr(QMessageBox, "about", staticmethod(lambda *a, **k: None))
    for name in ("getText", "getInt", "getDouble", "getItem"):
        monkeypatch.setattr(QInputDialog, name, staticmethod(lambda *a, **k: (None, False)))
    for cls in (QDialog, QFileDialog, QMessageBox, QInputDialog):
        monkeypatch.setattr(cls, "exec", lambda self, *a: 0)
    monkeypatch.setattr(QMenu, "exec", lambda self, *a, **k: None)


class Monkey:
    def __init__(self, qtbot, seed):
        self.qtbot = qtbot
        self.rng = random.Random(seed)
        self.failures: list[str] = []
        self.log: list[str] = []
        self.window: MainWindow | None = None
        self.open()

    # --- the window's life ----------------------------------------------------------------
    def open(self):
        window = MainWindow()
        self.qtbot.addWidget(window)
        window.resize(self.rng.randint(900, 1500), self.rng.randint(600, 1000))
        window.show()
        self.qtbot.waitExposed(window)
        self.qtbot.waitUntil(lambda: window.last_snapshot is not None, timeout=TIMEOUT)
        window.worker.training_failed.connect(self.failures.append)  # list.append is thread-safe
        self.window = window

    def close_and_reopen(self):
        window = self.window
        window.close()
        assert not window.thread.isRunning(), "closing left the training thread running"
        self.open()

    # --- what can be done -----------------------------------------------------------------
    def actions(self):
        found = []
        for action in self.window.findChildren(QAction):
            text = action.text().replace("&", "")
            if action.menu() is not None or action.isSeparator() or text in SKIP_ACTIONS or not text:
                continue
            if type(action.parent()).__module__.startswith("pyqtgraph"):
                continue  # pyqtgraph's own context menus expect the right-click that opened them
            found.append(action)
        return found

    def usable(self, widgets):
        return [w for w in widgets if w.isVisible() and w.isEnabled()]

    def line_edits(self):
        return self.usable(e for e in self.window.findChildren(QLineEdit)
                           if not isinstance(e.parent(), (QAbstractSpinBox, QComboBox)))

    def step(self):
        window, rng, qtbot = self.window, self.rng, self.qtbot
        kind = rng.choices(
            ["action", "button", "text", "spin", "combo", "key", "slider", "resize", "wait", "reopen"],
            weights=[20, 8, 20, 6, 12, 20, 6, 3, 6, 0.5])[0]
        if kind == "action":
            action = rng.choice(self.actions())
            self.log.append(f"action {action.text()!r}")
            if action.isEnabled():
                action.trigger()
        elif kind == "button":
            buttons = self.usable(window.findChildren(QAbstractButton))
            if buttons:
                button = rng.choice(buttons)
                self.log.append(f"button {button.text()!r}")
                button.click()
        elif kind == "text":
            edits = self.line_edits()
            if edits:
                edit = rng.choice(edits)
                text = rng.choice(TEXTS)
                self.log.append(f"type {text!r} into {edit.toolTip()[:30]!r}")
                edit.setFocus()
                qtbot.keyClick(edit, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
                type_text(qtbot, edit, text)
                ending = rng.choice([Qt.Key.Key_Return, Qt.Key.Key_Return, Qt.Key.Key_Escape, Qt.Key.Key_Tab, None])
                if ending is not None:
                    qtbot.keyClick(edit, ending)
        elif kind == "spin":
            spins = self.usable(window.findChildren(QAbstractSpinBox))
            if spins:
                spin = rng.choice(spins)
                text = rng.choice(TEXTS)
                self.log.append(f"spin {text!r}")
                spin.setFocus()
                spin.selectAll()
                type_text(qtbot, spin, text)
                qtbot.keyClick(spin, rng.choice([Qt.Key.Key_Return, Qt.Key.Key_Up, Qt.Key.Key_Down]))
        elif kind == "combo":
            combos = self.usable(window.findChildren(QComboBox))
            if combos:
                combo = rng.choice(combos)
                model = combo.model()
                choices = [i for i in range(combo.count())
                           if combo.itemData(i) is not None and model.item(i) is not None
                           and model.item(i).isEnabled()] if hasattr(model, "item") else list(range(combo.count()))
                if choices:
                    index = rng.choice(choices)
                    self.log.append(f"combo {combo.itemText(index)!r}")
                    combo.setCurrentIndex(index)
                    combo.activated.emit(index)
        elif kind == "key":
            key, modifier = rng.choice(KEYS)
            self.log.append(f"key {key.name} {modifier.name}")
            window.network_view.setFocus()
            qtbot.keyClick(window, key, modifier)
        elif kind == "slider":
            sliders = self.usable(window.findChildren(QSlider))
            if sliders:
                slider = rng.choice(sliders)
                self.log.append("slider")
                slider.setValue(rng.randint(slider.minimum(), slider.maximum()))
        elif kind == "resize":
            self.log.append("resize")
            window.resize(rng.randint(400, 1800), rng.randint(300, 1200))
        elif kind == "wait":
            qtbot.wait(rng.randint(1, 40))
        else:
            self.log.append("close and reopen")
            self.close_and_reopen()
        if rng.random() < 0.2:
            QApplication.processEvents()

    # --- the end state ---------------------------------------------------------------------
    def settle(self):
        """Pause, let every queued command run, and wait for the worker to go quiet."""
        window, qtbot = self.window, self.qtbot
        for _ in range(3):
            qtbot.waitUntil(lambda: not window.worker.has_pending_commands(), timeout=TIMEOUT)
            qtbot.wait(60)
            if window._playing:
                window.play_action.trigger()
        qtbot.waitUntil(lambda: not window._playing and not window.last_snapshot.playing, timeout=TIMEOUT)
        qtbot.waitUntil(lambda: not window.worker.has_pending_commands(), timeout=TIMEOUT)


def finite(snapshot):
    return all(np.isfinite(a).all() for a in (*snapshot.weights, *snapshot.biases))


def expected_edge_values(snapshot, edges):
    return np.array([snapshot.biases[k][j] if i == snapshot.sizes[k] else snapshot.weights[k][i, j]
                     for k, i, j in zip(*edges)])


def number_of_actions(config):
    given = config.getoption("--monkey-actions")
    if given is not None:
        return given
    return SLOW_ACTIONS if config.getoption("--runslow") else CI_ACTIONS


@pytest.mark.qt_log_ignore("This plugin does not support raise")  # offscreen: docks, message boxes
@pytest.mark.parametrize("seed", [1, 2])
def test_monkey(qtbot, no_blocking_dialogs, capfd, request, seed):
    monkey = Monkey(qtbot, seed)
    for _ in range(number_of_actions(request.config)):
        monkey.step()
    monkey.settle()
    window = monkey.window
    history = "\n".join(monkey.log[-30:])
    assert not monkey.failures, f"the worker reported {monkey.failures}; last actions:\n{history}"

    # Paused means idle: no new snapshot arrives.
    step = window.last_snapshot.step
    qtbot.wait(200)
    assert window.last_snapshot.step == step, "the worker trains while paused"
    assert not window.last_snapshot.playing

    # A divergence may have left NaN weights on screen; going back restores finite ones.
    if not finite(window.last_snapshot):
        assert getattr(window, "divergence_box", None) is not None, "non-finite weights, no divergence shown"
        with qtbot.waitSignal(window.snapshot_shown, timeout=TIMEOUT):
            window._restore_last_good()
    snap = window.last_snapshot
    assert finite(snap), f"non-finite weights; last actions:\n{history}"
    assert snap.run_id == window._run_id
    assert snap.sizes == window.settings.sizes(window.dataset)

    view = window.network_view
    assert np.array_equal(view.edge_values(), expected_edge_values(snap, view.edge_list())), \
        f"the network view does not show the engine's weights; last actions:\n{history}"

    window.close()
    assert not window.thread.isRunning()
    err = capfd.readouterr().err
    assert "Traceback" not in err and "Warning" not in err.replace("bpviz: WARNING", ""), err[-2000:]
