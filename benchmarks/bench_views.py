"""Frames per second of the five views, each frame a fresh snapshot from a real Session.

A frame: ``show_snapshot`` on NetworkView, DeltaView, GradientView, LossView and
InputOutputView (laid out together at 1600×1000, offscreen), then the event loop paints
what changed, as in the window. Each figure is the best of several blocks, the cases
interleaved (the machine is shared; its load hits all cases alike). Figures:

- ``views_fps_default`` / ``views_fps_wide``: 784-30-10 / 784-512-256-10 as at full speed,
  every frame a new mini-batch after its update (new weights, batch and history: the
  most each view has to redraw).
- ``views_fps_default_phases`` / ``views_fps_wide_phases``: stepping phase by phase
  (each frame the next phase of the mini-batch).
- ``views_fps_wide_uncapped``: 784-512-256-10 full speed with no view rate-limited (the
  gradient heatmaps, the loss plot and the network's edges redrawn for every snapshot).
- each also as ``…_cpu``: frames per second of this process's CPU time, the rate an idle
  core would give (the machine is shared: wall-clock figures vary with its load).
- ``views_window_cpu_ms_default`` / ``views_window_cpu_ms_wide``: the whole main window
  (every dock of the default layout, 1340×700) drawing a fresh full-speed snapshot on each
  tick of its frame timer: its CPU milliseconds per frame, the window's own cost with no
  training process beside it and no snapshot transfer (bench_gui measures those).

Run alone: ``python3 benchmarks/bench_views.py [--quick] [--json]``.
"""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import replace

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pyqtgraph as pg
from pyqtgraph.Qt import QtWidgets

from bpviz.data import load_sample
from bpviz.runtime.worker import Worker
from bpviz.session.session import Session
from bpviz.session.snapshot import SessionConfig
from bpviz.ui import settings as store
from bpviz.ui.main_window import MainWindow
from bpviz.ui.throttle import Throttle
from bpviz.ui.views import (
    DeltaView,
    GradientView,
    InputOutputView,
    LossView,
    NetworkView,
)

NETWORKS = {"default": (784, 30, 10), "wide": (784, 512, 256, 10)}


def snapshots(sizes: tuple[int, ...], per_batch: bool, n: int) -> list:
    """``n`` snapshots of a real session: after whole mini-batches, as published while
    running at full speed, or after each phase, as stepped by hand (paused). A paused
    snapshot gets exact colour levels (a person stepping sees each one); a running stream
    holds its levels briefly so the colour bars are not redrawn every frame."""
    session = Session(load_sample(), SessionConfig(sizes=sizes))
    if per_batch:  # at full speed the worker publishes them running, and the views know it
        return [replace(session.step_batch(), running=True) for _ in range(n)]
    return [session.step_phase() for _ in range(n)]  # stepped by hand: paused


class Board(QtWidgets.QWidget):
    """The five views side by side, as the window docks them."""

    def __init__(self, capped: bool = True) -> None:
        super().__init__()
        self.views = [NetworkView(), DeltaView(), GradientView(), LossView(), InputOutputView()]
        if not capped:
            for view in self.views:
                for throttle in view.findChildren(Throttle):
                    throttle.hz = None
        grid = QtWidgets.QGridLayout(self)
        for k, view in enumerate(self.views):
            grid.addWidget(view, k // 3, k % 3)
        self.resize(1600, 1000)


class Case:
    """One figure: a board of views and the snapshots it cycles through."""

    def __init__(self, key: str, sizes: tuple[int, ...], per_batch: bool, capped: bool, n: int):
        self.key = key
        self.frames = snapshots(sizes, per_batch, n)
        self.board = Board(capped)
        self.board.show()
        self.count = 0
        self.best_wall = self.best_cpu = 0.0

    def block(self, seconds: float) -> None:
        """Show fresh snapshots for ``seconds``; keep the best frames per second seen, per
        second of wall time and per second of this process's CPU time."""
        app = QtWidgets.QApplication.instance()
        frames, t0, c0 = 0, time.perf_counter(), time.process_time()
        while time.perf_counter() - t0 < seconds:
            snapshot = self.frames[self.count % len(self.frames)]
            for view in self.board.views:
                view.show_snapshot(snapshot)
            app.processEvents()  # the scene's changes become update requests …
            app.processEvents()  # … and are painted, as the window's event loop would
            self.count += 1
            frames += 1
        wall, cpu = time.perf_counter() - t0, max(time.process_time() - c0, 1e-9)
        self.best_wall = max(self.best_wall, frames / wall)
        self.best_cpu = max(self.best_cpu, frames / cpu)


def window_cpu_ms(sizes: tuple[int, ...], seconds: float, n: int) -> float:
    """CPU ms per frame of the main window drawing ``n`` full-speed snapshots in turn, one
    at a time (set as the model's probe, drawn at once, then painted; its worker idle)."""
    app = QtWidgets.QApplication.instance()
    frames = [replace(s, running=True) for s in snapshots(sizes, True, n)]
    config = SessionConfig(sizes=sizes)
    worker = Worker(Session(load_sample(), config))
    worker.start()
    with tempfile.TemporaryDirectory() as tmp:
        settings = store.open_settings(os.path.join(tmp, "bench.ini"))
        window = MainWindow(worker, config, load_sample(), "benchmark", settings)
        window.resize(1340, 700)
        window.show()
        best, count = float("inf"), 0
        try:
            for block in range(3):  # a warm-up, then the best of two
                start, c0, end = window.frames, time.process_time(), time.perf_counter() + seconds
                while time.perf_counter() < end:
                    shown = window.frames
                    window.model.set_probe(frames[count % n])  # drawn at once, as a probe is
                    count += 1
                    while window.frames == shown and time.perf_counter() < end:
                        app.processEvents()
                        time.sleep(0.0005)
                    app.processEvents()  # Qt paints it
                drawn = window.frames - start
                if block and drawn:
                    best = min(best, 1000 * (time.process_time() - c0) / drawn)
        finally:
            window.close()
            worker.stop()
            app.processEvents()
    return round(best, 1)


def run(quick: bool = False) -> dict[str, float]:
    """All the figures (see the module doc): the best of interleaved blocks per case."""
    app = pg.mkQApp()
    rounds, seconds, n = (2, 0.5, 12) if quick else (5, 0.8, 30)
    cases = [
        Case(f"views_fps_{name}{'' if per_batch else '_phases'}", sizes, per_batch, True, n)
        for name, sizes in NETWORKS.items()
        for per_batch in (True, False)
    ]
    cases.append(Case("views_fps_wide_uncapped", NETWORKS["wide"], True, False, n))
    app.processEvents()
    for case in cases:
        case.block(0.3)  # warm-up
        case.best_wall = case.best_cpu = 0.0
    for _ in range(rounds):
        for case in cases:
            case.block(seconds)
    result = {}
    for case in cases:
        result[case.key] = round(case.best_wall, 1)
        result[f"{case.key}_cpu"] = round(case.best_cpu, 1)
        case.board.close()
        case.board.deleteLater()
    app.processEvents()
    for name, sizes in NETWORKS.items():
        result[f"views_window_cpu_ms_{name}"] = window_cpu_ms(sizes, 1.0 if quick else 3.0, n)
    return result


if __name__ == "__main__":
    import standalone

    standalone.main(run, __doc__)
