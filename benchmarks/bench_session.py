"""The session's cost: throughput on the worker thread, pause latency, history memory.

Figures (measured in this one run; bare engine and session interleaved so that the
machine's noise hits both alike):

- ``session_throughput_ratio``: steps/s of a Session on its worker thread (full speed,
  publishing at 60 Hz, evaluating the held-out set at each epoch end) while a consumer
  thread takes ``latest()`` 60 times a second and reads its arrays, over steps/s of the
  bare engine (``FastTrainer.train_epoch`` over the same seeded epochs in a plain loop) —
  784-30-10, batch 10, float32, the full MNIST from ``BPVIZ_MNIST_DIR`` (else the
  embedded sample, whose 1,000 test digits per 400 mini-batches cost more). Median of
  the ratios of alternating quarter-second windows (the machine is shared: its load
  drifts). Target ≥ 0.85.
- ``session_cpu_throughput_ratio``: the same per CPU-second of the training thread
  (``Worker.cpu_seconds``) over the engine's per CPU-second of the main thread: what the
  session's own work costs, whatever share of the cores the machine leaves it.
- ``session_steps_per_s`` and ``engine_epoch_steps_per_s``: the two rates behind it.
- ``pause_latency_ms``: median time from ``pause()`` to ``wait_idle()`` returning, while
  running at full speed. Target ≤ 20.
- ``history_mb_per_million_steps``: memory (tracemalloc) the history grows by over
  1,000,000 steps recorded as a headless session records them (losses of real steps,
  an epoch's held-out metrics every 6,000 steps as on MNIST, views now and then; the
  test suite checks that a real run grows by its history and nothing else). Target ≤ 8.

Run alone: ``python3 benchmarks/bench_session.py [--quick] [--json]``.
"""

from __future__ import annotations

import os
import statistics
import sys
import threading
import time
import tracemalloc
from dataclasses import replace

import numpy as np

from bpviz.data import Dataset, load_idx_dir, load_sample
from bpviz.engine import FastTrainer, Network
from bpviz.runtime.worker import Worker
from bpviz.session.config import epoch_order
from bpviz.session.history import History
from bpviz.session.session import Session
from bpviz.session.snapshot import SessionConfig

CONFIG = SessionConfig()  # 784-30-10, sigmoid, quadratic, η = 3, batch 10


class BareEngine:
    """The bare engine: FastTrainer.train_epoch over the session's seeded epochs."""

    def __init__(self, data: Dataset) -> None:
        net = Network(CONFIG.sizes, seed=CONFIG.seed)
        self.trainer = FastTrainer(net, data.train_images, data.train_labels, CONFIG.batch_size)
        self.n = data.train_images.shape[0]
        self.per_epoch = self.n // CONFIG.batch_size
        self.epoch, self.k = 0, 0
        self.order = epoch_order(CONFIG.seed, 0, self.n)

    def rate(self, seconds: float) -> float:
        """Steps/s over about ``seconds``, in stretches of 64 mini-batches."""
        m, steps, start = CONFIG.batch_size, 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            count = min(64, self.per_epoch - self.k)
            done = self.trainer.train_epoch(self.order[self.k * m : (self.k + count) * m], 3.0)
            steps += len(done)
            self.k += count
            if self.k == self.per_epoch:
                self.epoch, self.k = self.epoch + 1, 0
                self.order = epoch_order(CONFIG.seed, self.epoch, self.n)
        return steps / (time.perf_counter() - start)


def consumer(worker: Worker, stop: threading.Event, active: threading.Event) -> None:
    """The GUI's part: take the latest snapshot 60 times a second and read from it."""
    serial = -1
    while not stop.wait(1.0 / 60.0):
        if active.is_set() and worker.serial != serial:
            serial = worker.serial
            snap = worker.latest()
            float(snap.weights[0][0, 0]) + float(snap.history.loss_mean[-1:].sum())


def throughput(data: Dataset, windows: int, seconds: float) -> dict[str, float]:
    """Alternating windows: the bare engine in the main thread, then the session on its
    worker thread with a 60 Hz consumer. Medians of the per-window ratios of steps per
    wall-clock second and of steps per CPU-second of the training thread."""
    bare, session = BareEngine(data), Session(data, CONFIG)
    worker = Worker(session, publish_hz=60.0)
    stop, active = threading.Event(), threading.Event()
    reader = threading.Thread(target=consumer, args=(worker, stop, active), name="consumer")
    worker.start()
    reader.start()
    rates: dict[str, list[float]] = {"engine": [], "session": [], "engine_cpu": [], "cpu": []}
    try:
        bare.rate(0.2)  # warm-up both
        worker.run()
        time.sleep(0.2)
        for _ in range(windows):
            worker.pause()
            worker.wait_idle(5.0)
            active.clear()
            cpu = time.thread_time()
            rate = bare.rate(seconds)
            rates["engine"].append(rate)
            rates["engine_cpu"].append(rate * seconds / (time.thread_time() - cpu))
            active.set()
            worker.run()
            time.sleep(0.02)
            s0, t0, cpu = session.step, time.perf_counter(), worker.cpu_seconds
            time.sleep(seconds)
            steps, wall = session.step - s0, time.perf_counter() - t0
            rates["session"].append(steps / wall)
            rates["cpu"].append(steps / max(worker.cpu_seconds - cpu, 1e-9))
    finally:
        stop.set()
        reader.join()
        worker.stop()
    median = statistics.median
    return {
        "session_throughput_ratio": median(
            s / e for s, e in zip(rates["session"], rates["engine"], strict=True)
        ),
        "session_cpu_throughput_ratio": median(
            s / e for s, e in zip(rates["cpu"], rates["engine_cpu"], strict=True)
        ),
        "session_steps_per_s": median(rates["session"]),
        "engine_epoch_steps_per_s": median(rates["engine"]),
    }


def pause_latency_ms(data: Dataset, repeats: int) -> float:
    """Median ms from pause() to the worker idle, pausing a full-speed run."""
    worker = Worker(Session(data, CONFIG))
    worker.start()
    rng = np.random.default_rng(0)
    latencies = []
    try:
        for _ in range(repeats):
            worker.run()
            time.sleep(0.02 + 0.03 * rng.random())
            start = time.perf_counter()
            worker.pause()
            if not worker.wait_idle(5.0):
                raise RuntimeError("the worker did not pause")
            latencies.append(time.perf_counter() - start)
    finally:
        worker.stop()
    return 1000.0 * statistics.median(latencies)


def history_mb_per_million(steps: int = 1_000_000, per_epoch: int = 6_000) -> float:
    """Memory (tracemalloc) a History grows by when fed ``steps`` mini-batches the way the
    session feeds it: losses in stretches, the held-out metrics of an epoch every
    ``per_epoch`` steps (MNIST's 60,000 / 10), a decimated view every 10,000 steps. The
    losses and metrics come from one real epoch of the session on the sample."""
    data = load_sample()
    session = Session(data, CONFIG)
    session.run(session.batches_per_epoch)
    losses = session.history.loss.values.astype(np.float64)
    metrics = session.history.epochs[0]
    history = History(CONFIG.eta)
    stretch = 64
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for start in range(0, steps, stretch):
            k = start % (len(losses) - stretch)
            history.loss.extend(losses[k : k + stretch])
            if (start + stretch) // per_epoch > start // per_epoch:
                history.record_epoch(
                    replace(
                        metrics,
                        epoch=len(history.epochs),
                        step=start + stretch,
                        confusion=metrics.confusion.copy(),
                        per_class_accuracy=metrics.per_class_accuracy.copy(),
                    )
                )
            if (start + stretch) // 10_000 > start // 10_000:
                history.view()
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    return grown / 2**20 * (1_000_000 / steps)


def training_data() -> Dataset:
    """The full MNIST from ``BPVIZ_MNIST_DIR`` when there, else the embedded sample."""
    path = os.environ.get("BPVIZ_MNIST_DIR")
    if path:
        try:
            return load_idx_dir(path)
        except Exception as error:  # the sample measures the same code
            print(f"bench_session: using the sample ({error})", file=sys.stderr)
    return load_sample()


def run(quick: bool = False) -> dict[str, float]:
    """All figures of this benchmark, measured in one run."""
    data = training_data()
    figures = throughput(data, *((12, 0.25) if quick else (40, 0.25)))
    return {
        **{k: round(v, 3 if "ratio" in k else None) for k, v in figures.items()},
        "pause_latency_ms": round(pause_latency_ms(data, 15 if quick else 40), 2),
        "history_mb_per_million_steps": round(history_mb_per_million(), 3),
    }


if __name__ == "__main__":
    import standalone

    standalone.main(run, __doc__)
