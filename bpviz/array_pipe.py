"""Messages down a pipe that carry each large array once.

The window hands every new run (its dataset, network and trainer) to the training
process. An MNIST-sized dataset is 400 MB: pickled into every run, it held the
window for ~3 s at each change of settings. ``Sender`` remembers the large arrays it
has sent, by identity (keeping a reference, so the identity stays theirs), and
sends a key in their place; ``Receiver`` keeps them by key. A message sent with
``replace_arrays`` leaves exactly its own large arrays remembered on both ends, so
the arrays of runs gone are let go.

A message is a head (a flag, the sizes of the arrays that follow, the pickle) and
then each new large array's own memory, written out of band and read straight into
an array of the receiver's: pickling an
MNIST-sized set into one buffer copied 440 MB on the window's thread (1.6 s). No Qt
here.
"""

from __future__ import annotations

import io
import itertools
import pickle
import struct

import numpy as np

LARGE_BYTES = 1 << 20
_REPLACE, _KEEP = b"R", b"K"
_HEAD = struct.Struct("<cI")  # replace or keep, how many arrays follow the pickle
_SIZE = struct.Struct("<Q")   # then each array's size in bytes


class _Pickler(pickle.Pickler):
    def __init__(self, file, sent: dict, used: dict, keys, arrays: list) -> None:
        super().__init__(file, protocol=5)
        self._sent, self._used, self._keys, self._arrays = sent, used, keys, arrays

    def persistent_id(self, obj):
        if type(obj) is not np.ndarray or obj.nbytes < LARGE_BYTES or obj.dtype.hasobject:
            return None
        entry = self._sent.get(id(obj)) or self._used.get(id(obj))
        if entry is not None and entry[0] is obj:
            self._used[id(obj)] = entry
            return ("known", entry[1])
        key = next(self._keys)
        self._used[id(obj)] = (obj, key)
        self._arrays.append(memoryview(np.ascontiguousarray(obj)).cast("B"))
        return ("new", key, obj.dtype.str, obj.shape, len(self._arrays) - 1, obj.flags.writeable)


class _Unpickler(pickle.Unpickler):
    def __init__(self, file, arrays: dict, used: dict, data: list) -> None:
        super().__init__(file)
        self._arrays, self._used, self._data = arrays, used, data

    def persistent_load(self, pid):
        if pid[0] == "known":
            array = self._used.get(pid[1])
            array = self._arrays[pid[1]] if array is None else array
        else:
            _, key, dtype, shape, index, writeable = pid
            array = self._data[index].view(dtype).reshape(shape)
            array.flags.writeable = writeable
        self._used[pid[1]] = array
        return array


class Sender:
    """Pickles messages into ``connection`` (a multiprocessing Connection)."""

    def __init__(self, connection) -> None:
        self._connection = connection
        self._sent: dict[int, tuple[np.ndarray, int]] = {}
        self._keys = itertools.count()

    def send(self, message, *, replace_arrays: bool = False) -> None:
        for chunk in self.encode(message, replace_arrays=replace_arrays):
            self._connection.send_bytes(chunk)

    def encode(self, message, *, replace_arrays: bool = False) -> list[memoryview]:
        """The chunks ``send`` would write, each with ``send_bytes``, for a caller that
        writes them itself (from another thread, say). Messages must be written in
        the order encoded, and the large arrays in them left unchanged until written:
        the chunks after the first are views of their memory."""
        pickled = io.BytesIO()
        used: dict[int, tuple[np.ndarray, int]] = {}
        arrays: list[memoryview] = []
        _Pickler(pickled, self._sent, used, self._keys, arrays).dump(message)
        self._sent = used if replace_arrays else {**self._sent, **used}
        head = _HEAD.pack(_REPLACE if replace_arrays else _KEEP, len(arrays))
        sizes = b"".join(_SIZE.pack(a.nbytes) for a in arrays)
        return [memoryview(head + sizes + pickled.getbuffer()), *arrays]


class Receiver:
    """Unpickles what a Sender sent into ``connection``."""

    def __init__(self, connection) -> None:
        self._connection = connection
        self._arrays: dict[int, np.ndarray] = {}

    def recv(self):
        head = memoryview(self._connection.recv_bytes())
        flag, n_arrays = _HEAD.unpack_from(head)
        sizes = [_SIZE.unpack_from(head, _HEAD.size + i * _SIZE.size)[0] for i in range(n_arrays)]
        data = []
        for size in sizes:  # straight into aligned, writeable memory
            data.append(np.empty(size, dtype=np.uint8))
            self._connection.recv_bytes_into(data[-1])
        used: dict[int, np.ndarray] = {}
        pickled = head[_HEAD.size + n_arrays * _SIZE.size:]
        message = _Unpickler(io.BytesIO(pickled), self._arrays, used, data).load()
        self._arrays = used if flag == _REPLACE else {**self._arrays, **used}
        return message
