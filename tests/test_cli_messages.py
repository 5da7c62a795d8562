"""Bad flags at the command line: one line naming the flag, exit 2, never a traceback.

Run as the user runs them (``python -m bpviz …`` in a subprocess). Folders without
permission are real: when the tests run as root (who may read anything), the child
process gives up the two capabilities that let root ignore permissions
(CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH) before it starts, so it meets the folder as
any user would.
"""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bpviz.session import limits

ROOT = Path(__file__).resolve().parents[1]
PR_CAPBSET_DROP = 24
CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH = 1, 2


def _as_a_user() -> None:
    """preexec_fn: drop root's permission overrides from the bounding set, so the
    program exec'd next has them in none of its capability sets."""
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH):
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def bpviz(*args: str, env: dict | None = None, as_user: bool = False, cwd: Path = ROOT):
    return subprocess.run(
        [sys.executable, "-m", "bpviz", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=cwd,
        preexec_fn=_as_a_user if as_user and os.geteuid() == 0 else None,
    )


def one_line_error(result: subprocess.CompletedProcess) -> str:
    """The single line on stderr of a refused command (exit 2, nothing on stdout)."""
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stdout == ""
    lines = [line for line in result.stderr.splitlines() if not line.startswith("data: ")]
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.fixture
def locked(tmp_path: Path):
    """A folder nobody but root-with-overrides may search or read."""
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0)
    yield folder
    folder.chmod(0o755)


@pytest.mark.parametrize(
    ("flag", "value"), [("--epochs", "-1"), ("--seed", "-1"), ("--batch-size", "0")]
)
def test_a_bad_number_alone_is_named_alone(flag, value):
    line = one_line_error(bpviz("train", "--data", "sample", flag, value))
    bound = "0" if flag != "--batch-size" else "1"
    assert f"{flag} must be ≥ {bound}, got {value}" in line
    others = {"--epochs", "--seed", "--batch-size", "--eta"} - {flag}
    assert not any(other in line for other in others), line  # not a combined sentence


def test_gradcheck_seed_is_named():
    line = one_line_error(bpviz("gradcheck", "--layers", "6,4,3", "--seed", "-1"))
    assert "--seed must be ≥ 0, got -1" in line


def test_a_missing_data_folder_does_not_exist(tmp_path):
    line = one_line_error(bpviz("train", "--data", str(tmp_path / "nowhere"), "--epochs", "0"))
    assert line.endswith(f"--data {tmp_path / 'nowhere'}: does not exist")
    assert "not a directory" not in line


@pytest.mark.parametrize("text", ["1e9", "nan", "inf", "-inf", "abc", "0", "-3"])
def test_eta_goes_through_the_one_eta_rule(text):
    with pytest.raises(ValueError) as refused:  # what bpviz.session.limits says about it
        limits.parse_eta(text)
    line = one_line_error(bpviz("train", "--data", "sample", "--epochs", "1", f"--eta={text}"))
    assert line.endswith(f"--eta {text}: {refused.value}")


def test_eta_at_the_limit_is_accepted():
    result = bpviz("train", "--data", "sample", "--epochs", "0", "--eta", f"{limits.ETA_MAX:g}")
    assert result.returncode == 0, result.stderr


def test_a_batch_larger_than_the_data_is_a_message_not_a_traceback():
    line = one_line_error(bpviz("train", "--data", "sample", "--batch-size", "5000"))
    assert line.startswith("error: --batch-size 5000: ")
    with pytest.raises(ValueError) as refused:
        limits.check_batch_size(5000, 4000)
    assert line.endswith(str(refused.value))


def test_a_path_too_long_for_the_file_system_is_named(tmp_path):
    long = str(tmp_path / ("d" * 300))
    line = one_line_error(bpviz("train", "--data", long, "--epochs", "0"))
    assert "--data " in line and "the path is too long (" in line
    assert len(line) < 300  # the path is cut in the middle, not printed whole


def test_a_data_folder_without_permission_is_named(locked):
    line = one_line_error(bpviz("train", "--data", str(locked), "--epochs", "0", as_user=True))
    assert line.endswith(
        f"--data {locked}: permission denied (the folder cannot be searched or read)"
    )


def test_the_permission_test_really_meets_the_permission(locked):
    """The child really is refused (else the test above would prove nothing as root)."""
    probe = subprocess.run(
        [sys.executable, "-c", f"import os; os.listdir({str(locked)!r})"],
        capture_output=True,
        text=True,
        preexec_fn=_as_a_user if os.geteuid() == 0 else None,
    )
    assert probe.returncode == 1 and "PermissionError" in probe.stderr


def user_env(home: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BPVIZ_", "XDG_"))}
    return dict(env, HOME=str(home), QT_QPA_PLATFORM="offscreen")


def unreadable_download(home: Path) -> Path:
    """A fresh HOME whose download folder (``~/.local/share/bpviz/mnist``) is unreadable."""
    folder = home / ".local" / "share" / "bpviz" / "mnist"
    folder.mkdir(parents=True)
    folder.chmod(0)
    return folder


def test_an_unreadable_download_folder_falls_back_to_the_sample_in_the_cli(tmp_path):
    folder = unreadable_download(tmp_path)
    try:
        result = bpviz("train", "--epochs", "0", env=user_env(tmp_path), as_user=True)
    finally:
        folder.chmod(0o755)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("data: embedded MNIST sample")
    assert f"the download folder {folder} cannot be read (permission denied)" in result.stderr


WINDOW_STATUS = """
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from bpviz.ui import settings as store
from bpviz.ui.app import build_window
app = QApplication([])
window = build_window(None, store.open_settings({settings!r}))
app.aboutToQuit.connect(window.shutdown)
window.show()
def report():
    print(window.dataset.source)
    print(window.statusBar().currentMessage(), flush=True)
    window.close()
QTimer.singleShot(200, report)
app.exec()
window.shutdown()
"""


def test_an_unreadable_download_folder_falls_back_to_the_sample_in_the_window(tmp_path):
    folder = unreadable_download(tmp_path)
    script = WINDOW_STATUS.format(settings=str(tmp_path / "s.ini"))
    try:
        result = subprocess.run(
            [sys.executable, "-c", script],
            capture_output=True,
            text=True,
            timeout=120,
            env=user_env(tmp_path),
            cwd=ROOT,
            preexec_fn=_as_a_user if os.geteuid() == 0 else None,
        )
    finally:
        folder.chmod(0o755)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    source, message = result.stdout.splitlines()[:2]
    assert source.startswith("embedded MNIST sample")
    assert message.startswith("Using the embedded MNIST sample: the download folder ")
    assert "cannot be read (permission denied)" in message


def window(*args: str, as_user: bool = False, tmp_path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "--settings", str(tmp_path / "s.ini"), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ, QT_QPA_PLATFORM="offscreen"),
        cwd=ROOT,
        preexec_fn=_as_a_user if as_user and os.geteuid() == 0 else None,
    )


def test_the_window_names_a_data_folder_too_long_or_without_permission(tmp_path, locked):
    long = window("--data", str(tmp_path / ("d" * 300)), "--quit-after", "0", tmp_path=tmp_path)
    line = one_line_error(long)
    assert line.startswith("bpviz: --data ") and "(file name too long)" in line
    refused = window("--data", str(locked), "--quit-after", "0", as_user=True, tmp_path=tmp_path)
    assert one_line_error(refused) == f"bpviz: --data {locked}: cannot be read (permission denied)"
