"""Tests for bpviz.session: exact round trips, resuming training bit-identically,
and refusing damaged, foreign or newer files with a BpvizError."""

import io
import json
import os
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bpviz import session as session_module
from bpviz.csv_data import CsvSource
from bpviz.errors import BpvizError
from bpviz.session import FORMAT_VERSION, Session, load_session, save_session
from bpviz.settings import Settings
from bpviz.snapshot import History

CSV = "a,b,label\n" + "".join(f"{i % 5},{(i * 7) % 3},{'yes' if i % 2 else 'no'}\n" for i in range(20))
OPTIMIZERS = [dict(optimizer="sgd"), dict(optimizer="momentum", momentum=0.8),
              dict(optimizer="adam", learning_rate=0.01)]


def a_history(n_epochs=3, n_layers=2):
    rng = np.random.default_rng(1)
    return History(train_loss=rng.random(n_epochs), test_loss=rng.random(n_epochs),
                   train_accuracy=rng.random(n_epochs),
                   test_accuracy=np.full(n_epochs, np.nan),
                   grad_norms=rng.random((n_epochs, n_layers)))


def trained(settings_, steps=25, dataset=None):
    dataset, net, trainer = settings_.build(dataset)
    for _ in range(steps):
        trainer.step()
    return dataset, net, trainer


def assert_states_equal(a, b):
    for x, y in zip(a.weights + a.biases, b.weights + b.biases, strict=True):
        assert x.dtype == y.dtype == np.float64 and np.array_equal(x, y)
    assert a.optimizer.keys() == b.optimizer.keys()
    for key, value in a.optimizer.items():
        other = b.optimizer[key]
        if isinstance(value, list):
            assert all(np.array_equal(x, y) and y.dtype == np.float64 for x, y in zip(value, other, strict=True))
        else:
            assert value == other
    assert (a.step, a.epoch, a.batch_index, a.rng) == (b.step, b.epoch, b.batch_index, b.rng)
    assert np.array_equal(a.order, b.order) and a.order.dtype == b.order.dtype


def assert_histories_equal(a, b):
    for name in ("train_loss", "test_loss", "train_accuracy", "test_accuracy", "grad_norms"):
        x, y = getattr(a, name), getattr(b, name)
        assert x.shape == y.shape and y.dtype == np.float64 and np.array_equal(x, y, equal_nan=True)


@pytest.fixture
def saved(tmp_path):
    """A small saved session (Adam, iris) and its path."""
    settings_ = Settings(optimizer="adam", learning_rate=0.01, hidden=(4,))
    _, _, trainer = trained(settings_)
    path = tmp_path / "lecture.bpviz"
    save_session(path, Session(settings_, trainer.state(), a_history()))
    return path


# --- round trips -------------------------------------------------------------------

@pytest.mark.parametrize("options", OPTIMIZERS, ids=lambda o: o["optimizer"])
@pytest.mark.parametrize("include_data", [False, True])
def test_builtin_round_trip(tmp_path, options, include_data):
    settings_ = Settings(dataset="blobs", hidden=(5, 3), activation="relu", mode="batch",
                         batch_size=16, **options)
    dataset, _, trainer = trained(settings_, steps=30)
    state, history = trainer.state(), a_history(n_layers=3)
    path = tmp_path / "s.bpviz"
    save_session(path, Session(settings_, state, history, dataset=dataset), include_data=include_data)
    loaded = load_session(path)
    assert loaded.settings == settings_ and loaded.settings.to_dict() == settings_.to_dict()
    assert loaded.csv_source is None
    assert_states_equal(state, loaded.trainer_state)
    assert_histories_equal(history, loaded.history)
    if include_data:
        for name in ("X_train", "T_train", "X_test", "T_test"):
            assert np.array_equal(getattr(dataset, name), getattr(loaded.dataset, name))
        assert loaded.dataset.class_names == dataset.class_names
        assert loaded.dataset.feature_names == dataset.feature_names
    else:
        assert loaded.dataset is None


@pytest.mark.parametrize("include_data", [False, True])
def test_csv_source_round_trip(tmp_path, include_data):
    csv_path = tmp_path / "mine.csv"
    csv_path.write_text(CSV)
    source = CsvSource(str(csv_path), "label", target_is_class=None)
    settings_ = Settings(output_activation="sigmoid", scaling="zscore", test_fraction=0.2,
                         data_seed=4, optimizer="momentum")
    dataset = source.load(scaling="zscore", test_fraction=0.2, seed=4)
    _, _, trainer = trained(settings_, dataset=dataset)
    path = tmp_path / "own.bpviz"
    save_session(path, Session(settings_, trainer.state(), History(), source, dataset),
                 include_data=include_data)
    loaded = load_session(path)
    assert loaded.csv_source == source
    assert (loaded.dataset is not None) == include_data
    assert np.array_equal(loaded.load_dataset().X_train, dataset.X_train)
    assert_states_equal(trainer.state(), loaded.trainer_state)
    assert loaded.history.n_epochs == 0 and loaded.history.grad_norms.shape == (0, 0)


@pytest.mark.parametrize("options", OPTIMIZERS, ids=lambda o: o["optimizer"])
@pytest.mark.parametrize("mode", ["sample", "batch"])
def test_training_continues_bit_identically(tmp_path, options, mode):
    settings_ = Settings(dataset="iris", hidden=(6,), mode=mode, batch_size=7, **options)
    _, net, trainer = trained(settings_, steps=137)  # mid-epoch, after a reshuffle
    path = tmp_path / "resume.bpviz"
    save_session(path, Session(settings_, trainer.state(), History()))

    _, net2, trainer2 = load_session(path).build()
    for _ in range(300):
        a, b = trainer.step(), trainer2.step()
        assert a.loss == b.loss and np.array_equal(a.sample_indices, b.sample_indices)
    for x, y in zip(net.params, net2.params, strict=True):
        assert np.array_equal(x, y)
    assert (trainer.epoch, trainer.batch_index) == (trainer2.epoch, trainer2.batch_index)


def test_resume_with_plain_settings_build(tmp_path, saved):
    loaded = load_session(saved)
    _, _, trainer = loaded.settings.build()
    trainer.restore(loaded.trainer_state)
    assert trainer.step_count == 25


def test_changed_csv_file_is_reported_on_build(tmp_path):
    csv_path = tmp_path / "mine.csv"
    csv_path.write_text(CSV)
    source = CsvSource(str(csv_path), "label")
    settings_ = Settings(output_activation="sigmoid")
    dataset = source.load()
    _, _, trainer = trained(settings_, dataset=dataset)
    path = tmp_path / "own.bpviz"
    save_session(path, Session(settings_, trainer.state(), History(), source))
    csv_path.write_text("a,label\n" + "".join(f"{i},{'yes' if i % 2 else 'no'}\n" for i in range(20)))
    with pytest.raises(BpvizError, match="has the data file changed"):
        load_session(path).build()


def test_include_data_needs_a_dataset(tmp_path, saved):
    loaded = load_session(saved)
    with pytest.raises(BpvizError, match="no dataset"):
        save_session(tmp_path / "x.bpviz", loaded, include_data=True)


def test_json_is_readable(saved):
    with zipfile.ZipFile(saved) as archive:
        document = json.loads(archive.read("session.json"))
        names = set(archive.namelist())
    assert document["format_version"] == FORMAT_VERSION
    assert document["settings"]["optimizer"] == "adam"
    assert document["trainer"]["step"] == 25 and document["trainer"]["rng"]["bit_generator"] == "PCG64"
    assert {"network/W1.npy", "network/b2.npy", "optimizer/m_0.npy", "trainer/order.npy",
            "history/grad_norms.npy"} <= names


# --- damaged, foreign and newer files -------------------------------------------------

def rewrite(path, *, drop=(), replace=None, edit_json=None):
    """Copy the archive at path with members dropped, replaced or the JSON edited."""
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    for name in drop:
        del members[name]
    members.update(replace or {})
    if edit_json is not None:
        document = json.loads(members["session.json"])
        edit_json(document)
        members["session.json"] = json.dumps(document).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def npy(array):
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def test_newer_format(saved):
    rewrite(saved, edit_json=lambda d: d.update(format_version=2))
    with pytest.raises(BpvizError) as error:
        load_session(saved)
    assert str(error.value) == ("this session was saved by a newer bpviz (format 2); "
                                "this bpviz reads format 1")


def test_not_a_zip(tmp_path):
    path = tmp_path / "notes.bpviz"
    path.write_text("just some text")
    with pytest.raises(BpvizError, match="not a bpviz session"):
        load_session(path)


def test_missing_file(tmp_path):
    with pytest.raises(BpvizError, match="there is no file"):
        load_session(tmp_path / "nothing.bpviz")


def test_truncated_zip(saved):
    data = saved.read_bytes()
    for cut in (len(data) // 2, len(data) - 30, 10):
        saved.write_bytes(data[:cut])
        with pytest.raises(BpvizError):
            load_session(saved)


def set_in(keys, value):
    def edit(document):
        target = document
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = value
    return edit


@pytest.mark.parametrize("change, message", [
    (dict(drop=["network/W2.npy"]), "has no network/W2.npy"),
    (dict(drop=["session.json"]), "has no session.json"),
    (dict(replace={"session.json": b"[1, 2]"}), "not a JSON object"),
    (dict(replace={"session.json": b"{nope"}), "not valid JSON"),
    (dict(replace={"session.json": b"\xff\xfe"}), "not valid JSON"),
    (dict(replace={"network/W1.npy": npy(np.zeros((4, 9)))}), r"network/W1.npy has shape \(4, 9\), expected \(4, 4\)"),
    (dict(replace={"network/W1.npy": npy(np.zeros((4, 4), dtype=np.float32))}), "dtype float32, expected float64"),
    (dict(replace={"network/W1.npy": npy(np.zeros((4, 4), dtype=">f8"))}), "expected float64"),
    (dict(replace={"network/W1.npy": npy(np.full((4, 4), np.nan))}), "NaN or infinite"),
    (dict(replace={"network/W1.npy": npy(np.zeros((4, 4)))[:-8]}), "truncated"),
    (dict(replace={"network/W1.npy": b"\x80\x04pickle"}), "not a NumPy array file"),
    (dict(replace={"network/W1.npy": npy(np.array([{}], dtype=object))[:200]}), "expected float64"),
    (dict(replace={"optimizer/m_0.npy": npy(np.zeros((3, 4)))}), r"optimizer/m_0.npy has shape"),
    (dict(replace={"trainer/order.npy": npy(np.zeros(120))}), "expected integers"),
    (dict(replace={"trainer/order.npy": npy(np.zeros(120, dtype=np.int64))}), "not an ordering"),
    (dict(replace={"history/test_loss.npy": npy(np.zeros(2))}), r"history/test_loss.npy has shape"),
    (dict(edit_json=set_in(["settings", "learning_rate"], -1)), "bad settings: the learning rate"),
    (dict(edit_json=set_in(["settings", "colour"], "red")), "unknown setting"),
    (dict(edit_json=set_in(["settings", "momentum"], "lots")), "bad settings"),
    (dict(edit_json=set_in(["settings", "init_scale"], 10**400)), "bad settings"),
    (dict(edit_json=set_in(["settings", "hidden"], [7])), "do not match the hidden layers"),
    (dict(edit_json=set_in(["settings", "optimizer"], "sgd")), "for 'adam' but the settings use 'sgd'"),
    (dict(edit_json=set_in(["optimizer", "state", "t"], -3)), "'t' is not a whole number"),
    (dict(edit_json=set_in(["optimizer", "state", "m"], {"arrays": 9})), "must list 4 arrays"),
    (dict(edit_json=set_in(["trainer", "step"], "ten")), "'step' in session.json"),
    (dict(edit_json=set_in(["trainer", "batch_index"], 500)), "batch 500 does not exist"),
    (dict(edit_json=set_in(["trainer", "rng"], {"bit_generator": "MT19937"})), "random number generator"),
    (dict(edit_json=set_in(["trainer", "rng", "state"], {"state": "x"})), "random number generator"),
    (dict(edit_json=set_in(["history", "n_epochs"], 5)), "history/train_loss.npy has shape"),
    (dict(edit_json=set_in(["csv_source"], {"path": 3, "target": 0})), "bad CSV source"),
    (dict(edit_json=set_in(["csv_source"], ["a.csv"])), "bad CSV source"),
    (dict(edit_json=set_in(["dataset"], {"name": "x"})), "embedded dataset"),
    (dict(edit_json=set_in(["format"], "something-else")), "not a bpviz session"),
    (dict(edit_json=set_in(["format_version"], "1")), "format_version"),
], ids=lambda v: v if isinstance(v, str) else None)
def test_damaged_files_name_the_problem(saved, change, message):
    rewrite(saved, **change)
    with pytest.raises(BpvizError, match=message):
        load_session(saved)


# --- atomic saving ----------------------------------------------------------------

def test_interrupted_save_leaves_the_old_file(tmp_path, saved, monkeypatch):
    before = saved.read_bytes()
    loaded = load_session(saved)
    calls = []

    def failing_save(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("disk unplugged")
        return real_save(*args, **kwargs)

    real_save = np.save
    monkeypatch.setattr(session_module.np, "save", failing_save)
    with pytest.raises(RuntimeError, match="disk unplugged"):
        save_session(saved, loaded)
    assert len(calls) == 3
    assert saved.read_bytes() == before
    assert os.listdir(tmp_path) == [saved.name]


def test_failing_write_becomes_a_bpviz_error(tmp_path, saved, monkeypatch):
    before = saved.read_bytes()

    def failing_fsync(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(BpvizError, match="No space left"):
        save_session(saved, load_session(saved))
    assert saved.read_bytes() == before
    assert os.listdir(tmp_path) == [saved.name]


def test_save_into_missing_folder(tmp_path, saved):
    with pytest.raises(BpvizError, match="cannot write"):
        save_session(tmp_path / "no" / "such.bpviz", load_session(saved))


# --- anything at all ------------------------------------------------------------------

FUZZ = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


def only_bpviz_errors(path):
    """Either a clear BpvizError, or a session whose weights are all finite."""
    try:
        session = load_session(path)
    except BpvizError as exc:
        assert str(exc), "an error must say what is wrong"
    else:
        assert all(np.isfinite(w).all() for w in session.trainer_state.weights)


@FUZZ
@given(data=st.binary(max_size=600))
def test_arbitrary_bytes_raise_only_bpviz_errors(tmp_path, data):
    path = tmp_path / "fuzz.bpviz"
    path.write_bytes(data)
    only_bpviz_errors(path)


@FUZZ
@given(data=st.data())
def test_corrupted_sessions_raise_only_bpviz_errors(saved, data):
    original = saved.read_bytes()
    damaged = bytearray(original)
    for _ in range(data.draw(st.integers(1, 8))):
        damaged[data.draw(st.integers(0, len(damaged) - 1))] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(len(damaged) // 2, len(damaged)))
    saved.write_bytes(bytes(damaged[:cut]))
    try:
        only_bpviz_errors(saved)
    finally:
        saved.write_bytes(original)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12)
JSON_KEYS = st.sampled_from(["format_version", "settings", "sizes", "trainer", "optimizer",
                             "history", "csv_source", "dataset"])


@FUZZ
@given(key=JSON_KEYS, value=JSON_VALUES, member=st.sampled_from(
    ["network/W1.npy", "trainer/order.npy", "history/grad_norms.npy", "optimizer/v_1.npy"]),
    member_bytes=st.binary(max_size=200))
def test_edited_members_raise_only_bpviz_errors(saved, key, value, member, member_bytes):
    original = saved.read_bytes()
    try:
        rewrite(saved, edit_json=set_in([key], value))
        only_bpviz_errors(saved)
        saved.write_bytes(original)
        rewrite(saved, replace={member: npy(np.zeros(3))[:10] + member_bytes})
        only_bpviz_errors(saved)
    finally:
        saved.write_bytes(original)


def test_a_session_with_the_old_unfinished_epoch_sums_still_opens(saved):
    """Sessions saved before December 2026 hold the unfinished epoch's gradient-norm sums."""
    before = load_session(saved)
    rewrite(saved, replace={"history/epoch_grad_norm_sums.npy": npy(np.array([0.25, 1.5]))},
            edit_json=set_in(["history", "epoch_steps"], 25))
    loaded = load_session(saved)
    assert loaded.trainer_state.step == before.trainer_state.step
    assert np.array_equal(loaded.history.grad_norms, before.history.grad_norms)


def test_settings_carry_the_csv_source(tmp_path):
    csv_path = tmp_path / "mine.csv"
    csv_path.write_text(CSV)
    source = CsvSource(str(csv_path), "label")
    own = Settings().with_(csv_source=source, test_fraction=0.2, scaling="minmax")
    assert own.dataset == "csv" and own.load_dataset().n_test == 4
    assert Settings.from_dict(own.to_dict()) == own
    assert "csv_source" not in Settings().to_dict()
    back = own.with_(dataset="iris")
    assert back.csv_source is None and back.dataset == "iris"
    with pytest.raises(BpvizError, match="CSV source"):
        Settings(dataset="csv")
    state = trained(Settings(), dataset=source.load())[2].state()
    session = Session(Settings(), state, History(), source)  # the settings get the source
    assert session.settings.csv_source == source and session.settings.dataset == "csv"


@pytest.mark.parametrize("data", [{"learning_rate": "fast"}, {"momentum": float("nan")},
                                  {"epochs": 1e400}, {"hidden": [10**30]}])
def test_settings_from_bad_dicts_raise_bpviz_errors(data):
    with pytest.raises(BpvizError):
        Settings.from_dict(data)
