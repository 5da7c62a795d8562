"""Every thread bpviz starts is started here: named, daemon or not by choice, failures logged.

``start_thread(name, target, *args, daemon=…)`` runs ``target(*args)`` on a new thread
named ``name`` (``bpviz-…``, so a debugger or ``threading.enumerate()`` tells them apart).
An exception that escapes ``target`` is logged with its traceback (``logger.exception``)
instead of dying silently. Results reach Qt through signals emitted by ``target``, as
before; this module knows nothing of Qt (the session and the worker use it too).

``running()`` lists the threads started here that are still alive, plus any other
thread named ``bpviz-…``: tests check with it that nothing leaks.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)
PREFIX = "bpviz-"

_lock = threading.Lock()
_started: list[threading.Thread] = []


def start_thread(
    name: str, target: Callable[..., Any], *args: Any, daemon: bool, **kwargs: Any
) -> threading.Thread:
    """Start ``target(*args, **kwargs)`` on a thread called ``name`` and return it.

    ``daemon`` must be chosen: True for a thread the process may abandon at exit (a
    download the window cancels and joins with a timeout), False for one that must end
    before the interpreter does. An exception that escapes ``target`` is logged with its
    traceback on this module's logger."""
    if not name.startswith(PREFIX):
        name = PREFIX + name

    def run() -> None:
        try:
            target(*args, **kwargs)
        except Exception:
            logger.exception("thread %s failed", name)

    thread = threading.Thread(target=run, name=name, daemon=daemon)
    with _lock:
        _started[:] = [t for t in _started if t.is_alive()]
        _started.append(thread)
    thread.start()
    return thread


def running() -> list[threading.Thread]:
    """The threads started by ``start_thread`` (or named ``bpviz-…``) still alive."""
    with _lock:
        _started[:] = [t for t in _started if t.is_alive()]
        started = list(_started)
    others = [
        t
        for t in threading.enumerate()
        if t.name.startswith(PREFIX) and t not in started and t.is_alive()
    ]
    return started + others
