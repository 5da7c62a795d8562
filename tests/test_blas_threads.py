"""One BLAS thread in a process that trains beside something else (bpviz.session.blas).

Each case runs in a fresh Python process: the limit is for the whole process and for
good, and the point is what happens to libraries loaded after it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

PROBE = r"""
import json, sys
from threadpoolctl import threadpool_info
from bpviz.data import load_sample
from bpviz.runtime.worker import Worker
from bpviz.session import blas
from bpviz.session.session import Session

def threads():
    return [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]

report = {"scipy_before": "scipy.linalg" in sys.modules, "before": threads()}
session = Session(load_sample())
if sys.argv[1] == "worker":
    worker = Worker(session)
    worker.start()
    worker.step_batch()  # the engine's fast path: its gemm loads SciPy's BLAS now
    worker.with_session(lambda session: session.run(800))  # two epoch ends: two evaluations
    report["epochs"] = worker.with_session(lambda session: len(session.history.epochs))
    worker.stop()
else:  # the session alone, as the headless trainer uses it: evaluations at once
    session.run(801)
    report["epochs"] = len(session.history.epochs)
report["limited"] = blas.process_limited()
report["after"] = threads()
print(json.dumps(report))
"""


def probe(mode: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    result = subprocess.run(
        [sys.executable, "-c", PROBE, mode], capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_a_started_worker_limits_its_process_also_scipys_blas_loaded_later() -> None:
    report = probe("worker")
    # SciPy's BLAS was not there when the worker started: the environment variable
    # is what limited it when the engine loaded it
    assert not report["scipy_before"]
    assert report["limited"] and report["epochs"] == 2
    assert len(report["after"]) >= 2, report
    assert all(n == 1 for n in report["after"]), report


def test_a_session_alone_leaves_blas_alone() -> None:
    """Only a started worker (it trains beside a window) takes the limit: a
    session used directly (the headless trainer) keeps BLAS's own choice, on every
    core there is, once its evaluations' own one-thread limits have ended."""
    report = probe("session")
    assert not report["limited"] and report["epochs"] == 2
    assert len(report["after"]) >= 2, report
    if os.cpu_count() and os.cpu_count() > 1:
        assert max(report["after"]) > 1, report
