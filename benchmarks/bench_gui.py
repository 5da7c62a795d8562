"""The window's cost: frames painted per second, and training speed with the window open.

Figures (all measured in this one run, headless and windowed interleaved so that the
machine's noise hits both alike):

- ``gui_fps``: frames per second while training at full speed with every view of the
  default layout on screen (784-30-10): new snapshots drawn into every visible view
  (``MainWindow.frames``), each followed by Qt's paint pass (checked: the network view's
  viewport receives paint events).
- ``gui_throughput_ratio``: training steps/s with the window open and painting, divided
  by steps/s of the same worker with no window.
- ``gui_fps_wide``: the same for 784-512-256-10.
- ``gui_cpu_ms_per_frame`` (and ``_wide``): the window process's CPU time per frame
  drawn — independent of how busy the machine is; 1000 / it bounds the fps.
- ``gui_transfer_ms`` (and ``_wide``): wall time per frame drawn that the window spends in
  ``RemoteWorker.latest()`` — receiving snapshots from the training process (through
  shared memory); ``gui_transfer_ms_wide_pickled``: the same with the snapshots pickled
  through the pipe (``shared_memory=False``, the way before).
- ``gui_throughput_ratio_thread``, ``gui_fps_thread``: the same with the worker on a
  thread of the window's process instead of a child process (the alternative);
  ``gui_steps_per_s_thread``: its training rate beside the window (the ratio's numerator;
  the denominator is ``gui_steps_per_s_headless``).
- ``gui_fps_animated``: frames per second the network view actually paints while the
  window plays phases at the default animated pace (``pacing.DEFAULT``, 784-30-10), the
  frame clock calling every view's ``animate(progress)``; ``gui_animate_calls_per_s``: the
  frame clock's ticks that handed the views a progress (what a view animating can paint).
- ``gui_step_latency_ms``: median wall time from a real ``.`` key event (QTest) to the
  network view's paint of the frame showing the new phase.
- ``gui_startup_s``: best wall time from launching ``main.py`` (a subprocess, fresh HOME,
  offscreen, the embedded sample) to the first paint event of the main window.

Run alone: ``QT_QPA_PLATFORM=offscreen python3 benchmarks/bench_gui.py [--quick] [--json]``.
"""

from __future__ import annotations

import os
import time
from dataclasses import replace

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QGraphicsView

from bpviz.data import load_sample
from bpviz.runtime.remote import RemoteWorker
from bpviz.runtime.worker import Worker
from bpviz.session.session import Session
from bpviz.session.snapshot import SessionConfig
from bpviz.ui import pacing
from bpviz.ui import settings as store
from bpviz.ui.app import PUBLISH_HZ
from bpviz.ui.main_window import MainWindow

WIDE = (784, 512, 256, 10)


class TimedLatest:
    """Wraps ``worker.latest`` to add up the wall time the window spends in it."""

    def __init__(self, worker) -> None:
        self.seconds = 0.0
        self._latest = worker.latest
        worker.latest = self

    def __call__(self):
        t0 = time.perf_counter()
        try:
            return self._latest()
        finally:
            self.seconds += time.perf_counter() - t0


class PaintCounter(QObject):
    """Counts paint events of one widget (a frame actually drawn on screen)."""

    def __init__(self, widget) -> None:
        super().__init__()
        self.count = 0
        self.at = 0.0  # perf_counter of the last paint
        widget.installEventFilter(self)

    def eventFilter(self, watched, event) -> bool:
        if event.type() == QEvent.Type.Paint:
            self.count += 1
            self.at = time.perf_counter()
        return False


def spin(app: QApplication, seconds: float) -> None:
    """Run the Qt event loop for ``seconds``."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.001)


def steps_per_second(worker: Worker, app: QApplication | None, seconds: float) -> float:
    """Full-speed training steps per second over ``seconds`` (after a short warm-up)."""
    worker.set_pace(None)
    worker.run()
    wait = spin if app is not None else (lambda _app, s: time.sleep(s))
    wait(app, 0.3)
    first = worker.latest()
    t0 = time.perf_counter()
    wait(app, seconds)
    last = worker.latest()
    rate = (last.step - first.step) / (time.perf_counter() - t0)
    worker.pause()
    worker.wait_idle(timeout=5.0)
    return rate


def headless(dataset, config: SessionConfig, seconds: float) -> float:
    """Steps per second of a worker with no window."""
    worker = Worker(Session(dataset, config), publish_hz=PUBLISH_HZ)
    worker.start()
    try:
        return steps_per_second(worker, None, seconds)
    finally:
        worker.stop()


def windowed(
    app, dataset, config, seconds: float, settings_path: str, remote: bool = True, shared=True
):
    """(steps/s, paints/s, CPU ms per frame, ms per frame in ``latest()``) with the window
    open, every view visible, painting; training in a child process as the app does
    (``remote``; snapshots through shared memory if ``shared``) or on a thread of this
    process."""
    if remote:
        worker = RemoteWorker(dataset, config, publish_hz=PUBLISH_HZ, shared_memory=shared)
    else:
        worker = Worker(Session(dataset, config), publish_hz=PUBLISH_HZ)
        worker.start()
    timed = TimedLatest(worker)
    window = MainWindow(worker, config, dataset, "benchmark", store.open_settings(settings_path))
    window.resize(1340, 700)
    window.show()
    spin(app, 0.5)
    view = window.views["network"].findChild(QGraphicsView)
    counter = PaintCounter(view.viewport() if view is not None else window.views["network"])
    try:
        start, frames = counter.count, window.frames
        t0, cpu0, in_latest = time.perf_counter(), time.process_time(), timed.seconds
        rate = steps_per_second(worker, app, seconds)
        elapsed = time.perf_counter() - t0
        drawn = window.frames - frames
        fps = drawn / elapsed if counter.count > start else 0.0  # and the screen did paint
        cpu_ms = 1000 * (time.process_time() - cpu0) / max(drawn, 1)
        transfer_ms = 1000 * (timed.seconds - in_latest) / max(drawn, 1)
    finally:
        window.close()
        app.processEvents()
    return rate, fps, cpu_ms, transfer_ms


def open_window(app, dataset, config, settings_path: str) -> tuple[MainWindow, PaintCounter]:
    """The window (training in its child process), shown at 1340×700, and a counter of
    its network view's paints."""
    worker = RemoteWorker(dataset, config, publish_hz=PUBLISH_HZ)
    window = MainWindow(worker, config, dataset, "benchmark", store.open_settings(settings_path))
    window.resize(1340, 700)
    window.show()
    spin(app, 0.5)
    view = window.views["network"].findChild(QGraphicsView)
    return window, PaintCounter(view.viewport() if view is not None else window.views["network"])


def animated(app, dataset, config, seconds: float, settings_path: str) -> tuple[float, float]:
    """(paints/s of the network view, animate ticks/s) while phases play at the default
    animated pace."""
    window, counter = open_window(app, dataset, config, settings_path)
    try:
        window.controller.set_pace(pacing.DEFAULT)
        window.act.run.setChecked(True)
        spin(app, 0.5)
        paints, ticks, t0 = counter.count, window.animation_frames, time.perf_counter()
        spin(app, seconds)
        elapsed = time.perf_counter() - t0
        return (counter.count - paints) / elapsed, (window.animation_frames - ticks) / elapsed
    finally:
        window.close()
        app.processEvents()


def step_latency(app, dataset, config, settings_path: str, steps: int) -> float:
    """Median ms from a ``.`` key event to the network view's paint showing the phase."""
    window, counter = open_window(app, dataset, config, settings_path)
    times = []
    try:
        window.activateWindow()
        spin(app, 0.2)
        for _ in range(steps):
            before = window.latest
            t0 = time.perf_counter()
            QTest.keyClick(window, Qt.Key.Key_Period)
            shown_at = None
            while time.perf_counter() - t0 < 5.0:
                app.processEvents()
                if shown_at is None and window.latest is not before:
                    shown_at = counter.count  # drawn into the views; the paint comes next
                if shown_at is not None and counter.count > shown_at:
                    times.append(1000 * (counter.at - t0))
                    break
                time.sleep(0.0005)
            spin(app, pacing.STEP_SECONDS + 0.1)  # its animation played out
    finally:
        window.close()
        app.processEvents()
    return statistics.median(times) if times else float("nan")


FIRST_PAINT = r"""
import runpy, sys, time
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication

class FirstPaint(QObject):  # the main window's first paint: say when, then close it
    seen = False

    def eventFilter(self, obj, event):
        if (not self.seen and event.type() == QEvent.Type.Paint and obj.isWidgetType()
                and obj.window().objectName() == "bpviz_main"):
            self.seen = True
            print("PAINTED", time.time(), flush=True)
            QTimer.singleShot(0, obj.window().close)
        return False

app = QApplication([sys.argv[0]])
first = FirstPaint()
app.installEventFilter(first)
sys.argv = ["main.py", "--data", "sample"]
runpy.run_path("main.py", run_name="__main__")
"""


def startup(root: Path) -> float:
    """Seconds from launching ``main.py`` (fresh HOME, offscreen) to the window's first
    paint. The launcher is ``main.py`` run by a few lines that only watch for that paint."""
    with tempfile.TemporaryDirectory() as home:
        env = dict(os.environ, HOME=home, QT_QPA_PLATFORM="offscreen")
        env.pop("BPVIZ_SETTINGS", None)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH")]))
        t0 = time.time()
        out = subprocess.run(
            [sys.executable, "-c", FIRST_PAINT], cwd=root, env=env, capture_output=True,
            text=True, timeout=120,
        )  # fmt: skip
    for line in out.stdout.splitlines():
        if line.startswith("PAINTED"):
            return float(line.split()[1]) - t0
    raise RuntimeError(f"main.py painted no window: {out.stderr[-500:]}")


def run(quick: bool = False) -> dict[str, float]:
    """The GUI figures, one run; ``quick`` shortens every measurement."""
    app = QApplication.instance() or QApplication([])
    seconds = 2.0 if quick else 5.0
    dataset = load_sample()
    config = SessionConfig()
    with tempfile.TemporaryDirectory() as tmp:
        settings = os.path.join(tmp, "bench.ini")
        Path(settings).write_text("[run]\npace=full\n")  # as before; animated() sets its own
        alone, remote, thread, fps, fps_thread, cpu, transfer = [], [], [], [], [], [], []
        for _ in range(1 if quick else 2):  # interleaved: noise hits all alike
            alone.append(headless(dataset, config, seconds))
            rate, frames, cpu_ms, transfer_ms = windowed(app, dataset, config, seconds, settings)
            remote.append(rate)
            fps.append(frames)
            cpu.append(cpu_ms)
            transfer.append(transfer_ms)
            rate, frames, _, _ = windowed(app, dataset, config, seconds, settings, remote=False)
            thread.append(rate)
            fps_thread.append(frames)
        wide = replace(config, sizes=WIDE)
        _, fps_wide, cpu_wide, transfer_wide = windowed(app, dataset, wide, seconds, settings)
        *_, pickled_wide = windowed(app, dataset, wide, seconds, settings, shared=False)
        fps_animated, ticks = animated(app, dataset, config, seconds, settings)
        latency = step_latency(app, dataset, config, settings, 8 if quick else 20)
    root = Path(__file__).resolve().parents[1]
    started = min(startup(root) for _ in range(2 if quick else 4))
    return {
        "gui_fps_animated": round(fps_animated, 1),
        "gui_animate_calls_per_s": round(ticks, 1),
        "gui_step_latency_ms": round(latency, 1),
        "gui_startup_s": round(started, 2),
        "gui_fps": round(min(fps), 1),
        "gui_throughput_ratio": round(sum(remote) / sum(alone), 3),
        "gui_fps_wide": round(fps_wide, 1),
        # the window's CPU time per frame drawn: what limits fps on a busy machine
        "gui_cpu_ms_per_frame": round(min(cpu), 1),
        "gui_cpu_ms_per_frame_wide": round(cpu_wide, 1),
        # the window's wall time per frame receiving snapshots (RemoteWorker.latest)
        "gui_transfer_ms": round(min(transfer), 2),
        "gui_transfer_ms_wide": round(transfer_wide, 2),
        "gui_transfer_ms_wide_pickled": round(pickled_wide, 2),
        "gui_steps_per_s_headless": round(sum(alone) / len(alone)),
        "gui_steps_per_s_windowed": round(sum(remote) / len(remote)),
        # the alternative measured before choosing the child process: a worker thread
        "gui_throughput_ratio_thread": round(sum(thread) / sum(alone), 3),
        "gui_steps_per_s_thread": round(sum(thread) / len(thread)),  # that ratio's numerator
        "gui_fps_thread": round(min(fps_thread), 1),
    }


if __name__ == "__main__":
    import standalone

    standalone.main(run, __doc__)
