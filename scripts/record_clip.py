"""Record the README's clip: δ flowing backward through the phases, in the network view.

    python scripts/record_clip.py [OUT.gif|OUT.mp4] [--seconds 10] [--interval 0.4]

Opens the real window on the embedded sample (offscreen unless a display is set) with a
784-30-16-10 network, trains ~300 mini-batches so the picture means something, then
steps one phase every ``--interval`` seconds while ``bpviz.ui.recorder`` records the
network view: forward l = 1 … L, cost, δ^L … δ^1 (the highlighted layer moves right to
left), ∂C/∂W^l, update. One frame per phase, played back at 1 / interval frames a second.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path


def pump(app, seconds: float) -> None:
    """Run the event loop for ``seconds`` (the window repaints, the recorder records)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.005)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", nargs="?", default="delta-flow.gif")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--interval", type=float, default=0.4, help="seconds per phase")
    args = parser.parse_args(argv)
    if sys.platform.startswith("linux") and not os.environ.get("DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from bpviz.ui import settings as store
    from bpviz.ui.app import build_window
    from bpviz.ui.recorder import Recorder

    app = QApplication.instance() or QApplication(["bpviz-clip"])
    with tempfile.TemporaryDirectory() as tmp:
        window = build_window("sample", store.open_settings(Path(tmp) / "clip.ini"))
        window.resize(1500, 950)
        window.show()
        pump(app, 1.0)
        config = replace(window.config, sizes=(784, 30, 16, 10), eta=3.0)
        window.apply_config(config)
        window.worker.reset(config)
        window.worker.run()
        pump(app, 0.3)
        window.worker.pause()
        pump(app, 0.5)
        latest = window.worker.latest()
        while latest is not None and latest.phase is not None:  # to a mini-batch boundary
            window.worker.step_phase()
            pump(app, 0.1)
            latest = window.worker.latest()
        # One frame per phase, played at 1 / interval frames a second: the clip does not
        # depend on how fast this machine redraws the window.
        recorder = Recorder()
        fps = 1.0 / args.interval
        out = recorder.start(window.views["network"], args.out, fps=fps, timed=False)
        for _ in range(round(args.seconds * fps) - 1):
            serial = window.frames
            window.worker.step_phase()
            while window.frames == serial:  # until the new phase has been drawn
                pump(app, 0.02)
            pump(app, 0.05)
            recorder.capture()
        recorder.stop()
        recorder.wait(120_000)
        print(f"{out}: {recorder.frames} frames", file=sys.stderr)
        window.close()
        pump(app, 0.2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
