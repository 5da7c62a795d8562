"""Open session files in a process of their own and say what each cost (for the tests).

``python tests/loader_probe.py GOOD FILE...`` opens GOOD (a window session on the
embedded sample; it warms every code path up), then each FILE in turn into a session on
the sample, and prints one JSON line per FILE: ``outcome`` ("opened", "refused" with
the ``message``, or "crash" with the exception), the CPU seconds it took (process time:
what the loader spent, not how busy the machine was) and ``grown``, how far the
process's resident memory peaked above its level before that FILE, in bytes.

The address space is capped a few GiB above the start, so a file that asks for far too
much memory fails here instead of taking the machine's.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

CAP = 3 << 30  # address space allowed on top of the start


def _status(field: str) -> int:
    """A ``/proc/self/status`` memory field, in bytes."""
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise KeyError(field)


def _reset_peak() -> None:
    """Start the resident peak (VmHWM) afresh: the per-case measure. (``ru_maxrss``
    would not do: Linux keeps it across exec, so this child would report the peak of
    the test process that started it.)"""
    with open("/proc/self/clear_refs", "w", encoding="ascii") as f:
        f.write("5")


def main(argv: list[str]) -> int:
    from bpviz.data.sample import load_sample
    from bpviz.files import checkpoint
    from bpviz.session.session import Session
    from bpviz.session.snapshot import SessionConfig

    CheckpointError, open_session = checkpoint.CheckpointError, checkpoint.open_session
    good, *paths = argv
    session = Session(load_sample(), SessionConfig(sizes=(784, 20, 10), seed=11))
    open_session(good, session)
    virtual = _status("VmSize")
    resource.setrlimit(resource.RLIMIT_AS, (virtual + CAP, resource.RLIM_INFINITY))
    for path in paths:
        _reset_peak()
        before = _status("VmRSS")
        start = time.process_time()
        outcome, message = "opened", ""
        try:
            open_session(path, session)
        except CheckpointError as error:
            outcome, message = "refused", str(error)
        except BaseException as error:  # anything else is what the tests look for
            outcome, message = "crash", f"{type(error).__name__}: {error}"
        cpu = time.process_time() - start
        line = {"path": path, "outcome": outcome, "message": message, "cpu": cpu}
        print(json.dumps({**line, "grown": _status("VmHWM") - before}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
