"""Screenshots of the window playing a mini-batch at the animated pace, as a person sees it.

    xvfb-run -a -s "-screen 0 1366x768x24" python3 scripts/shoot_phases.py docs/animated

opens the window as on a first launch (a fresh settings file: the animated pace), presses
Space as a person would, and grabs the screen mid-wave in a forward phase, a backward
(δ) phase and the update of the same mini-batch: ``PREFIX-forward.png``,
``PREFIX-backward.png`` and ``PREFIX-update.png``. Under Xvfb the grab is the screen's
own copy (tooltips and all); offscreen it repaints the window.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's bpviz


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("prefix", help="path prefix of the three PNG files")
    parser.add_argument("--data", default="sample", help="data source (default: sample)")
    parser.add_argument("--skip", type=int, default=2, help="mini-batches to let pass first")
    parser.add_argument("--at", type=float, default=0.55, help="how far into a phase (0…1)")
    args = parser.parse_args()

    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from bpviz.session.snapshot import PhaseKind
    from bpviz.ui import settings as store
    from bpviz.ui.app import build_window

    app = QApplication([sys.argv[0]])
    settings = store.open_settings(str(Path(tempfile.mkdtemp()) / "bpviz.ini"))
    window = build_window(args.data, settings)
    window.show()
    end = time.monotonic() + 1.5
    while time.monotonic() < end:
        app.processEvents()
    window.activateWindow()
    QTest.qWaitForWindowActive(window, 5000)
    QTest.keyClick(window, Qt.Key.Key_Space)  # what the status bar says to do

    wanted = {PhaseKind.FORWARD: "forward", PhaseKind.DELTA: "backward", PhaseKind.UPDATE: "update"}
    taken: dict[str, str] = {}
    deadline = time.monotonic() + 60
    while len(taken) < len(wanted) and time.monotonic() < deadline:
        app.processEvents()
        shot, clock = window.latest, window.phase_clock
        if shot is None or shot.phase is None or shot.step < args.skip:
            continue
        name = wanted.get(shot.phase.kind)
        if name is None or name in taken or not clock.active:
            continue
        if shot.phase.kind is PhaseKind.DELTA and shot.phase.layer == shot.n_layers:
            continue  # δᴸ comes from the cost: the wave along W is the next δ
        if clock.progress(time.perf_counter()) < args.at:
            continue
        screen = window.screen().grabWindow(0)
        image = screen if not screen.isNull() and screen.width() > 1 else window.grab()
        path = f"{args.prefix}-{name}.png"
        image.save(path)
        taken[name] = f"{path}: step {shot.step}, phase {shot.phase.label}"
        print(taken[name])
    window.close()
    return 0 if len(taken) == len(wanted) else 1


if __name__ == "__main__":
    sys.exit(main())
