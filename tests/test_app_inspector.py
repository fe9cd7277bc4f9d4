"""Lecture mode in the real window: clicking a node or an edge shows its equations
with this step's numbers (parsed back at 10 decimals they are the engine's),
editing a weight through the dialog changes exactly that entry, weight files load
or are refused, and the CSV and LaTeX of the step hold the snapshot's numbers."""

import re

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QApplication, QDialogButtonBox

from bpviz import step_table
from bpviz.equations import PAUSED_MESSAGE
from bpviz.exports import export_weights_json
from bpviz.settings import Settings

from helpers import captured

TIMEOUT = 5000
NUMBER = re.compile(r"[−-]?\d+\.\d+")
SETTINGS = Settings(dataset="iris", hidden=(5,), activation="tanh", output_activation="sigmoid",
                    loss="squared", optimizer="sgd", learning_rate=0.5, init="uniform", init_scale=0.5,
                    bias_init=0.1, mode="sample", epochs=None)


def numbers(text):
    return [float(m.replace("−", "-")) for m in NUMBER.findall(text)]


def block(text, lhs):
    """The lines of the equation ``lhs = …`` as shown (continuation lines start with a space)."""
    lines = text.splitlines()
    start = next(n for n, line in enumerate(lines) if line.startswith(f"{lhs} = "))
    end = start + 1
    while end < len(lines) and lines[end].startswith(" ") and not lines[end].lstrip().startswith("("):
        end += 1
    return "\n".join(lines[start:end])


def shown(text, lhs):
    """The result of an equation: its last number."""
    return numbers(block(text, lhs))[-1]


def close(x, exact):
    return abs(x - exact) <= 0.5e-10 * max(1.0, abs(exact)) + 1e-15


@pytest.fixture
def window(make_window):
    return make_window(SETTINGS, size=(1600, 1000))


def step(qtbot, window, n=1):
    target = window.last_snapshot.step + n
    for _ in range(n):
        window.step()
    qtbot.waitUntil(lambda: window.last_snapshot.step == target, timeout=TIMEOUT)
    return window.last_snapshot


def click(qtbot, window, scene_point, double=False):
    view = window.network_view
    pos = view.mapFromScene(scene_point)
    (qtbot.mouseDClick if double else qtbot.mouseClick)(view.viewport(), Qt.MouseButton.LeftButton, pos=pos)


def edge_point(window, k, i, j):
    """A scene point on edge (k, i, j) that hits it and no other edge."""
    view = window.network_view
    a, b = view.node_position(k, i), view.node_position(k + 1, j)
    for t in np.linspace(0.2, 0.8, 25):
        p = QPointF(a.x() + t * (b.x() - a.x()), a.y() + t * (b.y() - a.y()))
        if view.tooltip_at(p).startswith(f"weight w[{k}][{i}, {j}]"):
            return p
    raise AssertionError(f"no clean point on edge {(k, i, j)}")


def test_clicking_a_node_shows_its_arithmetic(qtbot, window):
    snap = step(qtbot, window, 3)
    inspector = window.inspector
    inspector.set_precision(10)
    click(qtbot, window, window.network_view.node_position(1, 2))
    assert inspector.selection() == ("node", 1, 2)
    text = inspector.text()
    W, b = snap.forward_params
    assert close(shown(text, "z"), snap.pre_activations[0][2])
    terms = numbers(block(text, "z"))[:-1]
    expected = [x for m in range(4) for x in (W[0][m, 2], snap.activations[0][m])] + [b[0][2]]
    assert all(close(s, e) for s, e in zip(terms, expected)) and len(terms) == len(expected)
    assert close(shown(text, "a"), snap.activations[1][2])
    assert close(shown(text, "δ"), snap.deltas[0][2])
    assert close(shown(text, "∂L/∂b"), snap.bias_grads[0][2])
    assert close(shown(text, "new b"), snap.biases[0][2])
    # the output layer: δ from the loss and σ′
    click(qtbot, window, window.network_view.node_position(2, 1))
    text = inspector.text()
    assert "(a − t)·a·(1 − a)" in text
    assert close(shown(text, "δ"), snap.deltas[1][1])
    assert close(shown(text, "a"), snap.activations[2][1])


def test_clicking_an_edge_shows_its_gradient_and_update(qtbot, window):
    snap = step(qtbot, window, 2)
    inspector = window.inspector
    inspector.set_precision(10)
    click(qtbot, window, edge_point(window, 1, 3, 2))
    assert inspector.selection() == ("edge", 1, 3, 2)
    text = inspector.text()
    assert close(shown(text, "∂L/∂w"), snap.weight_grads[1][3, 2])
    a, d = numbers(block(text, "∂L/∂w"))[:2]
    assert close(a, snap.activations[1][3]) and close(d, snap.deltas[1][2])
    old, eta, g, new = numbers(block(text, "new w"))
    assert close(old, snap.weights_before[1][3, 2]) and eta == 0.5
    assert close(new, snap.weights[1][3, 2])


def test_precision_applies_to_every_number(qtbot, window):
    step(qtbot, window)
    window.inspector.show_node(1, 0)
    for decimals in (2, 7):
        window.inspector.set_precision(decimals)
        found = NUMBER.findall(window.inspector.text().replace("η·", ""))
        assert {len(x.split(".")[1]) for x in found if x not in ("0.5",)} == {decimals}


def test_while_playing_the_inspector_asks_to_pause(qtbot, window):
    window.inspector.show_node(1, 0)
    window.speed_slider.setValue(5)  # 100 steps/s: frames without the pre-update copy
    window.toggle_play()
    qtbot.waitUntil(lambda: window.last_snapshot.playing and window.last_snapshot.step > 2, timeout=TIMEOUT)
    qtbot.waitUntil(lambda: PAUSED_MESSAGE in window.inspector.text(), timeout=TIMEOUT)
    window.toggle_play()
    qtbot.waitUntil(lambda: not window.last_snapshot.playing, timeout=TIMEOUT)
    assert PAUSED_MESSAGE not in window.inspector.text()
    assert "z = " in window.inspector.text()


def all_params(snap):
    return [w.copy() for w in snap.weights] + [b.copy() for b in snap.biases]


def test_editing_a_weight_changes_exactly_that_entry(qtbot, window):
    snap = step(qtbot, window)
    before = all_params(snap)
    click(qtbot, window, edge_point(window, 0, 1, 3), double=True)
    qtbot.waitUntil(lambda: window.lecture.edit_dialog is not None and window.lecture.edit_dialog.isVisible(),
                    timeout=TIMEOUT)
    dialog = window.lecture.edit_dialog
    ok = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok)
    dialog.field.setText("twelve")
    qtbot.mouseClick(ok, Qt.MouseButton.LeftButton)
    assert dialog.isVisible() and "not a number" in dialog.message.text()
    dialog.field.setText("inf")
    qtbot.mouseClick(ok, Qt.MouseButton.LeftButton)
    assert dialog.isVisible() and "finite" in dialog.message.text()
    dialog.field.setText("0.125")
    qtbot.mouseClick(ok, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()
    qtbot.waitUntil(lambda: window.last_snapshot.weights[0][1, 3] == 0.125, timeout=TIMEOUT)
    after = all_params(window.last_snapshot)
    expected = [a.copy() for a in before]
    expected[0][1, 3] = 0.125
    for got, want in zip(after, expected):
        np.testing.assert_array_equal(got, want)
    # the engine's own arrays, in the training process
    state = captured(qtbot, window).trainer_state
    for got, want in zip(state.weights + state.biases, expected):
        np.testing.assert_array_equal(got, want)
    assert window.last_snapshot.is_preview  # the pass shown is under the new weights
    assert window.last_snapshot.step == snap.step


def test_editing_a_bias_from_the_inspector(qtbot, window):
    step(qtbot, window)
    before = all_params(window.last_snapshot)
    click(qtbot, window, window.network_view.node_position(2, 0))
    window.inspector.edit_button.click()
    dialog = window.lecture.edit_dialog
    assert dialog is not None and dialog.isVisible()
    dialog.field.setText("-1.5e-1")
    dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok).click()
    qtbot.waitUntil(lambda: window.last_snapshot.biases[1][0] == -0.15, timeout=TIMEOUT)
    expected = before
    expected[len(window.last_snapshot.weights) + 1][0] = -0.15
    for got, want in zip(all_params(window.last_snapshot), expected):
        np.testing.assert_array_equal(got, want)


def test_load_weights_replays_a_worked_example(qtbot, window, tmp_path):
    _, net, _ = SETTINGS.with_(seed=7).build(window.dataset)
    for w in net.weights:
        w[...] = np.round(w, 2)
    path = tmp_path / "example.json"
    export_weights_json(path, net)
    window.lecture.load_weights(path)
    qtbot.waitUntil(lambda: np.array_equal(window.last_snapshot.weights[0], net.weights[0]), timeout=TIMEOUT)
    for got, want in zip(all_params(window.last_snapshot), net.weights + net.biases):
        np.testing.assert_array_equal(got, want)
    # before the first step the loaded weights become the start: Reset keeps them
    step(qtbot, window)
    window.reset()
    qtbot.waitUntil(lambda: window.last_snapshot.step == 0, timeout=TIMEOUT)
    np.testing.assert_array_equal(window.last_snapshot.weights[1], net.weights[1])


def test_a_misfit_weights_file_is_refused_and_changes_nothing(qtbot, window, tmp_path):
    snap = step(qtbot, window)
    _, other, _ = SETTINGS.with_(hidden=(3,)).build(window.dataset)
    path = tmp_path / "other.json"
    export_weights_json(path, other)
    window.lecture.load_weights(path)
    qtbot.waitUntil(lambda: "shape" in window.statusBar().currentMessage(), timeout=TIMEOUT)
    assert "W1" in window.statusBar().currentMessage()
    window.step()
    qtbot.waitUntil(lambda: window.last_snapshot.step == snap.step + 1, timeout=TIMEOUT)
    for got, want in zip(window.last_snapshot.weights_before, snap.weights):
        np.testing.assert_array_equal(got, want)
    for box in QApplication.topLevelWidgets():
        if box.isVisible() and box is not window:
            box.close()


def test_csv_and_latex_of_the_step(qtbot, window, tmp_path):
    snap = step(qtbot, window, 2)
    inspector = window.inspector
    inspector.copy_csv()
    text = QApplication.clipboard().text()
    assert text == step_table.to_csv(snap)
    rows = step_table.parse_csv(text)
    np.testing.assert_array_equal(step_table.column(rows, "node", "a"), np.concatenate(snap.activations))
    np.testing.assert_array_equal(step_table.column(rows, "weight", "grad"),
                                  np.concatenate([g.ravel() for g in snap.weight_grads]))
    np.testing.assert_array_equal(step_table.column(rows, "weight", "change"),
                                  np.concatenate([g.ravel() for g in snap.weight_changes]))
    inspector.set_precision(5)
    inspector.show_edge(0, 2, 4)
    inspector.copy_latex()
    tex = QApplication.clipboard().text()
    scope = inspector.latex_scope()
    assert tex == step_table.to_latex(snap, scope, 5)
    w = snap.weights[0][2, 4]
    assert f"$w^{{(1)}}_{{24}}$ & ${w:.5f}$" in tex
    window.lecture.export_csv(tmp_path / "step.csv")
    window.lecture.export_latex(tmp_path / "step.tex")
    assert (tmp_path / "step.csv").read_text(encoding="utf-8") == text
    assert (tmp_path / "step.tex").read_text(encoding="utf-8") == tex


def test_copying_a_light_frame_says_which_cells_are_empty(qtbot):
    from bpviz.app.views.inspector import Inspector
    from helpers import added, snapshot_of

    dataset, net, trainer = Settings(dataset="digits", hidden=(200,)).build()  # 64×200 weights: left out
    st = trainer.step()
    inspector = added(qtbot, Inspector(), (420, 600))
    inspector.set_dataset(dataset)
    widths = []
    for light in (False, True):
        snap = snapshot_of(net, st, light=light)
        inspector.show_snapshot(snap)
        qtbot.mouseClick(inspector.csv_button, Qt.MouseButton.LeftButton)
        assert QApplication.clipboard().text() == step_table.to_csv(snap)
        note = inspector.note.text()
        assert note.startswith(f"Copied {len(step_table.csv_rows(snap)) - 1:,} rows of CSV")
        assert ("the ∂L/∂w and Δw cells of W1 are empty" in note) == light
        assert ("pause or step" in note) == light
        widths.append(inspector.minimumSizeHint().width())
    assert widths[1] == widths[0]  # the longer note wraps; it does not widen the dock
