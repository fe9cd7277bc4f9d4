"""Tests for bpviz.datasets: shipped files, generators, splits, scaling, accuracy."""

import numpy as np
import pytest

from bpviz import datasets
from bpviz.datasets import Dataset, accuracy, describe, load, scale
from bpviz.errors import BpvizError

ALL_NAMES = datasets.dataset_names()
GENERATED = ["circle", "xor2d", "gaussian", "spiral", "blobs", "plane", "sine"]
ARRAYS = ("X_train", "T_train", "X_test", "T_test")


def test_names_are_the_documented_set():
    assert set(ALL_NAMES) == {"xor", "toy", "circle", "xor2d", "gaussian", "spiral", "blobs",
                              "iris", "digits", "plane", "sine"}
    assert len(ALL_NAMES) == len(set(ALL_NAMES))


@pytest.mark.parametrize("name", ALL_NAMES)
def test_every_dataset_loads_consistently(name):
    ds = load(name)
    assert ds.name == name
    assert ds.description == describe(name) and ds.description
    for field in ARRAYS:
        array = getattr(ds, field)
        assert array.dtype == np.float64 and array.flags.c_contiguous
        assert np.isfinite(array).all()
    assert ds.X_train.shape == (ds.n_train, ds.n_features) == (ds.n_train, len(ds.feature_names))
    assert ds.T_train.shape == (ds.n_train, ds.n_outputs) == (ds.n_train, len(ds.target_names))
    assert ds.X_test.shape == (ds.n_test, ds.n_features)
    assert ds.T_test.shape == (ds.n_test, ds.n_outputs)
    assert ds.n_train >= 1
    if ds.is_classification:
        assert len(ds.class_names) >= 2
        labels = ds.labels(ds.T_train)
        assert labels.min() >= 0 and labels.max() < len(ds.class_names)
        assert set(np.unique(ds.T_train)) <= {0.0, 1.0}


@pytest.mark.parametrize("name", ALL_NAMES)
def test_every_dataset_loads_with_every_scaling(name):
    for method in datasets.SCALINGS:
        ds = load(name, scaling=method)
        assert all(np.isfinite(getattr(ds, f)).all() for f in ARRAYS)


def test_iris_split_is_the_classic_one():
    ds = load("iris", seed=123)
    assert (ds.n_train, ds.n_test, ds.n_features, ds.n_outputs) == (120, 30, 4, 3)
    assert ds.class_names == ds.target_names == ("setosa", "versicolor", "virginica")
    assert ds.feature_names == ("sepal length", "sepal width", "petal length", "petal width")
    assert np.bincount(ds.labels(ds.T_train)).tolist() == [40, 40, 40]
    assert np.bincount(ds.labels(ds.T_test)).tolist() == [10, 10, 10]
    # File order is kept: the first row of the file trains, the 41st tests.
    np.testing.assert_array_equal(ds.X_train[0], [5.1, 3.5, 1.4, 0.2])
    np.testing.assert_array_equal(ds.X_test[0], [5.0, 3.5, 1.3, 0.3])
    np.testing.assert_array_equal(ds.X_train, load("iris", seed=7).X_train)


def test_digits_file_and_split():
    ds = load("digits")
    X = np.vstack([ds.X_train, ds.X_test])
    assert X.shape == (1797, 64)
    assert X.min() == 0 and X.max() == 16 and np.array_equal(X, np.round(X))
    assert ds.image_shape == (8, 8)
    assert ds.class_names == tuple("0123456789")
    assert ds.feature_names[0] == "px 0,0" and ds.feature_names[9] == "px 1,1"
    assert ds.n_test == pytest.approx(0.25 * 1797, abs=10)
    labels = np.concatenate([ds.labels(ds.T_train), ds.labels(ds.T_test)])
    assert np.bincount(labels).min() >= 170  # every digit has about 180 rows


def test_digits_subsample_and_fraction():
    ds = load("digits", n_samples=100, test_fraction=0.2, seed=3)
    assert ds.n_train + ds.n_test == 100
    assert 15 <= ds.n_test <= 25
    with pytest.raises(BpvizError, match="1797"):
        load("digits", n_samples=2000)


def test_xor_and_toy_rows_exactly():
    xor = load("xor")
    np.testing.assert_array_equal(xor.X_train, [[0, 0], [0, 1], [1, 0], [1, 1]])
    np.testing.assert_array_equal(xor.T_train, [[0], [1], [1], [0]])
    np.testing.assert_array_equal(xor.X_test, xor.X_train)
    assert xor.class_names == ("0", "1")
    toy = load("toy")
    np.testing.assert_array_equal(toy.X_train, [[1, 1, 1], [1, 0, 1], [0, 0, 1], [0, 1, 1]])
    np.testing.assert_array_equal(toy.T_train, [[1], [1], [0], [0]])
    np.testing.assert_array_equal(toy.X_test, [[1, 0, 0]])
    np.testing.assert_array_equal(toy.T_test, [[1]])


@pytest.mark.parametrize("name", GENERATED)
def test_generated_same_seed_identical_other_seed_differs(name):
    a, b, c = load(name, seed=5), load(name, seed=5), load(name, seed=6)
    for field in ARRAYS:
        assert getattr(a, field).tobytes() == getattr(b, field).tobytes()
    assert not np.array_equal(a.X_train, c.X_train)


@pytest.mark.parametrize("name", GENERATED)
def test_generated_size_and_fraction(name):
    ds = load(name, n_samples=60, test_fraction=0.3, noise=0.2)
    assert ds.n_train + ds.n_test == 60
    assert abs(ds.n_test - 18) <= 2
    none_held_out = load(name, n_samples=60, test_fraction=0.0)
    assert none_held_out.n_test == 0 and none_held_out.X_test.shape == (0, ds.n_features)


def test_generated_defaults():
    for name in ("circle", "xor2d", "gaussian", "spiral", "plane", "sine"):
        ds = load(name)
        assert ds.n_train + ds.n_test == 200
        assert ds.n_test == pytest.approx(100, abs=2)
    blobs = load("blobs")
    assert blobs.n_train + blobs.n_test == 300
    assert blobs.n_outputs == 3 and blobs.class_names == ("0", "1", "2")
    assert load("circle").class_names == ("orange", "blue")
    assert load("circle").feature_names == ("x1", "x2")


def test_noise_free_playground_sets_follow_their_rules():
    circle = load("circle", noise=0.0)
    inside = np.hypot(circle.X_train[:, 0], circle.X_train[:, 1]) < 2.5
    np.testing.assert_array_equal(inside, circle.T_train[:, 0] == 1)
    xor2d = load("xor2d", noise=0.0)
    same_sign = xor2d.X_train[:, 0] * xor2d.X_train[:, 1] >= 0
    np.testing.assert_array_equal(same_sign, xor2d.T_train[:, 0] == 1)
    assert np.abs(xor2d.X_train).min() >= 0.3


def test_regression_sets():
    for name, n_inputs in (("plane", 2), ("sine", 1)):
        ds = load(name, noise=0.5)
        assert not ds.is_classification and ds.class_names is None
        assert ds.n_features == n_inputs and ds.target_names == ("y",)
        assert ds.T_train.min() >= 0.0 and ds.T_train.max() <= 1.0
        with pytest.raises(BpvizError, match="regression"):
            ds.labels(ds.T_train)
    sine = load("sine", noise=0.0)
    np.testing.assert_allclose(sine.T_train[:, 0], 0.5 + 0.4 * np.sin(sine.X_train[:, 0]))


def test_classification_splits_are_stratified():
    ds = load("blobs", n_samples=90, test_fraction=0.2)
    assert np.bincount(ds.labels(ds.T_test)).tolist() == [6, 6, 6]


def test_minmax_fitted_on_train_only():
    ds = load("gaussian", scaling="minmax", seed=1)
    np.testing.assert_array_equal(ds.X_train.min(axis=0), [0.0, 0.0])
    np.testing.assert_array_equal(ds.X_train.max(axis=0), [1.0, 1.0])
    raw = load("gaussian", seed=1)
    low, high = raw.X_train.min(axis=0), raw.X_train.max(axis=0)
    np.testing.assert_allclose(ds.X_test, (raw.X_test - low) / (high - low))
    np.testing.assert_array_equal(ds.T_train, raw.T_train)


def test_zscore_fitted_on_train_only():
    ds = load("digits", scaling="zscore")
    varying = load("digits").X_train.std(axis=0) > 0
    np.testing.assert_allclose(ds.X_train.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(ds.X_train.std(axis=0)[varying], 1.0)
    assert abs(ds.X_test.mean()) > 1e-6  # test statistics were not used


def test_constant_column_scales_to_zero():
    ds = Dataset("c", np.array([[3.0, 1.0], [3.0, 2.0]]), np.zeros((2, 1)),
                 np.array([[3.0, 5.0]]), np.zeros((1, 1)), ("a", "b"), ("y",), None)
    for method in ("minmax", "zscore"):
        scaled = scale(ds, method)
        assert np.isfinite(scaled.X_test).all()
        np.testing.assert_array_equal(scaled.X_train[:, 0], [0.0, 0.0])
    assert scale(ds, "none").X_train is not ds.X_train


def test_load_returns_copies_of_the_cache():
    first = load("iris")
    first.X_train[:] = -1.0
    assert load("iris").X_train.min() > 0


def test_labels_and_accuracy_on_hand_made_arrays():
    one_hot = np.array([[0.1, 0.7, 0.2], [0.9, 0.0, 0.1], [0.2, 0.3, 0.5], [0.4, 0.4, 0.2]])
    T = np.array([[0, 1, 0], [1, 0, 0], [1, 0, 0], [1, 0, 0]])
    assert accuracy(one_hot, T) == 0.75
    column = np.array([[0.2], [0.6], [0.5], [0.99]])
    assert accuracy(column, np.array([[0], [1], [1], [1]])) == 0.75
    iris = load("iris")
    np.testing.assert_array_equal(iris.labels(one_hot), [1, 0, 2, 0])
    np.testing.assert_array_equal(load("xor").labels(column), [0, 1, 0, 1])
    assert np.isnan(accuracy(np.zeros((0, 1)), np.zeros((0, 1))))


def test_labels_and_accuracy_reject_bad_shapes():
    with pytest.raises(BpvizError, match="shape"):
        accuracy(np.zeros((3, 2)), np.zeros((3, 3)))
    with pytest.raises(BpvizError, match="2-D"):
        accuracy(np.zeros(3), np.zeros(3))
    with pytest.raises(BpvizError, match="3 output"):
        load("iris").labels(np.zeros((2, 1)))


@pytest.mark.parametrize("kwargs, message", [
    ({"noise": -0.1}, "noise"),
    ({"noise": 5}, "noise"),
    ({"test_fraction": -0.1}, "test_fraction"),
    ({"test_fraction": 0.95}, "test_fraction"),
    ({"n_samples": 3}, "n_samples"),
    ({"n_samples": 10.5}, "n_samples"),
    ({"scaling": "log"}, "scaling 'log'"),
    ({"seed": -1}, "seed"),
])
def test_bad_options_raise_with_clear_messages(kwargs, message):
    with pytest.raises(BpvizError, match=message):
        load("circle", **kwargs)


def test_unknown_names_list_the_choices():
    with pytest.raises(BpvizError, match="unknown dataset 'foo'; choose one of: .*iris"):
        load("foo")
    with pytest.raises(BpvizError, match="unknown dataset"):
        describe("foo")
    with pytest.raises(BpvizError, match="minmax"):
        scale(load("xor"), "max")


def test_tiny_split_keeps_a_training_row_per_class():
    ds = load("circle", n_samples=4, test_fraction=0.9)
    assert np.bincount(ds.labels(ds.T_train), minlength=2).min() >= 1


def test_dataset_rejects_inconsistent_arrays():
    with pytest.raises(BpvizError, match="rows"):
        Dataset("bad", np.zeros((3, 2)), np.zeros((2, 1)), np.zeros((0, 2)), np.zeros((0, 1)),
                ("a", "b"), ("y",), ("0", "1"))
    with pytest.raises(BpvizError, match="class names"):
        Dataset("bad", np.zeros((2, 2)), np.zeros((2, 3)), np.zeros((0, 2)), np.zeros((0, 3)),
                ("a", "b"), ("p", "q", "r"), ("0", "1"))
