"""``python main.py …`` as a user runs it: scripted runs, screenshots, clean exits."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtGui import QImage

ROOT = Path(__file__).resolve().parents[1]
NOISE = ("Traceback", "QThread", "Warning", "warning", "Error", "error", "Fatal")


def run_main(*args: str, settings: Path, timeout: float = 90) -> subprocess.CompletedProcess:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "--settings", str(settings), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=ROOT,
    )


def test_run_then_quit_while_training_is_clean_and_saves_a_screenshot(tmp_path):
    shot = tmp_path / "shot.png"
    result = run_main(
        "--data", "sample", "--run", "--quit-after", "2", "--screenshot", str(shot),
        settings=tmp_path / "s.ini",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    for word in NOISE:
        assert word not in result.stderr, result.stderr
    image = QImage(str(shot))
    assert not image.isNull()
    assert 800 <= image.width() <= 1366 and 500 <= image.height() <= 768
    # not a blank image: many distinct colours
    assert len({image.pixel(x, y) for x in range(0, image.width(), 7) for y in (100, 300)}) > 20


def test_step_phases_screenshot_shows_the_backward_phase(tmp_path):
    shot = tmp_path / "backward.png"
    settings = tmp_path / "s.ini"
    result = run_main(
        "--data", "sample", "--step-phases", "5", "--screenshot", str(shot), settings=settings
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert not QImage(str(shot)).isNull()


@pytest.mark.parametrize("data", ["empty", "missing"])
def test_a_folder_without_mnist_gives_a_clear_message(tmp_path, data):
    folder = tmp_path / data
    if data == "empty":
        folder.mkdir()
    result = run_main("--data", str(folder), "--quit-after", "0", settings=tmp_path / "s.ini")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("bpviz: ")
    assert str(folder) in result.stderr or "MNIST" in result.stderr


def test_a_saved_data_folder_that_went_away_falls_back_with_a_note(qtbot, tmp_path):
    from bpviz.ui import settings as store
    from bpviz.ui.app import build_window

    settings = store.open_settings(tmp_path / "s.ini")
    store.save_data_choice(settings, str(tmp_path / "gone"))
    window = build_window(None, settings)
    qtbot.addWidget(window)
    try:
        assert window.data_choice is None  # best available from now on
        assert "unusable" in window.status.labels["source"].toolTip()
        assert store.load_data_choice(settings) is None
    finally:
        window.close()
