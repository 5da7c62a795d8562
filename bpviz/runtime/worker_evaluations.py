"""The Worker's epoch-end evaluations: run on a second thread beside training, recorded
by the worker thread (only it touches the session), in order.

The session calls ``_evaluate_later(job, run_id)`` at each epoch end (on the worker
thread); the job runs on the ``bpviz-evaluation`` thread; its result comes back as an
``Evaluated`` command. ``_settle_evaluations`` (worker thread) waits for every evaluation
under way and records it at once — a ``with_session`` call does so first, so that a
session file's epoch counter and epoch metrics agree. A mixin of ``Worker``: it uses the
Worker's lock ``_cond``, queue, ``_stopping`` and ``_guarded``.
"""

from __future__ import annotations

import time
from concurrent.futures import Future, wait
from dataclasses import dataclass
from typing import ClassVar


@dataclass(frozen=True, slots=True, eq=False)
class Evaluated:
    """The worker's own command (never a caller's): record the evaluation ``future`` of
    run ``run_id``."""

    name: ClassVar[str] = "evaluated"

    future: Future
    run_id: int


class EvaluationsMixin:
    """Epoch evaluations for ``Worker`` (see the module doc)."""

    def _evaluate_later(self, job, run_id: int) -> None:
        """The session's evaluator (worker thread): run ``job`` on the evaluation thread."""
        with self._cond:
            self._evaluating += 1

        def timed_job():
            started = time.thread_time()
            try:
                return job()
            finally:
                self._add_cpu(time.thread_time() - started)

        future = self._evaluations.submit(timed_job)
        self._pending.append((future, run_id))
        future.add_done_callback(lambda done: self._evaluated(done, run_id))

    def _settle_evaluations(self) -> None:
        """Worker thread: wait for the evaluations under way and record them, in order
        (their ``Evaluated`` commands, when they come, find them done)."""
        while self._pending:
            future, run_id = self._pending[0]
            wait([future])
            self._guarded(self._record_evaluation, future, run_id)

    def _record_evaluation(self, future: Future, run_id: int) -> None:
        """Worker thread: record a finished evaluation unless it already was."""
        if not any(future is pending for pending, _ in self._pending):
            return
        self._pending.remove((future, run_id))
        with self._cond:
            self._evaluating -= 1
        if not future.cancelled():
            self.session.record_epoch(future.result(), run_id)  # raises the job's error

    def _add_cpu(self, seconds: float) -> None:
        with self._cond:
            self.cpu_seconds += seconds

    def _evaluated(self, future, run_id: int) -> None:
        """On the evaluation thread: hand the metrics (or the error) to the worker."""
        with self._cond:
            if future.cancelled() or self._stopping:
                return
            self._queue.append(Evaluated(future, run_id))
            self._idle = False
            self._interrupt.set()
            self._cond.notify_all()
