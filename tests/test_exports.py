"""Tests for bpviz.exports: weights out and back in, the history as CSV."""

import csv
import json
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bpviz.engine.network import Network
from bpviz.errors import BpvizError
from bpviz.exports import export_history_csv, export_weights_json, export_weights_npz, load_weights
from bpviz.snapshot import History


@pytest.fixture
def net():
    net = Network((3, 5, 4, 2), "tanh", "sigmoid", init="uniform", seed=3)
    for b in net.biases:
        b[...] = np.random.default_rng(0).normal(size=b.shape)
    return net


def params_of(net):
    return [p.copy() for p in net.weights + net.biases]


def test_npz_contents(tmp_path, net):
    path = tmp_path / "w.npz"
    export_weights_npz(path, net)
    with np.load(path, allow_pickle=False) as archive:
        assert set(archive.files) == {"sizes", "W1", "W2", "W3", "b1", "b2", "b3"}
        assert archive["sizes"].tolist() == [3, 5, 4, 2]
        for k in range(3):
            assert np.array_equal(archive[f"W{k + 1}"], net.weights[k])
            assert np.array_equal(archive[f"b{k + 1}"], net.biases[k])


def test_json_contents(tmp_path, net):
    path = tmp_path / "w.json"
    export_weights_json(path, net)
    document = json.loads(path.read_text())
    assert document["sizes"] == [3, 5, 4, 2]
    assert document["activations"] == ["tanh", "tanh", "sigmoid"]
    assert document["bias"] is True
    for k in range(3):
        assert np.array_equal(np.array(document[f"W{k + 1}"]), net.weights[k])  # exact floats
        assert np.array_equal(np.array(document[f"b{k + 1}"]), net.biases[k])
    assert len(path.read_text().splitlines()) > 3 + 5 + 4  # one matrix row per line


@pytest.mark.parametrize("export", [export_weights_npz, export_weights_json], ids=["npz", "json"])
def test_load_weights_round_trip(tmp_path, net, export):
    path = tmp_path / "weights"
    export(path, net)
    other = Network((3, 5, 4, 2), "tanh", "sigmoid", seed=99)
    load_weights(path, other)
    for a, b in zip(params_of(net), params_of(other), strict=True):
        assert np.array_equal(a, b)


@pytest.mark.parametrize("export", [export_weights_npz, export_weights_json], ids=["npz", "json"])
def test_misfitting_weights_name_the_layer_and_change_nothing(tmp_path, export):
    source = Network((3, 5, 4, 2), seed=1)
    path = tmp_path / "weights"
    export(path, source)
    target = Network((3, 5, 3, 2), seed=2)
    before = params_of(target)
    with pytest.raises(BpvizError) as error:
        load_weights(path, target)
    assert str(error.value) == "W2 has shape (5, 4), the network needs (5, 3)"
    for a, b in zip(before, params_of(target), strict=True):
        assert np.array_equal(a, b)


def test_missing_or_extra_layers(tmp_path):
    path = tmp_path / "w.npz"
    export_weights_npz(path, Network((3, 5, 2)))
    with pytest.raises(BpvizError, match="has no W3"):
        load_weights(path, Network((3, 5, 2, 2)))
    export_weights_npz(path, Network((3, 5, 2, 2)))
    with pytest.raises(BpvizError, match="more layers than the network"):
        load_weights(path, Network((3, 5, 2)))


@pytest.mark.parametrize("content, message", [
    (b"", "neither an .npz file nor weights JSON"),
    (b"\x00\xff\x10", "neither an .npz file nor weights JSON"),
    (b"[1, 2]", "not a JSON object"),
    (b'{"W1": [[1, "a"]], "b1": [0]}', "W1 is not an array of numbers"),
    (b'{"W1": [[1, 2], [3]], "b1": [0]}', "W1 is not an array of numbers"),
    (b'{"W1": [[NaN, 1]], "b1": [0, 0]}', "finite"),
    (b"PK\x03\x04 broken zip", "not a readable weights file"),
])
def test_unreadable_weight_files(tmp_path, content, message):
    path = tmp_path / "w"
    path.write_bytes(content)
    net = Network((1, 2))
    before = params_of(net)
    with pytest.raises(BpvizError, match=message):
        load_weights(path, net)
    assert all(np.array_equal(a, b) for a, b in zip(before, params_of(net)))


def test_missing_weight_file(tmp_path):
    with pytest.raises(BpvizError, match="there is no file"):
        load_weights(tmp_path / "nothing.npz", Network((1, 2)))


def test_history_csv(tmp_path):
    rng = np.random.default_rng(5)
    history = History(train_loss=rng.random(4), test_loss=rng.random(4),
                      train_accuracy=rng.random(4), test_accuracy=np.array([0.5, np.nan, 1.0, 0.25]),
                      grad_norms=rng.random((4, 3)))
    path = tmp_path / "history.csv"
    export_history_csv(path, history)
    with open(path, newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["epoch", "train_loss", "test_loss", "train_accuracy", "test_accuracy",
                       "grad_norm_W1", "grad_norm_W2", "grad_norm_W3"]
    assert [r[0] for r in rows[1:]] == ["1", "2", "3", "4"]
    table = np.array([[float(c) if c else np.nan for c in r[1:]] for r in rows[1:]])
    expected = np.column_stack([history.train_loss, history.test_loss, history.train_accuracy,
                                history.test_accuracy, history.grad_norms])
    assert np.array_equal(table, expected, equal_nan=True)  # exact: floats written by repr
    assert rows[2][4] == ""  # NaN is an empty cell


def test_empty_history_csv(tmp_path):
    path = tmp_path / "history.csv"
    export_history_csv(path, History())
    assert path.read_text() == "epoch,train_loss,test_loss,train_accuracy,test_accuracy\n"


def test_exports_are_atomic(tmp_path, net, monkeypatch):
    path = tmp_path / "w.json"
    path.write_text("old")

    def failing_dumps(*args, **kwargs):
        raise RuntimeError("interrupted")

    monkeypatch.setattr("bpviz.exports.json.dumps", failing_dumps)
    with pytest.raises(RuntimeError):
        export_weights_json(path, net)
    assert path.read_text() == "old" and os.listdir(tmp_path) == ["w.json"]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=300) | st.just(b"PK\x03\x04") | st.text(max_size=100).map(str.encode))
def test_arbitrary_weight_files_raise_only_bpviz_errors(tmp_path, data):
    path = tmp_path / "w"
    path.write_bytes(data)
    try:
        load_weights(path, Network((1, 2)))
    except BpvizError:
        pass
