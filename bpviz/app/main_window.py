"""The main window: builds runs from settings, owns the training worker (a process
and the thread that relays its snapshots), routes snapshots to the views."""

from __future__ import annotations

import html
import logging
import time

from PySide6.QtCore import Qt, QThread, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QCheckBox, QDockWidget, QFrame, QScrollArea, QLabel, QMainWindow, QMessageBox, QProgressBar, QSlider, QToolBar, QWidget,
)

from bpviz import __version__, logs
from bpviz.app.controls import ControlPanel
from bpviz.app.presentation import install as install_presentation
from bpviz.app.file_menu import FileMenu
from bpviz.app.gradcheck_dialog import GradcheckDialog
from bpviz.app.lecture import PhaseStepper
from bpviz.app.views.boundary import BoundaryView
from bpviz.app.views.confusion import ConfusionView
from bpviz.app.views.inspector import Inspector
from bpviz.app.views.network_view import NetworkView
from bpviz.app.views.plots import TrainingPlots
from bpviz.app.views.sample_view import SampleView
from bpviz.app.weight_editor import LectureMode
from bpviz.app.worker import TrainingWorker
from bpviz.errors import BpvizError
from bpviz.presets import get_preset
from bpviz.settings import Settings
from bpviz.snapshot import Snapshot

log = logging.getLogger(__name__)

DEFAULT_PRESET = "iris-4-5-3"

# Speed slider stops, in steps per second; None is as fast as the machine goes.
SPEEDS: tuple[float | None, ...] = (1, 2, 5, 10, 30, 100, 300, 1000, None)


class MainWindow(QMainWindow):
    """bpviz's window. ``settings`` opens with that run; otherwise the control panel's."""

    snapshot_shown = Signal(object)

    def __init__(self, settings: Settings | None = None, dataset=None) -> None:
        super().__init__()
        self.setWindowTitle(f"bpviz {__version__} — backpropagation, step by step")
        self.resize(1400, 900)
        self._run_id = 0
        self._playing = False
        self.dataset = None
        self.settings: Settings | None = None
        self.last_snapshot: Snapshot | None = None
        self._frame_cpu = time.thread_time()

        self.network_view = NetworkView()
        self.setCentralWidget(self.network_view)
        self.controls = ControlPanel()
        self.plots = TrainingPlots()
        self.sample_view = SampleView()
        self.inspector = Inspector()
        self._docks = {
            "controls": self._dock("Network and data", self.controls, Qt.LeftDockWidgetArea),
            "plots": self._dock("Loss and accuracy", self.plots, Qt.RightDockWidgetArea),
            "sample": self._dock("Current sample", self.sample_view, Qt.RightDockWidgetArea, scroll=True),
            "inspector": self._dock("Equations", self.inspector, Qt.BottomDockWidgetArea),
        }
        # The network is what the room looks at: the docks start narrow and the
        # central view takes every pixel a larger window gains.
        self.resizeDocks([self._docks["controls"], self._docks["plots"]], [300, 440], Qt.Horizontal)
        self.views = (self.network_view, self.plots, self.sample_view)
        self._add_learned_views()
        self.worker = TrainingWorker()
        self.lecture = LectureMode(self, self.inspector)
        self.stepper = PhaseStepper(self)
        self._build_actions()
        self._build_status_bar()
        self.thread = QThread(self)
        self.thread.setObjectName("bpviz-training")
        self.worker.moveToThread(self.thread)
        self.thread.started.connect(self.worker.run)
        # Explicitly queued: the slots must run on the GUI thread, whatever PySide
        # would infer for a Python callable.
        queued = Qt.QueuedConnection
        self.worker.snapshot_ready.connect(self._on_snapshot_ready, queued)
        self.worker.playing_changed.connect(self._on_playing_changed, queued)
        self.worker.training_failed.connect(self._on_training_failed, queued)
        self.worker.diverged.connect(self._on_diverged, queued)
        self.worker.finished.connect(self._on_finished, queued)

        self.thread.start()

        self.controls.settings_changed.connect(self.apply_settings)
        # Direct: the worker's methods only send a command to the training process and
        # are safe to call from here; a queued call would wait for the relaying thread's
        # event loop, which its relaying loop never returns to.
        self.controls.learning_rate_changed.connect(self.worker.set_learning_rate, Qt.DirectConnection)
        self.controls.set_settings(settings or get_preset(DEFAULT_PRESET).settings, dataset)
        self.apply_settings(self.controls.settings(), dataset)
        # Last: restores the saved layout, so every dock and toolbar must exist.
        self.presentation = install_presentation(self)

    # ------------------------------------------------------------------ build
    def _dock(self, title: str, widget: QWidget, area, scroll: bool = False) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(title)
        if scroll:
            # A short dock (a 768-pixel projector) scrolls instead of squeezing its tables together.
            area_widget = QScrollArea()
            area_widget.setWidgetResizable(True)
            area_widget.setFrameShape(QFrame.NoFrame)
            area_widget.setWidget(widget)
            widget = area_widget
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def _add_learned_views(self) -> None:
        """What the network learned: the decision boundary (or fit) and the confusion
        matrices, tabbed with the current sample. (A second tab group in the same dock
        area, made before the window is shown, leaves a stale tab bar on screen in Qt 6.10.)"""
        self.boundary = BoundaryView()
        self.confusion = ConfusionView()
        for key, title, view in (("boundary", "Decision boundary", self.boundary),
                                 ("confusion", "Confusion matrix", self.confusion)):
            self._docks[key] = self._dock(title, view, Qt.RightDockWidgetArea)
            self.tabifyDockWidget(self._docks["sample"], self._docks[key])
        # Half the column each: the decision boundary needs room to be read.
        self.resizeDocks([self._docks["plots"], self._docks["sample"]], [1, 1], Qt.Vertical)
        self.views += (self.boundary, self.confusion)
        self.boundary.drawable_changed.connect(self._on_boundary_drawable)
        self.boundary.title_changed.connect(self._docks["boundary"].setWindowTitle)
        self.boundary.thumbnails_ready.connect(self.network_view.set_node_thumbnails)
        self.network_view.node_clicked.connect(self.boundary.select_neuron)

    def _action(self, text: str, slot, shortcut: str | None = None, tip: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
            action.setShortcutContext(Qt.WindowShortcut)
        action.setToolTip(f"{tip or text} ({shortcut})" if shortcut else (tip or text))
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        self.play_action = self._action("▶ Play", self.toggle_play, "Space", "Play or pause training")
        self.step_action = self._action("Step", self.step, "Right",
                                        "One training sample (or batch): forward, backward, update")
        self.step_epoch_action = self._action("Step epoch", self.step_epoch, "Ctrl+Right",
                                              "Train to the end of the current epoch")
        self.reset_action = self._action("Reset", self.reset, "R", "Back to the initial weights")
        self.fullscreen_action = self._action("Full screen", self.toggle_full_screen, "F11")

        bar = QToolBar("Training", self)
        bar.setObjectName("training-toolbar")
        bar.setMovable(False)
        bar.setToolButtonStyle(Qt.ToolButtonTextOnly)
        for action in (self.stepper.step_back_action, self.play_action, self.stepper.step_phase_action,
                       self.step_action, self.step_epoch_action, self.reset_action):
            bar.addAction(action)
        bar.addSeparator()
        bar.addWidget(QLabel(" Speed "))
        self.speed_slider = QSlider(Qt.Horizontal)
        self.speed_slider.setRange(0, len(SPEEDS) - 1)
        self.speed_slider.setValue(len(SPEEDS) - 1)
        self.speed_slider.setFixedWidth(180)
        self.speed_slider.setToolTip("Steps per second while playing: from 1 (for explaining) to as fast as possible")
        self.speed_slider.valueChanged.connect(self._on_speed_changed)
        bar.addWidget(self.speed_slider)
        self.speed_label = QLabel()
        self.speed_label.setMinimumWidth(90)
        bar.addWidget(self.speed_label)
        bar.addSeparator()
        self.bias_box = QCheckBox("Show bias")
        self.bias_box.setChecked(True)
        self.bias_box.toggled.connect(self.network_view.set_show_bias)
        bar.addWidget(self.bias_box)
        self.auto_scale_box = QCheckBox("Auto-scale colours")
        self.auto_scale_box.setToolTip("Rescale the weight colours every frame instead of keeping one scale")
        self.auto_scale_box.toggled.connect(self.network_view.set_auto_scale)
        bar.addWidget(self.auto_scale_box)
        self.addToolBar(bar)
        self._on_speed_changed(self.speed_slider.value())
        timeline_bar = QToolBar("Timeline", self)
        timeline_bar.setObjectName("timeline-toolbar")
        timeline_bar.setMovable(False)
        timeline_bar.addWidget(self.stepper.timeline)
        self.addToolBar(Qt.BottomToolBarArea, timeline_bar)

        menu = self.menuBar()
        file_menu = menu.addMenu("&File")
        self.files = FileMenu(self, file_menu)
        self.lecture.add_file_actions(file_menu)
        file_menu.addAction(self._action("Quit", self.close, "Ctrl+Q"))
        train_menu = menu.addMenu("&Training")
        for action in (self.play_action, self.stepper.step_phase_action, self.step_action,
                       self.stepper.step_back_action, self.step_epoch_action, self.reset_action):
            train_menu.addAction(action)
        train_menu.addSeparator()
        train_menu.addAction(self._action("Gradient check…", self.open_gradcheck,
                                          tip="Compare backprop's gradients with central differences"))
        view_menu = menu.addMenu("&View")
        for dock in self._docks.values():
            view_menu.addAction(dock.toggleViewAction())
        view_menu.addAction(self.fullscreen_action)
        help_menu = menu.addMenu("&Help")
        help_menu.addAction(self._action("Keyboard shortcuts", self.show_shortcuts))
        help_menu.addAction(self._action("Log file…", self.show_log_file))
        help_menu.addAction(self._action("About bpviz", self.show_about))

    def _build_status_bar(self) -> None:
        self.status_label = QLabel()
        self.statusBar().addWidget(self.status_label, 1)
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(240)
        self.progress.setFormat("%v / %m epochs")
        self.statusBar().addPermanentWidget(self.stepper.phase_label)
        self.statusBar().addPermanentWidget(self.progress)

    # -------------------------------------------------------------- user actions
    @property
    def run_id(self) -> int:
        """The current run's number; snapshots and captures carry it."""
        return self._run_id

    def apply_settings(self, settings: Settings, dataset=None) -> None:
        """Build a new run from ``settings`` and hand it to the worker. ``dataset``:
        the settings' data when already loaded; unchanged data options reuse the
        current dataset (a large CSV file is read once)."""
        if dataset is None and self.settings is not None and \
                settings.data_options() == self.settings.data_options():
            dataset = self.dataset
        try:
            dataset, net, trainer = settings.build(dataset)
        except BpvizError as exc:
            self.show_error("These settings cannot be used", str(exc))
            return
        self.start_run(settings, dataset, net, trainer)

    def start_run(self, settings: Settings, dataset, net, trainer, *, history=None, initial=None) -> None:
        """Show and train a built run; a restored session passes its ``history`` and
        ``initial`` state (see TrainingWorker.load)."""
        self._run_id += 1
        self.settings, self.dataset = settings, dataset
        for view in self.views:
            view.set_dataset(dataset)
        self.network_view.reset_scale()
        self.progress.setVisible(settings.epochs is not None)
        self.progress.setRange(0, settings.epochs or 0)
        self.progress.setValue(0)
        log.info("new run %d: %s on %s", self._run_id, settings.layer_spec(dataset), dataset.name)
        self.worker.load(dataset, net, trainer, settings.epochs, self._run_id,
                         history=history, initial=initial)

    def toggle_play(self) -> None:
        log.info("pause" if self._playing else "play")
        if self._playing:
            self.worker.pause()
            # Shown at once: the loop pauses after its current step, and at an epoch's
            # end that step includes the epoch's figures (up to a second for 60,000
            # MNIST rows in batches), during which no frame arrives anyway.
            self._on_playing_changed(False)
        else:
            self.stepper.finish_walk()
            self.worker.play()

    def step(self) -> None:
        log.info("step")
        if not self.stepper.finish_walk():  # during a phase walk, Step shows the rest of it
            self.worker.step()

    def step_epoch(self) -> None:
        log.info("step to the end of the epoch")
        self.worker.step_epoch()

    def reset(self) -> None:
        log.info("reset to the initial weights")
        self.worker.reset()

    def toggle_full_screen(self) -> None:
        self.showNormal() if self.isFullScreen() else self.showFullScreen()

    def show_shortcuts(self) -> None:
        self.presentation.show_shortcuts()

    def show_about(self) -> None:
        QMessageBox.about(self, "About bpviz",
                          f"<b>bpviz {__version__}</b><p>Backpropagation, step by step: a from-scratch "
                          "NumPy multilayer perceptron, drawn live as it learns.</p>")

    def _on_boundary_drawable(self, drawable: bool) -> None:
        # Bring the picture forward when the data becomes drawable (1 or 2 inputs),
        # the current sample when it stops being so; otherwise leave the user's tab.
        self._docks["boundary" if drawable else "sample"].raise_()

    def open_gradcheck(self) -> None:
        """Check backprop against central differences on a copy of the shown network."""
        snap = self.last_snapshot
        if snap is None or snap.run_id != self._run_id or self.settings is None:
            self.statusBar().showMessage("No network to check yet: wait for the first frame.", 5000)
            return
        self.gradcheck_dialog = GradcheckDialog(snap, self.dataset, self.settings.loss,
                                                self.settings.reduction, self)
        self.gradcheck_dialog.show()

    def show_log_file(self) -> None:
        path = logs.log_file()
        if path is not None:
            text = f"bpviz writes what it does, and any error, to<br><br><b>{html.escape(str(path))}</b>"
        else:
            text = ("This window was opened without a log file. The <b>bpviz</b> command logs to<br><br>"
                    f"<b>{html.escape(str(logs.default_log_path()))}</b>")
        box = QMessageBox(QMessageBox.Information, "Log file", text, QMessageBox.Ok, self)
        box.setTextInteractionFlags(Qt.TextSelectableByMouse)
        box.setModal(False)
        self.log_file_box = box
        box.show()

    def show_error(self, title: str, message: str) -> None:
        log.warning("%s: %s", title, message)
        self.statusBar().showMessage(f"{title}: {message}", 10000)
        box = QMessageBox(QMessageBox.Warning, title, message, QMessageBox.Ok, self)
        box.setModal(False)
        box.show()

    # ------------------------------------------------------------ worker events
    def _on_speed_changed(self, position: int) -> None:
        speed = SPEEDS[position]
        self.speed_label.setText("max" if speed is None else f"{speed:g} / s")
        self.worker.set_speed(speed)

    def _on_snapshot_ready(self, snapshot: Snapshot) -> None:
        try:
            if snapshot.run_id != self._run_id:
                return
            self.stepper.on_snapshot(snapshot)
            for view in self.views:
                view.show_snapshot(snapshot)
            self.last_snapshot = snapshot
            self._update_status(snapshot)
            self.snapshot_shown.emit(snapshot)
        finally:
            # The GUI thread's time since the last frame: that frame's painting and
            # this one's updates (capped, so an idle pause does not count).
            now = time.thread_time()
            self.worker.snapshot_drawn(min(now - self._frame_cpu, 0.1))
            self._frame_cpu = now

    def _update_status(self, s: Snapshot) -> None:
        loss = s.history.train_loss[-1] if s.history.n_epochs else s.sample_loss
        # Name the batch whose pass the view shows: after an update that is the batch
        # just trained, not the next one (the snapshot's position is after the step).
        shown = s.epoch * s.n_batches + s.batch_index - (0 if s.is_preview else 1)
        epoch, batch = divmod(shown, s.n_batches)
        parts = [f"epoch {epoch + 1}, batch {batch + 1}/{s.n_batches}", f"step {s.step:,}",
                 f"loss {loss:.4f}"]
        if s.playing:
            parts.append(f"{s.samples_per_second:,.0f} samples/s")
        if s.history.n_epochs and self.dataset is not None and self.dataset.is_classification:
            parts.append(f"train acc {s.history.train_accuracy[-1]:.3f}")
            if self.dataset.n_test:
                parts.append(f"test acc {s.history.test_accuracy[-1]:.3f}")
        self.status_label.setText("   ·   ".join(parts))
        if s.epochs_limit:
            self.progress.setValue(min(s.epoch, s.epochs_limit))

    def _on_playing_changed(self, playing: bool) -> None:
        self._playing = playing
        # ❚❚, not ⏸: DejaVu, often the only font on a Linux machine, lacks U+23F8.
        self.play_action.setText("❚❚ Pause" if playing else "▶ Play")
        self.controls.show_playing(playing)

    def _on_training_failed(self, message: str) -> None:
        self.show_error("Training stopped by an error", message)

    def _on_diverged(self, message: str) -> None:
        if getattr(self, "divergence_box", None) is not None:
            self.divergence_box.close()  # one question at a time, about the latest divergence
        box = QMessageBox(QMessageBox.Warning, "Training diverged",
                          f"{message}.\n\nTry a lower learning rate or a smaller weight init. "
                          "Training is paused.", parent=self)
        restore = box.addButton("Back to the last good weights", QMessageBox.AcceptRole)
        box.addButton("Keep as is", QMessageBox.RejectRole)
        box.setModal(False)
        box.buttonClicked.connect(lambda b: self._restore_last_good() if b is restore else None)
        self.divergence_box = box
        box.show()
        self.statusBar().showMessage(f"Training diverged: {message}", 15000)

    def _restore_last_good(self) -> None:
        log.info("back to the last good weights")
        self.worker.restore_last_good()

    def _on_finished(self) -> None:
        self.statusBar().showMessage("Reached the epochs limit; Reset or raise the limit to go on.", 10000)

    # ----------------------------------------------------------------- closing
    def shutdown(self) -> None:
        """Stop the worker and join its thread (idempotent)."""
        if self.thread.isRunning():
            self.worker.stop()
            self.thread.quit()
            self.thread.wait()

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt override
        self.shutdown()
        self.files.remember_settings(self.controls.settings())
        self.presentation.save()
        super().closeEvent(event)
