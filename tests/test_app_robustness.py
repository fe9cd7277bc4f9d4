"""Robustness of the real window: divergence end to end, bad input in every field of
the control panel, an exception inside the worker, and fast clicking through the
thread's whole life. RuntimeWarnings are errors here: a NumPy warning on either thread
would mean a NaN slipped past a guard."""

import faulthandler
import logging
import os
import random
import signal

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from bpviz.presets import get_preset
from bpviz.settings import Settings

from helpers import start_failing_run

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")

TIMEOUT = 10000


class Failures:
    """Records the worker's error reports (there should be none unless a test makes one)."""

    def __init__(self, window):
        self.messages = []
        window.worker.training_failed.connect(self.messages.append)  # list.append is thread-safe


def expected_edge_values(snapshot, edges):
    values = [snapshot.biases[k][j] if i == snapshot.sizes[k] else snapshot.weights[k][i, j]
              for k, i, j in zip(*edges)]
    return np.array(values)


def assert_view_matches_engine(window):
    view, snap = window.network_view, window.last_snapshot
    assert np.array_equal(view.edge_values(), expected_edge_values(snap, view.edge_list()), equal_nan=True)


def wait_idle(qtbot, window):
    qtbot.waitUntil(lambda: not window._playing and not window.last_snapshot.playing, timeout=TIMEOUT)


# --- 1. divergence ---------------------------------------------------------------------

DIVERGING = {
    # The loss explodes within the first epoch (2.3 -> 465): caught only because the
    # monitor knows the loss before training.
    "digits-fast at learning rate 10": get_preset("digits-fast").settings.with_(
        learning_rate=10.0, epochs=None),
    # The loss becomes infinite after a few single-sample steps.
    "ReLU with a large init, sample by sample": Settings(
        dataset="digits", hidden=(32, 16), activation="relu", output_activation="linear",
        init="normal", init_scale=5.0, learning_rate=10.0, epochs=None),
    # Mini-batches with momentum: the loss grows 1e8 -> 1e76 but stays finite.
    "ReLU with a large init, mini-batches": get_preset("digits-fast").settings.with_(
        activation="relu", init="normal", init_scale=5.0, output_activation="linear",
        loss="squared", epochs=None),
}


@pytest.mark.parametrize("settings", DIVERGING.values(), ids=DIVERGING.keys())
def test_divergence_pauses_explains_and_goes_back(make_window, qtbot, capfd, settings):
    window = make_window(settings)
    failures = Failures(window)
    initial = window.last_snapshot
    window.play_action.trigger()
    qtbot.waitUntil(lambda: getattr(window, "divergence_box", None) is not None
                    and window.divergence_box.isVisible(), timeout=TIMEOUT)
    box = window.divergence_box
    assert "learning rate" in box.text() and "paused" in box.text()
    assert "diverged" in window.statusBar().currentMessage()
    wait_idle(qtbot, window)
    assert window.play_action.text().endswith("Play")
    step = window.last_snapshot.step
    qtbot.wait(150)
    assert window.last_snapshot.step == step, "the worker kept training after the divergence"
    assert_view_matches_engine(window)

    restore = next(b for b in box.buttons() if b.text() == "Back to the last good weights")
    with qtbot.waitSignal(window.snapshot_shown, timeout=TIMEOUT):
        qtbot.mouseClick(restore, Qt.MouseButton.LeftButton)
    snap = window.last_snapshot
    assert all(np.isfinite(w).all() for w in (*snap.weights, *snap.biases))
    # Every case diverges in the first epoch, so the last good weights are the initial ones.
    assert snap.step == 0
    assert all(np.array_equal(a, b) for a, b in zip(snap.weights, initial.weights))
    assert_view_matches_engine(window)

    # Still usable: a step after going back trains normally.
    with qtbot.waitSignal(window.snapshot_shown, timeout=TIMEOUT):
        window.step_action.trigger()
    assert window.last_snapshot.step == 1
    window.close()
    assert not failures.messages
    assert "Warning" not in capfd.readouterr().err


def test_a_second_divergence_replaces_the_first_question(make_window, qtbot):
    window = make_window(DIVERGING["ReLU with a large init, sample by sample"])
    for _ in range(2):
        window.play_action.trigger()
        qtbot.waitUntil(lambda: getattr(window, "divergence_box", None) is not None
                        and window.divergence_box.isVisible(), timeout=TIMEOUT)
        first = window.divergence_box
        wait_idle(qtbot, window)
    assert first.isVisible()
    assert sum(b.isVisible() for b in window.findChildren(QMessageBox)) == 1
    window.close()


@pytest.mark.parametrize("args", [
    ["--preset", "digits-fast", "--lr", "10", "--epochs", "5"],
    ["--preset", "digits-fast", "--activation", "relu", "--init", "normal", "--init-scale", "5",
     "--output", "linear", "--loss", "squared", "--epochs", "5"],
    ["--preset", "digits-64-32-16-10", "--activation", "relu", "--init", "normal",
     "--init-scale", "5", "--output", "linear", "--epochs", "3"],
])
def test_cli_divergence_exits_3_without_warnings(capfd, args):
    from bpviz import cli
    assert cli.main(["train", *args]) == cli.EXIT_DIVERGED
    out, err = capfd.readouterr()
    assert err.startswith("bpviz: error: training diverged") and err.count("\n") == 1
    assert "Warning" not in out + err


# --- 2. bad input in every field ---------------------------------------------------------

def type_into(qtbot, widget, text):
    widget.setFocus()
    qtbot.keyClick(widget, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(widget, Qt.Key.Key_Delete)
    if text:
        qtbot.keyClicks(widget, text)
    qtbot.keyClick(widget, Qt.Key.Key_Return)


class Rebuilds:
    """Counts the runs handed to the worker (every rebuild goes through worker.load)."""

    def __init__(self, window, monkeypatch):
        self.settings = []
        original = window.worker.load
        monkeypatch.setattr(window.worker, "load", lambda *a, **k: (self.settings.append(a), original(*a, **k)))


# (attribute of the control panel, invalid text, words the message must contain)
BAD_TEXT = [
    ("layers_edit", "abc", "not a whole number"),
    ("layers_edit", "5--3", "empty layer"),
    ("layers_edit", "0", "at least one node"),
    ("layers_edit", "5000", "more than"),
    ("layers_edit", "-".join(["3"] * 20), "hidden layers"),
    ("learning_rate_edit", "fast", "not a number"),
    ("learning_rate_edit", "0", "learning rate"),
    ("learning_rate_edit", "-0.1", "learning rate"),
    ("learning_rate_edit", "100", "learning rate"),
    ("learning_rate_edit", "nan", "finite"),
    ("learning_rate_edit", "", "empty"),
    ("samples_edit", "many", "not a number"),
    ("samples_edit", "2.5", "whole number"),
    ("samples_edit", "1", "number of samples"),
    ("samples_edit", "1e9", "number of samples"),
    ("noise_edit", "lots", "not a number"),
    ("noise_edit", "-1", "noise"),
    ("noise_edit", "inf", "finite"),
    ("noise_edit", "50", "noise"),
    ("test_edit", "half", "not a number"),
    ("test_edit", "1", "test fraction"),
    ("test_edit", "-0.2", "test fraction"),
    ("init_scale_edit", "big", "not a number"),
    ("init_scale_edit", "0", "init scale"),
    ("init_scale_edit", "-3", "init scale"),
    ("init_scale_edit", "1e999", "finite"),
    ("bias_init_edit", "x", "not a number"),
    ("bias_init_edit", "-inf", "finite"),
]


@pytest.fixture
def generated_window(make_window):
    """A window on a generated dataset, so the data fields are enabled."""
    return make_window(Settings(dataset="spiral", hidden=(4,), output_activation="sigmoid",
                                loss="binary_cross_entropy", epochs=None))


@pytest.mark.parametrize("name,text,words", BAD_TEXT, ids=[f"{n}={t[:12]!r}" for n, t, _ in BAD_TEXT])
def test_bad_text_is_explained_and_never_reaches_the_engine(qtbot, monkeypatch, generated_window,
                                                            name, text, words):
    window = generated_window
    panel = window.controls
    rebuilds = Rebuilds(window, monkeypatch)
    rates = []
    panel.learning_rate_changed.connect(rates.append)
    before = window.settings
    field = getattr(panel, name)
    assert field.isEnabled()
    type_into(qtbot, field, text)
    assert words.lower() in panel.message_label.text().lower()
    assert panel.message_label.isVisible() and field.problem()
    # The field keeps the typed text (marked red) so it can be corrected.
    assert field.text() == text
    qtbot.wait(50)
    assert not rebuilds.settings and not rates
    assert panel.settings() == before and window.settings == before
    # Esc puts back the value in use and answers the message.
    field.setFocus()
    qtbot.keyClick(field, Qt.Key.Key_Escape)
    assert not field.problem() and words.lower() not in panel.message_label.text().lower()


def test_message_appears_while_typing_before_enter(qtbot, generated_window):
    panel = generated_window.controls
    field = panel.learning_rate_edit
    field.setFocus()
    qtbot.keyClick(field, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(field, "0.1x")
    assert "not a number" in panel.message_label.text()
    qtbot.keyClick(field, Qt.Key.Key_Backspace)
    assert not field.problem() and not panel.message_label.isVisible()


def test_batch_size_larger_than_the_data_is_refused(make_window, qtbot, monkeypatch):
    window = make_window(Settings(dataset="xor", hidden=(2,), output_activation="sigmoid",
                                         mode="batch", batch_size=2, epochs=None))
    panel = window.controls
    rebuilds = Rebuilds(window, monkeypatch)
    before = window.settings
    type_into(qtbot, panel.batch_spin, "50")
    assert "batch size" in panel.message_label.text() and panel.message_label.isVisible()
    qtbot.wait(50)
    assert not rebuilds.settings and window.settings == before
    assert panel.batch_spin.value() == 2
    window.close()


@pytest.mark.parametrize("name,text", [
    ("epochs_spin", "many"), ("epochs_spin", "-5"), ("epochs_spin", "99999999"),
    ("seed_spin", "abc"), ("seed_spin", "-1"), ("seed_spin", "99999999999"),
    ("data_seed_spin", "x1"), ("data_seed_spin", "99999999999"),
    ("batch_spin", "zero"), ("batch_spin", "0"),
    ("momentum_spin", "fast"), ("momentum_spin", "2"),
])
def test_spin_boxes_never_hand_on_an_invalid_value(qtbot, monkeypatch, generated_window, name, text):
    """A spin box refuses what does not fit as it is typed; whatever it then holds is a
    valid setting, so an invalid value cannot reach the engine."""
    window = generated_window
    panel = window.controls
    rebuilds = Rebuilds(window, monkeypatch)
    spin = getattr(panel, name)
    spin.setEnabled(True)  # momentum and batch size are greyed out for these settings
    type_into(qtbot, spin, text)
    qtbot.wait(50)
    assert spin.minimum() <= spin.value() <= spin.maximum()
    window.settings.validate()
    for _dataset, net, *_ in rebuilds.settings:
        assert net.is_finite()
    assert window.controls.settings() == window.settings


# --- 4. the worker thread's life ---------------------------------------------------------

def test_an_exception_in_the_worker_is_reported_and_the_window_stays_usable(qtbot, window, caplog):
    failures = Failures(window)
    start_failing_run(window, 0)
    qtbot.waitUntil(lambda: window.last_snapshot.run_id == window.run_id, timeout=TIMEOUT)
    caplog.set_level(logging.INFO, logger="bpviz")
    window.step_action.trigger()
    qtbot.waitUntil(lambda: bool(failures.messages), timeout=TIMEOUT)
    assert "injected failure" in failures.messages[0]
    qtbot.waitUntil(lambda: "injected failure" in window.statusBar().currentMessage(), timeout=TIMEOUT)
    boxes = [b for b in window.findChildren(QMessageBox) if b.isVisible()]
    assert any("injected failure" in b.text() for b in boxes)
    assert any("injected failure" in r.getMessage() and r.levelno >= logging.ERROR for r in caplog.records)
    with qtbot.waitSignal(window.snapshot_shown, timeout=TIMEOUT):
        window.step_action.trigger()
    assert window.last_snapshot.step == 1
    # Playing after the failure works too.
    window.play_action.trigger()
    qtbot.waitUntil(lambda: window.last_snapshot.step > 5, timeout=TIMEOUT)
    window.play_action.trigger()
    wait_idle(qtbot, window)


def test_a_training_process_that_dies_is_reported_and_the_window_stays_calm(qtbot, window):
    failures = Failures(window)
    window.play_action.trigger()
    qtbot.waitUntil(lambda: window.last_snapshot.step > 5, timeout=TIMEOUT)
    os.kill(window.worker._process.pid, signal.SIGKILL)
    qtbot.waitUntil(lambda: bool(failures.messages), timeout=TIMEOUT)
    assert "training process ended unexpectedly" in failures.messages[0]
    assert "restart bpviz" in failures.messages[0]
    shown = window.last_snapshot
    for action in (window.step_action, window.play_action, window.reset_action):
        action.trigger()  # commands to a process that has gone are dropped, quietly
    qtbot.wait(100)
    assert window.last_snapshot is shown and len(failures.messages) == 1


def test_an_exception_while_playing_pauses(qtbot, window):
    failures = Failures(window)
    start_failing_run(window, 30)
    qtbot.waitUntil(lambda: window.last_snapshot.run_id == window.run_id, timeout=TIMEOUT)
    window.play_action.trigger()
    qtbot.waitUntil(lambda: bool(failures.messages), timeout=TIMEOUT)
    wait_idle(qtbot, window)
    assert window.play_action.text().endswith("Play")


DATASETS = ["iris", "xor", "spiral", "digits", "blobs", "sine"]


def _random_action(rng, window):
    """One of the things a user can click, chosen at random; returns its name."""
    panel = window.controls
    choice = rng.randrange(9)
    if choice == 0:
        window.play_action.trigger()
    elif choice == 1:
        window.step_action.trigger()
    elif choice == 2:
        window.step_epoch_action.trigger()
    elif choice == 3:
        window.reset_action.trigger()
    elif choice == 4:
        index = panel.dataset_combo.findData(f"dataset:{rng.choice(DATASETS)}")
        panel.dataset_combo.setCurrentIndex(index)
        panel.dataset_combo.activated.emit(index)
    elif choice == 5:
        panel._set_layers(tuple(rng.randint(1, 12) for _ in range(rng.randint(0, 3))))
    elif choice == 6:
        window.speed_slider.setValue(rng.randrange(window.speed_slider.maximum() + 1))
    elif choice == 7:
        panel.learning_rate_slider.setValue(rng.randrange(panel.learning_rate_slider.maximum() + 1))
    else:
        QApplication.processEvents()
    return choice


@pytest.fixture
def watchdog():
    """A deadlock would hang the run: dump every thread's stack and exit instead."""
    faulthandler.dump_traceback_later(120, exit=True)
    yield
    faulthandler.cancel_dump_traceback_later()


@pytest.mark.parametrize("seed", range(4))
def test_fast_clicking_then_close_never_deadlocks(make_window, qtbot, watchdog, seed):
    rng = random.Random(seed)
    window = make_window()
    failures = Failures(window)
    for _ in range(60):
        _random_action(rng, window)
        if rng.random() < 0.3:
            qtbot.wait(rng.randrange(5))
    window.close()
    assert not window.thread.isRunning() and window.thread.isFinished()
    assert not failures.messages


def test_close_while_playing_fast_and_reopen(make_window, qtbot, watchdog):
    for _ in range(3):
        window = make_window(get_preset("digits-fast").settings.with_(epochs=None))
        window.play_action.trigger()
        qtbot.waitUntil(lambda: window.last_snapshot.step > 0, timeout=TIMEOUT)
        window.close()
        assert window.thread.isFinished()
        window.close()  # a second close is harmless


def test_paused_worker_is_idle_after_a_burst(qtbot, window, watchdog):
    rng = random.Random(7)
    for _ in range(80):
        _random_action(rng, window)
    qtbot.waitUntil(lambda: not window.worker.has_pending_commands(), timeout=TIMEOUT)
    qtbot.wait(50)
    if window._playing:
        window.play_action.trigger()
    wait_idle(qtbot, window)
    qtbot.wait(100)
    step = window.last_snapshot.step
    qtbot.wait(200)
    assert window.last_snapshot.step == step
    assert_view_matches_engine(window)


# --- 7. logging ------------------------------------------------------------------------------

def test_log_file_is_made_on_demand_under_xdg_state_home(tmp_path, monkeypatch, capsys):
    from bpviz import logs
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    path = logs.setup()
    assert path == tmp_path / "state" / "bpviz" / "bpviz.log" == logs.log_file()
    assert not path.parent.exists()
    log = logging.getLogger("bpviz.test")
    log.debug("a detail")
    log.info("something happened")
    log.warning("something went wrong")
    text = path.read_text()
    assert "something happened" in text and "something went wrong" in text and "a detail" not in text
    err = capsys.readouterr().err
    assert "something went wrong" in err and "something happened" not in err
    logs.setup()  # again: still one handler of each kind
    log.warning("once")
    assert capsys.readouterr().err.count("once") == 1 and path.read_text().count("once") == 1


def test_verbose_logs_details_everywhere(tmp_path, capsys):
    from bpviz import logs
    path = logs.setup(verbose=True, path=tmp_path / "v.log")
    logging.getLogger("bpviz.test").debug("a detail")
    assert "a detail" in path.read_text() and "a detail" in capsys.readouterr().err


def test_default_location_ignores_a_relative_xdg_state_home(tmp_path, monkeypatch):
    from bpviz import logs
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_STATE_HOME", "relative/state")
    assert logs.default_log_path() == tmp_path / ".local" / "state" / "bpviz" / "bpviz.log"
    monkeypatch.delenv("XDG_STATE_HOME")
    assert logs.default_log_path() == tmp_path / ".local" / "state" / "bpviz" / "bpviz.log"


def test_log_file_rotates(tmp_path, monkeypatch):
    from bpviz import logs
    monkeypatch.setattr(logs, "MAX_BYTES", 2000)
    path = logs.setup(path=tmp_path / "r.log")
    for i in range(200):
        logging.getLogger("bpviz.test").info("line %d of some length to fill the file", i)
    assert path.stat().st_size <= 2000 and (tmp_path / "r.log.1").exists()
    assert len(list(tmp_path.glob("r.log*"))) <= 1 + logs.BACKUP_COUNT


def test_an_unwritable_log_file_is_one_line_on_stderr(tmp_path, capsys):
    from bpviz import logs
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    logs.setup(path=blocker / "bpviz" / "bpviz.log")
    for _ in range(3):
        logging.getLogger("bpviz.test").info("lost")
    err = capsys.readouterr().err
    assert err.count("cannot write the log file") == 1 and "Traceback" not in err


def test_cli_logs_to_the_file_and_verbose_to_stderr(tmp_path, monkeypatch, capsys):
    from bpviz import cli
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert cli.main(["train", "--preset", "xor-2-2-1", "--epochs", "2"]) == 0
    assert "Warning" not in capsys.readouterr().err
    text = (tmp_path / "bpviz" / "bpviz.log").read_text()
    assert "started: train --preset xor-2-2-1 --epochs 2" in text
    assert cli.main(["--verbose", "train", "--preset", "xor-2-2-1", "--epochs", "2"]) == 0
    assert "trained 2 epochs" in capsys.readouterr().err


def test_help_menu_shows_the_log_file(qtbot, tmp_path, window):
    from bpviz import logs
    path = logs.setup(path=tmp_path / "shown.log")
    action = next(a for a in window.findChildren(type(window.play_action)) if a.text() == "Log file…")
    action.trigger()
    box = window.log_file_box
    assert box.isVisible() and str(path) in box.text()
    box.close()
    logs.remove()
    action.trigger()
    assert "without a log file" in window.log_file_box.text()


def test_the_window_logs_what_the_user_does(qtbot, window, caplog):
    caplog.set_level(logging.INFO, logger="bpviz")
    with qtbot.waitSignal(window.snapshot_shown, timeout=TIMEOUT):
        window.step_action.trigger()
    window.play_action.trigger()
    qtbot.waitUntil(lambda: window._playing, timeout=TIMEOUT)
    window.play_action.trigger()
    wait_idle(qtbot, window)
    with qtbot.waitSignal(window.snapshot_shown, timeout=TIMEOUT):
        window.reset_action.trigger()
    window.apply_settings(get_preset("xor-2-2-1").settings)
    messages = [r.getMessage() for r in caplog.records]
    for expected in ("step", "play", "pause", "reset to the initial weights"):
        assert expected in messages
    assert any(m.startswith("new run") for m in messages)
