"""The Worker's ``with_session`` calls: ``fn(session, …)`` queued for the worker thread,
run there between two commands, and answered to the caller through a ``Future``.

``Worker.with_session`` (the protocol's method, in the Worker's own body) queues a
``SessionCall`` and waits; the worker thread runs it with ``_in_session`` — ``fn``, then
the session adopted (``_adopt_session``: paused, its configuration and data the basis
for later commands, published). Calls still queued when the worker stops are refused
with ``STOPPED``. A mixin of ``Worker``: it uses the Worker's lock ``_cond``,
``session``, ``publish`` and ``_guarded``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, ClassVar

STOPPED = "the worker stopped before the call could run"


@dataclass(frozen=True, slots=True, eq=False)
class SessionCall:
    """A ``with_session`` call queued for the worker thread; its caller waits on ``future``."""

    name: ClassVar[str] = "with_session"

    fn: Callable[..., Any]
    args: tuple
    kwargs: dict
    future: Future


class SessionCallsMixin:
    """``with_session`` calls for ``Worker`` (see the module doc)."""

    def _adopt_session(self) -> None:
        """After a successful ``with_session``: paused, the session's config and data
        the basis for later commands, its snapshot published."""
        self._running = False
        with self._cond:
            self._config, self._dataset = self.session.config, self.session.dataset
        self.publish()

    def _in_session(self, call: SessionCall) -> None:
        """A ``with_session`` call, on the worker thread: ``fn``, whose result or
        exception goes to the caller waiting on ``call.future``."""
        future = call.future
        if not future.set_running_or_notify_cancel():
            return
        try:
            value = call.fn(self.session, *call.args, **call.kwargs)
        except BaseException as error:  # the caller's to handle: the worker carries on
            future.set_exception(error)
            return
        try:
            self._adopt_session()
        except BaseException as error:  # the snapshot failed: the caller hears of it
            future.set_exception(error)
            return
        future.set_result(value)

    @staticmethod
    def _refuse_calls(queued: Iterable[object]) -> None:
        """The worker stopped: each call in ``queued`` raises ``STOPPED`` in its caller."""
        for item in queued:
            if isinstance(item, SessionCall):
                item.future.set_exception(RuntimeError(STOPPED))
