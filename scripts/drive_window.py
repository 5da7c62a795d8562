"""Drive the real window with key presses, as a person would, and save a screenshot.

    python3 scripts/drive_window.py OUT.png --press ".,.,.,.,.,.,."      # seven phases
    python3 scripts/drive_window.py OUT.png --press "Space,wait:3,Space"  # run 3 s, pause

Each comma-separated token is a key sent to the window (``.``, ``Right``, ``Space``, any
``Qt.Key`` name without ``Key_``, with ``Ctrl+`` or ``Shift+`` before it), or
``wait:SECONDS``; after each key the window gets
time to draw what the worker published. Runs with a fresh settings file (a first launch)
on the embedded sample unless ``--data`` says otherwise; under Xvfb use e.g.
``xvfb-run -a -s "-screen 0 1366x768x24" python3 scripts/drive_window.py …``.
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
    parser.add_argument("out", help="PNG file for the whole window")
    parser.add_argument("--press", default="", help="keys and waits, comma-separated")
    parser.add_argument("--data", default="sample", help="data source (default: sample)")
    parser.add_argument("--maximized", action="store_true", help="fill the screen")
    parser.add_argument("--verbose", action="store_true", help="say what each key did")
    args = parser.parse_args()

    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from bpviz.ui import settings as store
    from bpviz.ui.app import build_window

    app = QApplication([sys.argv[0]])
    settings = store.open_settings(str(Path(tempfile.mkdtemp()) / "bpviz.ini"))
    window = build_window(args.data, settings)
    window.show()
    if args.maximized:  # (Xvfb has no window manager to maximise it)
        window.setGeometry(app.primaryScreen().availableGeometry())

    def pump(seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            app.processEvents()
            time.sleep(0.01)

    pump(1.5)
    window.activateWindow()  # shortcuts go to the active window, as a person's keys do
    if not QTest.qWaitForWindowActive(window, 5000):
        print("the window did not become active: keys may be lost", file=sys.stderr)
    for token in filter(None, (t.strip() for t in args.press.split(","))):
        if token.startswith("wait:"):
            pump(float(token[5:]))
            continue
        *mods, name = token.split("+") if len(token) > 1 else [token]  # e.g. Ctrl+F
        modifiers = Qt.KeyboardModifier.NoModifier
        for mod in mods:
            modifiers |= {"Ctrl": Qt.KeyboardModifier.ControlModifier,
                          "Shift": Qt.KeyboardModifier.ShiftModifier}[mod]  # fmt: skip
        key = Qt.Key.Key_Period if name == "." else getattr(Qt.Key, f"Key_{name}")
        QTest.keyClick(window, key, modifiers)
        pump(0.4)
        if args.verbose:
            shot = window.latest
            print(
                f"  {token}: run button {window.act.run.text()!r}, step {shot.step}, "
                f"running {shot.running}, active {app.activeWindow() is window}"
            )
    pump(1.0)  # rate-limited views draw the latest snapshot
    ok = window.grab().save(args.out)
    shot = window.latest
    phase = "ready" if shot.phase is None else shot.phase.label
    print(f"{args.out}: step {shot.step}, phase {phase}, {window.width()}×{window.height()}")
    print(f"  gradient view: {window.views['gradients'].status.text()}")
    window.close()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
