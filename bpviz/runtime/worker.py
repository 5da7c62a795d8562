"""All of bpviz's threading: a Session trained on one worker thread (plain ``threading``).

The GUI thread calls the command methods (``run``, ``pause``, ``step_batch``, …); each is
validated in the caller's thread (a bad η raises ValueError there), then queued and
applied by the worker at the next phase boundary — never dropped, always in order. The
worker publishes Snapshots latest-wins: ``latest()`` returns the newest (read-only
arrays, safe to keep), ``serial`` counts publications. Running at full speed it publishes
at most ``publish_hz`` times a second, on the engine's fast path, the mini-batch before
each publication with its full trace (so the views see every z, a, δ; bit-identical to
the traced path, so what is published never changes the numbers). At an animated pace
(``every_phase``) it runs and publishes one phase at a time, spaced evenly over 1/pace
seconds, the next only once ``latest()`` has taken the last (or ``UNSEEN_LIMIT`` passed):
a window polling ``latest()`` sees every phase in order; a pause stops on one. Every single
step command publishes its result; every array published is read-only and shares no
memory with the session (``readonly.Sealer``). An exception inside the worker becomes
the snapshot's ``message`` (its traceback goes to the log) and the worker serves on.
``with_session`` (save, open, export) runs on the worker thread between two commands,
so it sees one consistent state whichever threads command meanwhile
(``worker_calls``). The epoch-end evaluation runs on the worker thread too, inside the
stretch that ends the epoch (``Session.end_epoch``; see there why not beside it).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter, deque
from concurrent.futures import Future
from dataclasses import replace

import numpy as np

from bpviz.runtime.commands import (
    AddWatch,
    Command,
    Pause,
    RemoveWatch,
    Reset,
    Run,
    SetDataset,
    SetEta,
    SetPace,
    StepBatch,
    StepPhase,
    TrainingWorker,
    TrainOn,
    check,
)
from bpviz.runtime.readonly import Sealer
from bpviz.runtime.threads import start_thread
from bpviz.runtime.worker_calls import SessionCall, SessionCallsMixin
from bpviz.session import blas
from bpviz.session.session import Session
from bpviz.session.snapshot import Snapshot

RUN_CHUNK = 1_000_000  # most fast-path steps between two looks at the clock and queue
UNSEEN_LIMIT = 1.0  # seconds an animated phase waits for latest() before the next one runs
logger = logging.getLogger(__name__)


class Worker(SessionCallsMixin, TrainingWorker):
    """Drives ``session`` on a thread named ``bpviz-worker``; see the module doc.

    The worker owns the session from ``start()`` to ``stop()``: read it from another
    thread only while ``wait_idle()`` holds (tests do), otherwise use ``latest()``.
    """

    def __init__(self, session: Session, *, publish_hz: float = 60.0) -> None:
        if not 0.0 < float(publish_hz) < float("inf"):
            raise ValueError(f"publish_hz must be positive, got {publish_hz!r}")
        self.session = session
        self._period = 1.0 / float(publish_hz)
        self._cond = threading.Condition()
        self._queue: deque[Command | SessionCall] = deque()
        self._interrupt = threading.Event()  # set while commands wait: ends a fast run early
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._idle = True  # nothing queued, nothing being applied, not running
        self._running = False  # the worker thread's state (written only by it)
        self._pace: float | None = None
        self._every_phase = False  # an animated pace: one phase at a time
        self._unseen_until: float | None = None  # an animated phase not yet taken: wait till
        self._next_step_at = 0.0
        self._next_publish_at = 0.0
        # what the queued commands will leave, to validate new ones in the caller's thread
        self._config, self._dataset = session.config, session.dataset
        self._latest: Snapshot | None = None
        self._serial = 0
        self.cpu_seconds = 0.0  # CPU time spent running, evaluations included (for benchmarks)
        self.submitted: Counter[type] = Counter()  # commands queued, by class
        self.applied: Counter[type] = Counter()  # commands applied (or failed), by class
        self._sealer = Sealer()  # publishing threads: this one before start, then the worker's
        self.publish()

    # --- lifecycle ---

    def start(self) -> None:
        """Start the thread (once; later calls do nothing). From then on this process
        runs BLAS on one thread: it trains beside something else (a window, this
        process's GUI thread), whose core OpenBLAS's spinning threads would take."""
        with self._cond:
            if self._thread is not None:
                return
            blas.limit_process()
            self._thread = start_thread("bpviz-worker", self._main, daemon=True)

    def stop(self, timeout: float = 1.0) -> None:
        """Stop after the current mini-batch and join the thread (idempotent). Commands
        still queued are discarded."""
        with self._cond:
            self._stopping = True
            self._interrupt.set()
            self._cond.notify_all()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def latest(self) -> Snapshot | None:
        """The latest published snapshot (immutable, read-only arrays)."""
        with self._cond:
            if self._unseen_until is not None:  # the phase is seen: the next may run
                self._unseen_until = None
                self._cond.notify_all()
            return self._latest

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until every queued command is applied and the worker is paused; True if so."""
        with self._cond:
            return self._cond.wait_for(lambda: self._idle and not self._queue, timeout)

    @property
    def failure(self) -> str | None:
        """None: a thread in this process is never lost (``RemoteWorker``'s child may be)."""
        return None

    # --- commands (any thread): run(), set_eta() … come from TrainingWorker, via submit ---

    def submit(self, command: Command) -> float | None:
        """Check ``command`` in the caller's thread and queue it; the accepted η for
        ``SetEta``, else None. ValueError (nothing queued) if it is refused, TypeError if
        it is no command, RuntimeError once the worker is stopped."""
        with self._cond:
            checked, self._config, self._dataset = check(command, self._config, self._dataset)
            self._enqueue(checked)
        return checked.eta if isinstance(checked, SetEta) else None

    def _enqueue(self, command: Command | SessionCall) -> None:
        if self._stopping:
            raise RuntimeError(f"the worker is stopped; {command.name} was not applied")
        self._queue.append(command)
        self.submitted[type(command)] += 1
        self._idle = False
        self._interrupt.set()
        self._cond.notify_all()

    # --- the thread ---

    def with_session(self, fn, *args, **kwargs):
        """``fn(session, *args, **kwargs)`` on the worker thread, between two commands (or
        two mini-batches of a run), and its result here; its exception is raised here.

        Whoever else sends commands meanwhile, ``fn`` sees one state: the one left by
        the commands queued before this call, none of those queued after (a save is
        consistent). If ``fn`` returns, the worker pauses, takes the session's
        configuration and data as the basis for later commands (``fn`` may have opened a
        session file with others) and publishes; if it raises, nothing else changes — a
        running worker goes on running (a refused file does not pause training).
        RuntimeError if the worker is stopped first."""
        with self._cond:
            inline = self._thread is None or self._thread is threading.current_thread()
            if not inline:
                future: Future = Future()
                self._enqueue(SessionCall(fn, args, kwargs, future))
        if not inline:
            return future.result()
        # not started (nothing else runs the session) or called from the worker itself
        value = fn(self.session, *args, **kwargs)
        self._adopt_session()
        return value

    def publish(self, *, unseen: bool = False) -> None:
        """Publish the session's snapshot now (the worker calls this; so may a test
        before ``start``); ``unseen``: an animated phase, the next waits for ``latest()``."""
        snapshot = self._sealer.seal(self.session.snapshot(running=self._running))
        with self._cond:
            self._latest = snapshot
            self._serial += 1
            self._unseen_until = time.perf_counter() + UNSEEN_LIMIT if unseen else None

    def _main(self) -> None:
        with np.errstate(all="ignore"):  # overflow in a diverging run is handled, not printed
            while True:
                with self._cond:
                    commands = self._wait_for_work()
                    if commands is None:
                        self._refuse_calls(self._queue)  # their callers wait: say why
                        self._queue.clear()
                        self._running, self._idle = False, True
                        self._cond.notify_all()
                        return
                for command in commands:
                    if isinstance(command, SessionCall):
                        self._in_session(command)
                    else:
                        self._guarded(self._apply, command)
                    self.applied[type(command)] += 1
                if not commands and self._running:
                    started = time.thread_time()
                    self._guarded(self._advance)
                    self.cpu_seconds += time.thread_time() - started  # the worker's alone

    def _wait_for_work(self) -> list | None:
        """Under the lock: the queued commands, [] when a running step is due, None to
        stop. Marks the worker idle and sleeps while there is nothing to do."""
        while not self._stopping:
            if self._queue:
                commands = list(self._queue)
                self._queue.clear()
                self._interrupt.clear()
                return commands
            if self._running:
                wait = self._due_in(time.perf_counter())
                if wait <= 0:
                    return []
                self._cond.wait(wait)
            else:
                self._idle = True
                self._cond.notify_all()
                self._cond.wait()
        return None

    def _due_in(self, now: float) -> float:
        """Under the lock, running: seconds until the next step (≤ 0: now). An animated
        phase waits for its time and for ``latest()`` to take the one before it."""
        if not self._pace:
            return 0.0
        wait = self._next_step_at - now
        if self._unseen_until is not None:
            if now < self._unseen_until:
                return max(wait, min(self._unseen_until - now, 0.05))  # latest() notifies
            self._unseen_until = None  # nobody looks: go on
        return wait

    def _guarded(self, action, *args) -> None:
        try:
            action(*args)
        except Exception as error:  # the thread must survive and say what happened
            # the snapshot's message says what; the log keeps where (the traceback)
            what = args[0].name if action == self._apply else action.__name__
            logger.exception("worker: %s failed", what)
            self._running = False
            self.session.message = f"{type(error).__name__}: {error}"
            try:
                self.publish()
            except Exception:  # the snapshot itself failed: publish the message alone
                logger.exception("publishing the snapshot after that failure failed")
                with self._cond:
                    if self._latest is not None:
                        self._latest = replace(
                            self._latest, running=False, message=self.session.message
                        )
                    self._serial += 1

    def _apply(self, command: Command) -> None:
        """Worker thread: apply one checked command (``commands.check``), then publish
        unless running (a run publishes as it goes)."""
        session, was_running = self.session, self._running
        if isinstance(command, Pause | StepBatch | StepPhase | Reset | SetDataset):
            self._running = False  # these pause first
        match command:
            case Run():
                session.message = None
                self._running = True
                now = time.perf_counter()
                self._next_step_at, self._next_publish_at = now, now + self._period
            case Pause():
                if was_running:
                    self._settle()
            case StepBatch():
                session.step_batch()
            case StepPhase():
                session.step_phase()
            case Reset(config, seed):
                session.reset(config, seed=seed)
            case SetDataset(dataset):
                session.set_dataset(dataset)
            case SetEta(eta):
                session.set_eta(eta)
            case SetPace(pace, every_phase):
                self._pace, self._every_phase = pace, every_phase
                self._next_step_at = time.perf_counter()
            case AddWatch(l, i, j):
                session.add_watch(l, i, j)
            case RemoveWatch(l, i, j):
                session.remove_watch(l, i, j)
            case TrainOn(x, labels):
                session.train_on(x, labels)
            case _:  # pragma: no cover - ``submit`` lets no other object through
                raise TypeError(f"not a worker command: {command!r}")
        if not self._running or isinstance(command, Run):
            self.publish()

    def _advance(self) -> None:
        """One stretch of running: fast steps until a publication is due, then one traced
        mini-batch that is published. With a pace, one mini-batch per due time; with an
        animated one, one phase per due time, each published."""
        session, now = self.session, time.perf_counter()
        if self._pace is not None and self._every_phase:  # animated: one phase, published
            interval = 1.0 / (self._pace * len(session.phases))
            # late (a busy machine, a window slow to look): still hold the next for a while
            self._next_step_at = max(self._next_step_at + interval, now + 0.5 * interval)
            session.step_phase()
            self._publish_running(now, unseen=True)
        elif self._pace is not None:
            self._next_step_at = max(self._next_step_at + 1.0 / self._pace, now - 0.25)
            if now < self._next_publish_at:
                session.run(1)
            else:
                session.run(1, trace_last=True)
                self._publish_running(now)
        elif now < self._next_publish_at:  # fast until a publication is due (or a command)
            session.run(RUN_CHUNK, until=self._next_publish_at, interrupt=self._interrupt)
        else:  # due: one mini-batch with its trace, published
            session.run(1, trace_last=True)
            self._publish_running(now)
        if session.diverged:
            self._running = False
            self.publish()

    def _settle(self) -> None:
        """Paused while running: a stretch on the fast path leaves no trace (phase None,
        nothing but x to show), so complete one more mini-batch with its trace, as every
        publication while running does. The paused window then shows a whole mini-batch
        (x, a, δ, ∂C/∂W, the update) until the next phase is computed."""
        session = self.session
        if session.phase is None and not session.diverged:
            session.run(1, trace_last=True)

    def _publish_running(self, now: float, *, unseen: bool = False) -> None:
        self._next_publish_at = now + self._period  # so never more than publish_hz
        self.publish(unseen=unseen)
