"""Run a call on a thread with a time limit: a test that would hang fails instead."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


def run_in_thread(target: Callable[[], object], limit: float = 10.0) -> tuple[object, float]:
    """Run ``target`` on a thread; (its result or exception, seconds taken). Fails the
    test — instead of hanging it — if it is still running after ``limit`` seconds."""
    outcome: list[object] = []

    def run() -> None:
        try:
            outcome.append(target())
        except BaseException as error:  # handed to the test
            outcome.append(error)

    start = time.monotonic()
    thread = threading.Thread(target=run, name="call-under-test", daemon=True)
    thread.start()
    thread.join(limit)
    assert not thread.is_alive(), f"still running after {limit} s (blocked?)"
    return outcome[0], time.monotonic() - start
