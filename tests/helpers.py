"""Helpers shared by the view tests: snapshots of real training runs, and widgets
handed to qtbot."""

from bpviz.snapshot import make_snapshot


def snapshot_of(net, state, **extra):
    """The snapshot of ``net`` after the training step ``state`` (a TrainStep), showing
    its first sample; ``extra`` as make_snapshot's (counters, history)."""
    return make_snapshot(net, state.record, int(state.sample_indices[0]), state, step=state.step, **extra)


def trained(settings, steps, **extra):
    """(dataset, the live network, its snapshot) after ``steps`` real training steps."""
    dataset, net, trainer = settings.build()
    for _ in range(steps):
        state = trainer.step()
    return dataset, net, snapshot_of(net, state, **extra)


def added(qtbot, widget, size, show=True):
    """``widget`` handed to qtbot (closed at teardown), resized to ``size`` and, if
    ``show``, shown."""
    qtbot.addWidget(widget)
    widget.resize(*size)
    if show:
        widget.show()
    return widget
