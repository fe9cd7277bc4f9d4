"""NetworkView: what it draws matches the snapshot; hover, click and scale rules."""

import re
from dataclasses import replace

import numpy as np
import pytest
from PySide6 import QtCore, QtGui, QtSvg

from bpviz.app.style import LIGHT
from bpviz.app.views import palette
from bpviz.app.views.edges import NodesItem
from bpviz.app.views.network_frame import TOP_EDGES
from bpviz.app.views.network_view import NetworkView
from bpviz.datasets import Dataset
from bpviz.settings import Settings
from helpers import snapshot_of


def run(settings=None, steps=3, dataset=None):
    """(dataset, snapshots) after a few real training steps."""
    dataset, net, trainer = (settings or Settings()).build(dataset)
    snaps = []
    for _ in range(steps):
        st = trainer.step()
        snaps.append(snapshot_of(net, st))
    return dataset, snaps


def fake_images(n_features=784, n_outputs=10, shape=(28, 28)):
    rng = np.random.default_rng(0)
    X = rng.random((32, n_features))
    T = np.eye(n_outputs)[rng.integers(0, n_outputs, 32)]
    names = tuple(str(i) for i in range(n_outputs))
    return Dataset("fake", X, T, X[:4], T[:4], tuple(f"px {i}" for i in range(n_features)),
                   names, names, image_shape=shape)


@pytest.fixture
def make_view(qtbot):
    def make(dataset, snapshot=None, bias=True):
        view = NetworkView()
        qtbot.addWidget(view)
        view.resize(1400, 900)
        view.show()
        qtbot.waitExposed(view)
        view.set_dataset(dataset)
        view.set_show_bias(bias)
        if snapshot is not None:
            view.show_snapshot(snapshot)
        return view
    return make


def expected_edges(sizes, bias):
    return sum((a + bias) * b for a, b in zip(sizes[:-1], sizes[1:]))


def drawn_values(snap, view):
    """The snapshot's weight (or bias, for i == sizes[k]) of every drawn edge."""
    ks, iis, jjs = view.edge_list()
    return np.array([snap.biases[k][j] if i == snap.sizes[k] else snap.weights[k][i, j]
                     for k, i, j in zip(ks, iis, jjs)])


@pytest.mark.parametrize("bias", [True, False])
def test_iris_nodes_edges_and_colours(make_view, bias):
    dataset, snaps = run()
    snap = snaps[-1]
    view = make_view(dataset, snap, bias)
    assert snap.sizes == (4, 5, 3)
    ks, iis, jjs = view.edge_list()
    assert len(ks) == expected_edges(snap.sizes, bias)
    assert bool(np.any(iis == np.array(snap.sizes)[ks])) == bias
    values = drawn_values(snap, view)
    np.testing.assert_array_equal(view.edge_values(), values)
    scale = view.weight_scale()
    assert scale == palette.nice_ceil(max(np.abs(np.concatenate(
        [w.ravel() for w in snap.weights] + ([b for b in snap.biases] if bias else []))).max(), 0))
    np.testing.assert_array_equal(view.edge_colors(), palette.weight_rgba(values, scale))
    # colour semantics: blue for positive, orange for negative
    strong = np.abs(values) > 0.3 * scale
    rgba = view.edge_colors().astype(int)
    assert np.all((rgba[strong & (values > 0), 2] > rgba[strong & (values > 0), 0]))
    assert np.all((rgba[strong & (values < 0), 0] > rgba[strong & (values < 0), 2]))
    for k in range(3):
        np.testing.assert_array_equal(view.node_values()[k], snap.activations[k])
        assert view.node_colors(k).shape == (snap.sizes[k], 4)
    # tanh hidden and softmax output both use a ±1 scale
    np.testing.assert_array_equal(view.node_colors(1), palette.node_rgba(snap.activations[1], 1.0))
    np.testing.assert_array_equal(view.node_colors(2), palette.node_rgba(snap.activations[2], 1.0))
    in_scale = np.abs(dataset.X_train).max(axis=0)
    np.testing.assert_array_equal(view.node_colors(0), palette.node_rgba(snap.activations[0], in_scale))


def test_headers_show_names_and_gradient_norms(make_view):
    dataset, snaps = run()
    snap = snaps[-1]
    view = make_view(dataset, snap)
    assert "hidden 1" in view.header_text(1) and "tanh · 5" in view.header_text(1)
    assert "output" in view.header_text(2) and "softmax · 3" in view.header_text(2)
    norm = np.linalg.norm(snap.weight_grads[1])
    assert f"‖∂L/∂W‖ {norm:.3g}" in view.header_text(2)
    assert f"mean |δ| {np.mean(np.abs(snap.deltas[0])):.3g}" in view.header_text(1)
    first = replace(snap, weight_grads=None, bias_grads=None, weight_changes=None, bias_changes=None,
                    weight_grad_norms=None, change_summary=None)
    view.show_snapshot(first)
    assert "‖∂L/∂W‖ —" in view.header_text(1)


@pytest.mark.parametrize("bias", [True, False])
def test_xor_2_2_2_1(make_view, bias):
    settings = Settings(dataset="xor", hidden=(2, 2), activation="sigmoid",
                        output_activation="sigmoid", bias=bias)
    dataset, snaps = run(settings)
    view = make_view(dataset, snaps[-1])
    assert snaps[-1].sizes == (2, 2, 2, 1)
    assert len(view.edge_list()[0]) == expected_edges((2, 2, 2, 1), bias)
    assert not any(view.is_compact(k) for k in range(4))
    view.set_show_bias(False)
    assert len(view.edge_list()[0]) == expected_edges((2, 2, 2, 1), False)


def test_deltas_are_the_snapshot_deltas(make_view):
    dataset, snaps = run(Settings(dataset="digits", hidden=(32, 16)))
    snap = snaps[-1]
    view = make_view(dataset, snap)
    for k in range(3):
        np.testing.assert_array_equal(view.delta_values()[k], snap.deltas[k])
    for layer in (1, 2, 3):
        d = snap.deltas[layer - 1]
        bars = view.delta_bar_lengths(layer)
        assert np.all(np.sign(bars) == np.sign(d))
        order = np.argsort(np.abs(d))
        assert np.all(np.diff(np.abs(bars)[order]) >= -1e-9)
    longest = max(np.abs(view.delta_bar_lengths(k)).max() for k in (1, 2, 3))
    assert longest == pytest.approx(view._geo.bar_len)  # the largest |δ| fills its track


def test_digits_compact_input(make_view):
    dataset, snaps = run(Settings(dataset="digits", hidden=(32, 16), output_activation="sigmoid",
                                  loss="squared"))
    snap = snaps[-1]
    view = make_view(dataset, snap)
    assert snap.sizes == (64, 32, 16, 10)
    assert view.is_compact(0) and not view.is_compact(1)
    assert len(view.edge_list()[0]) == TOP_EDGES + 33 * 16 + 17 * 10
    assert view.node_colors(0).shape == (64, 4)
    np.testing.assert_array_equal(view.node_colors(0), palette.image_rgba(
        snap.activations[0], np.abs(dataset.X_train).max()))
    np.testing.assert_array_equal(view.edge_colors(),
                                  palette.weight_rgba(drawn_values(snap, view), view.weight_scale()))


@pytest.mark.parametrize("bias", [True, False])
def test_784_inputs_draw_the_strongest_edges(make_view, bias):
    dataset, snaps = run(Settings(hidden=(128,), bias=bias), steps=2, dataset=fake_images())
    snap = snaps[-1]
    view = make_view(dataset, snap)
    assert snap.sizes == (784, 128, 10)
    assert view.is_compact(0) and view.is_compact(1) and not view.is_compact(2)
    ks, iis, jjs = view.edge_list()
    assert len(ks) == 2 * TOP_EDGES
    for k in (0, 1):
        full = np.abs(snap.weights[k]) if not bias else np.abs(
            np.vstack([snap.weights[k], snap.biases[k]]))
        drawn = np.zeros(full.shape, bool)
        drawn[iis[ks == k], jjs[ks == k]] = True
        assert drawn.sum() == TOP_EDGES
        assert full[drawn].min() >= full[~drawn].max()
    np.testing.assert_array_equal(view.edge_values(), drawn_values(snap, view))
    np.testing.assert_array_equal(view.delta_values()[0], snap.deltas[0])


def test_hidden_1024_and_relayout_on_new_sizes(make_view):
    dataset, snaps = run(Settings(hidden=(1024,)), steps=1, dataset=fake_images())
    view = make_view(dataset, snaps[0])
    assert view.node_colors(1).shape == (1024, 4)
    assert len(view.edge_list()[0]) == 2 * TOP_EDGES
    iris, small = run()
    view.set_dataset(iris)
    view.reset_scale()
    view.show_snapshot(small[-1])
    assert len(view.edge_list()[0]) == expected_edges((4, 5, 3), True)
    assert not view.is_compact(0)


def test_scale_fixed_widens_and_auto(make_view):
    dataset, snaps = run()
    snap = snaps[-1]
    view = make_view(dataset, snap)
    first = view.weight_scale()
    m = max(max(np.abs(w).max() for w in snap.weights), max(np.abs(b).max() for b in snap.biases))
    assert first == palette.nice_ceil(m) and first >= m

    def scaled(f):
        return replace(snap, weights=tuple(w * f for w in snap.weights),
                       biases=tuple(b * f for b in snap.biases))

    view.show_snapshot(scaled(0.1))
    assert view.weight_scale() == first  # never shrinks
    view.show_snapshot(scaled(first * 1.9 / m))
    assert view.weight_scale() == first  # within the widening factor: clipped, kept
    view.show_snapshot(scaled(first * 3.0 / m))
    assert view.weight_scale() == palette.nice_ceil(3.0 * first)
    view.set_auto_scale(True)
    view.show_snapshot(scaled(0.1))
    assert view.weight_scale() == palette.nice_ceil(0.1 * m)
    view.set_auto_scale(False)
    view.reset_scale()
    view.show_snapshot(snap)
    assert view.weight_scale() == first


def test_nice_ceil():
    assert [palette.nice_ceil(x) for x in (0.7, 1.0, 1.2, 2.2, 3.0, 0.031)] == [1, 1, 2, 2.5, 5, 0.05]
    assert palette.nice_ceil(float("nan")) == 1.0 and palette.nice_ceil(0.0) == 1.0


def test_node_tooltip_has_exact_values(make_view):
    dataset, snaps = run()
    snap = snaps[-1]
    view = make_view(dataset, snap)
    text = view.tooltip_at(view.node_position(1, 2))
    for value in (snap.activations[1][2], snap.pre_activations[0][2], snap.deltas[0][2]):
        assert repr(float(value)) in text
    text = view.tooltip_at(view.node_position(2, 0))
    assert "setosa" in text and f"t = {float(snap.target[0])!r}" in text
    assert "sepal length" in view.tooltip_at(view.node_position(0, 0))


def edge_point(view, k, i, j, frac=0.5):
    a, b = view.node_position(k, i), view.node_position(k + 1, j)
    return a + (b - a) * frac


def test_edge_tooltip_and_click(make_view, qtbot):
    settings = Settings(dataset="xor", hidden=(2,), activation="sigmoid",
                        output_activation="sigmoid", init_scale=1.0)
    dataset, snaps = run(settings)
    snap = snaps[-1]
    view = make_view(dataset, snap, bias=False)
    point = edge_point(view, 1, 0, 0, 0.7)
    text = view.tooltip_at(point)
    assert "weight w[1][0, 0]" in text
    for value in (snap.weights[1][0, 0], snap.weight_grads[1][0, 0], snap.weight_changes[1][0, 0]):
        assert repr(float(value)) in text
    with qtbot.waitSignal(view.edge_clicked, timeout=1000) as blocker:
        qtbot.mouseClick(view.viewport(), QtCore.Qt.MouseButton.LeftButton,
                         pos=view.mapFromScene(point))
    assert blocker.args == [1, 0, 0]


def test_a_light_frames_large_layer_says_its_gradients_come_when_paused(make_view):
    dataset, net, trainer = Settings(dataset="digits", hidden=(200,)).build()  # 64×200 weights: left out
    st = trainer.step()
    snap = snapshot_of(net, st, light=True)
    view = make_view(dataset, snap)
    texts = {}
    for k, i, j in ((0, 10, 100), (1, 100, 4)):
        for frac in np.linspace(0.1, 0.9, 33):
            text = view.tooltip_at(edge_point(view, k, i, j, frac))
            if text.startswith(f"weight w[{k}]"):
                texts[k] = text
    assert texts.keys() == {0, 1}
    assert "∂L/∂w = — when paused (not sent for a large layer while playing)" in texts[0]
    assert "last Δw = — when paused (not sent for a large layer while playing)" in texts[0]
    m = re.search(r"weight w\[1\]\[(\d+), (\d+)\]", texts[1])
    i, j = map(int, m.groups())
    assert f"∂L/∂w = {float(snap.weight_grads[1][i, j])!r}" in texts[1]
    assert f"‖∂L/∂W‖ {snap.weight_grad_norms[0]:.3g}" in view.header_text(1)


def test_every_hovered_edge_reports_its_own_numbers(make_view):
    dataset, snaps = run()
    snap = snaps[-1]
    view = make_view(dataset, snap)
    seen = 0
    for frac in (0.25, 0.5, 0.75):
        for j in range(3):
            text = view.tooltip_at(edge_point(view, 1, 4, j, frac))
            m = re.search(r"weight w\[(\d)\]\[(\d), (\d)\]", text)
            if m:
                k, i, jj = map(int, m.groups())
                assert f"w = {float(snap.weights[k][i, jj])!r}" in text
                seen += 1
    assert seen > 0


def test_click_on_node_and_cell(make_view, qtbot):
    dataset, snaps = run()
    view = make_view(dataset, snaps[-1])
    with qtbot.waitSignal(view.node_clicked, timeout=1000) as blocker:
        qtbot.mouseClick(view.viewport(), QtCore.Qt.MouseButton.LeftButton,
                         pos=view.mapFromScene(view.node_position(1, 3)))
    assert blocker.args == [1, 3]
    dataset, snaps = run(Settings(dataset="digits", hidden=(16,)), steps=1)
    view = make_view(dataset, snaps[-1])
    with qtbot.waitSignal(view.node_clicked, timeout=1000) as blocker:
        qtbot.mouseClick(view.viewport(), QtCore.Qt.MouseButton.LeftButton,
                         pos=view.mapFromScene(view.node_position(0, 19)))
    assert blocker.args == [0, 19]
    assert "px 2,3" in view.tooltip_at(view.node_position(0, 19))


def test_many_node_colours_do_not_abort(qtbot):
    """Guard against a Qt binding pair that aborts after many void Qt calls: 300
    frames of 1,000 nodes, each painted with its own bucket brush."""
    item = NodesItem()
    rects = [QtCore.QRectF(10 * (i % 40), 10 * (i // 40), 8, 8) for i in range(1000)]
    item.set_geometry(rects, [], np.zeros((0, 4)), QtGui.QFont(), list(range(0, 1000, 10)))
    image = QtGui.QImage(420, 260, QtGui.QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(QtCore.Qt.GlobalColor.transparent)
    rng = np.random.default_rng(0)
    bars = np.tile([0.0, 0.0, 5.0, 3.0], (1000, 1))
    for _ in range(300):
        fill = rng.integers(0, 2 * palette.NODE_HALF + 1, 1000).tolist()
        item.set_values(fill, bars[:500], bars[500:])
        item.set_labels(["0.5"] * 100)
        painter = QtGui.QPainter(image)
        item.paint(painter, None, None)
        painter.end()
    # Still alive after ~300,000 brush calls, and the last frame really painted
    # every node: the centre of the last node is no longer transparent.
    centre = rects[-1].center().toPoint()
    assert image.pixelColor(centre).alpha() == 255


def _painted_nodes(fill, device, colours=None):
    item = NodesItem()
    if colours is not None:
        item.set_colours(colours, LIGHT)
    rects = [QtCore.QRectF(10.0 + 40 * i, 10.0, 30, 30) for i in range(len(fill))]
    item.set_geometry(rects, [], np.zeros((0, 4)), QtGui.QFont(), [])
    item.set_values(fill, np.zeros((0, 4)), np.zeros((0, 4)))
    painter = QtGui.QPainter(device)
    item.paint(painter, None, None)
    painter.end()
    return item, rects


def test_nodes_on_screen_are_stamps_of_each_colour_and_size_in_svg_circles(qtbot):
    fill = [0, palette.NODE_HALF, 2 * palette.NODE_HALF, 0]
    image = QtGui.QImage(200, 50, QtGui.QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(QtCore.Qt.GlobalColor.white)
    item, rects = _painted_nodes(fill, image)
    assert len(item._sprites) == 3  # one stamp per colour of this size
    for rect, bucket in zip(rects, fill):
        assert image.pixelColor(rect.center().toPoint()) == item._brushes[bucket].color()
        assert image.pixelColor(QtCore.QPointF(rect.x() + 0.2, rect.center().y()).toPoint()).lightness() < 120
    # another palette: new stamps, not the old colours
    other = palette.colours("red-blue")
    item.set_colours(other, LIGHT)
    assert item._sprites == {}

    buffer = QtCore.QBuffer()
    svg = QtSvg.QSvgGenerator()
    svg.setOutputDevice(buffer)
    svg.setSize(QtCore.QSize(200, 50))
    _painted_nodes(fill, svg)
    text = bytes(buffer.data()).decode()
    assert "<image" not in text and text.count("<circle") == len(fill)


def test_many_snapshots_through_the_view(make_view):
    dataset, snaps = run(Settings(dataset="digits", hidden=(40, 40, 40)), steps=4)
    view = make_view(dataset, snaps[0])
    for i in range(40):
        view.show_snapshot(snaps[i % 4])
        view.viewport().repaint()
    np.testing.assert_array_equal(view.node_values()[2], snaps[39 % 4].activations[2])


def test_hovering_sets_the_tooltip(make_view, qtbot):
    dataset, snaps = run()
    snap = snaps[-1]
    view = make_view(dataset, snap)
    qtbot.mouseMove(view.viewport(), view.mapFromScene(view.node_position(1, 0)))
    qtbot.waitUntil(lambda: repr(float(snap.activations[1][0])) in view.current_tooltip(),
                    timeout=1000)
    qtbot.mouseMove(view.viewport(), QtCore.QPoint(3, 300))
    qtbot.waitUntil(lambda: view.current_tooltip() == "", timeout=1000)
