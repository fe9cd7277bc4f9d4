"""bpviz.array_pipe: each large array crosses the pipe once, and arrives exactly."""

import multiprocessing
import threading

import numpy as np
import pytest

from bpviz.array_pipe import LARGE_BYTES, Receiver, Sender


class CountingConnection:
    """A Connection's send_bytes that records the sizes sent (into a real pipe)."""

    def __init__(self, connection):
        self.connection, self.sizes = connection, []

    def send_bytes(self, data):
        self.sizes.append(len(data))
        self.connection.send_bytes(data)


class Pipe:
    """A Sender and a Receiver on two ends of a real pipe; ``send`` writes from a
    thread of its own (a pipe holds 64 KB: a large message waits for its reader)."""

    def __init__(self):
        self.reading, writing = multiprocessing.Pipe(duplex=False)
        self.counting = CountingConnection(writing)
        self.sender, self.receiver = Sender(self.counting), Receiver(self.reading)
        self.sizes = []  # bytes of each message

    def send(self, message, replace_arrays=False):
        """Send ``message`` and return it as received."""
        before = len(self.counting.sizes)
        thread = threading.Thread(target=self.sender.send, args=(message,),
                                  kwargs={"replace_arrays": replace_arrays})
        thread.start()
        got = self.receiver.recv()
        thread.join()
        self.sizes.append(sum(self.counting.sizes[before:]))
        return got


@pytest.fixture
def pipe():
    pipe = Pipe()
    yield pipe
    pipe.reading.close()
    pipe.counting.connection.close()


def big(rows=400, seed=0):
    array = np.random.default_rng(seed).random((rows, 784))
    assert array.nbytes > LARGE_BYTES
    return array


def test_a_large_array_crosses_once_and_arrives_as_one_object(pipe):
    X = big()
    first = pipe.send(("load", (X, X[:10].copy()), {}), replace_arrays=True)
    second = pipe.send(("load", (X, X[:10].copy()), {}), replace_arrays=True)
    assert np.array_equal(first[1][0], X) and first[1][0] is second[1][0]
    assert np.array_equal(second[1][1], X[:10])
    assert pipe.sizes[0] > X.nbytes and pipe.sizes[1] < 100_000


def test_references_to_one_array_stay_one_array(pipe):
    X = big()
    got = pipe.send({"dataset": X, "trainer": X})
    assert got["dataset"] is got["trainer"]


def test_replacing_lets_go_of_the_arrays_of_runs_gone(pipe):
    X, Y = big(seed=1), big(seed=2)
    pipe.send(X, replace_arrays=True)
    assert np.array_equal(pipe.send(Y, replace_arrays=True), Y)  # a new run, another dataset
    pipe.send(("step", (), {}))  # a message without arrays keeps what is remembered
    assert np.array_equal(pipe.send(Y, replace_arrays=True), Y)
    assert np.array_equal(pipe.send(X, replace_arrays=True), X)  # X was let go: whole again
    assert pipe.sizes[3] < 100_000 and pipe.sizes[4] > X.nbytes


def test_views_and_other_types_arrive_exactly(pipe):
    X = big()
    message = (X.T, X[::2], X.astype(np.float32), np.arange(5), "text", {"n": 3})
    got = pipe.send(message)
    for a, b in zip(got[:4], message[:4]):
        assert a.dtype == b.dtype and np.array_equal(a, b)
    assert got[4:] == message[4:]


def test_encoding_copies_no_large_array():
    """The window encodes on its own thread: a large array goes out as a view of its
    own memory, so an MNIST-sized set costs the window no copy."""
    X, small = big(), np.arange(5.0)
    chunks = Sender(None).encode(("load", (X, small), {}), replace_arrays=True)
    assert len(chunks) == 2 and len(chunks[0]) < 10_000
    assert np.shares_memory(np.frombuffer(chunks[1]), X)


def test_a_large_array_arrives_as_writeable_as_it_left(pipe):
    """A network's 784×400 weight matrix is trained in place on the other side."""
    weights, frozen = big(seed=3), big(seed=4)
    frozen.flags.writeable = False
    got_weights, got_frozen = pipe.send((weights, frozen))
    assert got_weights.flags.writeable and not got_frozen.flags.writeable
    got_weights += 1.0
    assert np.array_equal(got_weights, weights + 1.0)
    assert got_weights.ctypes.data % 16 == 0  # aligned like any array of NumPy's
