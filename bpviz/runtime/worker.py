"""All of bpviz's threading: a Session trained on one worker thread (plain ``threading``).

The GUI thread calls the command methods (``run``, ``pause``, ``step_batch``, …); each is
validated in the caller's thread (a bad η raises ValueError there), then queued and
applied by the worker at the next phase boundary — never dropped, always in order. The
worker publishes Snapshots latest-wins: ``latest()`` returns the newest (read-only
arrays, safe to keep), ``serial`` counts publications. Running at full speed it publishes
at most ``publish_hz`` times a second, on the engine's fast path, the mini-batch before
each publication with its full trace (so the views see every z, a, δ; bit-identical to
the traced path, so what is published never changes the numbers). Every single
step command publishes its result; every array published is read-only and shares no
memory with the session (``readonly.Sealer``). An exception inside the worker becomes
the snapshot's ``message`` (its traceback goes to the log) and the worker serves on.
``with_session`` (save, open, export) runs on the worker thread between two commands,
so it sees one consistent state whichever threads command meanwhile.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections import Counter, deque
from concurrent.futures import Future
from dataclasses import replace

import numpy as np

from bpviz.data.dataset import Dataset
from bpviz.runtime.readonly import Sealer
from bpviz.runtime.threads import executor, start_thread
from bpviz.runtime.worker_evaluations import EvaluationsMixin
from bpviz.session import limits
from bpviz.session.session import Session, check_config
from bpviz.session.snapshot import SessionConfig, Snapshot

RUN_CHUNK = 1_000_000  # most fast-path steps between two looks at the clock and queue
logger = logging.getLogger(__name__)
STOPPED = "the worker stopped before the call could run"

logger = logging.getLogger(__name__)


def _check_pace(steps_per_second: float | None) -> float | None:
    if steps_per_second is None:
        return None
    if isinstance(steps_per_second, bool | str):
        raise ValueError(f"pace must be a number of steps per second, got {steps_per_second!r}")
    value = float(steps_per_second)
    if not 0.0 < value < float("inf"):
        raise ValueError(f"pace must be a positive number of steps per second, got {value}")
    return value


class Worker(EvaluationsMixin):
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
        self._queue: deque[tuple[str, tuple]] = deque()
        self._interrupt = threading.Event()  # set while commands wait: ends a fast run early
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._idle = True  # nothing queued, nothing being applied, not running
        self._running = False  # the worker thread's state (written only by it)
        self._pace: float | None = None
        self._next_step_at = 0.0
        self._next_publish_at = 0.0
        # what the queued commands will leave, to validate new ones in the caller's thread
        self._config, self._dataset = session.config, session.dataset
        self._latest: Snapshot | None = None
        self._serial = 0
        self.cpu_seconds = 0.0  # CPU time spent running and evaluating (for benchmarks)
        self.submitted: Counter[str] = Counter()  # commands queued, by name
        # epoch-end evaluations run on a second thread while training goes on; their
        # results come back as commands, so only the worker thread touches the session
        self._evaluations = executor("bpviz-evaluation")
        self._evaluating = 0
        self._pending: deque[tuple[Future, int]] = deque()  # evaluations not yet recorded
        session.evaluator = self._evaluate_later
        self.applied: Counter[str] = Counter()  # commands applied (or failed), by name
        self._sealer = Sealer()  # publishing threads: this one before start, then the worker's
        self.publish()

    # --- lifecycle ---

    def start(self) -> None:
        """Start the thread (once; later calls do nothing)."""
        with self._cond:
            if self._thread is not None:
                return
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
        self._evaluations.shutdown(wait=True, cancel_futures=True)

    @property
    def running(self) -> bool:
        """True while the worker trains continuously (run until pause)."""
        return self._running

    @property
    def serial(self) -> int:
        """Number of snapshots published so far."""
        return self._serial

    def latest(self) -> Snapshot | None:
        """The latest published snapshot (immutable, read-only arrays)."""
        with self._cond:
            return self._latest

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until every queued command is applied and the worker is paused; True if so."""
        with self._cond:
            return self._cond.wait_for(
                lambda: self._idle and not self._queue and not self._evaluating, timeout
            )

    # --- commands (any thread) ---

    def run(self) -> None:
        """Train continuously (at the pace set by ``set_pace``) until ``pause``."""
        self._submit("run")

    def pause(self) -> None:
        """Stop before the next mini-batch (or phase) starts."""
        self._submit("pause")

    def step_batch(self) -> None:
        """Pause if running, then complete one mini-batch (the rest of one under way)."""
        self._submit("step_batch")

    def step_phase(self) -> None:
        """Pause if running, then run exactly one phase."""
        self._submit("step_phase")

    def reset(self, config: SessionConfig | None = None, *, new_seed: bool = False) -> None:
        """Pause and start afresh with ``config`` (or the current one), with a fresh random
        seed if ``new_seed``; ValueError here if ``config`` is invalid."""
        with self._cond:
            base = self._config if config is None else config
            if new_seed:
                base = replace(base, seed=secrets.randbelow(2**31))
            checked = check_config(base, self._dataset)
            self._config = checked
            self._enqueue("reset", (None if config is None else checked, checked.seed))

    def set_eta(self, eta: float) -> None:
        """Use η from the next update on (ValueError here if ``limits.check_eta`` refuses it)."""
        self._submit("set_eta", limits.check_eta(eta))

    def set_pace(self, steps_per_second: float | None) -> None:
        """Limit running to ``steps_per_second`` (None: full speed)."""
        self._submit("set_pace", _check_pace(steps_per_second))

    def set_dataset(self, dataset: Dataset) -> None:
        """Train on ``dataset``; takes effect with the reset it implies."""
        with self._cond:
            sizes = (dataset.n_inputs, *self._config.sizes[1:-1], dataset.n_classes)
            self._config = check_config(replace(self._config, sizes=sizes), dataset)
            self._dataset = dataset
            self._enqueue("set_dataset", (dataset,))

    def train_on(self, x: np.ndarray, labels: np.ndarray) -> None:
        """One extra update on examples x ``(m, n_0)`` in [0, 1] with ``labels`` ``(m,)``
        (e.g. a drawn digit), between mini-batches; ValueError here if they do not fit."""
        with self._cond:
            sizes = self._config.sizes
            x = np.array(x, dtype=np.float64, ndmin=2)
            labels = np.array(labels, ndmin=1)
            if x.ndim != 2 or x.shape[1] != sizes[0] or not np.all(np.isfinite(x)):
                raise ValueError(f"x must be finite, shape (m, {sizes[0]}); got {x.shape}")
            if (
                labels.shape != (x.shape[0],)
                or labels.dtype.kind not in "iu"
                or (labels.size and (labels.min() < 0 or labels.max() >= sizes[-1]))
            ):
                raise ValueError(f"labels must be {x.shape[0]} integers in 0…{sizes[-1] - 1}")
            self._enqueue("train_on", (x, labels.astype(np.int64)))

    def add_watch(self, l: int, i: int, j: int) -> None:
        """Record w_ij of W^l and ∂C/∂w_ij at every step (ValueError if no such weight)."""
        with self._cond:
            sizes = self._config.sizes
            ok = all(isinstance(v, int | np.integer) and not isinstance(v, bool) for v in (l, i, j))
            if not (ok and 1 <= l < len(sizes) and 0 <= i < sizes[l] and 0 <= j < sizes[l - 1]):
                raise ValueError(f"no weight w_ij^l with (l, i, j) = {(l, i, j)} in {sizes}")
            self._enqueue("add_watch", (int(l), int(i), int(j)))

    def remove_watch(self, l: int, i: int, j: int) -> None:
        """Stop recording w_ij of W^l."""
        self._submit("remove_watch", l, i, j)

    def _submit(self, name: str, *args) -> None:
        with self._cond:
            self._enqueue(name, args)

    def _enqueue(self, name: str, args: tuple) -> None:
        if self._stopping:
            raise RuntimeError(f"the worker is stopped; {name} was not applied")
        self._queue.append((name, args))
        self.submitted[name] += 1
        self._idle = False
        self._interrupt.set()
        self._cond.notify_all()

    # --- the thread ---

    def with_session(self, fn, *args, **kwargs):
        """``fn(session, *args, **kwargs)`` on the worker thread, between two commands (or
        two mini-batches of a run), and its result here; its exception is raised here.

        Whoever else sends commands meanwhile, ``fn`` sees one state: the one left by
        the commands queued before this call, none of those queued after (a save is
        consistent). Epoch evaluations under way are recorded first. If ``fn`` returns,
        the worker pauses, takes the session's configuration and data as the basis for
        later commands (``fn`` may have opened a session file with others) and publishes;
        if it raises, nothing else changes — a running worker goes on running (a refused
        file does not pause training). RuntimeError if the worker is stopped first."""
        with self._cond:
            inline = self._thread is None or self._thread is threading.current_thread()
            if not inline:
                future: Future = Future()
                self._enqueue("session", (fn, args, kwargs, future))
        if not inline:
            return future.result()
        # not started (nothing else runs the session) or called from the worker itself
        value = fn(self.session, *args, **kwargs)
        self._adopt_session()
        return value

    def _adopt_session(self) -> None:
        """After a successful ``with_session``: paused, the session's config and data
        the basis for later commands, its snapshot published."""
        self._running = False
        with self._cond:
            self._config, self._dataset = self.session.config, self.session.dataset
        self.publish()

    def publish(self) -> None:
        """Publish the session's snapshot now (the worker calls this; so may a test
        before ``start``)."""
        snapshot = self._sealer.seal(self.session.snapshot(running=self._running))
        with self._cond:
            self._latest = snapshot
            self._serial += 1

    def _main(self) -> None:
        with np.errstate(all="ignore"):  # overflow in a diverging run is handled, not printed
            while True:
                with self._cond:
                    commands = self._wait_for_work()
                    if commands is None:
                        for name, args in self._queue:
                            if name == "session":  # its caller waits: say why it never ran
                                args[-1].set_exception(RuntimeError(STOPPED))
                        self._queue.clear()
                        self._evaluating = 0  # their results will not be applied
                        self._running, self._idle = False, True
                        self._cond.notify_all()
                        return
                for name, args in commands:
                    if name == "session":
                        self._in_session(*args)
                    else:
                        self._guarded(self._apply, name, args)
                    if name != "evaluated":  # the worker's own, not a caller's command
                        self.applied[name] += 1
                if not commands and self._running:
                    started = time.thread_time()
                    self._guarded(self._advance)
                    self._add_cpu(time.thread_time() - started)

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
                wait = self._next_step_at - time.perf_counter() if self._pace else 0.0
                if wait <= 0:
                    return []
                self._cond.wait(wait)
            else:
                self._idle = True
                self._cond.notify_all()
                self._cond.wait()
        return None

    def _in_session(self, fn, args: tuple, kwargs: dict, future: Future) -> None:
        """A ``with_session`` call, on the worker thread: evaluations under way recorded
        first (the epoch counter and the metrics then agree), then ``fn``; its result or
        exception goes to the caller waiting on ``future``."""
        if not future.set_running_or_notify_cancel():
            return
        try:
            self._guarded(self._settle_evaluations)
            value = fn(self.session, *args, **kwargs)
        except BaseException as error:  # the caller's to handle: the worker carries on
            future.set_exception(error)
            return
        try:
            self._adopt_session()
        except BaseException as error:  # the snapshot failed: the caller hears of it
            future.set_exception(error)
            return
        future.set_result(value)

    def _guarded(self, action, *args) -> None:
        try:
            action(*args)
        except Exception as error:  # the thread must survive and say what happened
            # the snapshot's message says what; the log keeps where (the traceback)
            what = args[0] if action == self._apply else getattr(action, "__name__", action)
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

    def _apply(self, name: str, args: tuple) -> None:
        session = self.session
        if name == "run":
            session.message = None
            self._running = True
            now = time.perf_counter()
            self._next_step_at, self._next_publish_at = now, now + self._period
        elif name in ("pause", "step_batch", "step_phase", "reset", "set_dataset"):
            was_running, self._running = self._running, False
            if name == "pause" and was_running:
                self._settle()
            elif name == "step_batch":
                session.step_batch()
            elif name == "step_phase":
                session.step_phase()
            elif name == "reset":
                config, seed = args
                session.reset(config, seed=seed)
            elif name == "set_dataset":
                session.set_dataset(*args)
        elif name == "set_eta":
            session.set_eta(*args)
        elif name == "set_pace":
            self._pace = args[0]
            self._next_step_at = time.perf_counter()
        elif name == "evaluated":
            self._record_evaluation(*args)
        elif name == "add_watch":
            session.add_watch(*args)
        elif name == "remove_watch":
            session.remove_watch(*args)
        elif name == "train_on":
            session.train_on(*args)
        else:  # pragma: no cover - the methods above are the only producers
            raise ValueError(f"unknown command {name!r}")
        if not self._running or name == "run":
            self.publish()

    def _advance(self) -> None:
        """One stretch of running: fast steps until a publication is due, then one traced
        mini-batch that is published. With a pace, one mini-batch per due time."""
        session, now = self.session, time.perf_counter()
        if self._pace is not None:
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

    def _publish_running(self, now: float) -> None:
        self._next_publish_at = now + self._period  # so never more than publish_hz
        self.publish()
