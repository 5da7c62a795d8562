"""The private pipe between a ``RemoteWorker`` and its training process: the messages
that cross it (small frozen dataclasses, pickled) and the child's loop, ``serve``.

The parent sends ``Latest`` (a newer snapshot, please), ``Call`` (a command from
``bpviz.runtime.commands``, a ``WaitIdle`` or a ``WithSession``) and ``Stop``. The child
answers ``Published`` (a snapshot, or None if there is none newer) and ``Answer`` (a
call's value or error). A command's answer carries no snapshot: it is acknowledged by its
value, and the window sees its effect through ``latest()``. ``WaitIdle`` and
``WithSession`` are the caller waiting for a state, so their answers carry the newest one.
Only the parent that spawned the child writes to this pipe.
"""

from __future__ import annotations

import logging
import os
import pickle
import select
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bpviz.data.dataset import Dataset
from bpviz.logs import configure_logging
from bpviz.runtime.child_process import die_with_parent
from bpviz.runtime.commands import Command
from bpviz.runtime.shared_snapshot import SharedWriter
from bpviz.session.snapshot import SessionConfig

logger = logging.getLogger(__name__)

PIPE_BYTES = 1 << 20  # kernel pipe buffer (Linux's default limit): a snapshot in one write
SWITCH_INTERVAL = 0.0005  # the child's GIL hand-over, so a reply never waits 5 ms a chunk


class Channel:
    """Two one-way pipes with large kernel buffers, used like a duplex Connection."""

    def __init__(self, reader, writer) -> None:
        self.reader, self.writer = reader, writer
        # a poll(2) object on the reader, made on first use, in the process that reads
        # (the child's channel is sent to it unpolled: a poll object does not pickle)
        self._ready: Any = None

    def widen(self) -> None:
        """Enlarge both pipes' buffers where the OS allows (Linux); harmless elsewhere."""
        try:
            import fcntl

            for end in (self.reader, self.writer):
                fcntl.fcntl(end.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)
        except (ImportError, AttributeError, OSError):
            pass

    def send(self, message) -> None:
        self.writer.send(message)

    def recv(self):
        return self.reader.recv()

    def poll(self, timeout: float | None = 0.0) -> bool:
        """Whether a message (or the pipe's end) is waiting, after up to ``timeout``
        seconds (None: until one is). One ``poll(2)`` call where the OS has it:
        ``Connection.poll`` builds a selector each time, about a tenth of a millisecond
        that the window paid at every frame."""
        if not hasattr(select, "poll"):
            return self.reader.poll(timeout)
        if self._ready is None:
            self._ready = select.poll()
            self._ready.register(self.reader.fileno(), select.POLLIN)
        return bool(self._ready.poll(None if timeout is None else max(timeout, 0.0) * 1000))

    def close(self) -> None:
        self.reader.close()
        self.writer.close()


# --- parent → child ---


@dataclass(frozen=True, slots=True)
class Latest:
    """A snapshot newer than serial ``known``, please (None in the answer if there is none)."""

    known: int


@dataclass(frozen=True, slots=True)
class Stop:
    """Stop the worker and end the process."""


@dataclass(frozen=True, slots=True)
class WaitIdle:
    """``Worker.wait_idle(timeout)``."""

    timeout: float | None


@dataclass(frozen=True, slots=True, eq=False)
class WithSession:
    """``Worker.with_session(fn, *args, **kwargs)``; ``fn`` is a module-level function."""

    fn: Callable[..., Any]
    args: tuple
    kwargs: dict


@dataclass(frozen=True, slots=True, eq=False)
class Call:
    """Request ``cid``; ``known`` is the serial of the newest snapshot the parent has."""

    cid: int
    request: Command | WaitIdle | WithSession
    known: int


# --- child → parent ---


@dataclass(frozen=True, slots=True, eq=False)
class Published:
    """The worker's state: its serial, whether it runs, and the snapshot (packed into
    shared memory by ``SharedWriter``, or pickled) if newer than the parent's, else None."""

    serial: int
    running: bool
    snapshot: Any


@dataclass(frozen=True, slots=True, eq=False)
class Answer:
    """The outcome of ``Call`` ``cid``: its ``value``, or the ``error`` it raised; ``state``
    for a ``WaitIdle`` or ``WithSession`` (None for a command)."""

    cid: int
    value: Any
    error: Exception | None
    state: Published | None


@dataclass(frozen=True, slots=True)
class Failed:
    """The child could not start; ``reason`` says why."""

    reason: str


def serve(
    conn: Channel,
    dataset: Dataset | None,
    config: SessionConfig | None,
    publish_hz: float,
    prefix: str | None,
    parent: int | None = None,
    verbose: bool = False,
) -> None:
    """The child: a Worker answering the parent's requests until ``Stop`` or EOF; snapshots
    go through shared memory blocks named ``prefix`` + number (pickled if None). It dies
    with the process ``parent`` (the window's). ``dataset`` None: it is the first message
    on ``conn`` (``RemoteWorker`` sends it so, not blocking its ``start``). It logs on
    stderr as the window does: from DEBUG on if ``verbose`` (the window's ``-v``), else
    warnings and errors."""
    configure_logging(verbose)  # a spawned process starts with logging unconfigured
    logger.debug(
        "training process %d for window process %s; snapshots through %s",
        os.getpid(),
        parent,
        "shared memory" if prefix is not None else "the pipe (pickled)",
    )
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C is the window's to handle
    die_with_parent(parent)
    sys.setswitchinterval(SWITCH_INTERVAL)  # this thread answers while the worker trains
    try:
        if dataset is None:
            dataset = conn.recv()
        from bpviz.runtime.worker import Worker
        from bpviz.session.session import Session

        session = Session(dataset) if config is None else Session(dataset, config)
        worker = Worker(session, publish_hz=publish_hz)
        worker.start()
    except Exception as error:  # say why, instead of a traceback on stderr
        conn.send(Failed(f"{type(error).__name__}: {error}"))
        conn.close()
        return

    writer = SharedWriter(prefix) if prefix is not None else None

    def state(known: int) -> Published:
        nonlocal writer
        serial = worker.serial
        snapshot = worker.latest() if serial != known else None
        if snapshot is not None and writer is not None:
            try:
                return Published(serial, worker.running, writer.pack(snapshot))
            except OSError as error:  # e.g. no /dev/shm: pickle from now on
                logger.warning("no shared memory (%s); snapshots go pickled", error)
                writer.close()
                writer = None
        return Published(serial, worker.running, snapshot)

    def answer(request: Command | WaitIdle | WithSession) -> Any:
        match request:
            case WaitIdle(timeout):
                return worker.wait_idle(timeout)
            case WithSession(fn, args, kwargs):
                return worker.with_session(fn, *args, **kwargs)
            case _:
                return worker.submit(request)  # TypeError if it is no command

    try:
        conn.send(state(-1))
        while True:
            match conn.recv():
                case Stop():
                    break
                case Latest(known):
                    conn.send(state(known))
                case Call(cid, request, known):
                    value, error = None, None
                    try:
                        value = answer(request)
                    except Exception as raised:
                        error = portable(raised)
                    fresh = None if isinstance(request, Command) else state(known)
                    conn.send(Answer(cid, value, error, fresh))
    except (EOFError, OSError, KeyboardInterrupt):
        pass  # the window went away: stop quietly
    finally:
        worker.stop(timeout=2.0)
        if writer is not None:
            writer.close()
        conn.close()


def portable(error: Exception) -> Exception:
    """``error`` if it survives pickling, else a RuntimeError with its text."""
    try:
        pickle.loads(pickle.dumps(error))
    except Exception:
        return RuntimeError(f"{type(error).__name__}: {error}")
    return error
