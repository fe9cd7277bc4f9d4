"""Messages down a pipe that carry each large array once.

The window hands every new run (its dataset, network and trainer) to the training
process. An MNIST-sized dataset is 400 MB: pickled into every run, it held the
window for ~3 s at each change of settings. ``Sender`` remembers the large arrays it
has sent, by identity (keeping a reference, so the identity stays theirs), and
sends a key in their place; ``Receiver`` keeps them by key. A message sent with
``replace_arrays`` leaves exactly its own large arrays remembered on both ends, so
the arrays of runs gone are let go. No Qt here.
"""

from __future__ import annotations

import io
import itertools
import pickle

import numpy as np

LARGE_BYTES = 1 << 20
_REPLACE, _KEEP = b"R", b"K"


class _Pickler(pickle.Pickler):
    def __init__(self, file, sent: dict, used: dict, keys) -> None:
        super().__init__(file, protocol=5)
        self._sent, self._used, self._keys = sent, used, keys

    def persistent_id(self, obj):
        if type(obj) is not np.ndarray or obj.nbytes < LARGE_BYTES or obj.dtype.hasobject:
            return None
        entry = self._sent.get(id(obj)) or self._used.get(id(obj))
        if entry is not None and entry[0] is obj:
            self._used[id(obj)] = entry
            return ("known", entry[1])
        key = next(self._keys)
        self._used[id(obj)] = (obj, key)
        data = pickle.PickleBuffer(np.ascontiguousarray(obj))  # in-band: no extra copy
        return ("new", key, obj.dtype.str, obj.shape, data)


class _Unpickler(pickle.Unpickler):
    def __init__(self, file, arrays: dict, used: dict) -> None:
        super().__init__(file)
        self._arrays, self._used = arrays, used

    def persistent_load(self, pid):
        if pid[0] == "known":
            array = self._used.get(pid[1])
            array = self._arrays[pid[1]] if array is None else array
        else:
            _, key, dtype, shape, data = pid
            array = np.frombuffer(data, dtype=dtype).reshape(shape)
        self._used[pid[1]] = array
        return array


class Sender:
    """Pickles messages into ``connection`` (a multiprocessing Connection)."""

    def __init__(self, connection) -> None:
        self._connection = connection
        self._sent: dict[int, tuple[np.ndarray, int]] = {}
        self._keys = itertools.count()

    def send(self, message, *, replace_arrays: bool = False) -> None:
        self._connection.send_bytes(self.encode(message, replace_arrays=replace_arrays))

    def encode(self, message, *, replace_arrays: bool = False) -> memoryview:
        """The bytes ``send`` would write, for a caller that writes them itself (from
        another thread, say); they must then be written in the order encoded."""
        buffer = io.BytesIO()
        buffer.write(_REPLACE if replace_arrays else _KEEP)
        used: dict[int, tuple[np.ndarray, int]] = {}
        _Pickler(buffer, self._sent, used, self._keys).dump(message)
        self._sent = used if replace_arrays else {**self._sent, **used}
        return buffer.getbuffer()


class Receiver:
    """Unpickles what a Sender sent into ``connection``."""

    def __init__(self, connection) -> None:
        self._connection = connection
        self._arrays: dict[int, np.ndarray] = {}

    def recv(self):
        data = memoryview(self._connection.recv_bytes())
        used: dict[int, np.ndarray] = {}
        message = _Unpickler(io.BytesIO(data[1:]), self._arrays, used).load()
        self._arrays = used if data[:1] == _REPLACE else {**self._arrays, **used}
        return message
