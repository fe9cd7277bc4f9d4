"""Numbers out: weights as NPZ or JSON (and back in), the training history as CSV.

Layer names follow the lecture notation, 1-based: ``W1`` links the input layer to
the first hidden layer, ``bK`` is the bias vector of layer K. Every write is
atomic (:mod:`bpviz.files`). No Qt here; pictures of views are exported elsewhere.
"""

from __future__ import annotations

import csv
import io
import json
import math
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np

from bpviz import __version__
from bpviz.engine.network import Network
from bpviz.errors import BpvizError
from bpviz.files import atomic_write, reading
from bpviz.snapshot import History

WEIGHTS_FORMAT = "bpviz-weights"
MAX_WEIGHT_FILE_BYTES = 1 << 30


def _layer_arrays(net: Network) -> dict[str, np.ndarray]:
    arrays = {}
    for k, (w, b) in enumerate(zip(net.weights, net.biases), 1):
        arrays[f"W{k}"] = w
        arrays[f"b{k}"] = b
    return arrays


def export_weights_npz(path, net: Network) -> None:
    """An .npz with W1..WL (sizes[k-1], sizes[k]), b1..bL (sizes[k],) and ``sizes``."""
    with atomic_write(path, "wb") as handle:
        np.savez(handle, sizes=np.array(net.sizes, dtype=np.int64), **_layer_arrays(net))


def _json_rows(matrix: np.ndarray) -> str:
    """One matrix row per line: readable, and floats keep their exact repr."""
    return "[\n" + ",\n".join("    " + json.dumps(row.tolist(), allow_nan=False)
                             for row in matrix) + "\n  ]"


def export_weights_json(path, net: Network) -> None:
    """A readable JSON file: format, sizes, activations of layers 1..L, bias flag,
    loss, and W1.., b1.. as nested lists (one matrix row per line)."""
    if not net.is_finite():
        raise BpvizError("the weights contain NaN or infinite values; there is nothing sensible to export")
    header = {
        "format": WEIGHTS_FORMAT,
        "bpviz_version": __version__,
        "sizes": list(net.sizes),
        "activations": [net.layer_activation(k).name for k in range(1, net.n_layers)],
        "bias": net.bias,
        "loss": net.loss.name,
    }
    parts = [f"  {json.dumps(key)}: {json.dumps(value)}" for key, value in header.items()]
    for name, array in _layer_arrays(net).items():
        value = _json_rows(array) if array.ndim == 2 else json.dumps(array.tolist())
        parts.append(f"  {json.dumps(name)}: {value}")
    with atomic_write(path, "w") as handle:
        handle.write("{\n" + ",\n".join(parts) + "\n}\n")


def _read_npz(data: bytes, label: str) -> dict:
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as archive:
            return {name: archive[name] for name in archive.files}
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, KeyError, NotImplementedError,
            RuntimeError, zlib.error, struct.error, MemoryError) as exc:
        raise BpvizError(f"'{label}' is not a readable weights file ({exc})") from None


def _read_json(data: bytes, label: str) -> dict:
    try:
        document = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise BpvizError(f"'{label}' is neither an .npz file nor weights JSON ({exc})") from None
    if not isinstance(document, dict):
        raise BpvizError(f"'{label}' is not a bpviz weights file (not a JSON object)")
    return document


def _as_matrix(value, name: str, label: str) -> np.ndarray:
    try:
        array = np.array(value)
    except (ValueError, TypeError, OverflowError, RecursionError):
        array = None
    if array is None or array.dtype.kind not in "iuf":
        raise BpvizError(f"'{label}': {name} is not an array of numbers")
    return array.astype(np.float64)


def load_weights(path, net: Network) -> None:
    """Read weights written by export_weights_npz or export_weights_json into ``net``.

    Raises BpvizError naming the first layer that does not fit ("W2 has shape
    (5, 4), the network needs (5, 3)"), a missing layer or an unreadable file; on
    any error the network is unchanged.
    """
    label = Path(str(path)).name
    with reading(path), open(path, "rb") as handle:
        data = handle.read(MAX_WEIGHT_FILE_BYTES + 1)
    if len(data) > MAX_WEIGHT_FILE_BYTES:
        raise BpvizError(f"'{label}' is too large for a weights file")
    content = _read_npz(data, label) if data.startswith(b"PK") else _read_json(data, label)
    arrays = {}
    for k in range(1, net.n_layers):
        for name, needed in ((f"W{k}", net.weights[k - 1].shape), (f"b{k}", net.biases[k - 1].shape)):
            if name not in content:
                raise BpvizError(f"'{label}' has no {name}; the network "
                                 f"{'-'.join(map(str, net.sizes))} needs W1..W{net.n_layers - 1} "
                                 f"and b1..b{net.n_layers - 1}")
            array = _as_matrix(content[name], name, label)
            if array.shape != needed:
                raise BpvizError(f"{name} has shape {array.shape}, the network needs {needed}")
            arrays[name] = array
    extra = f"W{net.n_layers}"
    if extra in content:
        raise BpvizError(f"'{label}' has more layers than the network "
                         f"{'-'.join(map(str, net.sizes))} (it holds {extra})")
    n = net.n_layers - 1
    net.set_params([arrays[f"W{k}"] for k in range(1, n + 1)],
                   [arrays[f"b{k}"] for k in range(1, n + 1)])


def _cell(value: float) -> str:
    """Exact repr for numbers; an empty cell for NaN (no test set, regression accuracy)."""
    return "" if math.isnan(value) else repr(float(value))


def export_history_csv(path, history: History) -> None:
    """One row per finished epoch: epoch (1-based), train_loss, test_loss,
    train_accuracy, test_accuracy, grad_norm_W1..grad_norm_WL. NaN is an empty cell."""
    grad_norms = np.asarray(history.grad_norms, dtype=np.float64)
    if grad_norms.ndim != 2 or len(grad_norms) != history.n_epochs:
        raise BpvizError(f"the history's grad_norms have shape {grad_norms.shape}, expected "
                         f"({history.n_epochs}, number of weight layers)")
    columns = ["epoch", "train_loss", "test_loss", "train_accuracy", "test_accuracy"]
    columns += [f"grad_norm_W{k}" for k in range(1, grad_norms.shape[1] + 1)]
    with atomic_write(path, "w") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(columns)
        for i in range(history.n_epochs):
            figures = (history.train_loss[i], history.test_loss[i],
                       history.train_accuracy[i], history.test_accuracy[i], *grad_norms[i])
            writer.writerow([i + 1, *map(_cell, figures)])
