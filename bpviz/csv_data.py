"""Users' own CSV files: preview, parse, check, split and scale into a Dataset.

Files are UTF-8 text (a byte-order mark is allowed) with a comma, semicolon or tab
between fields and an optional header row; both are sniffed unless given. Row
numbers in messages are the ones a spreadsheet shows: every record counts from 1,
the header included. Every problem is a BpvizError; NaN and infinity never get
through.

Targets: a text column becomes classes; a numeric column becomes a regression
target (one output, values as they are) unless ``target_is_class=True``, which
makes its distinct values classes. Classes are always one-hot (two classes give
two outputs) and their names are **sorted** (text alphabetically, numeric values
by value), so the output columns do not depend on row order and a separate test
file maps onto the same columns.

To reload a file later (a saved session), keep its :class:`CsvSource`:
``CsvSource(path, target, ...).load(scaling=..., test_fraction=..., seed=...)``
is the same as calling :func:`load_csv` with those arguments.
"""

from __future__ import annotations

import csv
import functools
import io
import itertools
import math
import os
import stat
import time
from array import array
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from bpviz.datasets import Dataset, check_options, scale, split
from bpviz.errors import BpvizError, check_fields
from bpviz.files import reading

DELIMITERS = (",", ";", "\t")
PREVIEW_ROWS = 20
MAX_CLASSES = 50
DEFAULT_MAX_BYTES = 200_000_000
DEFAULT_TEST_FRACTION = 0.25
_SNIFF_CHARS = 64_000
_SNIFF_ROWS = 50
_RACY_SECONDS = 2.0
_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab"}


@dataclass(frozen=True)
class CsvTable:
    """What the preview dialog shows before loading.

    columns : header names, or "column 1", "column 2", ... without a header
    rows : the first PREVIEW_ROWS data rows as raw text; n_rows : all data rows
    kinds : per column, "number" when every non-empty value is a number, else "text"
    """

    path: str
    delimiter: str
    has_header: bool
    columns: tuple[str, ...]
    rows: list[list[str]]
    n_rows: int
    kinds: tuple[str, ...]


@dataclass(frozen=True)
class CsvSource:
    """Where a CSV dataset came from and how it was read, so a session can reload it.

    target : a column name, or a 0-based column index (negative counts from the end)
    delimiter, has_header, target_is_class : None means "sniff" / "decide from the data"
    test_path : a second file used as the whole test set; name : the dataset's name
    (None: the file name's stem)
    """

    path: str
    target: str | int
    delimiter: str | None = None
    has_header: bool | None = None
    target_is_class: bool | None = None
    test_path: str | None = None
    name: str | None = None

    def __post_init__(self):
        if not isinstance(self.path, str) or not self.path:
            raise BpvizError(f"a CSV source needs a file path, got {self.path!r}")
        _check_target_type(self.target)
        _check_delimiter(self.delimiter)
        for option in ("has_header", "target_is_class"):
            if getattr(self, option) not in (None, True, False):
                raise BpvizError(f"{option} must be true, false or null, got {getattr(self, option)!r}")
        for option in ("test_path", "name"):
            value = getattr(self, option)
            if value is not None and (not isinstance(value, str) or not value):
                raise BpvizError(f"{option} must be a non-empty text or null, got {value!r}")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data) -> CsvSource:
        check_fields(data, cls, "a CSV source", "CSV source option(s)")
        if "path" not in data or "target" not in data:
            raise BpvizError("a CSV source needs 'path' and 'target'")
        return cls(**data)

    def load(self, *, scaling: str = "none", test_fraction: float | None = None,
             seed: int = 0, max_bytes: int = DEFAULT_MAX_BYTES) -> Dataset:
        """The Dataset this source describes; test_fraction None means 0.25."""
        return load_csv(self.path, self.target, delimiter=self.delimiter,
                        has_header=self.has_header, target_is_class=self.target_is_class,
                        scaling=scaling, test_fraction=test_fraction, seed=seed,
                        test_path=self.test_path, name=self.name, max_bytes=max_bytes)


# --- checking options ------------------------------------------------------------

def _check_target_type(target) -> None:
    if isinstance(target, bool) or not isinstance(target, (int, str)):
        raise BpvizError(f"the target must be a column name or a column index, got {target!r}")


def _check_delimiter(delimiter) -> None:
    if delimiter is not None and delimiter not in DELIMITERS:
        raise BpvizError(f"the delimiter must be a comma, a semicolon or a tab, got {delimiter!r}")


def _check_flag(name: str, value) -> None:
    if value not in (None, True, False):
        raise BpvizError(f"{name} must be True, False or None, got {value!r}")


# --- reading text ----------------------------------------------------------------

def _check_max_bytes(max_bytes) -> None:
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 1:
        raise BpvizError(f"max_bytes must be a positive whole number, got {max_bytes!r}")


def _size_text(n_bytes: int) -> str:
    return f"{n_bytes / 1e6:,.1f} MB" if n_bytes >= 100_000 else f"{n_bytes:,} bytes"


def _read_text(path, max_bytes: int) -> tuple[str, str]:
    """(file name for messages, decoded text) of a UTF-8 file no larger than max_bytes."""
    try:
        path = os.fspath(path)
    except TypeError:
        raise BpvizError(f"a CSV file path must be text, got {path!r}") from None
    label = Path(path).name or path
    with reading(path):
        info = os.stat(path)
        if stat.S_ISDIR(info.st_mode):
            raise BpvizError(f"{path} is a folder, not a CSV file")
        if info.st_size > max_bytes:
            raise BpvizError(f"'{label}' is {_size_text(info.st_size)}; bpviz reads CSV files "
                             f"up to {_size_text(max_bytes)}")
        with open(path, "rb") as handle:
            data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise BpvizError(f"'{label}' is larger than {_size_text(max_bytes)}, the most bpviz reads")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BpvizError(f"'{label}' is not UTF-8 text (byte {exc.start + 1} cannot be read); "
                         "is it a binary file? Save spreadsheets as 'CSV UTF-8'") from None
    if "\x00" in text:
        raise BpvizError(f"'{label}' contains NUL bytes; it is a binary file, not CSV text")
    return label, text


def _records(text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """(row number, fields) of every non-blank record; blank lines still count as rows."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    number = 0
    try:
        for number, row in enumerate(reader, 1):
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            yield number, row
    except csv.Error as exc:
        raise BpvizError(f"row {number + 1}: {exc}") from None


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _sniff_delimiter(text: str) -> str:
    """csv.Sniffer's guess if it splits the sample into equal rows, else the candidate
    that splits most rows into the same number (≥ 2) of fields; a comma if none does."""
    sample = text[:_SNIFF_CHARS]
    if len(text) > _SNIFF_CHARS and "\n" in sample:
        sample = sample[:sample.rindex("\n")]
    try:
        sniffed = csv.Sniffer().sniff(sample, delimiters="".join(DELIMITERS)).delimiter
    except csv.Error:
        sniffed = None
    order = ([sniffed] if sniffed in DELIMITERS else []) + [d for d in DELIMITERS if d != sniffed]
    best, best_share = ",", 0.0
    for delimiter in order:
        try:
            counts = [len(row) for _, row in itertools.islice(_records(sample, delimiter), _SNIFF_ROWS)]
        except BpvizError:
            continue
        if not counts:
            continue
        width, n = Counter(counts).most_common(1)[0]
        if width >= 2 and n / len(counts) > best_share:
            best, best_share = delimiter, n / len(counts)
    return best


def _sniff_header(rows: list[list[str]]) -> bool:
    """A header is present when the first row has text where the rest have numbers."""
    first, rest = [c.strip() for c in rows[0]], rows[1:]
    if not rest:
        return not all(_is_number(c) for c in first if c)
    for j, cell in enumerate(first):
        column = [row[j].strip() for row in rest if j < len(row) and row[j].strip()]
        if cell and not _is_number(cell) and column and all(_is_number(v) for v in column):
            return True
    # Fallback: every first-row cell is text while numbers appear further down.
    return (all(c and not _is_number(c) for c in first)
            and any(_is_number(c.strip()) for row in rest for c in row if c.strip()))


@dataclass(frozen=True)
class _Layout:
    label: str
    delimiter: str
    has_header: bool
    columns: tuple[str, ...]


def _open(path, delimiter, has_header, max_bytes) -> tuple[_Layout, Iterator[tuple[int, list[str]]]]:
    """Read, sniff and take the header off: the layout and an iterator of data records."""
    _check_delimiter(delimiter)
    _check_flag("has_header", has_header)
    _check_max_bytes(max_bytes)
    label, text = _read_text(path, max_bytes)
    if not text.strip():
        raise BpvizError(f"'{label}' is empty")
    if delimiter is None:
        delimiter = _sniff_delimiter(text)
    records = _records(text, delimiter)
    head = list(itertools.islice(records, _SNIFF_ROWS))
    if not head:
        raise BpvizError(f"'{label}' is empty")
    if has_header is None:
        has_header = _sniff_header([row for _, row in head])
    first = head[0][1]
    if has_header:
        columns = tuple(name.strip() or f"column {j + 1}" for j, name in enumerate(first))
        head = head[1:]
    else:
        columns = tuple(f"column {j + 1}" for j in range(len(first)))
    if len(columns) < 2:
        raise BpvizError(f"'{label}' has only one column (read with a "
                         f"{_DELIMITER_NAMES[delimiter]} between fields); bpviz needs at least "
                         "one input column and a target column")
    return _Layout(label, delimiter, bool(has_header), columns), itertools.chain(head, records)


def _check_width(layout: _Layout, number: int, row: list[str]) -> None:
    if len(row) != len(layout.columns):
        raise BpvizError(f"'{layout.label}': row {number} has {len(row)} fields, "
                         f"expected {len(layout.columns)}")


def read_table(path, *, delimiter: str | None = None, has_header: bool | None = None,
               max_bytes: int = DEFAULT_MAX_BYTES) -> CsvTable:
    """Read a CSV file for the preview: columns, the first rows, the row count and
    each column's kind. Sniffs the delimiter and the header when they are None.
    Raises BpvizError for a missing, empty, binary, oversized, header-only,
    single-column or ragged file."""
    layout, records = _open(path, delimiter, has_header, max_bytes)
    width = len(layout.columns)
    numeric, filled = [True] * width, [False] * width
    pending = list(range(width))  # the columns that are numbers so far
    all_filled = False  # every pending column has had a number
    preview: list[list[str]] = []
    n_rows = 0
    for number, row in records:
        _check_width(layout, number, row)
        n_rows += 1
        if len(preview) < PREVIEW_ROWS:
            preview.append(list(row))
        if not pending:
            continue
        try:  # the whole row at once: every pending cell a number (so none is empty)
            for _ in map(float, row if len(pending) == width else [row[j] for j in pending]):
                pass
        except ValueError:  # cell by cell
            for j in pending:
                if cell := row[j].strip():
                    filled[j] = True
                    numeric[j] = _is_number(cell)
            pending = [j for j in pending if numeric[j]]
        else:
            if not all_filled:  # pending only shrinks: once is enough
                for j in pending:
                    filled[j] = True
                all_filled = True
    if n_rows == 0:
        raise BpvizError(f"'{layout.label}' has a header row but no data rows")
    kinds = tuple("number" if n and f else "text" for n, f in zip(numeric, filled))
    return CsvTable(os.fspath(path), layout.delimiter, layout.has_header, layout.columns,
                    preview, n_rows, kinds)


# --- loading a dataset ---------------------------------------------------------------

def _target_index(target, columns: tuple[str, ...], label: str) -> int:
    _check_target_type(target)
    if isinstance(target, int):
        if not -len(columns) <= target < len(columns):
            raise BpvizError(f"'{label}' has {len(columns)} columns; there is no column "
                             f"index {target} (indices start at 0)")
        return target % len(columns)
    matches = [j for j, name in enumerate(columns) if name == target.strip()]
    if not matches:
        raise BpvizError(f"'{label}' has no column '{target}'; its columns are: "
                         f"{', '.join(columns)}")
    if len(matches) > 1:
        raise BpvizError(f"'{label}' has {len(matches)} columns named '{target}'; "
                         "choose the target by its index")
    return matches[0]


@dataclass
class _Rows:
    X: np.ndarray              # (n, n_features) float64, finite
    target: list[str]          # stripped raw target text per row
    numbers: list[int]         # the spreadsheet row number of each row


def _parse(layout: _Layout, records, target: int) -> _Rows:
    """Check every data row; features must be finite numbers and nothing may be missing.

    A row is read whole (``float`` over its feature cells, which ignores the spaces
    around a number as ``strip`` would) and looked at cell by cell only when that
    fails or its sum is not finite, for a message naming the cell: 60,000 rows of 785
    MNIST columns took 60 s cell by cell, ~8 s (of an 11.5 s load) this way."""
    features = [j for j in range(len(layout.columns)) if j != target]
    values = array("d")
    targets, numbers = [], []
    for number, row in records:
        _check_width(layout, number, row)
        label = row[target].strip()
        try:
            parsed = list(map(float, row[:target] + row[target + 1:]))
        except ValueError:
            parsed = None
        if parsed is None or not label or not math.isfinite(sum(parsed)):
            parsed = _checked_row(layout, number, row, features)  # raises for a bad cell
        values += array("d", parsed)  # a copy of one array: faster than extending with a list
        targets.append(label)
        numbers.append(number)
    if not numbers:
        raise BpvizError(f"'{layout.label}' has a header row but no data rows"
                         if layout.has_header else f"'{layout.label}' has no data rows")
    # A view of the parsed numbers, no copy (376 MB for MNIST): the caller's split and
    # scaling make the Dataset's own arrays.
    X = np.frombuffer(values, dtype=np.float64).reshape(len(numbers), len(features))
    return _Rows(X, targets, numbers)


def _checked_row(layout: _Layout, number: int, row: list[str], features: list[int]) -> list[float]:
    """The feature values of a row, cell by cell: raises BpvizError naming the first
    missing cell (any column) or else the first feature that is not a finite number.
    (A row whose sum only overflowed passes.)"""
    cells = [cell.strip() for cell in row]
    for j, cell in enumerate(cells):
        if not cell:
            raise BpvizError(f"'{layout.label}': row {number}, column "
                             f"'{layout.columns[j]}': missing value")
    return [_finite(layout, number, j, cells[j]) for j in features]


def _finite(layout: _Layout, number: int, column: int, cell: str) -> float:
    try:
        value = float(cell)
    except ValueError:
        raise BpvizError(f"'{layout.label}': row {number}, column '{layout.columns[column]}': "
                         f"'{cell}' is not a number") from None
    if not np.isfinite(value):
        raise BpvizError(f"'{layout.label}': row {number}, column '{layout.columns[column]}': "
                         f"'{cell}' is not a finite number")
    return value


def _class_key(value: float) -> str:
    return str(int(value)) if value.is_integer() else repr(value)


@dataclass(frozen=True)
class _Target:
    is_class: bool
    numeric: bool               # class keys come from numeric values
    class_names: tuple[str, ...] | None


def _decide_target(layout: _Layout, rows: _Rows, target: int, target_is_class) -> _Target:
    numeric = all(_is_number(v) for v in rows.target)
    is_class = (not numeric) if target_is_class is None else target_is_class
    name = layout.columns[target]
    if not is_class:
        return _Target(False, True, None)
    if numeric:
        values = sorted({_finite(layout, n, target, v) for n, v in zip(rows.numbers, rows.target)})
        names = tuple(_class_key(v) for v in values)
    else:
        names = tuple(sorted(set(rows.target)))
    if len(names) > MAX_CLASSES:
        raise BpvizError(f"'{layout.label}': column '{name}' has {len(names)} different values; "
                         f"bpviz handles at most {MAX_CLASSES} classes (is it a regression target?)")
    if len(names) < 2:
        raise BpvizError(f"'{layout.label}': column '{name}' has only one class ('{names[0]}'); "
                         "classification needs at least two")
    return _Target(True, numeric, names)


def _targets(layout: _Layout, rows: _Rows, target: int, spec: _Target) -> np.ndarray:
    """T : (n, n_classes) one-hot for classes, (n, 1) for regression."""
    if not spec.is_class:
        values = [_finite(layout, n, target, v) for n, v in zip(rows.numbers, rows.target)]
        return np.array(values, dtype=np.float64).reshape(-1, 1)
    index = {name: k for k, name in enumerate(spec.class_names)}
    labels = np.empty(len(rows.target), dtype=np.intp)
    for i, (number, value) in enumerate(zip(rows.numbers, rows.target)):
        key = _class_key(_finite(layout, number, target, value)) if spec.numeric else value
        if key not in index:
            raise BpvizError(f"'{layout.label}': row {number}, column '{layout.columns[target]}': "
                             f"class '{value}' does not occur in the training file")
        labels[i] = index[key]
    return np.eye(len(spec.class_names))[labels]


def load_csv(path, target: str | int, *, delimiter: str | None = None,
             has_header: bool | None = None, target_is_class: bool | None = None,
             scaling: str = "none", test_fraction: float | None = DEFAULT_TEST_FRACTION,
             seed: int = 0, test_path=None, name: str | None = None,
             max_bytes: int = DEFAULT_MAX_BYTES) -> Dataset:
    """Load a CSV file as a Dataset.

    target : the target column's name, or its 0-based index (negative from the end).
    Every other column is an input and must hold finite numbers. The split is seeded
    and stratified by class (each class keeps at least one training row); with
    ``test_path`` that file (same columns, no new classes) is the test set and
    test_fraction is ignored. Scaling statistics come from the training rows only.
    test_fraction None means 0.25. Dataset.name is ``name`` or the file name's stem.
    """
    check_options(seed, None, None, test_fraction, scaling)
    _check_flag("target_is_class", target_is_class)
    if name is not None and (not isinstance(name, str) or not name.strip()):
        raise BpvizError(f"the dataset name must be a non-empty text, got {name!r}")
    _check_target_type(target)
    _check_delimiter(delimiter)
    _check_flag("has_header", has_header)
    _check_max_bytes(max_bytes)
    read = _Read(path, target, delimiter, has_header, target_is_class, test_path, max_bytes,
                 _file_identity(path), None if test_path is None else _file_identity(test_path))
    # A path that cannot be looked at (or is not a path, or was just changed) is read uncached.
    known = read.identity is not None and (test_path is None or read.test_identity is not None)
    layout, column, spec, X, T, test_arrays = _read_cached(read) if known else _read(read)
    if test_path is None:
        fraction = DEFAULT_TEST_FRACTION if test_fraction is None else test_fraction
        classes = np.argmax(T, axis=1) if spec.is_class else None
        train, test = split(classes, len(X), fraction, np.random.default_rng(seed))
        X_train, T_train, X_test, T_test = X[train], T[train], X[test], T[test]
    else:
        X_train, T_train, (X_test, T_test) = X, T, test_arrays
    features = tuple(c for j, c in enumerate(layout.columns) if j != column)
    kind = (f"{len(spec.class_names)} classes" if spec.is_class else "regression")
    description = (f"Your data from {layout.label}: {len(X)} rows, {len(features)} inputs, "
                   f"target '{layout.columns[column]}' ({kind})"
                   + (f"; test set from {Path(os.fspath(test_path)).name}" if test_path is not None else ""))
    dataset = Dataset(name or Path(os.fspath(path)).stem, X_train, T_train, X_test, T_test,
                      feature_names=features,
                      target_names=spec.class_names or (layout.columns[column],),
                      class_names=spec.class_names, description=description)
    return scale(dataset, scaling)


@dataclass(frozen=True)
class _Read:
    """How a file is read (load_csv's arguments up to the split and scaling), with the
    files' identities: equal _Reads give equal tables."""

    path: object
    target: str | int
    delimiter: str | None
    has_header: bool | None
    target_is_class: bool | None
    test_path: object
    max_bytes: int
    identity: tuple | None
    test_identity: tuple | None


def _file_identity(path) -> tuple | None:
    """(size, modification times, inode) of a file, so a changed file is read again;
    None when it cannot be looked at (reading it then says why) or was changed in the
    last _RACY_SECONDS: file times move in ticks of milliseconds, so a file rewritten
    within one tick at the same size would look unchanged (git's "racy" files)."""
    try:
        info = os.stat(path)
    except (OSError, TypeError, ValueError):
        return None
    if time.time() - max(info.st_mtime, info.st_ctime) < _RACY_SECONDS:
        return None
    return (info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino)


def _read(read: _Read) -> tuple:
    """(layout, target column, target spec, X, T, (X_test, T_test) or None) of a file
    and its test file, every array read-only."""
    layout, records = _open(read.path, read.delimiter, read.has_header, read.max_bytes)
    column = _target_index(read.target, layout.columns, layout.label)
    rows = _parse(layout, records, column)
    spec = _decide_target(layout, rows, column, read.target_is_class)
    T = _targets(layout, rows, column, spec)
    test = None if read.test_path is None else _load_test_file(
        read.test_path, layout, column, spec, read.delimiter, read.has_header, read.max_bytes)
    for a in (rows.X, T) + (test or ()):
        a.flags.writeable = False
    return layout, column, spec, rows.X, T, test


# The last file read, parsed: a new split, seed or scaling (a change in the window's
# controls) makes a new Dataset from it without reading the file again (~11 s for a
# 60,000-row MNIST CSV). It holds that file's numbers (376 MB for MNIST) until another
# file is read.
_read_cached = functools.lru_cache(maxsize=1)(_read)


def _load_test_file(test_path, train: _Layout, column: int, spec: _Target, delimiter,
                    has_header, max_bytes) -> tuple[np.ndarray, np.ndarray]:
    layout, records = _open(test_path, delimiter, has_header, max_bytes)
    if len(layout.columns) != len(train.columns) or (
            train.has_header and layout.has_header and layout.columns != train.columns):
        raise BpvizError(f"the test file '{layout.label}' has columns ({', '.join(layout.columns)}); "
                         f"the training file '{train.label}' has ({', '.join(train.columns)})")
    if train.has_header and not layout.has_header:
        layout = _Layout(layout.label, layout.delimiter, False, train.columns)
    rows = _parse(layout, records, column)
    return rows.X, _targets(layout, rows, column, spec)
