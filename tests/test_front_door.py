"""The entrance: ``bpviz`` / ``python3 -m bpviz`` / ``main.py`` — help, commands, FILE.

The wheel-in-a-fresh-venv check (the README's ``pip install . && python3 main.py``) is
``scripts/front_door.sh``, run by ``.ci/run``; here is what it relies on and everything
that needs no install.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QMessageBox

from bpviz.session.snapshot import PhaseKind

ROOT = Path(__file__).resolve().parents[1]
PYTHON = Path(sys.executable).name  # e.g. python3
COMMANDS = ("train", "gradcheck", "download", "worked-example")
# how each way of starting bpviz is called here, and the name its usage lines give
STARTS = {
    "module": ([sys.executable, "-m", "bpviz"], f"{PYTHON} -m bpviz"),
    "main.py": ([sys.executable, str(ROOT / "main.py")], "main.py"),
}


def run(argv: list[str], *args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))  # any cwd
    return subprocess.run(
        [*argv, *args], capture_output=True, text=True, timeout=300, cwd=cwd, env=env
    )


def option_entries(help_text: str) -> dict[str, str]:
    """``--help`` output → {first option string: its whole help entry}."""
    section = help_text.split("options:", 1)[1].split("\n\n", 1)[0]
    entries: dict[str, str] = {}
    current = None
    for line in section.splitlines():
        match = re.match(r"^  (-[-\w]+)", line)
        if match:
            current = match.group(1)
            entries[current] = line
        elif current is not None:
            entries[current] += " " + line.strip()
    return entries


@pytest.mark.parametrize("start", STARTS)
def test_help_lists_the_commands_and_the_window_flags(start):
    argv, prog = STARTS[start]
    result = run(argv, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: {prog} [options] [FILE]\n")
    assert f"{prog} {{{','.join(COMMANDS)}}}" in result.stdout
    commands = result.stdout.split("commands", 1)[1]
    for command in COMMANDS:
        assert re.search(rf"^  {command}  ", commands, re.MULTILINE), result.stdout
    for flag in ("--data", "--run", "--step-phases", "--screenshot", "--inspect"):
        assert flag in option_entries(result.stdout)


@pytest.mark.parametrize("start", STARTS)
@pytest.mark.parametrize("command", COMMANDS)
def test_usage_names_the_command_as_called(start, command):
    argv, prog = STARTS[start]
    result = run(argv, command, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: {prog} {command} ")


def test_the_console_script_is_called_bpviz():
    from bpviz.cli.common import program_name

    assert program_name("/home/me/.venv/bin/bpviz") == "bpviz"
    assert program_name("main.py") == "main.py"
    assert program_name(str(ROOT / "bpviz" / "__main__.py")) == f"{PYTHON} -m bpviz"


@pytest.mark.parametrize("command", ["", *COMMANDS])
def test_every_flag_shows_its_default(command):
    result = run(STARTS["module"][0], *([command] if command else []), "--help")
    assert result.returncode == 0, result.stderr
    entries = option_entries(result.stdout)
    assert len(entries) >= 4
    missing = [flag for flag, entry in entries.items() if flag != "-h" and "default" not in entry]
    assert not missing, f"no default shown for {missing} in:\n{result.stdout}"


@pytest.mark.parametrize("start", STARTS)
@pytest.mark.parametrize(("word", "hint"), [("trian", "train"), ("grad", None)])
def test_an_unknown_word_names_the_commands(start, word, hint, tmp_path):
    argv, prog = STARTS[start]
    result = run(argv, word, "--epochs", "3", cwd=tmp_path)  # no such file here
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"{prog}: error: '{word}' is not a command")
    assert "commands: train, gradcheck, download" in line
    assert (f"did you mean '{hint}'" in line) == (hint is not None)


def test_a_source_checkout_reads_its_own_resources(tmp_path):
    """``python3 main.py`` in a checkout shadows any installed bpviz; the sample it loads
    is the checkout's top-level ``resources/`` (not another checkout's editable install,
    not a missing ``bpviz.resources``)."""
    code = "from bpviz.data.sample import load_sample, resources_dir; load_sample(); "
    code += "print(resources_dir())"
    result = run([sys.executable, "-c", code], cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert Path(result.stdout.strip()) == ROOT / "resources"


# --- bpviz FILE: open a session file as File ▸ Open session does ---


@pytest.fixture(scope="module")
def saved_session(tmp_path_factory) -> Path:
    """A session saved by the Session (as File ▸ Save session writes it): 784-16-10,
    batch 20, η = 0.5, 25 mini-batches and four phases into the 26th."""
    from bpviz.data.sample import load_sample
    from bpviz.files import checkpoint
    from bpviz.session.session import Session
    from bpviz.session.snapshot import SessionConfig

    config = replace(SessionConfig(), sizes=(784, 16, 10), batch_size=20, eta=0.5)
    session = Session(load_sample(), config)
    for _ in range(25):
        session.step_batch()
    for _ in range(4):
        session.step_phase()
    path = tmp_path_factory.mktemp("sessions") / "lesson.npz"
    checkpoint.save_session(path, session)
    return path


def test_a_file_argument_opens_the_session_with_the_script_applied(qtbot, window, saved_session):
    from bpviz.data.sample import load_sample
    from bpviz.files import checkpoint
    from bpviz.session.session import Session
    from bpviz.ui.app import apply_script, build_parser

    expected = Session(load_sample())  # the same file, the same two phases, headless
    checkpoint.open_session(saved_session, expected)
    expected.step_phase()
    phase = expected.step_phase().phase

    args = build_parser().parse_args(
        [str(saved_session), "--step-phases", "2", "--inspect", "2,3,5"]
    )
    apply_script(window, args)
    qtbot.waitUntil(lambda: window.refresh() or window.latest is window.worker.latest())
    snapshot = window.latest
    assert snapshot.config.sizes == (784, 16, 10)
    assert snapshot.step == 25
    assert (snapshot.phase.kind, snapshot.phase.layer) == (phase.kind, phase.layer)
    assert snapshot.phase.kind is not PhaseKind.FORWARD  # 4 saved + 2: into the backward pass
    assert window.eta.spin.value() == 0.5 and window.batch.spin.value() == 20
    assert window.selection == (2, 3, 5)
    assert str(saved_session) in window.statusBar().currentMessage()
    assert getattr(window, "script_status", 0) == 0


@pytest.mark.parametrize("content", [b"not a zip at all", None])
def test_a_bad_file_argument_is_shown_in_the_window(qtbot, window, tmp_path, content):
    from bpviz.ui.app import apply_script, build_parser

    path = tmp_path / "broken.npz"
    if content is not None:
        path.write_bytes(content)
    before = window.worker.latest()
    apply_script(window, build_parser().parse_args([str(path)]))
    boxes = [b for b in window.findChildren(QMessageBox) if b.objectName() == "bpviz_message"]
    assert boxes and boxes[-1].isVisible()
    assert str(path) in boxes[-1].text()
    assert "Could not open the session" in window.statusBar().currentMessage()
    assert window.script_status == 1
    assert window.worker.latest().config == before.config  # the new session goes on


def test_main_py_file_screenshot_runs_from_the_command_line(tmp_path, saved_session):
    shot = tmp_path / "opened.png"
    result = run(
        STARTS["main.py"][0],
        str(saved_session),
        "--data", "sample", "--settings", str(tmp_path / "s.ini"),
        "--step-phases", "1", "--screenshot", str(shot),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert not QImage(str(shot)).isNull()
    bad = run(
        STARTS["main.py"][0],
        str(tmp_path / "missing.npz"),
        "--data", "sample", "--settings", str(tmp_path / "s.ini"),
        "--screenshot", str(tmp_path / "bad.png"),
    )  # fmt: skip
    assert bad.returncode == 1
    assert "Traceback" not in bad.stderr
    assert f"Could not open the session: {tmp_path / 'missing.npz'}" in bad.stderr


# --- the CI script's screenshot check ---


def test_the_screenshot_check_refuses_a_blank_window_and_accepts_the_real_one(tmp_path):
    blank = QImage(1340, 700, QImage.Format.Format_RGB32)
    blank.fill(QColor(30, 30, 36))
    blank.save(str(tmp_path / "blank.png"))
    (tmp_path / "empty.png").write_bytes(b"")
    check = [sys.executable, str(ROOT / "scripts" / "check_screenshot.py")]
    for name in ("blank.png", "empty.png"):
        result = run(check, str(tmp_path / name))
        assert result.returncode == 1 and name in result.stderr
    shot = tmp_path / "window.png"
    opened = run(
        STARTS["main.py"][0], "--data", "sample", "--settings", str(tmp_path / "s.ini"),
        "--quit-after", "1", "--screenshot", str(shot),
    )  # fmt: skip
    assert opened.returncode == 0, opened.stderr
    result = run(check, str(shot))
    assert result.returncode == 0, result.stderr


def test_a_command_after_a_window_flag_says_it_comes_first(tmp_path):
    result = run(STARTS["module"][0], "--data", "sample", "train", "--epochs", "1", cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    expected = f"a command comes first: {PYTHON} -m bpviz train [options]"
    assert result.stderr.strip().endswith(expected)
