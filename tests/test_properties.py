"""Property-based checks: whatever a user types or a file holds, bpviz answers with a
BpvizError (a message for people) or a valid result, never another exception.

Raw bytes into load_csv/read_table, load_session and load_weights are fuzzed next to
their own tests (test_csv_data, test_session, test_exports); this file covers the text
and structured inputs those leave out: layer specs, settings dicts, CSV sources and
load options, and weight files that are well-formed JSON or npz with odd contents."""

import io
import json
import math
import warnings
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bpviz import csv_data
from bpviz.engine.network import Network
from bpviz.errors import BpvizError
from bpviz.exports import load_weights
from bpviz.session import load_session
from bpviz.settings import MAX_HIDDEN_LAYERS, MAX_LAYER_SIZE, Settings, parse_layers

FAST = settings(max_examples=200, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
FEW = settings(max_examples=60, deadline=None,
               suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

JSON_SCALARS = (st.none() | st.booleans() | st.integers(-10**30, 10**30) | st.floats()
                | st.text(max_size=12))
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=10)


# --- layer specs ---------------------------------------------------------------------------

LAYER_ALPHABET = st.sampled_from(list("0123456789-, x\t") + ["²", "٣", "５", "-1", "1e3", "½", "\x00"])


@FAST
@given(text=st.text(max_size=40) | st.lists(LAYER_ALPHABET, max_size=30).map("".join)
       | st.integers(1, 6000).map(lambda n: "7" * n))
def test_parse_layers_gives_sizes_or_a_bpviz_error(text):
    try:
        sizes = parse_layers(text)
    except BpvizError as exc:
        assert str(exc)
        return
    assert sizes and all(type(s) is int and 1 <= s <= MAX_LAYER_SIZE for s in sizes)
    assert parse_layers("-".join(map(str, sizes))) == sizes


@FAST
@given(sizes=st.lists(st.integers(1, MAX_LAYER_SIZE), min_size=1, max_size=8),
       separator=st.sampled_from(["-", ",", " ", "x", " - ", ", "]))
def test_parse_layers_reads_back_what_it_is_given(sizes, separator):
    assert parse_layers(f" {separator.join(map(str, sizes))} ") == tuple(sizes)


@FAST
@given(value=st.none() | st.integers() | st.floats() | st.binary(max_size=5) | st.lists(st.integers()))
def test_parse_layers_refuses_what_is_not_text(value):
    with pytest.raises(BpvizError):
        parse_layers(value)


# --- settings dicts -------------------------------------------------------------------------

FIELD_NAMES = [name for name in Settings().to_dict()] + ["csv_source"]
PLAUSIBLE = {
    "dataset": st.sampled_from(["iris", "xor", "spiral", "csv", "nope", ""]),
    "hidden": st.lists(st.integers(-2, 2000) | st.booleans() | st.floats(), max_size=MAX_HIDDEN_LAYERS + 2),
    "activation": st.sampled_from(["tanh", "relu", "softmax", "TANH", ""]),
    "output_activation": st.sampled_from(["softmax", "sigmoid", "linear", "tanh"]),
    "loss": st.sampled_from(["squared", "cross_entropy", "binary_cross_entropy", "hinge"]),
    "learning_rate": st.floats() | st.integers(-5, 20) | st.text(max_size=4),
    "momentum": st.floats() | st.integers(-2, 2),
    "batch_size": st.integers(-3, 10**6) | st.floats(),
    "epochs": st.none() | st.integers(-3, 2 * 10**6) | st.floats(),
    "seed": st.integers(-3, 2**40),
    "init_scale": st.none() | st.floats() | st.integers(-3, 10**400),
    "bias_init": st.floats() | st.integers(-10**400, 10**400),
    "n_samples": st.none() | st.integers(-3, 10**7),
    "noise": st.none() | st.floats(),
    "test_fraction": st.none() | st.floats(),
    "csv_source": st.none() | JSON_VALUES
                  | st.fixed_dictionaries({"path": JSON_SCALARS, "target": JSON_SCALARS}),
}


@st.composite
def settings_dicts(draw):
    keys = draw(st.lists(st.sampled_from(FIELD_NAMES + ["unknown", ""]), max_size=6, unique=True))
    return {key: draw(PLAUSIBLE.get(key, JSON_VALUES)) for key in keys}


@FAST
@given(data=settings_dicts() | JSON_VALUES)
def test_settings_from_dict_gives_settings_or_a_bpviz_error(data):
    try:
        loaded = Settings.from_dict(data)
    except BpvizError as exc:
        assert str(exc)
        return
    assert isinstance(loaded, Settings)
    # A loaded setting survives the trip through JSON unchanged.
    assert Settings.from_dict(json.loads(json.dumps(loaded.to_dict()))) == loaded


@st.composite
def valid_settings(draw):
    """Settings a user could reach, on the small datasets, with extreme numbers."""
    dataset = draw(st.sampled_from(["iris", "xor", "toy", "circle", "xor2d", "gaussian", "spiral", "blobs", "plane", "sine"]))
    output = draw(st.sampled_from(["sigmoid", "softmax", "linear", "tanh"]))
    loss = {"softmax": draw(st.sampled_from(["squared", "cross_entropy"])),
            "sigmoid": draw(st.sampled_from(["squared", "binary_cross_entropy"]))}.get(output, "squared")
    return dict(
        dataset=dataset, output_activation=output, loss=loss,
        hidden=tuple(draw(st.lists(st.integers(1, 12), max_size=3))),
        activation=draw(st.sampled_from(["sigmoid", "tanh", "relu", "leaky_relu"])),
        init=draw(st.sampled_from(["uniform", "normal", "xavier", "he"])),
        init_scale=draw(st.none() | st.floats(1e-300, 1e300)),
        bias_init=draw(st.floats(-1e300, 1e300)),
        learning_rate=draw(st.floats(1e-5, 10.0)),
        optimizer=draw(st.sampled_from(["sgd", "momentum", "adam"])),
        mode=draw(st.sampled_from(["sample", "batch", "full"])),
        batch_size=draw(st.integers(1, 500)),
        reduction=draw(st.sampled_from(["mean", "sum"])),
        scaling=draw(st.sampled_from(["none", "minmax", "zscore"])),
        seed=draw(st.integers(0, 2**32 - 1)),
        n_samples=draw(st.none() | st.integers(1, 400)),
        noise=draw(st.none() | st.floats(-1, 2)),
        test_fraction=draw(st.none() | st.floats(-0.5, 1.5)),
    )


@FEW
@given(values=valid_settings(), steps=st.integers(1, 5))
def test_any_settings_build_and_train_quietly_or_refuse(values, steps):
    """Building refuses with a BpvizError or gives a run whose first steps either train
    or stop with a DivergenceError, without a single NumPy warning."""
    from bpviz.errors import DivergenceError
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        try:
            dataset, net, trainer = Settings(**values).build()
        except BpvizError:
            return
        try:
            for _ in range(steps):
                trainer.step()
        except DivergenceError:
            return
        out = net.predict(dataset.X_train[:5])
        assert out.shape == (min(5, dataset.n_train), dataset.n_outputs)


# --- CSV sources and load options ------------------------------------------------------------

@FAST
@given(data=st.dictionaries(st.sampled_from(["path", "target", "delimiter", "has_header",
                                             "target_is_class", "test_path", "name", "other"]),
                            JSON_VALUES, max_size=7) | JSON_VALUES)
def test_csv_source_from_dict_gives_a_source_or_a_bpviz_error(data):
    try:
        source = csv_data.CsvSource.from_dict(data)
    except BpvizError:
        return
    assert csv_data.CsvSource.from_dict(json.loads(json.dumps(source.to_dict()))) == source


GOOD_CSV = "a,b,label\n1,2,x\n3,4,y\n5,6,x\n7,8,y\n9,10,x\n11,12,y\n"


@FAST
@given(target=JSON_SCALARS, delimiter=st.none() | st.text(max_size=3) | st.integers(),
       has_header=st.none() | JSON_SCALARS, target_is_class=st.none() | JSON_SCALARS,
       scaling=st.sampled_from(["none", "minmax", "zscore", "log", ""]) | JSON_SCALARS,
       test_fraction=st.none() | st.floats() | st.integers(-2, 2) | st.text(max_size=3),
       seed=st.integers(-2**70, 2**70) | st.floats(), max_bytes=st.integers(-5, 10**6))
def test_load_csv_options_give_a_dataset_or_a_bpviz_error(tmp_path, target, delimiter, has_header,
                                                         target_is_class, scaling, test_fraction,
                                                         seed, max_bytes):
    path = tmp_path / "good.csv"
    path.write_text(GOOD_CSV)
    try:
        csv_data.read_table(path, delimiter=delimiter, has_header=has_header, max_bytes=max_bytes)
    except BpvizError:
        pass
    try:
        dataset = csv_data.load_csv(path, target, delimiter=delimiter, has_header=has_header,
                                    target_is_class=target_is_class, scaling=scaling,
                                    test_fraction=test_fraction, seed=seed, max_bytes=max_bytes)
    except BpvizError:
        return
    assert np.isfinite(dataset.X_train).all() and dataset.n_train >= 1


# --- sessions ------------------------------------------------------------------------------------

@FEW
@given(members=st.dictionaries(st.sampled_from(["session.json", "network/W1.npy", "network/b1.npy",
                                                "trainer/order.npy", "x"]),
                               st.binary(max_size=80) | JSON_VALUES.map(lambda v: json.dumps(v).encode()),
                               max_size=4))
def test_any_zip_is_a_session_or_a_bpviz_error(tmp_path, members):
    path = tmp_path / "fuzz.bpviz"
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    try:
        session = load_session(path)
    except BpvizError as exc:
        assert str(exc), "an error must say what is wrong"
    else:
        assert all(np.isfinite(w).all() for w in session.trainer_state.weights)


# --- weight files ------------------------------------------------------------------------------

ARRAYS = (st.integers(0, 3).flatmap(lambda n: st.lists(JSON_SCALARS, min_size=n, max_size=n))
          | st.lists(st.lists(st.floats() | st.integers(-10**400, 10**400), max_size=3), max_size=3)
          | JSON_VALUES)


@FAST
@given(document=st.dictionaries(st.sampled_from(["W1", "b1", "W2", "b2", "W3", "sizes", "bias"]),
                                ARRAYS, max_size=6))
def test_weights_json_with_odd_contents_gives_a_bpviz_error(tmp_path, document):
    net = Network((2, 2, 1), seed=0)
    before = [w.copy() for w in (*net.weights, *net.biases)]
    path = tmp_path / "w.json"
    path.write_text(json.dumps(document))
    try:
        load_weights(path, net)
    except BpvizError:
        assert all(np.array_equal(a, b) for a, b in zip(before, (*net.weights, *net.biases)))
        return
    assert all(np.isfinite(w).all() for w in (*net.weights, *net.biases))


NPZ_ARRAYS = st.one_of(
    st.lists(st.floats(), max_size=6).map(lambda v: np.array(v, dtype=np.float64)),
    st.just(np.zeros((2, 2))), st.just(np.zeros((2, 1))), st.just(np.zeros(2)), st.just(np.zeros(1)),
    st.just(np.array(["a", "b"])), st.just(np.array([True, False])),
    st.just(np.array([1 + 2j, 3j])), st.just(np.zeros((2, 2), dtype=np.int8)),
    st.just(np.array([np.nan, np.inf]).reshape(2, 1)), st.just(np.zeros((0, 2))),
    st.just(np.array(7.0)),
)


@FAST
@given(arrays=st.dictionaries(st.sampled_from(["W1", "b1", "W2", "b2", "W3", "x"]), NPZ_ARRAYS, max_size=6))
def test_weights_npz_with_odd_contents_gives_a_bpviz_error(tmp_path, arrays):
    net = Network((2, 2, 1), seed=0)
    before = [w.copy() for w in (*net.weights, *net.biases)]
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    path = tmp_path / "w.npz"
    path.write_bytes(buffer.getvalue())
    try:
        load_weights(path, net)
    except BpvizError:
        assert all(np.array_equal(a, b) for a, b in zip(before, (*net.weights, *net.biases)))
        return
    # Whatever was accepted is a finite, real network: NaN or complex weights would
    # poison every later step.
    assert all(np.isfinite(w).all() and w.dtype == np.float64 for w in (*net.weights, *net.biases))
    assert not math.isnan(net.loss_of(np.zeros((1, 2)), np.zeros((1, 1))))
