"""Training in a child process, so that the window's Python work never waits on its GIL.

``RemoteWorker(dataset, config)`` spawns a process that runs the real
``Worker(Session(dataset, config))`` and answers over a pipe (``bpviz.runtime.pipe``).
Both implement ``bpviz.runtime.commands.TrainingWorker``: each command method here sends
its command object, which the child's Worker checks and queues (its exception re-raised
here — a bad η is a ValueError in the caller, as with the Worker); the acknowledgement is
the command's value, never a snapshot. ``latest()`` never blocks: it returns
the newest snapshot received and, if none is on its way, asks the child for a newer one
(one snapshot in flight at most, so a slow window never slows training); ``running`` and
``serial`` are those of that snapshot. ``with_session(fn, *args)`` runs a picklable
``fn(session, *args)`` in the child while the worker is paused and returns its result.

Why: a worker thread and a painting GUI thread take turns on one GIL; measured in
``benchmarks/bench_gui.py`` (``gui_throughput_ratio``), a process keeps the training
speed. Snapshots travel through shared memory (``shared_snapshot``): the child copies the
arrays into a block and pipes a message of a few kilobytes; the window copies them out on
receipt. Pickled whole, a wide network's snapshot overflows the pipe's buffer and the
window waits on the pipe for it, frame after frame (the two ways are measured side by
side: ``gui_transfer_ms_wide`` and ``_pickled`` in ``benchmarks/bench_gui.py``). With
``shared_memory=False``, or when no block can be created (said once on stderr), snapshots
travel pickled as before. The child unlinks its blocks when it ends; ``stop()`` unlinks
those of a child that was killed.

A dying child is no hang: every request has a timeout (``CALL_TIMEOUT`` for commands,
``SESSION_TIMEOUT`` for ``with_session``, ``STOPPED_TIMEOUT`` once the child is seen
stopped by SIGSTOP), a closed pipe or a dead process is noticed at once (``latest()``
too), and then the child is given up: ``failure`` says what happened ("The training
process stopped: it was killed by signal 9 (SIGKILL).") and later calls raise
``RemoteError`` with it. ``stop()`` kills a child that does not end when asked.
"""

from __future__ import annotations

import contextlib
import itertools
import multiprocessing
import os
import secrets
import threading
import time
from collections.abc import Callable
from typing import Any

from bpviz.data.dataset import Dataset
from bpviz.logs import is_verbose
from bpviz.runtime.child_process import (
    STOPPED,
    describe_exit,
    process_state,
)
from bpviz.runtime.commands import (
    Command,
    TrainingWorker,
)
from bpviz.runtime.pipe import (
    Answer,
    Call,
    Channel,
    Failed,
    Latest,
    Published,
    Stop,
    WaitIdle,
    WithSession,
    serve,
)
from bpviz.runtime.shared_snapshot import SharedReader
from bpviz.runtime.threads import start_thread
from bpviz.session.snapshot import SessionConfig, Snapshot

START_TIMEOUT = 60.0  # seconds for the child to import NumPy and publish its first snapshot
CALL_TIMEOUT = 10.0  # seconds for a command's reply (they are queued at once: milliseconds)
SESSION_TIMEOUT = 300.0  # seconds for ``with_session`` (opening or saving a large session)
STOPPED_TIMEOUT = 3.0  # seconds a stopped child (SIGSTOP, a debugger) may keep a caller waiting
POLL = 0.05  # seconds between two looks at the child while waiting for a reply
LATE_REPLY = 0.25  # seconds: a ``latest`` reply later than this has the child looked at


class RemoteError(RuntimeError):
    """The training process is gone (crashed, killed) or does not answer (stopped)."""


class RemoteTimeoutError(RemoteError):
    """The training process did not answer in time; it is given up (see ``failure``)."""


class RemoteWorker(TrainingWorker):
    """A Worker in a child process; see the module doc. Drive it from one thread: that
    keeps at most one ``latest`` request and one call outstanding, which the shared-memory
    protocol relies on (``shared_snapshot``).

    No call waits forever: a command's reply is awaited ``call_timeout`` seconds,
    ``with_session``'s ``session_timeout``, and at most ``STOPPED_TIMEOUT`` while the
    child is stopped (SIGSTOP); a child that died is noticed at once (``latest`` too).
    Either way the child is given up: ``failure`` says what happened, in words for the
    window, and every later call raises ``RemoteError`` with it."""

    def __init__(
        self,
        dataset: Dataset,
        config: SessionConfig | None = None,
        *,
        publish_hz: float = 60.0,
        shared_memory: bool = True,
        call_timeout: float = CALL_TIMEOUT,
        session_timeout: float = SESSION_TIMEOUT,
        wait: bool = True,
    ) -> None:
        """Spawn the training process; ``wait``: until it has started (RemoteError if it
        cannot). With ``wait=False`` the caller goes on (importing the window meanwhile:
        the child imports NumPy on the other core) and the first call waits instead."""
        self.call_timeout, self.session_timeout = float(call_timeout), float(session_timeout)
        self.dataset, self.publish_hz = dataset, publish_hz  # to start another like it
        context = multiprocessing.get_context("spawn")  # never fork a process running Qt
        to_child, to_child_end = context.Pipe(duplex=False)
        from_child_end, from_child = context.Pipe(duplex=False)
        self._conn = Channel(from_child_end, to_child_end)
        child = Channel(to_child, from_child)
        self._conn.widen()
        child.widen()
        self._shared = SharedReader(f"bpviz_{os.getpid()}_{secrets.token_hex(4)}_")
        prefix = self._shared.prefix if shared_memory else None
        self._process = context.Process(
            target=serve,
            args=(child, None, config, publish_hz, prefix, os.getpid(), is_verbose()),
            name="bpviz-trainer",
            daemon=True,
        )
        self._process.start()
        child.close()
        # The data set (MBs) goes through the wide pipe, from a thread: in the process's
        # arguments, start() would wait until the child had imported everything and read
        # it (~1 s), instead of returning at once and letting this process work meanwhile.
        self._sending: threading.Thread | None = start_thread(
            "bpviz-send-data", self._send_dataset, dataset, daemon=True
        )
        self._ids = itertools.count()
        self._latest: Snapshot | None = None
        self._serial = -1
        self._running = False
        self._asked = True  # the first snapshot comes unasked
        self._asked_at = time.monotonic()
        self._closed = False
        self._failure: str | None = None
        self._stopped_since: float | None = None  # when the child was first seen stopped
        self._started = False
        if wait:
            self.wait_started()

    def wait_started(self) -> None:
        """Wait (``START_TIMEOUT`` at most) for the child's first snapshot; RemoteError,
        the child stopped, if it does not come. Returns at once once it has come."""
        if self._started:
            return
        self._started = True
        try:
            if self._sending is not None:  # only then may this thread use the pipe
                self._sending.join(START_TIMEOUT)
                if self._sending.is_alive():
                    raise RemoteError("the training process did not take its data")
                self._sending = None
            if not self._conn.poll(START_TIMEOUT):
                raise RemoteError("the training process did not start")
            first = self._conn.recv()
            if isinstance(first, Failed):
                raise RemoteError(f"the training process could not start: {first.reason}")
        except (EOFError, OSError):
            self.stop()
            raise RemoteError("the training process ended as it started") from None
        except RemoteError:
            self.stop()
            raise
        self._take(first)

    def _send_dataset(self, dataset: Dataset) -> None:
        with contextlib.suppress(EOFError, OSError):  # a child that died: wait_started says
            self._conn.send(dataset)

    # --- the Worker interface ---

    def start(self) -> None:
        """The child's worker runs from the start; kept for the Worker interface."""

    @property
    def pid(self) -> int | None:
        """The training process's id."""
        return self._process.pid

    def latest(self) -> Snapshot | None:
        """The newest snapshot received; asks for a newer one if none is on its way.
        Notices a child that died or has not answered (``failure``); never blocks."""
        if self._closed:
            return self._latest
        self.wait_started()
        try:
            self._drain()
            if not self._asked:
                self._conn.send(Latest(self._serial))
                self._asked, self._asked_at = True, time.monotonic()
            else:
                # A child that died closes the pipe (``_drain`` raises); only a reply that
                # is late is worth a look at the process (``/proc``: ~50 µs a frame else)
                waited = time.monotonic() - self._asked_at
                if waited > LATE_REPLY:
                    self._check_child(waited, self.call_timeout)
        except (EOFError, OSError):
            self._lose(self._ended())
        except RemoteError:
            pass  # said by ``failure``; the window shows it
        return self._latest

    @property
    def alive(self) -> bool:
        """True while the training process serves requests."""
        return not self._closed and self._process.is_alive()

    @property
    def failure(self) -> str | None:
        """Why the training process was lost (killed, crashed, not answering), as a
        sentence for the window; None while it serves, and after a ``stop()``."""
        if self._failure is None and not self._closed and not self._process.is_alive():
            self._lose(self._ended())
        return self._failure

    def with_session(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``fn(session, *args, **kwargs)`` in the child, between two mini-batches; its
        result (see ``Worker.with_session``). The newest snapshot comes with it."""
        return self._call(WithSession(fn, args, kwargs), self.session_timeout)

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until the child's worker has applied every command and is paused; True if
        so. The child waits ``timeout`` seconds (None: ``call_timeout``), this side that
        plus ``call_timeout``; the newest snapshot comes with the answer."""
        limit = self.call_timeout if timeout is None else float(timeout)
        return self._call(WaitIdle(limit), limit + self.call_timeout)

    # --- commands: run(), set_eta() … come from TrainingWorker; checked by the child's Worker ---

    def submit(self, command: Command) -> float | None:
        """Send ``command`` to the child's ``Worker.submit``; its acknowledgement (the η
        accepted for ``SetEta``, else None — no snapshot). TypeError here, nothing sent,
        if it is no command."""
        if not isinstance(command, Command):
            raise TypeError(f"not a worker command: {command!r}")
        return self._call(command, self.call_timeout)

    def stop(self, timeout: float = 1.0) -> None:
        """Stop the worker and end the process (idempotent): asked to stop, then
        terminated, then killed — a stopped (SIGSTOP) child is killed at once."""
        self._running = False
        sending = self._sending is not None and self._sending.is_alive()
        if not self._closed:
            self._closed = True
            if not sending:  # (else the pipe is the data's: the child is terminated)
                with contextlib.suppress(EOFError, OSError):
                    self._conn.send(Stop())
        if sending and self._process.is_alive():
            self._process.terminate()
        if self._process.pid is not None:
            deadline = time.monotonic() + timeout + 2.0
            while self._process.is_alive() and time.monotonic() < deadline:
                if process_state(self._process.pid) in STOPPED:
                    break  # it cannot end by itself, nor on SIGTERM
                self._discard_replies()  # a reply being sent must not block the child
                self._process.join(0.02)
            if self._process.is_alive() and process_state(self._process.pid) not in STOPPED:
                self._process.terminate()
                self._process.join(1.0)
            if self._process.is_alive():
                self._process.kill()
                self._process.join(5.0)
        self._shared.unlink_leftovers()  # none, unless the child was killed
        self._conn.close()

    def _discard_replies(self) -> None:
        with contextlib.suppress(EOFError, OSError):
            while self._conn.poll():
                self._conn.recv()

    # --- the pipe ---

    def _call(self, request: Command | WaitIdle | WithSession, timeout: float) -> Any:
        """Send ``request``; wait at most ``timeout`` seconds for its answer (snapshots
        that arrive meanwhile are taken); its value, or its error raised here."""
        if self._closed:
            raise RemoteError(self._failure or "the training process has stopped")
        self.wait_started()
        cid = next(self._ids)
        try:
            self._conn.send(Call(cid, request, self._serial))
            started = time.monotonic()
            while True:
                while not self._conn.poll(POLL):
                    self._check_child(time.monotonic() - started, timeout)
                match self._conn.recv():
                    case Published() as published:
                        self._take(published)
                    case Answer(reply_id, value, error, state):
                        if state is not None:
                            self._take(state, asked=False)
                        if reply_id == cid:
                            break
        except (EOFError, OSError):
            raise self._lose(self._ended()) from None
        if error is not None:
            raise error
        return value

    def _check_child(self, waited: float, timeout: float) -> None:
        """While waiting ``waited`` seconds for a reply: RemoteError (the child given up)
        if it died, has been stopped too long, or ``timeout`` has passed."""
        if not self._process.is_alive():
            if self._conn.poll():
                return  # its last words first (a reply, or the end of the pipe)
            raise self._lose(self._ended())
        if process_state(self._process.pid) in STOPPED:
            self._stopped_since = self._stopped_since or time.monotonic()
            if time.monotonic() - self._stopped_since > STOPPED_TIMEOUT:
                raise self._lose(
                    f"The training process does not answer: it is stopped (SIGSTOP or a "
                    f"debugger) and gave no reply in {waited:.0f} s.",
                    timeout=True,
                )
        else:
            self._stopped_since = None
        if waited > timeout:
            raise self._lose(
                f"The training process did not answer within {timeout:g} s.", timeout=True
            )

    def _ended(self) -> str:
        """The sentence for a child whose pipe closed: how it ended."""
        self._process.join(1.0)  # its exit status, if it is ending
        return f"The training process stopped: it {describe_exit(self._process.exitcode)}."

    def _lose(self, message: str, *, timeout: bool = False) -> RemoteError:
        """Give the child up: later calls raise at once; the error to raise now."""
        self._closed, self._running = True, False
        if self._failure is None:
            self._failure = message
        return (RemoteTimeoutError if timeout else RemoteError)(self._failure)

    def _drain(self) -> None:
        while self._conn.poll():
            message = self._conn.recv()
            if isinstance(message, Published):  # (answers come while ``_call`` waits)
                self._take(message)

    def _take(self, published: Published, asked: bool = True) -> None:
        """Take the child's state; ``asked``: the answer to our ``Latest``."""
        if asked:
            self._asked = False
        self._running = published.running
        if published.snapshot is not None:  # copied out of shared memory now, before the next
            self._latest = self._shared.unpack(published.snapshot)
            self._serial = published.serial
