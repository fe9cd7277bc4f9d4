"""Built-in datasets: shipped files (iris, digits), tiny classics and seeded generators.

Every loader returns a :class:`Dataset` whose arrays are float64 and C-contiguous.
Classification targets are one column of 0/1 for two classes and one-hot columns
for more; regression targets are one column.  NumPy only: no Qt, no scikit-learn.

Generated sets follow TensorFlow Playground's generators (``src/dataset.ts``) with
its -1/+1 labels mapped to 0 ("orange") / 1 ("blue").  Regression targets are
mapped into [0, 1] (0.1..0.9 without noise) so a sigmoid, tanh or linear output
can all learn them.
"""

from __future__ import annotations

import csv
import functools
import math
from dataclasses import dataclass, replace
from numbers import Integral, Real
from pathlib import Path
from typing import Callable

import numpy as np

from bpviz.errors import BpvizError

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
SCALINGS = ("none", "minmax", "zscore")
MIN_SAMPLES = 4
# Far beyond what the GUI can animate; mostly catches a mistyped number.
MAX_SAMPLES = 100_000
MAX_TEST_FRACTION = 0.9
MAX_NOISE = 1.0

_IRIS_SPECIES = ("setosa", "versicolor", "virginica")
_IRIS_FEATURES = ("sepal length", "sepal width", "petal length", "petal width")
_IRIS_TRAIN_PER_SPECIES = 40
_DIGIT_NAMES = tuple(str(d) for d in range(10))
_PLAYGROUND_CLASSES = ("orange", "blue")


@dataclass(frozen=True, eq=False)
class Dataset:
    """A train/test split ready for the engine.

    X_train : (n_train, n_features), T_train : (n_train, n_outputs),
    X_test : (n_test, n_features), T_test : (n_test, n_outputs); n_test may be 0.
    Arrays are coerced to C-contiguous float64 on construction.  ``eq=False``
    because comparing array fields with ``==`` has no single truth value.
    """

    name: str
    X_train: np.ndarray
    T_train: np.ndarray
    X_test: np.ndarray
    T_test: np.ndarray
    feature_names: tuple[str, ...]
    target_names: tuple[str, ...]
    class_names: tuple[str, ...] | None
    image_shape: tuple[int, int] | None = None
    description: str = ""

    def __post_init__(self):
        for field in ("X_train", "T_train", "X_test", "T_test"):
            array = np.ascontiguousarray(getattr(self, field), dtype=np.float64)
            if array.ndim != 2:
                raise BpvizError(f"{field} must be 2-D, got shape {array.shape}")
            object.__setattr__(self, field, array)
        for field in ("feature_names", "target_names", "class_names"):
            value = getattr(self, field)
            if value is not None:
                object.__setattr__(self, field, tuple(str(v) for v in value))
        self._check_shapes()

    def _check_shapes(self):
        if self.X_train.shape[0] != self.T_train.shape[0]:
            raise BpvizError(f"{self.name}: X_train has {self.X_train.shape[0]} rows "
                             f"but T_train has {self.T_train.shape[0]}")
        if self.X_test.shape[0] != self.T_test.shape[0]:
            raise BpvizError(f"{self.name}: X_test has {self.X_test.shape[0]} rows "
                             f"but T_test has {self.T_test.shape[0]}")
        widths = {self.X_train.shape[1], self.X_test.shape[1], len(self.feature_names)}
        if len(widths) != 1:
            raise BpvizError(f"{self.name}: X_train, X_test and feature_names disagree "
                             "on the number of features")
        widths = {self.T_train.shape[1], self.T_test.shape[1], len(self.target_names)}
        if len(widths) != 1:
            raise BpvizError(f"{self.name}: T_train, T_test and target_names disagree "
                             "on the number of outputs")
        if self.class_names is not None:
            expected = 2 if self.n_outputs == 1 else self.n_outputs
            if len(self.class_names) != expected:
                raise BpvizError(f"{self.name}: {self.n_outputs} output column(s) need "
                                 f"{expected} class names, got {len(self.class_names)}")
        if self.image_shape is not None and math.prod(self.image_shape) != self.n_features:
            raise BpvizError(f"{self.name}: image_shape {self.image_shape} does not hold "
                             f"{self.n_features} features")

    @property
    def n_features(self) -> int:
        return self.X_train.shape[1]

    @property
    def n_outputs(self) -> int:
        return self.T_train.shape[1]

    @property
    def n_train(self) -> int:
        return self.X_train.shape[0]

    @property
    def n_test(self) -> int:
        return self.X_test.shape[0]

    @property
    def is_classification(self) -> bool:
        return self.class_names is not None

    def labels(self, T: np.ndarray) -> np.ndarray:
        """Class index per row of targets or outputs T : (n, n_outputs) -> (n,) int."""
        if not self.is_classification:
            raise BpvizError(f"dataset '{self.name}' is a regression set; it has no class labels")
        T = _as_2d(T, "T")
        if T.shape[1] != self.n_outputs:
            raise BpvizError(f"dataset '{self.name}' has {self.n_outputs} output column(s), "
                             f"got an array with {T.shape[1]}")
        return _class_index(T)


def _as_2d(array, what: str) -> np.ndarray:
    array = np.asarray(array, dtype=np.float64)
    if array.ndim != 2:
        raise BpvizError(f"{what} must be 2-D (rows, columns), got shape {array.shape}")
    return array


def _class_index(T: np.ndarray) -> np.ndarray:
    """(n, 1) -> T > 0.5; (n, k) with k >= 2 -> argmax per row.  Returns (n,) int."""
    if T.shape[1] == 1:
        return (T[:, 0] > 0.5).astype(np.intp)
    return np.argmax(T, axis=1)


def accuracy(outputs: np.ndarray, T: np.ndarray) -> float:
    """Fraction of rows whose predicted class equals the target's class.

    outputs, T : (n, n_outputs).  One column is thresholded at 0.5, several are
    compared by argmax.  Returns nan for zero rows (an empty test split).
    """
    outputs = _as_2d(outputs, "outputs")
    T = _as_2d(T, "T")
    if outputs.shape != T.shape:
        raise BpvizError(f"outputs {outputs.shape} and targets {T.shape} differ in shape")
    if T.shape[0] == 0:
        return float("nan")
    return float(np.mean(_class_index(outputs) == _class_index(T)))


def scale(dataset: Dataset, method: str) -> Dataset:
    """Return a new Dataset with inputs scaled by ``method`` (one of SCALINGS).

    Statistics come from X_train only and are applied to both parts, so test
    inputs may fall outside [0, 1] (minmax) or have nonzero mean (zscore).  A
    constant training column maps to 0 instead of dividing by zero.
    """
    if method not in SCALINGS:
        raise BpvizError(f"unknown scaling '{method}'; choose one of: {', '.join(SCALINGS)}")
    X_train, X_test = dataset.X_train, dataset.X_test
    copies = {"T_train": dataset.T_train.copy(), "T_test": dataset.T_test.copy()}
    if method == "none" or dataset.n_train == 0:
        return replace(dataset, X_train=X_train.copy(), X_test=X_test.copy(), **copies)
    if method == "minmax":
        offset = X_train.min(axis=0)
        spread = X_train.max(axis=0) - offset
    else:
        offset = X_train.mean(axis=0)
        spread = X_train.std(axis=0)
    spread = np.where(spread > 0, spread, 1.0)

    def scaled(X: np.ndarray) -> np.ndarray:
        out = X - offset
        out /= spread  # in place: one new array, not two (60,000×784 MNIST rows: 376 MB each)
        return out

    return replace(dataset, X_train=scaled(X_train), X_test=scaled(X_test), **copies)


# --- shipped files -------------------------------------------------------------

def _data_file(filename: str) -> Path:
    path = DATA_DIR / filename
    if not path.is_file():
        raise BpvizError(f"data file {path} is missing; reinstall bpviz or restore data/")
    return path


@functools.lru_cache(maxsize=None)
def _iris_arrays() -> tuple[np.ndarray, np.ndarray]:
    """Parsed data/iris.csv: X : (150, 4), species index : (150,), read-only."""
    with _data_file("iris.csv").open(newline="") as handle:
        rows = list(csv.reader(handle))[1:]
    try:
        X = np.array([[float(v) for v in row[:4]] for row in rows])
        species = np.array([_IRIS_SPECIES.index(row[4]) for row in rows])
    except (ValueError, IndexError) as exc:
        raise BpvizError(f"data/iris.csv is malformed: {exc}") from exc
    X.flags.writeable = species.flags.writeable = False
    return X, species


@functools.lru_cache(maxsize=None)
def _digits_arrays() -> tuple[np.ndarray, np.ndarray]:
    """Parsed data/digits.csv: X : (1797, 64) pixel values 0..16, digit : (1797,), read-only."""
    try:
        table = np.loadtxt(_data_file("digits.csv"), delimiter=",", skiprows=1)
    except ValueError as exc:
        raise BpvizError(f"data/digits.csv is malformed: {exc}") from exc
    X = np.ascontiguousarray(table[:, :64])
    digit = table[:, 64].astype(np.intp)
    X.flags.writeable = digit.flags.writeable = False
    return X, digit


def _one_hot(y: np.ndarray, n_classes: int) -> np.ndarray:
    """(n,) int -> (n, n_classes) float64 one-hot."""
    return np.eye(n_classes)[y]


def _iris(**_) -> Dataset:
    X, species = _iris_arrays()
    # The classic tutorial split: each species' first 40 rows train, last 10 test.
    position = np.concatenate([np.arange(np.count_nonzero(species == s))
                               for s in range(len(_IRIS_SPECIES))])
    train = position < _IRIS_TRAIN_PER_SPECIES
    T = _one_hot(species, len(_IRIS_SPECIES))
    return Dataset("iris", X[train], T[train], X[~train], T[~train],
                   feature_names=_IRIS_FEATURES, target_names=_IRIS_SPECIES,
                   class_names=_IRIS_SPECIES)


def _digits(*, seed, n_samples, test_fraction, **_) -> Dataset:
    X, digit = _digits_arrays()
    rng = np.random.default_rng(seed)
    if n_samples is not None:
        if n_samples > len(digit):
            raise BpvizError(f"digits has {len(digit)} samples; n_samples={n_samples} is too many")
        keep = np.sort(rng.permutation(len(digit))[:n_samples])
        X, digit = X[keep], digit[keep]
    train, test = split(digit, len(digit), 0.25 if test_fraction is None else test_fraction, rng)
    T = _one_hot(digit, 10)
    return Dataset("digits", X[train], T[train], X[test], T[test],
                   feature_names=tuple(f"px {r},{c}" for r in range(8) for c in range(8)),
                   target_names=_DIGIT_NAMES, class_names=_DIGIT_NAMES, image_shape=(8, 8))


# --- tiny classics ----------------------------------------------------------------

def _xor(**_) -> Dataset:
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
    T = np.array([[0], [1], [1], [0]])
    return Dataset("xor", X, T, X, T, feature_names=("x1", "x2"), target_names=("y",),
                   class_names=("0", "1"))


def _toy(**_) -> Dataset:
    return Dataset("toy",
                   X_train=np.array([[1, 1, 1], [1, 0, 1], [0, 0, 1], [0, 1, 1]]),
                   T_train=np.array([[1], [1], [0], [0]]),
                   X_test=np.array([[1, 0, 0]]),
                   T_test=np.array([[1]]),
                   feature_names=("x1", "x2", "x3"), target_names=("y",),
                   class_names=("0", "1"))


# --- generated sets ---------------------------------------------------------------
# Each generator takes (rng, n, noise) and returns X : (n, 2 or 1) and either
# integer classes y : (n,) or regression targets y : (n,) float.  Random draws are
# made in a fixed order whatever the noise, so a seed always means the same points.

def _circle(rng, n, noise):
    radius = 5.0
    n_inside = (n + 1) // 2
    r = np.concatenate([rng.uniform(0.0, 0.5 * radius, n_inside),
                        rng.uniform(0.7 * radius, radius, n - n_inside)])
    angle = rng.uniform(0.0, 2 * np.pi, n)
    X = np.column_stack([r * np.sin(angle), r * np.cos(angle)])
    # Like Playground, noise moves the point used for the label, not the point shown.
    seen = X + rng.uniform(-radius, radius, (n, 2)) * noise
    return X, (np.hypot(seen[:, 0], seen[:, 1]) < 0.5 * radius).astype(np.intp)


def _xor2d(rng, n, noise):
    X = rng.uniform(-5.0, 5.0, (n, 2))
    X += np.where(X > 0, 0.3, -0.3)  # a gap along the axes keeps the quadrants apart
    seen = X + rng.uniform(-5.0, 5.0, (n, 2)) * noise
    return X, (seen[:, 0] * seen[:, 1] >= 0).astype(np.intp)


def _gaussian(rng, n, noise):
    # Playground maps noise 0..0.5 linearly onto variance 0.5..4.
    std = np.sqrt(0.5 + 7.0 * noise)
    y = (np.arange(n) < (n + 1) // 2).astype(np.intp)
    centres = np.where(y[:, None] == 1, 2.0, -2.0)
    return centres + rng.normal(0.0, std, (n, 2)), y


def _spiral(rng, n, noise):
    arms, labels = [], []
    for label, count, turn in ((1, (n + 1) // 2, 0.0), (0, n // 2, np.pi)):
        i = np.arange(count) / count
        r, t = 5.0 * i, 1.75 * 2 * np.pi * i + turn
        arms.append(np.column_stack([r * np.sin(t), r * np.cos(t)]))
        labels.append(np.full(count, label, dtype=np.intp))
    X = np.concatenate(arms)
    return X + rng.uniform(-1.0, 1.0, X.shape) * noise, np.concatenate(labels)


def _blobs(rng, n, noise):
    centres = np.array([[0.0, -2.0], [2.0, 2.0], [-2.0, 2.0]])
    y = np.repeat(np.arange(3), n // 3 + (np.arange(3) < n % 3))
    return centres[y] + rng.normal(0.0, 1.0 + 2.0 * noise, (n, 2)), y


def _plane(rng, n, noise):
    X = rng.uniform(-6.0, 6.0, (n, 2))
    seen = X + rng.uniform(-6.0, 6.0, (n, 2)) * noise
    # x1 + x2 spans [-12, 12]; map it onto [0.1, 0.9] so a sigmoid need not saturate.
    return X, np.clip(0.5 + 0.4 * seen.sum(axis=1) / 12.0, 0.0, 1.0)


def _sine(rng, n, noise):
    x = rng.uniform(-np.pi, np.pi, n)
    y = 0.5 + 0.4 * (np.sin(x) + noise * rng.normal(0.0, 1.0, n))
    return x[:, None], np.clip(y, 0.0, 1.0)


@dataclass(frozen=True)
class _Generated:
    """How to build one generated dataset and which defaults it uses."""

    name: str
    generate: Callable[[np.random.Generator, int, float], tuple[np.ndarray, np.ndarray]]
    n_samples: int
    noise: float
    test_fraction: float
    feature_names: tuple[str, ...]
    class_names: tuple[str, ...] | None
    description: str

    def __call__(self, *, seed, n_samples, noise, test_fraction) -> Dataset:
        n = self.n_samples if n_samples is None else n_samples
        rng = np.random.default_rng(seed)
        X, y = self.generate(rng, n, self.noise if noise is None else noise)
        classes = None if self.class_names is None else y
        fraction = self.test_fraction if test_fraction is None else test_fraction
        train, test = split(classes, n, fraction, rng)
        if self.class_names is None:
            T, target_names = y[:, None], ("y",)
        elif len(self.class_names) == 2:
            T, target_names = y[:, None], ("class",)
        else:
            T, target_names = _one_hot(y, len(self.class_names)), self.class_names
        return Dataset(self.name, X[train], T[train], X[test], T[test],
                       feature_names=self.feature_names, target_names=target_names,
                       class_names=self.class_names)


def split(classes: np.ndarray | None, n: int, test_fraction: float,
           rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Shuffled (train, test) row indices; stratified when classes : (n,) is given.

    Each class (or the whole set) keeps at least one training row, so scaling and
    training always have data even at test_fraction 0.9 with tiny n.
    """
    if classes is None:
        groups = [rng.permutation(n)]
    else:
        groups = [rng.permutation(np.flatnonzero(classes == c)) for c in np.unique(classes)]
    train, test = [], []
    for group in groups:
        n_test = min(int(np.floor(test_fraction * len(group) + 0.5)), len(group) - 1)
        test.append(group[:n_test])
        train.append(group[n_test:])
    return rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(test))


# --- registry ----------------------------------------------------------------------

_XY = ("x1", "x2")
_GENERATED = (
    _Generated("circle", _circle, 200, 0.0, 0.5, _XY, _PLAYGROUND_CLASSES,
               "Playground 'circle': a blue disc inside an orange ring (2 inputs, 2 classes)."),
    _Generated("xor2d", _xor2d, 200, 0.0, 0.5, _XY, _PLAYGROUND_CLASSES,
               "Playground 'exclusive or': blue where x1 and x2 share a sign "
               "(2 inputs, 2 classes)."),
    _Generated("gaussian", _gaussian, 200, 0.0, 0.5, _XY, _PLAYGROUND_CLASSES,
               "Playground 'gaussian': two Gaussian clusters at (2, 2) and (-2, -2) "
               "(2 inputs, 2 classes)."),
    _Generated("spiral", _spiral, 200, 0.0, 0.5, _XY, _PLAYGROUND_CLASSES,
               "Playground 'spiral': two interleaved spiral arms (2 inputs, 2 classes)."),
    _Generated("blobs", _blobs, 300, 0.0, 0.5, _XY, ("0", "1", "2"),
               "Three Gaussian blobs at (0, -2), (2, 2), (-2, 2), one-hot targets "
               "(2 inputs, 3 classes)."),
    _Generated("plane", _plane, 200, 0.0, 0.5, _XY, None,
               "Regression: y = 0.5 + 0.4 (x1 + x2) / 12 on [-6, 6]^2, targets in [0, 1] "
               "(2 inputs, 1 output)."),
    _Generated("sine", _sine, 200, 0.1, 0.5, ("x",), None,
               "Regression: y = 0.5 + 0.4 sin(x) plus noise on [-pi, pi], targets in [0, 1] "
               "(1 input, 1 output)."),
)

_BUILDERS: dict[str, tuple[Callable[..., Dataset], str]] = {
    "xor": (_xor, "XOR truth table: the four rows of x1 XOR x2 (2 inputs, 2 classes); "
                  "train and test are the same rows."),
    "toy": (_toy, "The 'three layer network' tutorial set: y = x1 on four 3-bit rows, "
                  "tested on [1, 0, 0]."),
    **{spec.name: (spec, spec.description) for spec in _GENERATED[:5]},
    "iris": (_iris, "Fisher's Iris: 4 flower measurements, 3 species; first 40 of each "
                    "species train, last 10 test."),
    "digits": (_digits, "UCI handwritten digits: 8x8 images, pixel values 0-16, 10 classes; "
                        "75/25 stratified split."),
    **{spec.name: (spec, spec.description) for spec in _GENERATED[5:]},
}


def dataset_names() -> list[str]:
    """Every built-in dataset name in menu order: classics, 2-D sets, real data, regression."""
    return list(_BUILDERS)


def _builder(name: str) -> tuple[Callable[..., Dataset], str]:
    try:
        return _BUILDERS[name]
    except (KeyError, TypeError):
        raise BpvizError(f"unknown dataset '{name}'; choose one of: "
                         f"{', '.join(_BUILDERS)}") from None


def describe(name: str) -> str:
    """One-line description of a built-in dataset, for the CLI and tooltips."""
    return _builder(name)[1]


def check_options(seed, n_samples, noise, test_fraction, scaling):
    """Raise BpvizError naming the first loader option out of range (None passes)."""
    if isinstance(seed, bool) or not isinstance(seed, Integral) or seed < 0:
        raise BpvizError(f"seed must be a non-negative integer, got {seed!r}")
    if n_samples is not None and (isinstance(n_samples, bool)
                                  or not isinstance(n_samples, Integral)
                                  or not MIN_SAMPLES <= n_samples <= MAX_SAMPLES):
        raise BpvizError(f"n_samples must be an integer from {MIN_SAMPLES} to {MAX_SAMPLES}, "
                         f"got {n_samples!r}")
    if noise is not None and (isinstance(noise, bool) or not isinstance(noise, Real)
                              or not 0.0 <= noise <= MAX_NOISE):
        raise BpvizError(f"noise must be a number from 0 to {MAX_NOISE} "
                         f"(0.1 means 10%), got {noise!r}")
    if test_fraction is not None and (isinstance(test_fraction, bool)
                                      or not isinstance(test_fraction, Real)
                                      or not 0.0 <= test_fraction <= MAX_TEST_FRACTION):
        raise BpvizError(f"test_fraction must be a number from 0 to {MAX_TEST_FRACTION}, "
                         f"got {test_fraction!r}")
    if scaling not in SCALINGS:
        raise BpvizError(f"unknown scaling '{scaling}'; choose one of: {', '.join(SCALINGS)}")


def load(name: str, *, seed: int = 0, n_samples: int | None = None, noise: float | None = None,
         test_fraction: float | None = None, scaling: str = "none") -> Dataset:
    """Build the named dataset; the same arguments always give bit-identical arrays.

    Options are validated for every dataset but only used where they mean
    something: generated sets use all of them; ``digits`` uses seed, n_samples
    (a seeded subsample of the 1,797 rows) and test_fraction (default 0.25);
    ``iris``, ``xor`` and ``toy`` have fixed rows and splits and use only scaling.
    None means the dataset's default.
    """
    build, description = _builder(name)
    check_options(seed, n_samples, noise, test_fraction, scaling)
    dataset = build(seed=seed, n_samples=n_samples, noise=noise, test_fraction=test_fraction)
    return scale(replace(dataset, description=description), scaling)
