"""The main window: builds runs from settings, owns the worker thread, routes
snapshots to the views."""

from __future__ import annotations

import logging

from PySide6.QtCore import QSettings, Qt, QThread, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QCheckBox, QDockWidget, QLabel, QMainWindow, QMessageBox, QProgressBar, QSlider, QToolBar, QWidget,
)

from bpviz import __version__
from bpviz.app.controls import ControlPanel
from bpviz.app.views.network_view import NetworkView
from bpviz.app.views.plots import TrainingPlots
from bpviz.app.views.sample_view import SampleView
from bpviz.app.worker import TrainingWorker
from bpviz.errors import BpvizError
from bpviz.presets import get_preset
from bpviz.settings import Settings
from bpviz.snapshot import Snapshot

log = logging.getLogger(__name__)

DEFAULT_PRESET = "iris-4-5-3"

# Speed slider stops, in steps per second; None is as fast as the machine goes.
SPEEDS: tuple[float | None, ...] = (1, 2, 5, 10, 30, 100, 300, 1000, None)

SHORTCUTS = (
    ("Space", "Play / pause"),
    ("Right", "Step one sample (or batch)"),
    ("Ctrl+Right", "Step one epoch"),
    ("R", "Reset to the initial weights"),
    ("F11", "Full screen"),
)


class MainWindow(QMainWindow):
    """bpviz's window. ``settings`` opens with that run; otherwise the control panel's."""

    snapshot_shown = Signal(object)

    def __init__(self, settings: Settings | None = None) -> None:
        super().__init__()
        self.setWindowTitle(f"bpviz {__version__} — backpropagation, step by step")
        self.resize(1400, 900)
        self._run_id = 0
        self._playing = False
        self.dataset = None
        self.settings: Settings | None = None
        self.last_snapshot: Snapshot | None = None

        self.network_view = NetworkView()
        self.setCentralWidget(self.network_view)
        self.controls = ControlPanel()
        self.plots = TrainingPlots()
        self.sample_view = SampleView()
        self._docks = {
            "controls": self._dock("Network and data", self.controls, Qt.LeftDockWidgetArea),
            "plots": self._dock("Loss and accuracy", self.plots, Qt.RightDockWidgetArea),
            "sample": self._dock("Current sample", self.sample_view, Qt.RightDockWidgetArea),
        }
        self.views = (self.network_view, self.plots, self.sample_view)
        self.worker = TrainingWorker()
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
        self.controls.learning_rate_changed.connect(self.worker.set_learning_rate)
        self.controls.set_settings(settings or get_preset(DEFAULT_PRESET).settings)
        self.apply_settings(self.controls.settings())

    # ------------------------------------------------------------------ build
    def _dock(self, title: str, widget: QWidget, area) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(title)
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

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
        for action in (self.play_action, self.step_action, self.step_epoch_action, self.reset_action):
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

        menu = self.menuBar()
        file_menu = menu.addMenu("&File")
        file_menu.addAction(self._action("Quit", self.close, "Ctrl+Q"))
        train_menu = menu.addMenu("&Training")
        for action in (self.play_action, self.step_action, self.step_epoch_action, self.reset_action):
            train_menu.addAction(action)
        view_menu = menu.addMenu("&View")
        for dock in self._docks.values():
            view_menu.addAction(dock.toggleViewAction())
        view_menu.addAction(self.fullscreen_action)
        help_menu = menu.addMenu("&Help")
        help_menu.addAction(self._action("Keyboard shortcuts", self.show_shortcuts))
        help_menu.addAction(self._action("About bpviz", self.show_about))

    def _build_status_bar(self) -> None:
        self.status_label = QLabel()
        self.statusBar().addWidget(self.status_label, 1)
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(240)
        self.progress.setFormat("%v / %m epochs")
        self.statusBar().addPermanentWidget(self.progress)

    # -------------------------------------------------------------- user actions
    def apply_settings(self, settings: Settings) -> None:
        """Build a new run from ``settings`` and hand it to the worker."""
        try:
            dataset, net, trainer = settings.build()
        except BpvizError as exc:
            self.show_error("These settings cannot be used", str(exc))
            return
        self._run_id += 1
        self.settings, self.dataset = settings, dataset
        for view in self.views:
            view.set_dataset(dataset)
        self.network_view.reset_scale()
        self.progress.setVisible(settings.epochs is not None)
        self.progress.setRange(0, settings.epochs or 0)
        self.progress.setValue(0)
        log.info("new run %d: %s on %s", self._run_id, settings.layer_spec(dataset), dataset.name)
        self.worker.load(dataset, net, trainer, settings.epochs, self._run_id)

    def toggle_play(self) -> None:
        if self._playing:
            self.worker.pause()
        else:
            self.worker.play()

    def step(self) -> None:
        self.worker.step()

    def step_epoch(self) -> None:
        self.worker.step_epoch()

    def reset(self) -> None:
        self.worker.reset()

    def toggle_full_screen(self) -> None:
        self.showNormal() if self.isFullScreen() else self.showFullScreen()

    def show_shortcuts(self) -> None:
        rows = "".join(f"<tr><td><b>{k}</b></td><td>&nbsp;{v}</td></tr>" for k, v in SHORTCUTS)
        QMessageBox.information(self, "Keyboard shortcuts", f"<table>{rows}</table>")

    def show_about(self) -> None:
        QMessageBox.about(self, "About bpviz",
                          f"<b>bpviz {__version__}</b><p>Backpropagation, step by step: a from-scratch "
                          "NumPy multilayer perceptron, drawn live as it learns.</p>")

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
            for view in self.views:
                view.show_snapshot(snapshot)
            self.last_snapshot = snapshot
            self._update_status(snapshot)
            self.snapshot_shown.emit(snapshot)
        finally:
            self.worker.snapshot_drawn()

    def _update_status(self, s: Snapshot) -> None:
        loss = s.history.train_loss[-1] if s.history.n_epochs else s.sample_loss
        parts = [f"epoch {s.epoch + 1}, batch {s.batch_index + 1}/{s.n_batches}", f"step {s.step:,}",
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
        self.play_action.setText("⏸ Pause" if playing else "▶ Play")

    def _on_training_failed(self, message: str) -> None:
        self.show_error("Training stopped by an error", message)

    def _on_diverged(self, message: str) -> None:
        box = QMessageBox(QMessageBox.Warning, "Training diverged",
                          f"{message}.\n\nTry a lower learning rate or a smaller weight init. "
                          "Training is paused.", parent=self)
        restore = box.addButton("Back to the last good weights", QMessageBox.AcceptRole)
        box.addButton("Keep as is", QMessageBox.RejectRole)
        box.setModal(False)
        box.buttonClicked.connect(lambda b: self.worker.restore_last_good() if b is restore else None)
        self.divergence_box = box
        box.show()
        self.statusBar().showMessage(f"Training diverged: {message}", 15000)

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
        QSettings().setValue("geometry", self.saveGeometry())
        super().closeEvent(event)
