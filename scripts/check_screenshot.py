"""Check that PNG screenshots of the window are real: ``python check_screenshot.py F.png …``.

A window that never drew (or a black offscreen buffer) gives a PNG of one or two
colours; the bpviz window has digits, colour bars, curves and text. Exit status 0 when
every file is a readable image of a window's size with many distinct colours, else 1
with the reason on stderr.
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtGui import QGuiApplication, QImage

MIN_SIZE = (640, 400)  # the window's minimum useful size
MIN_COLOURS = 50  # distinct colours on a grid of samples (a blank window has 1–3)


def problem(path: str) -> str | None:
    """Why ``path`` is not a plausible screenshot of the window, or None."""
    image = QImage(path)
    if image.isNull():
        return "not a readable image"
    width, height = image.width(), image.height()
    if width < MIN_SIZE[0] or height < MIN_SIZE[1] or width > 8192 or height > 8192:
        return f"implausible size {width}×{height}"
    colours = {image.pixel(x, y) for x in range(0, width, 5) for y in range(0, height, 5)}
    if len(colours) < MIN_COLOURS:
        return f"looks blank: {len(colours)} distinct colours"
    print(f"{path}: {width}×{height}, {len(colours)} distinct colours")
    return None


def main(paths: list[str]) -> int:
    app = QGuiApplication.instance() or QGuiApplication([sys.argv[0]])  # noqa: F841
    failures = [(p, why) for p in paths if (why := problem(p)) is not None]
    for path, why in failures:
        print(f"{path}: {why}", file=sys.stderr)
    return 1 if failures or not paths else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
