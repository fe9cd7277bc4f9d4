"""The File menu: own data, sessions, recent files, exports and recorded frames.

``FileMenu(window, menu)`` fills the window's File menu and handles its actions.
Anything that needs the worker's exact state (a session, the weights, the loss
history) asks the worker for a ``Capture`` and finishes when it arrives. Reading
a CSV file or a session runs in the background; errors are shown with their
BpvizError message and leave the running session as it was.

QSettings keys: ``recent_files`` (JSON list, newest first), ``last_settings``
(Settings.to_dict() as JSON, restored on start by ``stored_settings``) and
``last_folder``.
"""

from __future__ import annotations

import itertools
import json
import logging
from pathlib import Path

from PySide6.QtCore import QObject, QSettings, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMenu

from bpviz import exports
from bpviz.app.background import run_in_background
from bpviz.app.csv_dialog import CSV_FILTER, CsvChoice, CsvDialog
from bpviz.app.export_frames import SLIDE_WIDTHS, FrameRecorder, export_png, export_svg, titled
from bpviz.errors import BpvizError
from bpviz.session import SUFFIX, Session, load_session, save_session
from bpviz.settings import Settings

log = logging.getLogger(__name__)

MAX_RECENT = 8
SESSION_FILTER = f"bpviz sessions (*{SUFFIX});;All files (*)"
_PLOT_TITLES = {"loss": "Loss plot", "accuracy": "Accuracy plot", "gradients": "Gradient-norm plot"}


# --- QSettings -------------------------------------------------------------------

def recent_files() -> list[str]:
    """The recent files, newest first (whatever is stored, only valid entries)."""
    try:
        value = json.loads(str(QSettings().value("recent_files", "[]")))
    except (ValueError, TypeError):
        return []
    return [p for p in value if isinstance(p, str)][:MAX_RECENT] if isinstance(value, list) else []


def _store_recent(paths: list[str]) -> None:
    QSettings().setValue("recent_files", json.dumps(paths[:MAX_RECENT]))


def add_recent(path) -> None:
    path = str(Path(path).resolve())
    _store_recent([path] + [p for p in recent_files() if p != path])


def stored_settings():
    """(Settings, its dataset) of the last session, or None when there are none or
    they no longer work (logged): unknown keys, a network that does not fit. A CSV
    file is not read here (an MNIST-sized one takes seconds, and the window should
    show first): its dataset is None, for ``FileMenu.open_stored``."""
    text = QSettings().value("last_settings")
    if not text:
        return None
    try:
        settings = Settings.from_dict(json.loads(str(text)))
        if settings.csv_source is not None:
            return settings, None
        dataset = settings.load_dataset()
        settings.build_network(dataset)
    except (BpvizError, ValueError, TypeError) as exc:
        log.info("the stored settings of the last session are not used: %s", exc)
        return None
    return settings, dataset


def _last_folder() -> str:
    return str(QSettings().value("last_folder", "") or "")


def _with_suffix(path: str, suffix: str) -> str:
    return path if path.lower().endswith(suffix) else path + suffix


# --- the menu ----------------------------------------------------------------------

class FileMenu(QObject):
    """Builds the File menu's entries (before the window's Quit) and runs them."""

    def __init__(self, window, menu: QMenu) -> None:
        super().__init__(window)
        self.window, self.menu = window, menu
        self.csv_dialog: CsvDialog | None = None
        self.recorder: FrameRecorder | None = None
        self._requests = itertools.count(1)
        self._pending: dict[int, tuple] = {}
        window.worker.state_captured.connect(self._on_state_captured, Qt.ConnectionType.QueuedConnection)

        self.open_dataset_action = self._add(menu, "Open dataset (CSV)…", self.open_dataset, "Ctrl+Shift+O",
                                             "Train on your own data: a CSV file of numbers")
        self.open_session_action = self._add(menu, "Open session…", self.open_session, "Ctrl+O",
                                             "Open a saved lecture where it stopped")
        self.recent_menu = menu.addMenu("Open recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        menu.addSeparator()
        self.save_session_action = self._add(menu, "Save session…", lambda: self.save_session(), "Ctrl+S",
                                             "Save the network, its training state and history; "
                                             "the data is read again from its source")
        self.save_session_data_action = self._add(
            menu, "Save session with the data…", lambda: self.save_session(include_data=True), None,
            "Save the session with the data inside, so it opens without the data file")
        menu.addSeparator()
        export = menu.addMenu("Export")
        self._picture_menu(export, "Network view", "network")
        for name, title in _PLOT_TITLES.items():
            self._picture_menu(export, title, name)
        export.addSeparator()
        self._add(export, "Weights as NPZ…", lambda: self.export_numbers("npz"))
        self._add(export, "Weights as JSON…", lambda: self.export_numbers("json"))
        self._add(export, "Loss history as CSV…", lambda: self.export_numbers("csv"))
        self.record_action = self._add(menu, "Record frames…", self.record_frames, None,
                                       "Save the network view of the next snapshots as numbered PNGs")
        menu.addSeparator()

    def _add(self, menu: QMenu, text: str, slot, shortcut: str | None = None, tip: str = "") -> QAction:
        action = QAction(text, self.window)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            self.window.addAction(action)
        action.setToolTip(tip or text)
        action.setStatusTip(tip)
        action.triggered.connect(lambda _=False: slot())
        menu.addAction(action)
        return action

    def _picture_menu(self, parent: QMenu, title: str, target: str) -> None:
        menu = parent.addMenu(title)
        for width in SLIDE_WIDTHS:
            self._add(menu, f"PNG, {width} pixels wide…", lambda w=width: self.export_picture(target, "png", w))
        self._add(menu, "SVG…", lambda: self.export_picture(target, "svg"))

    def _status(self, text: str) -> None:
        log.info("%s", text)
        self.window.statusBar().showMessage(text, 10000)

    def _save_path(self, title: str, name: str, file_filter: str, suffix: str) -> str | None:
        start = str(Path(_last_folder()) / name) if _last_folder() else name
        path, _ = QFileDialog.getSaveFileName(self.window, title, start, file_filter)
        if not path:
            return None
        QSettings().setValue("last_folder", str(Path(path).parent))
        return _with_suffix(path, suffix)

    def _open_path(self, title: str, file_filter: str) -> str | None:
        path, _ = QFileDialog.getOpenFileName(self.window, title, _last_folder(), file_filter)
        if not path:
            return None
        QSettings().setValue("last_folder", str(Path(path).parent))
        return path

    # --- own data ---------------------------------------------------------------------

    def open_dataset(self, path: str | None = None) -> CsvDialog | None:
        """Ask for a CSV file (unless given) and show the preview dialog for it."""
        path = path or self._open_path("Open your own data", CSV_FILTER)
        if not path:
            return None
        if self.csv_dialog is not None:
            self.csv_dialog.reject()
        dialog = CsvDialog(self.window.controls.settings(), self.window)
        dialog.dataset_loaded.connect(self._on_dataset_loaded)
        self.csv_dialog = dialog
        dialog.set_path(path)
        dialog.open()
        return dialog

    def _on_dataset_loaded(self, choice: CsvChoice) -> None:
        try:
            settings = choice.settings(self.window.controls.settings())
        except BpvizError as exc:
            self.window.show_error("This data cannot be used", str(exc))
            return
        self._train_on(settings, choice.dataset)
        add_recent(choice.source.path)

    def _train_on(self, settings: Settings, dataset) -> None:
        """Show and train ``settings`` on their CSV file's ``dataset``, just loaded."""
        self.window.controls.set_settings(settings, dataset)
        self.window.apply_settings(settings, dataset)
        self._status(f"Loaded {Path(settings.csv_source.path).name}: {dataset.n_train} training and "
                     f"{dataset.n_test} test rows")

    def open_stored(self, settings: Settings) -> None:
        """Read the CSV file of the last session's ``settings`` on a pool thread while
        the window shows, then train on it, unless the user has chosen other settings
        meanwhile. A file that is gone or no longer fits is logged and left."""
        name = Path(settings.csv_source.path).name
        shown = self.window.settings
        self._status(f"Reading {name}, the data of the last session…")

        def done(dataset) -> None:
            if self.window.settings is not shown:
                log.info("the last session's data came after other settings were chosen; not used")
                return
            try:
                settings.build_network(dataset)
            except BpvizError as exc:
                failed(str(exc))
                return
            self._train_on(settings, dataset)

        def failed(message: str) -> None:
            log.info("the stored settings of the last session are not used: %s", message)
            self._status(f"The data of the last session was not loaded: {message}")

        run_in_background(settings.load_dataset, done, failed, owner=self.window)

    # --- sessions ---------------------------------------------------------------------

    def save_session(self, path: str | None = None, include_data: bool = False) -> None:
        """Pause, capture the worker's exact state and save it (``path`` or asked)."""
        path = path or self._save_path("Save the session" + (" with its data" if include_data else ""),
                                       f"lecture{SUFFIX}", SESSION_FILTER, SUFFIX)
        if not path:
            return
        self.window.worker.pause()
        self._capture("session", path, include_data)

    def open_session(self, path: str | None = None) -> None:
        """Read a session (in the background) and continue it exactly where it was saved."""
        path = path or self._open_path("Open a session", SESSION_FILTER)
        if not path:
            return
        self._status(f"Opening {Path(path).name}…")

        def restore():
            session = load_session(path)
            dataset, net, trainer = session.build()
            initial = session.settings.build(dataset)[2].state()
            return session, dataset, net, trainer, initial

        def done(result) -> None:
            session, dataset, net, trainer, initial = result
            self.window.controls.set_settings(session.settings, dataset)
            self.window.start_run(session.settings, dataset, net, trainer,
                                  history=session.history, initial=initial)
            add_recent(path)
            state = session.trainer_state
            self._status(f"Opened {Path(path).name}: epoch {state.epoch + 1}, step {state.step:,}")

        run_in_background(restore, done,
                          lambda message: self.window.show_error("This session cannot be opened", message))

    # --- recent files -------------------------------------------------------------------

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        paths = recent_files()
        for path in paths:
            action = self.recent_menu.addAction(f"{Path(path).name}   ({Path(path).parent})")
            action.setToolTip(path)
            action.triggered.connect(lambda _=False, p=path: self.open_recent(p))
        if not paths:
            self.recent_menu.addAction("(none yet)").setEnabled(False)
        else:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction("Clear the list").triggered.connect(lambda: _store_recent([]))

    def open_recent(self, path: str) -> None:
        if not Path(path).is_file():
            _store_recent([p for p in recent_files() if p != path])
            self.window.show_error("File not found", f"{path} no longer exists; it was removed "
                                   "from the recent files")
            return
        if path.lower().endswith(SUFFIX):
            self.open_session(path)
        else:
            self.open_dataset(path)

    def remember_settings(self, settings: Settings) -> None:
        """Store the settings for the next start (called when the window closes)."""
        try:
            QSettings().setValue("last_settings", json.dumps(settings.to_dict()))
        except (TypeError, ValueError) as exc:
            log.warning("the settings could not be stored: %s", exc)

    # --- exports -----------------------------------------------------------------------

    def export_picture(self, target: str, fmt: str, width: int = SLIDE_WIDTHS[0],
                       path: str | None = None) -> None:
        """The network view or a plot ("loss", "accuracy", "gradients") as PNG or SVG."""
        plots = self.window.plots.exportable_plots()
        if target != "network" and target not in plots:
            self.window.show_error("Nothing to export", f"the {target} plot is not shown for this data")
            return
        path = path or self._save_path(f"Export the {target} {'view' if target == 'network' else 'plot'}",
                                       f"{target}.{fmt}", f"{fmt.upper()} (*.{fmt})", f".{fmt}")
        if not path:
            return
        try:
            if target == "network":
                item = self.window.network_view
                export_png(path, item, width) if fmt == "png" else export_svg(path, item)
            else:
                item, header = plots[target]
                with titled(item, header):
                    export_png(path, item, width) if fmt == "png" else export_svg(path, item)
        except BpvizError as exc:
            self.window.show_error("The picture was not saved", str(exc))
            return
        self._status(f"Saved {path}")

    def export_numbers(self, fmt: str, path: str | None = None) -> None:
        """The current weights (npz, json) or the loss history (csv), from a capture."""
        what = "weights" if fmt in ("npz", "json") else "loss-history"
        path = path or self._save_path(f"Export the {what.replace('-', ' ')}", f"{what}.{fmt}",
                                       f"{fmt.upper()} (*.{fmt})", f".{fmt}")
        if path:
            self._capture(fmt, path)

    def record_frames(self, n_frames: int | None = None, folder: str | None = None) -> None:
        """Save the network view of the next ``n_frames`` snapshots; again: stop."""
        if self.recorder is not None and self.recorder.recording:
            self.recorder.stop()
            self._status(f"Recording stopped after {len(self.recorder.saved)} frames")
            self.recorder = None
            self.record_action.setText("Record frames…")
            return
        if n_frames is None:
            n_frames, ok = QInputDialog.getInt(self.window, "Record frames",
                                               "Save the network view of the next N snapshots "
                                               "(each step, or display-rate frames while playing):",
                                               100, 1, 10_000)
            if not ok:
                return
        folder = folder or QFileDialog.getExistingDirectory(self.window, "A folder for the frames",
                                                            _last_folder())
        if not folder:
            return
        try:
            recorder = FrameRecorder(self.window, folder, n_frames)
        except BpvizError as exc:
            self.window.show_error("Cannot record", str(exc))
            return
        recorder.progressed.connect(lambda n: self.window.statusBar().showMessage(
            f"Recording: {n} of {n_frames} frames", 2000))
        recorder.done.connect(self._on_recording_over)
        recorder.failed.connect(lambda message: (self._on_recording_over(""),
                                                 self.window.show_error("Recording stopped", message)))
        self.recorder = recorder
        self.record_action.setText("Stop recording")
        self._status(f"Recording the next {n_frames} frames into {folder}")

    def _on_recording_over(self, summary: str) -> None:
        self.record_action.setText("Record frames…")
        if summary:
            self._status(summary)

    # --- captures ------------------------------------------------------------------------

    def _capture(self, kind: str, *args) -> None:
        request = next(self._requests)
        self._pending[request] = (kind, self.window.run_id, self.window.settings, args)
        self.window.worker.capture(request)

    def _on_state_captured(self, capture) -> None:
        pending = self._pending.pop(capture.request, None)
        if pending is None:
            return
        kind, run_id, settings, args = pending
        if capture.run_id != run_id or settings is None:
            self.window.show_error("Nothing was saved", "the run changed meanwhile; try again")
            return
        if capture.learning_rate != settings.learning_rate:  # changed live, without a new run
            settings = settings.with_(learning_rate=capture.learning_rate)
        path = args[0]
        try:
            if kind == "session":
                session = Session(settings, capture.trainer_state, capture.history, dataset=capture.dataset)
                save_session(path, session, include_data=args[1])
                add_recent(path)
            elif kind in ("npz", "json"):
                net = settings.build_network(capture.dataset)
                net.set_params(capture.trainer_state.weights, capture.trainer_state.biases)
                (exports.export_weights_npz if kind == "npz" else exports.export_weights_json)(path, net)
            else:
                exports.export_history_csv(path, capture.history)
        except BpvizError as exc:
            self.window.show_error("Nothing was saved", str(exc))
            return
        self._status(f"Saved {path}")
