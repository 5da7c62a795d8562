"""How many threads BLAS may use: the one home of "one BLAS thread in the training process".

OpenBLAS's threads spin-wait for work. Beside a window (or an "Evaluate now" thread)
they take the core the other needs: on this project's 2 shared cores
a 2-thread product of the test digits by W^1 took many times longer than on one thread,
and the wide network's training and frames fell by half. At batch 10 the training
products are below OpenBLAS's threading threshold anyway.

Two ways to keep to one thread:

- :func:`limit_process`, once, in a process that trains beside something else (the
  window's training process, or the window's own in in-process mode): every BLAS
  library loaded now, and (through ``OPENBLAS_NUM_THREADS``) SciPy's, which the engine's
  gemm loads on first use, when it loads.
- :func:`one_thread` around one computation (an evaluation) in a process that was not
  limited. Changing the count is a ctypes call per library, each one handing the GIL
  to whichever thread wants it (the training thread, the GUI's) and waiting to get it
  back; in a limited process it does nothing.
"""

from __future__ import annotations

import contextlib
import os
import threading
from contextlib import AbstractContextManager

from threadpoolctl import ThreadpoolController, threadpool_limits

_lock = threading.Lock()
_limited = False  # this process runs BLAS on one thread, for good
_controller: ThreadpoolController | None = None


def limit_process() -> None:
    """One BLAS thread in this whole process from now on (idempotent)."""
    global _limited
    with _lock:
        if _limited:
            return
        # read by an OpenBLAS when it loads: SciPy's, which may load later
        os.environ["OPENBLAS_NUM_THREADS"] = "1"
        threadpool_limits(limits=1, user_api="blas")  # the ones loaded now (NumPy's)
        _limited = True


def process_limited() -> bool:
    """Whether :func:`limit_process` has run in this process."""
    return _limited


def one_thread() -> AbstractContextManager:
    """A context in which BLAS uses one thread: a no-op once the process is limited."""
    global _controller
    if _limited:
        return contextlib.nullcontext()
    with _lock:
        if _controller is None:  # finds the loaded BLAS libraries (once: it scans them)
            _controller = ThreadpoolController()
        controller = _controller
    return controller.limit(limits=1, user_api="blas")
