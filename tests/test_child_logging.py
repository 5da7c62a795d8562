"""The window's training process logs as the window does: ``-v``/``--verbose`` reaches it
(a debug line of the real child on stderr), and without it the child says nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHILD_LINE = "bpviz.runtime.pipe: training process"  # the child's first debug line


def run_window(*args: str, settings: Path) -> subprocess.CompletedProcess:
    """``python main.py …`` as a user runs it: the window with its training process."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "--settings", str(settings), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=ROOT,
    )


@pytest.mark.parametrize("flag", ["-v", "--verbose"])
def test_the_verbose_flag_reaches_the_training_process(tmp_path, flag):
    result = run_window(flag, "--data", "sample", "--quit-after", "0", settings=tmp_path / "s")
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if CHILD_LINE in line]
    assert len(lines) == 1, result.stderr
    (line,) = lines
    assert line.startswith("DEBUG ") and "snapshots through shared memory" in line
    words = line.split(CHILD_LINE)[1].split()  # "<pid> for window process <pid>; …"
    child, window = int(words[0]), int(words[4].rstrip(";"))
    assert child != window  # written by the training process, not the window's


def test_without_it_the_training_process_logs_no_debug_line(tmp_path):
    result = run_window("--data", "sample", "--quit-after", "0", settings=tmp_path / "s")
    assert result.returncode == 0, result.stderr
    assert CHILD_LINE not in result.stderr and "DEBUG" not in result.stderr
