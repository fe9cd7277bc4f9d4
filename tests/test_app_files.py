"""The File menu of the real window: own data through the CSV dialog, sessions that
resume exactly in a new window, recent files, the stored settings, exports and
recorded frames. File dialogs are replaced by temporary paths; QSettings live in a
temporary INI file (conftest)."""

import csv
import json
import logging
import struct
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox

from bpviz.app import background
from bpviz.app.file_menu import MAX_RECENT, add_recent, recent_files, stored_settings
from bpviz import step_table
from bpviz.settings import Settings

TIMEOUT = 10000
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
ROWS = [(i % 7 * 0.5, (i * 3) % 5 - 2.0, ("red", "green", "blue")[i % 3]) for i in range(60)]


def write_csv(path, rows=ROWS, delimiter=",", header=("width", "height", "colour")):
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture
def dialogs(monkeypatch):
    """Answers for the file dialogs: set .open / .save to the path to return."""
    class Answers:
        open = save = folder = ""
    answers = Answers()
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(answers.open), ""))
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(answers.save), ""))
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(answers.folder))
    return answers


def wait_background(qtbot):
    qtbot.waitUntil(lambda: not background.busy(), timeout=TIMEOUT)


def current_snapshot(qtbot, window, step=None):
    """The window's latest snapshot of its current run (at ``step`` if given)."""
    qtbot.waitUntil(lambda: window.last_snapshot is not None
                    and window.last_snapshot.run_id == window.run_id
                    and (step is None or window.last_snapshot.step == step), timeout=TIMEOUT)
    return window.last_snapshot


def choose(combo, data):
    index = combo.findData(data)
    assert index >= 0
    combo.setCurrentIndex(index)
    combo.activated.emit(index)


def menu_action(window, *path):
    """The menu entry at ``path`` of texts, e.g. ("File", "Export", "SVG…")."""
    actions = window.menuBar().actions()
    for text in path:
        found = [a for a in actions if a.text().replace("&", "") == text]
        assert found, f"no menu entry {text!r} in {[a.text() for a in actions]}"
        action = found[0]
        actions = action.menu().actions() if action.menu() else []
    return action


def opened_dialog(qtbot, window, dialogs, path):
    dialogs.open = path
    menu_action(window, "File", "Open dataset (CSV)…").trigger()
    dialog = window.files.csv_dialog
    assert dialog is not None and dialog.isVisible()
    wait_background(qtbot)
    return dialog


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_SIGNATURE and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


# --- own data ------------------------------------------------------------------------

def test_open_a_csv_file_through_the_dialog_and_train_on_it(qtbot, window, dialogs, tmp_path):
    path = write_csv(tmp_path / "paint.csv", delimiter=";")
    dialog = opened_dialog(qtbot, window, dialogs, path)
    assert dialog.table.columnCount() == 3 and dialog.table.rowCount() == 20
    assert dialog.table.horizontalHeaderItem(2).text() == "colour\ntext"
    assert dialog.table.horizontalHeaderItem(0).text() == "width\nnumber"
    assert "60 data rows" in dialog.detected_label.text() and "semicolon" in dialog.detected_label.text()
    assert dialog.target_combo.currentText() == "colour"  # the last column by default

    choose(dialog.delimiter_combo, ",")  # wrong on purpose: the preview is read again
    wait_background(qtbot)
    assert "only one column" in dialog.error_text() and not dialog.load_button.isEnabled()
    choose(dialog.delimiter_combo, ";")
    choose(dialog.header_combo, True)
    wait_background(qtbot)
    assert dialog.error_text() == "" and dialog.load_button.isEnabled()

    dialog.select_target("colour")
    choose(dialog.scaling_combo, "zscore")
    dialog.test_fraction_spin.setValue(0.2)
    dialog.seed_spin.setValue(3)
    qtbot.mouseClick(dialog.load_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.dataset.name == "paint", timeout=TIMEOUT)
    assert not dialog.isVisible()

    settings = window.settings
    assert settings.dataset == "csv" and settings.csv_source.target == "colour"
    assert (settings.scaling, settings.test_fraction, settings.data_seed) == ("zscore", 0.2, 3)
    assert window.controls.settings() == settings
    assert window.controls.dataset_combo.currentText() == "data: paint.csv"
    assert window.dataset.class_names == ("blue", "green", "red")
    assert (window.dataset.n_train, window.dataset.n_test) == (48, 12)
    assert abs(window.dataset.X_train.mean(axis=0)).max() < 1e-12  # z-scored on the training rows
    window.step()
    snap = current_snapshot(qtbot, window, step=1)
    assert snap.sizes[0] == 2 and snap.sizes[-1] == 3
    assert recent_files()[0] == str(path.resolve())

    # A control change rebuilds the network on the same data, without reading the file again.
    data_before = window.dataset
    window.controls.layers_edit.setText("4-4")
    qtbot.keyClick(window.controls.layers_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.settings.hidden == (4, 4), timeout=TIMEOUT)
    assert window.dataset is data_before


def test_a_regression_target_gets_a_linear_output(qtbot, window, dialogs, tmp_path):
    path = write_csv(tmp_path / "numbers.csv", rows=[(i, i % 4, 0.5 * i) for i in range(30)],
                     header=("x1", "x2", "y"))
    dialog = opened_dialog(qtbot, window, dialogs, path)
    assert dialog.classes_check.isEnabled()
    qtbot.mouseClick(dialog.load_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.dataset.name == "numbers", timeout=TIMEOUT)
    assert window.settings.output_activation == "linear" and window.dataset.n_outputs == 1


def test_a_malformed_csv_shows_its_message_and_keeps_the_previous_data(qtbot, window, dialogs, tmp_path):
    before = (window.dataset, window.settings, window.run_id)
    rows = [list(map(str, row)) for row in ROWS]
    rows[3][1] = "n/a"  # the 5th row of the file, counting the header
    path = write_csv(tmp_path / "broken.csv", rows=rows)
    dialog = opened_dialog(qtbot, window, dialogs, path)
    assert dialog.error_text() == ""  # the preview shows it; only loading checks every number
    assert dialog.table.horizontalHeaderItem(1).text() == "height\ntext"
    qtbot.mouseClick(dialog.load_button, Qt.MouseButton.LeftButton)
    wait_background(qtbot)
    assert "row 5" in dialog.error_text() and "column 'height'" in dialog.error_text()
    assert "'n/a' is not a number" in dialog.error_text()
    assert dialog.isVisible() and dialog.load_button.isEnabled()
    assert (window.dataset, window.settings, window.run_id) == before
    dialog.reject()

    ragged = tmp_path / "ragged.csv"
    ragged.write_text("a,b,c\n1,2,x\n3,4\n")
    dialog = opened_dialog(qtbot, window, dialogs, ragged)
    assert "row 3 has 2 fields, expected 3" in dialog.error_text()
    assert not dialog.load_button.isEnabled()
    assert (window.dataset, window.settings, window.run_id) == before
    dialog.reject()


# --- sessions ------------------------------------------------------------------------

def assert_same_run(a, b):
    for x, y in zip(a.weights + a.biases, b.weights + b.biases, strict=True):
        assert np.array_equal(x, y)
    for name in ("train_loss", "test_loss", "train_accuracy", "test_accuracy", "grad_norms"):
        assert np.array_equal(getattr(a.history, name), getattr(b.history, name), equal_nan=True)
    assert (a.step, a.epoch, a.batch_index) == (b.step, b.epoch, b.batch_index)


@pytest.mark.parametrize("include_data", [False, True], ids=["settings only", "with the data"])
def test_a_saved_session_resumes_exactly_in_a_new_window(make_window, qtbot, window, dialogs, tmp_path, include_data):
    window.controls.learning_rate_edit.setText("0.2")  # a live change: no new run
    qtbot.keyClick(window.controls.learning_rate_edit, Qt.Key.Key_Return)
    window.worker.step(130)  # past the end of the first epoch (120 rows), mid-way into the second
    current_snapshot(qtbot, window, step=130)
    dialogs.save = tmp_path / "lecture"  # the suffix is added
    entry = "Save session with the data…" if include_data else "Save session…"
    menu_action(window, "File", entry).trigger()
    saved = tmp_path / "lecture.bpviz"
    qtbot.waitUntil(saved.exists, timeout=TIMEOUT)
    first = current_snapshot(qtbot, window, step=130)
    assert first.history.n_epochs == 1

    other = make_window(Settings(dataset="blobs", hidden=(3,)))
    try:
        dialogs.open = saved
        menu_action(other, "File", "Open session…").trigger()
        wait_background(qtbot)
        second = current_snapshot(qtbot, other, step=130)
        assert_same_run(first, second)
        assert other.settings == window.controls.settings()
        assert other.settings.learning_rate == 0.2
        assert other.plots.curve_data("train_loss")[1].size == 1

        for w in (window, other):  # both go on through the end of the second epoch
            w.worker.step(120)
        a, b = current_snapshot(qtbot, window, step=250), current_snapshot(qtbot, other, step=250)
        assert a.history.n_epochs == 2
        assert_same_run(a, b)

        other.reset()  # Reset goes to the run's initial weights, not to where it was saved
        fresh = Settings(**{**other.settings.to_dict(), "hidden": (5,)}).build()[1]
        reset = current_snapshot(qtbot, other, step=0)
        assert np.array_equal(reset.weights[0], fresh.weights[0])
    finally:
        other.close()


def test_a_damaged_or_newer_session_leaves_the_run_alone(qtbot, window, dialogs, tmp_path, monkeypatch):
    shown = []
    monkeypatch.setattr(window, "show_error", lambda title, message: shown.append(message))
    before = (window.dataset, window.settings, window.run_id)
    damaged = tmp_path / "damaged.bpviz"
    damaged.write_bytes(b"PK\x03\x04 not really a zip")
    dialogs.open = damaged
    menu_action(window, "File", "Open session…").trigger()
    wait_background(qtbot)
    assert shown and "damaged" in shown[-1]
    assert (window.dataset, window.settings, window.run_id) == before


def test_a_session_on_a_csv_file_reopens_it(make_window, qtbot, window, dialogs, tmp_path):
    path = write_csv(tmp_path / "paint.csv")
    dialog = opened_dialog(qtbot, window, dialogs, path)
    qtbot.mouseClick(dialog.load_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.dataset.name == "paint", timeout=TIMEOUT)
    window.worker.step(7)
    first = current_snapshot(qtbot, window, step=7)
    window.files.save_session(str(tmp_path / "paint.bpviz"))
    qtbot.waitUntil((tmp_path / "paint.bpviz").exists, timeout=TIMEOUT)
    other = make_window()
    try:
        other.files.open_session(str(tmp_path / "paint.bpviz"))
        wait_background(qtbot)
        assert_same_run(first, current_snapshot(qtbot, other, step=7))
        assert other.settings.csv_source == window.settings.csv_source
        assert other.controls.dataset_combo.currentText() == "data: paint.csv"
    finally:
        other.close()


# --- recent files and stored settings --------------------------------------------------

def test_recent_files_keep_eight_and_drop_missing_ones(qtbot, window, dialogs, tmp_path, monkeypatch):
    paths = [write_csv(tmp_path / f"f{i}.csv") for i in range(MAX_RECENT + 2)]
    for path in paths:
        add_recent(path)
    assert recent_files() == [str(p.resolve()) for p in reversed(paths)][:MAX_RECENT]
    window.files._fill_recent_menu()
    texts = [a.text() for a in window.files.recent_menu.actions()]
    assert texts[0].startswith("f9.csv") and len([t for t in texts if ".csv" in t]) == MAX_RECENT

    shown = []
    monkeypatch.setattr(window, "show_error", lambda title, message: shown.append(message))
    paths[-1].unlink()
    window.files.open_recent(str(paths[-1].resolve()))
    assert "no longer exists" in shown[-1]
    assert str(paths[-1].resolve()) not in recent_files() and len(recent_files()) == MAX_RECENT - 1
    window.files.open_recent(str(paths[-2].resolve()))
    wait_background(qtbot)
    assert window.files.csv_dialog.table.rowCount() == 20
    window.files.csv_dialog.reject()


def test_settings_are_stored_on_close_and_restored(make_window, qtbot, caplog):
    settings = Settings(dataset="circle", hidden=(6, 2), learning_rate=0.3, noise=0.2)
    window = make_window(settings)
    window.close()
    restored, dataset = stored_settings()
    assert restored == settings and dataset.name == "circle"

    QSettings().setValue("last_settings", json.dumps({**settings.to_dict(), "hidden": [0]}))
    with caplog.at_level(logging.INFO, logger="bpviz.app.file_menu"):
        assert stored_settings() is None
    assert "not used" in caplog.text
    QSettings().setValue("last_settings", "{not json")
    assert stored_settings() is None


def test_the_last_sessions_csv_file_is_read_after_the_window_shows(make_window, qtbot, tmp_path):
    from bpviz.csv_data import CsvSource

    settings = Settings(hidden=(3,)).with_(csv_source=CsvSource(str(write_csv(tmp_path / "paint.csv")), "colour"))
    QSettings().setValue("last_settings", json.dumps(settings.to_dict()))
    assert stored_settings() == (settings, None)  # not read yet

    window = make_window()
    window.files.open_stored(settings)
    assert "Reading paint.csv" in window.statusBar().currentMessage()
    qtbot.waitUntil(lambda: window.settings == settings, timeout=TIMEOUT)
    assert window.dataset.name == "paint" and window.controls.dataset_combo.currentText() == "data: paint.csv"
    assert window.statusBar().currentMessage().startswith("Loaded paint.csv")
    current_snapshot(qtbot, window)

    # Other settings chosen while the file is read win; a file that is gone is said so.
    other = make_window()
    other.files.open_stored(settings)
    chosen = Settings(dataset="xor", hidden=(2,))
    other.apply_settings(chosen)
    qtbot.waitUntil(lambda: not background.busy(), timeout=TIMEOUT)
    qtbot.wait(50)
    assert other.settings == chosen
    gone = settings.with_(csv_source=CsvSource(str(tmp_path / "gone.csv"), "colour"))
    other.files.open_stored(gone)
    qtbot.waitUntil(lambda: "was not loaded" in other.statusBar().currentMessage(), timeout=TIMEOUT)
    assert "gone.csv" in other.statusBar().currentMessage() and other.settings == chosen


# --- exports ---------------------------------------------------------------------------

def test_exports_match_the_session(qtbot, window, dialogs, tmp_path):
    window.step_epoch()
    window.step_epoch()
    window.step()
    snap = current_snapshot(qtbot, window, step=241)
    export = ("File", "Export")

    for name, width in (("network", 1920), ("network-wide", 3840)):
        dialogs.save = tmp_path / f"{name}.png"
        menu_action(window, *export, "Network view", f"PNG, {width} pixels wide…").trigger()
        w, h = png_size((tmp_path / f"{name}.png").read_bytes())
        assert w == width and h > width // 4
    dialogs.save = tmp_path / "network.svg"
    menu_action(window, *export, "Network view", "SVG…").trigger()
    root = ET.parse(tmp_path / "network.svg").getroot()
    assert root.tag.endswith("svg") and len(list(root.iter())) > 20
    for plot in ("Loss plot", "Accuracy plot", "Gradient-norm plot"):
        dialogs.save = tmp_path / "plot.png"
        menu_action(window, *export, plot, "PNG, 1920 pixels wide…").trigger()
        assert png_size((tmp_path / "plot.png").read_bytes())[0] == 1920
        dialogs.save = tmp_path / "plot.svg"
        menu_action(window, *export, plot, "SVG…").trigger()
        assert ET.parse(tmp_path / "plot.svg").getroot().tag.endswith("svg")
    assert "Gradient norm" in (tmp_path / "plot.svg").read_text()  # the header became the title

    for entry, name in (("Weights as NPZ…", "w.npz"), ("Weights as JSON…", "w.json"),
                        ("Loss history as CSV…", "h.csv")):
        dialogs.save = tmp_path / name
        menu_action(window, *export, entry).trigger()
        qtbot.waitUntil((tmp_path / name).exists, timeout=TIMEOUT)
    with np.load(tmp_path / "w.npz") as npz:
        assert list(npz["sizes"]) == list(snap.sizes)
        for k, (w, b) in enumerate(zip(snap.weights, snap.biases), 1):
            assert np.array_equal(npz[f"W{k}"], w) and np.array_equal(npz[f"b{k}"], b)
    document = json.loads((tmp_path / "w.json").read_text())
    assert np.array_equal(np.array(document["W2"]), snap.weights[1])
    with open(tmp_path / "h.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 2 == snap.history.n_epochs
    assert [float(r["train_loss"]) for r in rows] == list(snap.history.train_loss)
    assert float(rows[1]["grad_norm_W1"]) == snap.history.grad_norms[1, 0]


def test_record_frames_saves_the_next_snapshots(qtbot, window, dialogs, tmp_path, monkeypatch):
    monkeypatch.setattr(QInputDialog, "getInt", lambda *a, **k: (3, True))
    dialogs.folder = tmp_path
    menu_action(window, "File", "Record frames…").trigger()
    assert window.files.record_action.text() == "Stop recording"
    for _ in range(5):
        window.step()
    current_snapshot(qtbot, window, step=5)
    frames = sorted(tmp_path.glob("frame_*.png"))
    assert [f.name for f in frames] == ["frame_0001.png", "frame_0002.png", "frame_0003.png"]
    assert all(png_size(f.read_bytes())[0] == 1920 for f in frames)
    assert window.files.record_action.text() == "Record frames…"
    assert frames[0].read_bytes() != frames[2].read_bytes()


def test_a_bad_folder_for_frames_is_refused(qtbot, window, dialogs, tmp_path, monkeypatch):
    shown = []
    monkeypatch.setattr(window, "show_error", lambda title, message: shown.append(message))
    monkeypatch.setattr(QInputDialog, "getInt", lambda *a, **k: (3, True))
    dialogs.folder = tmp_path / "missing"
    menu_action(window, "File", "Record frames…").trigger()
    assert "is not a folder" in shown[-1] and window.files.recorder is None
    assert QMessageBox  # imported for the type of box show_error would open


def test_a_step_exported_while_a_large_network_plays_says_which_cells_are_empty(make_window, qtbot, dialogs,
                                                                                  tmp_path):
    window = make_window(Settings(dataset="digits", hidden=(200,), epochs=None))  # 64×200: a large layer
    window.worker.play()
    qtbot.waitUntil(lambda: window.last_snapshot.playing and window.last_snapshot.weight_grads is not None,
                    timeout=TIMEOUT)
    dialogs.save = tmp_path / "step.csv"
    menu_action(window, "File", "Export step as CSV…").trigger()
    window.worker.pause()
    message = window.statusBar().currentMessage()
    assert message.startswith(f"Saved {dialogs.save}; the ∂L/∂w and Δw cells of W1 are empty")
    rows = step_table.parse_csv(dialogs.save.read_text())
    assert {r["grad"] for r in rows if r["kind"] == "weight" and r["layer"] == "0"} == {""}
    assert all(r["grad"] for r in rows if r["kind"] == "weight" and r["layer"] == "1")
