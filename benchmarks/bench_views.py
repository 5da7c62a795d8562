"""Frames per second of the five views, each frame a fresh snapshot from a real Session.

A frame: ``show_snapshot`` on NetworkView, DeltaView, GradientView, LossView and
InputOutputView (laid out together at 1600×1000, offscreen), then a synchronous repaint of
all of them. Figures, all from this one run:

- ``views_fps_default`` / ``views_fps_wide``: 784-30-10 / 784-512-256-10 as at full speed,
  every frame a new mini-batch after its update (new weights, batch and history: the
  most each view has to redraw).
- ``views_fps_default_phases`` / ``views_fps_wide_phases``: stepping phase by phase
  (each frame the next phase of the mini-batch).
- ``views_fps_wide_uncapped``: 784-512-256-10 full speed with no view rate-limited (the
  gradient heatmaps, the loss plot and the network's edges redrawn for every snapshot).
- each also as ``…_cpu``: frames per second of this process's CPU time, the rate an idle
  core would give (the machine is shared: wall-clock figures vary with its load).

Run alone: ``python3 benchmarks/bench_views.py [--quick]`` (prints one JSON object).
"""

from __future__ import annotations

import argparse
import json
import os
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pyqtgraph as pg
from pyqtgraph.Qt import QtWidgets

from bpviz.data import load_sample
from bpviz.session.session import Session
from bpviz.session.snapshot import SessionConfig
from bpviz.ui.views import (
    DeltaView,
    GradientView,
    InputOutputView,
    LossView,
    NetworkView,
)

NETWORKS = {"default": (784, 30, 10), "wide": (784, 512, 256, 10)}


def snapshots(sizes: tuple[int, ...], per_batch: bool, n: int) -> list:
    """``n`` snapshots of a real session: after whole mini-batches, or after each phase."""
    session = Session(load_sample(), SessionConfig(sizes=sizes))
    step = session.step_batch if per_batch else session.step_phase
    return [step() for _ in range(n)]


class Board(QtWidgets.QWidget):
    """The five views side by side, as the window docks them."""

    def __init__(self, capped: bool = True) -> None:
        super().__init__()
        self.views = [NetworkView(), DeltaView(), GradientView(), LossView(), InputOutputView()]
        if not capped:
            for view in self.views:
                view.max_hz = float("inf") if isinstance(view, LossView) else None
            self.views[0].edges_hz = float("inf")
        grid = QtWidgets.QGridLayout(self)
        for k, view in enumerate(self.views):
            grid.addWidget(view, k // 3, k % 3)
        self.resize(1600, 1000)


def fps(board: Board, frames: list, seconds: float) -> tuple[float, float]:
    """Frames per second showing ``frames`` in turn (after a warm-up): per second of wall
    time, and per second of this process's CPU time (what an idle core would give)."""
    app = QtWidgets.QApplication.instance()

    def frame(snapshot) -> None:
        for view in board.views:
            view.show_snapshot(snapshot)
        app.processEvents()
        board.repaint()

    for snapshot in frames[:3]:
        frame(snapshot)
    count, t0, c0 = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - t0 < seconds:
        frame(frames[count % len(frames)])
        count += 1
    return count / (time.perf_counter() - t0), count / (time.process_time() - c0)


def run(quick: bool = False) -> dict[str, float]:
    """All the figures (see the module doc)."""
    app = pg.mkQApp()
    seconds = 1.0 if quick else 3.0
    result = {}
    cases = [(name, sizes, per_batch, True) for name, sizes in NETWORKS.items()
             for per_batch in (True, False)]  # fmt: skip
    cases.append(("wide", NETWORKS["wide"], True, False))
    for name, sizes, per_batch, capped in cases:
        board = Board(capped)
        board.show()
        app.processEvents()
        frames = snapshots(sizes, per_batch, 12 if quick else 30)
        wall, cpu = fps(board, frames, seconds)
        key = f"views_fps_{name}{'' if per_batch else '_phases'}{'' if capped else '_uncapped'}"
        result[key] = round(wall, 1)
        result[f"{key}_cpu"] = round(cpu, 1)
        board.close()
        board.deleteLater()
        app.processEvents()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter runs")
    parser.add_argument("--json", action="store_true", help="print JSON (the default)")
    args = parser.parse_args()
    print(json.dumps(run(args.quick)))


if __name__ == "__main__":
    main()
