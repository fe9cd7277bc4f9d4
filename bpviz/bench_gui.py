"""The window's benchmarks, run by ``bpviz.bench`` in children of their own with
QT_QPA_PLATFORM=offscreen (the one module of the benchmark that imports Qt).

Each ``*_rows`` function returns bench.Row's; the child prints them as JSON. QSettings
and the log file go to a temporary folder, never the user's.
"""

from __future__ import annotations

import math
import os
import statistics
import tempfile
import time

from bpviz.bench import Row

DIGITS_PRESET = "digits-64-32-16-10"
WINDOW_SIZE = (1400, 900)


def _app():
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("XDG_STATE_HOME", tempfile.mkdtemp(prefix="bpviz-bench-state-"))
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope,
                      tempfile.mkdtemp(prefix="bpviz-bench-qsettings-"))
    return QApplication.instance() or QApplication([])


def _digits_settings():
    from bpviz.presets import get_preset

    return get_preset(DIGITS_PRESET).settings.with_(epochs=None)


def _wait(app, condition, timeout: float = 30.0) -> None:
    end = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > end:
            raise TimeoutError("the window did not get there in time")
        app.processEvents()
        time.sleep(0.001)


def _open_window(app, settings, dataset=None):
    from bpviz.app.main_window import MainWindow

    window = MainWindow(settings, dataset=dataset)
    window.resize(*WINDOW_SIZE)
    window.show()
    _wait(app, lambda: window.last_snapshot is not None and window.last_snapshot.run_id == window.run_id)
    return window


def _close(app, window) -> None:
    window.shutdown()
    window.deleteLater()
    app.processEvents()


def _run_for(app, seconds: float) -> None:
    """Let the GUI event loop run for ``seconds`` (a real loop: timers fire, paints happen)."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()


# ---------------------------------------------------------------- visualised
def _headless_rate(settings, dataset, seconds: float) -> float:
    """Samples/s of the bare Trainer loop with these settings."""
    _, _, trainer = settings.build(dataset)
    for _ in range(20):
        trainer.step()
    start, steps = time.perf_counter(), 0
    while time.perf_counter() - start < seconds:
        for _ in range(20):
            trainer.step()
        steps += 20
    return steps * trainer.batch_size / (time.perf_counter() - start)


def _undrawn_rate(app, settings, dataset, seconds: float) -> float:
    """Samples/s of the training process playing with no window: each snapshot is
    acknowledged as it arrives (60 a second), none is drawn. What the training loop's
    own bookkeeping and its process cost, apart from any drawing."""
    from PySide6.QtCore import QObject, Qt, QThread, Signal

    from bpviz.app.worker import TrainingWorker

    class Relay(QObject):
        snapshot = Signal(object)

    worker, thread, relay, shown = TrainingWorker(), QThread(), Relay(), []
    worker.moveToThread(thread)
    thread.started.connect(worker.run)
    worker.snapshot_ready.connect(relay.snapshot, Qt.ConnectionType.QueuedConnection)
    relay.snapshot.connect(lambda s: (shown.append((time.perf_counter(), s.step)), worker.snapshot_drawn(0.0)))
    thread.start()
    dataset, net, trainer = settings.build(dataset)
    try:
        worker.load(dataset, net, trainer, None, 1)
        _wait(app, lambda: bool(shown))
        worker.play()
        _run_for(app, 0.3)
        first = len(shown)
        _run_for(app, seconds)
        worker.pause()
    finally:
        worker.stop()
        thread.quit()
        thread.wait()
    (t0, s0), (t1, s1) = shown[first], shown[-1]
    return (s1 - s0) * trainer.batch_size / (t1 - t0)


def _playing(app, settings, dataset, seconds: float, rounds: int) -> dict[str, float]:
    """Samples/s of a network playing at full speed in the window, counted from the
    shown snapshots' step counters, against the bare Trainer loop with the same
    settings (and, between them, the training process with nothing drawn). The
    machine's speed drifts (a shared host), so the window's rounds alternate with
    headless rounds and each is compared with the headless rounds either side of it."""
    window = _open_window(app, settings, dataset)
    batch = settings.build(dataset)[2].batch_size
    shown: list[tuple[float, int, float]] = []
    window.snapshot_shown.connect(
        lambda s: shown.append((time.perf_counter(), s.step, time.thread_time())) if s.playing else None)
    headless, visual, frames, gui_share, undrawn = [], [], [], [], []
    for _ in range(rounds):
        headless.append(_headless_rate(settings, dataset, seconds))
        undrawn.append(_undrawn_rate(app, settings, dataset, seconds))
        window.worker.play()
        _run_for(app, 0.3)  # warm-up: the first frames build the views' caches
        first = len(shown)
        _run_for(app, seconds)
        window.worker.pause()
        _wait(app, lambda: not window.last_snapshot.playing)
        played = shown[first:]
        if len(played) < 2:
            raise RuntimeError("the playing window showed fewer than two frames")
        (t0, s0, c0), (t1, s1, c1) = played[0], played[-1]
        visual.append((s1 - s0) * batch / (t1 - t0))
        frames.append((len(played) - 1) / (t1 - t0))
        gui_share.append((c1 - c0) / (t1 - t0))
    headless.append(_headless_rate(settings, dataset, seconds))
    _close(app, window)
    # Each window round between two headless rounds: compare with their mean.
    reference = statistics.mean((a + b) / 2 for a, b in zip(headless, headless[1:]))
    return {"headless": reference, "undrawn": statistics.mean(undrawn), "visual": statistics.mean(visual),
            "frames": statistics.mean(frames), "gui_share": statistics.mean(gui_share)}


def _random_images(n_rows: int):
    """A Dataset of ``n_rows`` random 28×28 'images' in 10 classes (MNIST's shape)."""
    import numpy as np

    from bpviz.datasets import Dataset

    rng = np.random.default_rng(0)
    X = rng.random((n_rows, 784))
    T = np.eye(10)[rng.integers(0, 10, n_rows)]
    classes = [str(i) for i in range(10)]
    n_test = n_rows // 5
    return Dataset(f"random 28x28, {n_rows:,} rows", X, T, X[:n_test], T[:n_test],
                   [f"x{i}" for i in range(784)], classes, classes, image_shape=(28, 28))


def visualised_rows(quick: bool) -> list[Row]:
    """Digits (the target) and a 784-256-256-10 network on 10,000 MNIST-sized rows,
    one sample a step, playing in the window against headless (see _playing)."""
    from bpviz.settings import Settings

    app = _app()
    seconds, rounds = (0.5, 1) if quick else (1.5, 3)
    digits = _playing(app, _digits_settings(), None, seconds, rounds)
    large = _playing(app, Settings(hidden=(256, 256), activation="relu", learning_rate=0.01, epochs=None),
                     _random_images(1000 if quick else 10_000), seconds, 1 if quick else 2)
    return [Row("visualised", "digits 64-32-16-10 headless Trainer loop", digits["headless"], "samples/s"),
            Row("visualised", "the training process alone, nothing drawn", digits["undrawn"], "samples/s"),
            Row("visualised", "digits 64-32-16-10 playing in the window", digits["visual"], "samples/s"),
            Row("visualised", "window frames while playing", digits["frames"], "frames/s"),
            Row("visualised", "GUI thread's share of the time while playing", digits["gui_share"], "×"),
            Row("visualised", "playing / headless", digits["visual"] / digits["headless"], "×", (">=", 0.80)),
            Row("visualised", "784-256-256-10 per sample, headless", large["headless"], "samples/s"),
            Row("visualised", "784-256-256-10 playing in the window", large["visual"], "samples/s"),
            Row("visualised", "784-256-256-10 window frames while playing", large["frames"], "frames/s"),
            Row("visualised", "784-256-256-10 playing / headless", large["visual"] / large["headless"], "×")]


# ------------------------------------------------------------------- drawing
def _redraw_ms(app, view, snapshots) -> float:
    """Median ms of show_snapshot + an immediate repaint, over the given snapshots."""
    times = []
    for snap in snapshots:
        start = time.perf_counter()
        view.show_snapshot(snap)
        view.viewport().repaint()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def drawing_rows(quick: bool) -> list[Row]:
    """The network view alone at 1400×900: ms from a new snapshot to a painted viewport."""
    import numpy as np

    from bpviz.app.views.network_view import NetworkView
    from bpviz.engine import SGD, Network, Trainer
    from bpviz.snapshot import make_snapshot

    app = _app()
    frames = 5 if quick else 20
    rows = []
    cases = (("64-32-16-10", [64, 32, 16, 10], "sigmoid", ("<=", 10.0)),
             ("784-32-10", [784, 32, 10], "relu", None),
             ("784-128-10", [784, 128, 10], "relu", ("<=", 33.0)),
             ("784-256-256-10", [784, 256, 256, 10], "relu", ("<=", 33.0)))
    for label, sizes, activation, target in cases:
        if sizes[0] == 784:
            dataset = _random_images(64)
            X, T = dataset.X_train, dataset.T_train
        else:
            dataset, rng = None, np.random.default_rng(0)
            X = rng.random((64, sizes[0]))
            T = np.eye(sizes[-1])[rng.integers(0, sizes[-1], len(X))]
        net = Network(sizes, activation, "softmax", "cross_entropy", seed=0)
        trainer = Trainer(net, X, T, SGD(0.05), batch_size=1, seed=0)
        snapshots = []
        for step in range(frames + 3):
            done = trainer.step()
            snapshots.append(make_snapshot(net, done.record, int(done.sample_indices[0]), done, step=step + 1))
        view = NetworkView()
        view.resize(*WINDOW_SIZE)
        view.show()
        if dataset is not None:
            view.set_dataset(dataset)
        app.processEvents()
        _redraw_ms(app, view, snapshots[:3])  # the first frame lays the view out
        rows.append(Row("drawing", f"network view {label}, update + paint", _redraw_ms(app, view, snapshots[3:]),
                        "ms", target))
        view.close()
        view.deleteLater()
        app.processEvents()
    return rows


# ------------------------------------------------------------ responsiveness
def responsiveness_rows(quick: bool) -> list[Row]:
    """A 10 ms QTimer's lateness on the GUI thread while digits trains at full speed,
    and the time from the Step action to the repainted network view."""
    from PySide6.QtCore import Qt, QTimer

    app = _app()
    window = _open_window(app, _digits_settings())
    late: list[float] = []
    last = [0.0]

    def tick() -> None:
        now = time.perf_counter()
        if last[0]:
            late.append(max(0.0, now - last[0] - 0.010))
        last[0] = now

    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.setInterval(10)
    timer.timeout.connect(tick)
    window.worker.play()
    _run_for(app, 0.3)
    timer.start()
    _run_for(app, 0.6 if quick else 3.0)
    timer.stop()
    window.worker.pause()
    _wait(app, lambda: not window.last_snapshot.playing)
    _run_for(app, 0.2)
    late.sort()
    rows = [Row("responsiveness", "10 ms timer lateness while playing, median", 1000 * statistics.median(late),
                "ms", ("<", 5.0)),
            Row("responsiveness", "10 ms timer lateness while playing, p99",
                1000 * late[min(len(late) - 1, math.ceil(0.99 * len(late)) - 1)], "ms", ("<", 50.0))]

    # The window paints in the same turn of the event loop that shows the snapshot;
    # repainting right there, synchronously, times that paint.
    view, done_at = window.network_view, []

    def painted(snapshot) -> None:
        view.viewport().repaint()
        done_at.append(time.perf_counter())

    window.snapshot_shown.connect(painted)
    times = []
    for _ in range(5 if quick else 20):
        step = window.last_snapshot.step
        start = time.perf_counter()
        window.step_action.trigger()
        _wait(app, lambda: window.last_snapshot.step == step + 1, 5.0)
        times.append(done_at[-1] - start)
        _run_for(app, 0.02)
    window.snapshot_shown.disconnect(painted)
    _close(app, window)
    rows.append(Row("responsiveness", "Step to repainted network view, digits, median",
                    1000 * statistics.median(times), "ms", ("<", 16.0)))
    return rows


KINDS = {"visualised": visualised_rows, "drawing": drawing_rows, "responsiveness": responsiveness_rows}
