"""Shared fixtures: offscreen Qt, a thread-leak guard, the full MNIST when available."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# The offscreen platform's own screen is 800×800; windows here open on the laptop screen
# the layout is designed for (the window sizes itself to its screen).
SCREEN_1366 = Path(__file__).with_name("screen-1366x768.json")
if os.environ["QT_QPA_PLATFORM"] == "offscreen":
    os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={SCREEN_1366}"

_MNIST_FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)


@pytest.fixture(autouse=True)
def no_leaked_threads():
    """Fail any test that leaves a thread running (workers must be stopped)."""
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 2.0
    while True:
        leaked = [t for t in threading.enumerate() if t not in before and t.is_alive()]
        if not leaked or time.monotonic() > deadline:
            break
        time.sleep(0.01)
    assert not leaked, f"test left threads running: {[t.name for t in leaked]}"


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """The full MNIST directory from ``BPVIZ_MNIST_DIR``; skips loudly when absent."""
    value = os.environ.get("BPVIZ_MNIST_DIR")
    if not value or not all((Path(value) / f).is_file() for f in _MNIST_FILES):
        pytest.skip(
            "FULL MNIST NOT AVAILABLE: set BPVIZ_MNIST_DIR to a directory with the four "
            "IDX .gz files (.ci/run sets it to ../shared/mnist)"
        )
    return Path(value)


@pytest.fixture
def settings_path(tmp_path: Path) -> Path:
    """A settings file of the test's own (QSettings INI), not the user's: full speed
    chosen, so windows train fast unless a test picks a pace (a first launch, at an
    animated pace, is tested with a fresh file in test_animated_pace.py)."""
    path = tmp_path / "bpviz.ini"
    path.write_text("[run]\npace=full\n")
    return path


@pytest.fixture
def window_on(qtbot, settings_path):
    """Opens main windows as ``window_on(source)`` does: on data ``source`` ("sample",
    a toy set's name …) with the test's settings, shown; each closed (its worker
    stopped) after the test."""
    from bpviz.ui import settings as store
    from bpviz.ui.app import build_window

    opened = []

    def open_on(source: str):
        w = build_window(source, store.open_settings(settings_path))
        opened.append(w)
        qtbot.addWidget(w)
        w.show()
        qtbot.waitExposed(w)
        return w

    yield open_on
    for w in reversed(opened):
        w.close()


@pytest.fixture
def window(window_on):
    """The main window on the embedded sample, shown; closed (its worker stopped) after."""
    return window_on("sample")
