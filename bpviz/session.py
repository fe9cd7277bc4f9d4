"""Save and open a lecture: settings, the trainer's exact state, history and data.

A session file (suffix ``.bpviz``) is a zip archive holding

``session.json``
    human-readable: format name and version, bpviz version, the settings, the
    layer sizes, the trainer's counters and RNG state (a dict of ints), the
    optimiser's name and scalars, the history length, the CSV source and the
    embedded dataset's names (or null)
``network/W1.npy`` ... ``network/WL.npy``, ``network/b1.npy`` ... ``network/bL.npy``
    weights (sizes[k-1], sizes[k]) and biases (sizes[k],), float64
``optimizer/<key>_<i>.npy``
    each array list of the optimiser state (``velocity``, ``m``, ``v``), one file
    per parameter in ``net.params`` order (weights first)
``trainer/order.npy``
    the current epoch's sample order (integers)
``history/<field>.npy``
    train_loss, test_loss, train_accuracy, test_accuracy, grad_norms
``data/X_train.npy``, ``data/T_train.npy``, ``data/X_test.npy``, ``data/T_test.npy``
    only when the data is included

Arrays are written with ``np.save`` and read with ``np.load(allow_pickle=False)``
after checking each header's dtype and size; nothing is ever unpickled or
evaluated. Writes are atomic (:mod:`bpviz.files`). Every problem with a file,
whatever its bytes, is a BpvizError. (Sessions saved before December 2026 also hold
``history/epoch_grad_norm_sums.npy`` and ``history.epoch_steps``, the sums a gradient
norm per step once needed; they are ignored.)
"""

from __future__ import annotations

import io
import json
import math
import struct
import zipfile
import zlib
from dataclasses import dataclass, fields, replace
from numbers import Integral, Real
from pathlib import Path

import numpy as np

from bpviz import __version__
from bpviz.csv_data import CsvSource
from bpviz.datasets import Dataset
from bpviz.engine.network import Network
from bpviz.engine.training import Trainer, TrainerState, batch_size_for
from bpviz.errors import BpvizError
from bpviz.files import atomic_write
from bpviz.settings import CSV_DATASET, Settings
from bpviz.snapshot import History

FORMAT_NAME = "bpviz-session"
FORMAT_VERSION = 1
SUFFIX = ".bpviz"
MAX_MEMBER_BYTES = 1 << 30
_JSON_MEMBER = "session.json"
_HISTORY_1D = ("train_loss", "test_loss", "train_accuracy", "test_accuracy")
_DATA_ARRAYS = ("X_train", "T_train", "X_test", "T_test")
# What a damaged or foreign zip can raise while being opened or read.
_READ_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError,
                NotImplementedError, RuntimeError, zlib.error, struct.error, KeyError,
                IndexError, OverflowError, RecursionError, MemoryError)


@dataclass
class Session:
    """A saved lecture. ``csv_source`` is set for the user's own data (None for a
    built-in dataset); it is always the same as ``settings.csv_source``: give it in
    either place and the other follows (settings without one get it, with
    ``dataset`` CSV_DATASET), two different sources are an error. ``dataset`` is the
    embedded data, present only when the file includes it."""

    settings: Settings
    trainer_state: TrainerState
    history: History
    csv_source: CsvSource | None = None
    dataset: Dataset | None = None

    def __post_init__(self) -> None:
        own = getattr(self.settings, "csv_source", None)
        if self.csv_source is None:
            self.csv_source = own
        elif own is None:
            self.settings = replace(self.settings, dataset=CSV_DATASET, csv_source=self.csv_source)
        elif own != self.csv_source:
            raise BpvizError("the session's CSV source differs from the one in its settings")

    def load_dataset(self) -> Dataset:
        """The embedded dataset, else the CSV source reloaded, else the built-in one."""
        if self.dataset is not None:
            return self.dataset
        return self.settings.load_dataset()

    def build(self) -> tuple[Dataset, Network, Trainer]:
        """Dataset, network and trainer, restored to exactly where the session was saved.

        Raises BpvizError when the data no longer fits the saved network (a CSV file
        that changed since)."""
        dataset = self.load_dataset()
        saved = _sizes_of(self.trainer_state)
        if saved != self.settings.sizes(dataset):
            raise BpvizError(f"the saved network is {'-'.join(map(str, saved))} but the data now "
                             f"gives {self.settings.layer_spec(dataset)}; has the data file changed?")
        if len(self.trainer_state.order) != dataset.n_train:
            raise BpvizError(f"the session was saved with {len(self.trainer_state.order)} training "
                             f"rows but the data now has {dataset.n_train}; has the data file changed?")
        dataset, net, trainer = self.settings.build(dataset)
        trainer.restore(self.trainer_state)
        return dataset, net, trainer


def _sizes_of(state: TrainerState) -> tuple[int, ...]:
    return (state.weights[0].shape[0], *(w.shape[1] for w in state.weights))


# --- saving ------------------------------------------------------------------------

def _to_json(value):
    """json.dumps' fallback for NumPy scalars and arrays inside RNG states."""
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"cannot store {type(value).__name__} in a session")


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def _dataset_info(dataset: Dataset) -> dict:
    return {
        "name": dataset.name,
        "feature_names": list(dataset.feature_names),
        "target_names": list(dataset.target_names),
        "class_names": None if dataset.class_names is None else list(dataset.class_names),
        "image_shape": None if dataset.image_shape is None else list(dataset.image_shape),
        "description": dataset.description,
    }


def save_session(path, session: Session, *, include_data: bool = False) -> None:
    """Write ``session`` to ``path`` atomically (a previous file survives any failure).

    include_data : embed session.dataset (then the file opens without the data
    source); raises BpvizError if the session has no dataset to embed.
    """
    state = session.trainer_state
    if not isinstance(session.settings, Settings) or not isinstance(state, TrainerState):
        raise BpvizError("a session needs Settings and a TrainerState")
    if include_data and session.dataset is None:
        raise BpvizError("there is no dataset in this session to include")
    arrays: dict[str, np.ndarray] = {}
    for k, (w, b) in enumerate(zip(state.weights, state.biases), 1):
        arrays[f"network/W{k}.npy"] = np.asarray(w, dtype=np.float64)
        arrays[f"network/b{k}.npy"] = np.asarray(b, dtype=np.float64)
    optimizer = {}
    for key, value in state.optimizer.items():
        if value is None:
            optimizer[key] = None
        elif isinstance(value, (Integral, Real)) and not isinstance(value, bool):
            optimizer[key] = int(value) if isinstance(value, Integral) else float(value)
        elif isinstance(value, (list, tuple)):
            optimizer[key] = {"arrays": len(value)}
            for i, a in enumerate(value):
                arrays[f"optimizer/{key}_{i}.npy"] = np.asarray(a, dtype=np.float64)
        else:
            raise BpvizError(f"cannot save the optimizer state '{key}' ({type(value).__name__})")
    arrays["trainer/order.npy"] = np.asarray(state.order)
    history = session.history
    for name in _HISTORY_1D + ("grad_norms",):
        arrays[f"history/{name}.npy"] = np.asarray(getattr(history, name), dtype=np.float64)
    if include_data:
        for name in _DATA_ARRAYS:
            arrays[f"data/{name}.npy"] = getattr(session.dataset, name)
    document = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "bpviz_version": __version__,
        "settings": session.settings.to_dict(),
        "sizes": list(_sizes_of(state)),
        "trainer": {"step": int(state.step), "epoch": int(state.epoch),
                    "batch_index": int(state.batch_index), "rng": state.rng},
        "optimizer": {"name": session.settings.optimizer, "state": optimizer},
        "history": {"n_epochs": history.n_epochs},
        "csv_source": None if session.csv_source is None else session.csv_source.to_dict(),
        "dataset": _dataset_info(session.dataset) if include_data else None,
    }
    try:
        text = json.dumps(document, indent=2, allow_nan=False, default=_to_json)
    except (TypeError, ValueError) as exc:
        raise BpvizError(f"cannot save this session: {exc}") from None
    with atomic_write(path, "wb") as handle:
        with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(_JSON_MEMBER, text)
            for name, array in arrays.items():
                archive.writestr(name, _npy(array))


# --- loading -----------------------------------------------------------------------

def load_session(path) -> Session:
    """Read a session file. Raises BpvizError for a missing, foreign, damaged or
    newer-format file, naming the problem; never any other exception type."""
    label = Path(str(path)).name
    try:
        with open(path, "rb") as handle, zipfile.ZipFile(handle) as archive:
            return _Reader(archive, label).session()
    except BpvizError:
        raise
    except FileNotFoundError:
        raise BpvizError(f"there is no file {path}") from None
    except zipfile.BadZipFile as exc:
        raise BpvizError(f"'{label}' is not a bpviz session or is damaged ({exc})") from None
    except OSError as exc:
        raise BpvizError(f"cannot read {path}: {exc.strerror or exc}") from None
    except _READ_ERRORS as exc:
        raise BpvizError(f"'{label}' is damaged ({type(exc).__name__}: {exc})") from None
    except Exception as exc:  # the promise is "only BpvizError", whatever the bytes
        raise BpvizError(f"'{label}' is damaged ({type(exc).__name__}: {exc})") from None


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class _Reader:
    """Reads and checks one archive; every check failure names the member or field."""

    def __init__(self, archive: zipfile.ZipFile, label: str) -> None:
        self.archive, self.label = archive, label

    def damaged(self, problem: str) -> BpvizError:
        return BpvizError(f"'{self.label}' is damaged: {problem}")

    def member(self, name: str) -> bytes:
        try:
            info = self.archive.getinfo(name)
        except KeyError:
            raise self.damaged(f"it has no {name}") from None
        if info.file_size > MAX_MEMBER_BYTES:
            raise self.damaged(f"{name} claims {info.file_size:,} bytes")
        return self.archive.read(info)

    def array(self, name: str, shape: tuple[int, ...] | None = None, *, ndim: int | None = None,
              integer: bool = False) -> np.ndarray:
        """A checked array: float64 (or an integer type), the given shape or ndim."""
        data = self.member(name)
        header = io.BytesIO(data)
        try:
            version = np.lib.format.read_magic(header)
            if version == (1, 0):
                found, _, dtype = np.lib.format.read_array_header_1_0(header)
            elif version == (2, 0):
                found, _, dtype = np.lib.format.read_array_header_2_0(header)
            else:
                raise self.damaged(f"{name} is a .npy file of version {version}")
        except BpvizError:
            raise
        except (ValueError, EOFError, TypeError, SyntaxError, RecursionError) as exc:
            raise self.damaged(f"{name} is not a NumPy array file ({exc})") from None
        if integer:
            if dtype.kind not in "iu" or not dtype.isnative or dtype.fields or dtype.subdtype:
                raise self.damaged(f"{name} has dtype {dtype}, expected integers")
        elif dtype != np.float64:
            raise self.damaged(f"{name} has dtype {dtype}, expected float64")
        if len(data) - header.tell() != math.prod(found) * dtype.itemsize:
            raise self.damaged(f"{name} is truncated or has extra bytes")
        if shape is not None and tuple(found) != tuple(shape):
            raise self.damaged(f"{name} has shape {tuple(found)}, expected {tuple(shape)}")
        if ndim is not None and len(found) != ndim:
            raise self.damaged(f"{name} has {len(found)} dimensions, expected {ndim}")
        array = np.load(io.BytesIO(data), allow_pickle=False)
        if not isinstance(array, np.ndarray) or array.dtype != dtype or array.shape != tuple(found):
            raise self.damaged(f"{name} could not be read as an array")
        return np.ascontiguousarray(array)

    def finite(self, name: str, array: np.ndarray) -> np.ndarray:
        if not np.isfinite(array).all():
            raise self.damaged(f"{name} holds NaN or infinite values")
        return array

    def field(self, document: dict, key: str, kind, what: str):
        if key not in document:
            raise self.damaged(f"session.json has no '{key}'")
        value = document[key]
        if not kind(value):
            raise self.damaged(f"'{key}' in session.json is not {what}")
        return value

    def count(self, document: dict, key: str) -> int:
        return self.field(document, key, lambda v: _is_int(v) and v >= 0, "a whole number ≥ 0")

    # ----------------------------------------------------------------------
    def session(self) -> Session:
        try:
            document = json.loads(self.member(_JSON_MEMBER).decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
            raise self.damaged(f"session.json is not valid JSON ({exc})") from None
        if not isinstance(document, dict):
            raise self.damaged("session.json is not a JSON object")
        if document.get("format") != FORMAT_NAME:
            raise BpvizError(f"'{self.label}' is not a bpviz session")
        version = self.field(document, "format_version", lambda v: _is_int(v) and v >= 1,
                             "a format number")
        if version > FORMAT_VERSION:
            raise BpvizError(f"this session was saved by a newer bpviz (format {version}); "
                             f"this bpviz reads format {FORMAT_VERSION}")
        try:
            settings = Settings.from_dict(document.get("settings"))
        except BpvizError as exc:
            raise self.damaged(f"bad settings: {exc}") from None
        except (TypeError, ValueError, ArithmeticError, AttributeError, KeyError) as exc:
            raise self.damaged(f"bad settings ({exc})") from None
        sizes = self.sizes(document, settings)
        weights, biases = self.network(sizes)
        params = weights + biases if settings.bias else weights
        optimizer = self.optimizer(document, settings, params)
        step, epoch, batch_index, order, rng = self.trainer(document, settings)
        history = self.history(document)
        csv_source = self.csv_source(document)
        dataset = self.dataset(document, sizes, len(order))
        state = TrainerState(tuple(weights), tuple(biases), optimizer, step, epoch,
                             batch_index, order, rng)
        try:
            return Session(settings, state, history, csv_source, dataset)
        except BpvizError as exc:
            raise self.damaged(str(exc)) from None

    def sizes(self, document: dict, settings: Settings) -> tuple[int, ...]:
        sizes = self.field(document, "sizes",
                           lambda v: isinstance(v, list) and len(v) >= 2
                           and all(_is_int(s) and 1 <= s <= 1 << 20 for s in v),
                           "a list of layer sizes")
        if tuple(sizes[1:-1]) != tuple(settings.hidden):
            raise self.damaged(f"the layer sizes {sizes} do not match the hidden layers "
                               f"{list(settings.hidden)} in the settings")
        return tuple(sizes)

    def network(self, sizes) -> tuple[list[np.ndarray], list[np.ndarray]]:
        weights, biases = [], []
        for k in range(1, len(sizes)):
            name = f"network/W{k}.npy"
            weights.append(self.finite(name, self.array(name, (sizes[k - 1], sizes[k]))))
            name = f"network/b{k}.npy"
            biases.append(self.finite(name, self.array(name, (sizes[k],))))
        return weights, biases

    def optimizer(self, document: dict, settings: Settings, params: list[np.ndarray]) -> dict:
        saved = self.field(document, "optimizer", lambda v: isinstance(v, dict), "an object")
        if saved.get("name") != settings.optimizer:
            raise self.damaged(f"the optimizer state is for '{saved.get('name')}' but the "
                               f"settings use '{settings.optimizer}'")
        values = self.field(saved, "state", lambda v: isinstance(v, dict), "an object")
        template = settings.build_optimizer().state()
        if set(values) != set(template):
            raise self.damaged(f"the {settings.optimizer} state has keys {sorted(values)}, "
                               f"expected {sorted(template)}")
        state = {}
        for key, fresh in template.items():
            value = values[key]
            if fresh is None or isinstance(fresh, list):
                state[key] = None if value is None else self.optimizer_arrays(key, value, params)
            elif _is_int(fresh):
                if not (_is_int(value) and value >= 0):
                    raise self.damaged(f"the optimizer's '{key}' is not a whole number ≥ 0")
                state[key] = value
            elif not (isinstance(value, (int, float)) and not isinstance(value, bool)
                      and math.isfinite(value)):
                raise self.damaged(f"the optimizer's '{key}' is not a finite number")
            else:
                state[key] = float(value)
        return state

    def optimizer_arrays(self, key: str, value, params: list[np.ndarray]) -> list[np.ndarray]:
        if not (isinstance(value, dict) and value.get("arrays") == len(params) and len(value) == 1):
            raise self.damaged(f"the optimizer's '{key}' must list {len(params)} arrays")
        return [self.finite(f"optimizer/{key}_{i}.npy",
                            self.array(f"optimizer/{key}_{i}.npy", p.shape))
                for i, p in enumerate(params)]

    def trainer(self, document: dict, settings: Settings):
        saved = self.field(document, "trainer", lambda v: isinstance(v, dict), "an object")
        step, epoch, batch_index = (self.count(saved, key) for key in ("step", "epoch", "batch_index"))
        rng = self.field(saved, "rng", lambda v: isinstance(v, dict), "an object")
        try:
            np.random.default_rng().bit_generator.state = rng
        except (TypeError, ValueError, KeyError, OverflowError, AttributeError) as exc:
            raise self.damaged(f"the random number generator state is not valid ({exc})") from None
        order = self.array("trainer/order.npy", ndim=1, integer=True)
        if len(order) == 0 or not np.array_equal(np.sort(order), np.arange(len(order))):
            raise self.damaged("trainer/order.npy is not an ordering of the training rows")
        batch = batch_size_for(settings.mode, settings.batch_size, len(order))
        if batch_index >= math.ceil(len(order) / batch):
            raise self.damaged(f"batch {batch_index} does not exist in an epoch of "
                               f"{len(order)} rows in batches of {batch}")
        return step, epoch, batch_index, order, rng

    def history(self, document: dict) -> History:
        saved = self.field(document, "history", lambda v: isinstance(v, dict), "an object")
        n = self.count(saved, "n_epochs")
        arrays = {name: self.array(f"history/{name}.npy", (n,)) for name in _HISTORY_1D}
        grad_norms = self.array("history/grad_norms.npy", ndim=2)
        if len(grad_norms) != n:
            raise self.damaged(f"history/grad_norms.npy has {len(grad_norms)} rows, expected {n}")
        return History(**arrays, grad_norms=grad_norms)

    def csv_source(self, document: dict) -> CsvSource | None:
        value = document.get("csv_source")
        if value is None:
            return None
        try:
            return CsvSource.from_dict(value)
        except BpvizError as exc:
            raise self.damaged(f"bad CSV source: {exc}") from None
        except TypeError as exc:
            raise self.damaged(f"bad CSV source ({exc})") from None

    def dataset(self, document: dict, sizes, n_train: int) -> Dataset | None:
        info = document.get("dataset")
        if info is None:
            return None
        if not isinstance(info, dict) or set(info) != {f.name for f in fields(Dataset)} - set(_DATA_ARRAYS):
            raise self.damaged("the embedded dataset's description is incomplete")
        texts = lambda v: isinstance(v, list) and all(isinstance(s, str) for s in v)  # noqa: E731
        for key in ("feature_names", "target_names"):
            self.field(info, key, texts, "a list of names")
        self.field(info, "class_names", lambda v: v is None or texts(v), "a list of names")
        self.field(info, "name", lambda v: isinstance(v, str), "text")
        self.field(info, "description", lambda v: isinstance(v, str), "text")
        self.field(info, "image_shape", lambda v: v is None or (
            isinstance(v, list) and len(v) == 2 and all(_is_int(s) and s > 0 for s in v)),
            "a pair of whole numbers")
        arrays = {name: self.finite(f"data/{name}.npy", self.array(f"data/{name}.npy", ndim=2))
                  for name in _DATA_ARRAYS}
        try:
            dataset = Dataset(**{**info, "image_shape": None if info["image_shape"] is None
                                 else tuple(info["image_shape"])}, **arrays)
        except BpvizError as exc:
            raise self.damaged(f"the embedded dataset is inconsistent: {exc}") from None
        if (dataset.n_features, dataset.n_outputs) != (sizes[0], sizes[-1]):
            raise self.damaged(f"the embedded data has {dataset.n_features} inputs and "
                               f"{dataset.n_outputs} outputs; the network is "
                               f"{'-'.join(map(str, sizes))}")
        if dataset.n_train != n_train:
            raise self.damaged(f"the embedded data has {dataset.n_train} training rows; "
                               f"the trainer's order has {n_train}")
        return dataset
