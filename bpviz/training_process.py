"""The training process: a TrainingLoop driven through pipes from the window's process.

``serve`` is the process's whole program (bpviz.app.worker starts it): commands come
in through an array_pipe Receiver, events go back through a thread of their own.
No Qt here.
"""

from __future__ import annotations

import dataclasses
import queue
import threading

from bpviz.allocator import reuse_freed_memory
from bpviz.array_pipe import Receiver
from bpviz.training_loop import COMMANDS, Capture, TrainingLoop


def serve(commands, events) -> None:
    """The training process: a TrainingLoop driven through two multiprocessing
    Connections. ``commands`` brings (name, args, kwargs) for the methods named in
    COMMANDS, sent by an array_pipe.Sender; ``events`` takes (event, value) back. A
    Capture goes back without its dataset, which the caller has already. Ends on
    "stop" or when the caller closes its end of ``commands``.

    Events leave through a thread of their own: a snapshot is larger than a pipe's
    buffer, so sending it waits until the window reads it, and the loop must not."""
    reuse_freed_memory()
    outbox: queue.SimpleQueue = queue.SimpleQueue()

    def send() -> None:
        while (item := outbox.get()) is not None:
            try:
                events.send(item)
            except (OSError, ValueError):  # the window's process has gone
                return

    def emit(event: str, value: object) -> None:
        if isinstance(value, Capture):
            value = dataclasses.replace(value, dataset=None)
        outbox.put((event, value))

    loop = TrainingLoop(emit)
    receiver = Receiver(commands)

    def receive() -> None:
        while True:
            try:
                name, args, kwargs = receiver.recv()
            except (EOFError, OSError):  # the window's process has gone
                loop.stop()
                return
            if name in COMMANDS:
                getattr(loop, name)(*args, **kwargs)
            if name == "stop":
                return

    sender = threading.Thread(target=send, name="bpviz-events")
    sender.start()
    threading.Thread(target=receive, name="bpviz-commands", daemon=True).start()
    try:
        loop.run()
    finally:
        outbox.put(None)
        sender.join()
        events.close()
