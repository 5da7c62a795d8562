"""The epoch's compute time: seconds spent training in the current epoch, pauses not
counted — the ``seconds`` of an epoch's metrics and of a session file."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager


class ComputeClock:
    """Adds up the wall time spent inside ``timed()`` blocks since the last ``restart``."""

    def __init__(self) -> None:
        self._seconds = 0.0
        self._since: float | None = None  # start of the block under way, if any

    @contextmanager
    def timed(self) -> Iterator[None]:
        """Count the time spent in this block."""
        self._since = time.perf_counter()
        try:
            yield
        finally:
            self._seconds += time.perf_counter() - self._since
            self._since = None

    def seconds(self) -> float:
        """Seconds counted so far, the block under way included."""
        running = time.perf_counter() - self._since if self._since is not None else 0.0
        return self._seconds + running

    def restart(self, seconds: float = 0.0) -> None:
        """Count from ``seconds`` (a new epoch: 0; a restored one: its seconds so far); a
        block under way counts from now."""
        self._seconds = float(seconds)
        if self._since is not None:
            self._since = time.perf_counter()
