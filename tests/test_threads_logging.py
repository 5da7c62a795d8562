"""Threads started in one module (named, registered, failures logged) and logging with
tracebacks: a failing worker command leaves its traceback in the log and a message in the
window; ``-v`` turns on debug logging on stderr."""

from __future__ import annotations

import logging
import threading
from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from snapshots import FlakySession

from bpviz.runtime import threads
from bpviz.runtime.worker import Worker
from bpviz.ui import settings as store
from bpviz.ui.app import build_parser
from bpviz.ui.main_window import MainWindow

# Bounds for waits on a condition, each ended as soon as it holds: generous, for a loaded
# machine (5 s, pytest-qt's default, once ran out under a load of 9); not a duration.
WAIT_S = 60.0
WAIT_MS = int(WAIT_S * 1000)


def test_a_failing_thread_is_named_registered_and_logs_its_traceback(caplog):
    release = threading.Event()

    def fail() -> None:
        release.wait(WAIT_S)
        raise KeyError("lost key")

    thread = threads.start_thread("probe", fail, daemon=False)
    try:
        assert thread.name == "bpviz-probe" and not thread.daemon
        assert thread in threads.running()
        with caplog.at_level(logging.ERROR, logger="bpviz"):
            release.set()
            thread.join(WAIT_S)  # returns as soon as it ended
    finally:
        release.set()
    assert not thread.is_alive() and thread not in threads.running()
    record = next(r for r in caplog.records if "bpviz-probe" in r.getMessage())
    assert record.exc_info is not None and record.exc_info[0] is KeyError
    assert "Traceback" in caplog.text and "lost key" in caplog.text


def test_no_module_but_threads_starts_a_thread():
    """Every thread comes from ``bpviz.runtime.threads`` (named, logged, registered)."""
    root = Path(threads.__file__).parents[1]
    makers = ("threading.Thread(", "Thread(target", "ThreadPoolExecutor(", "_thread.start_new")
    found = [
        f"{path.relative_to(root)}: {maker}"
        for path in root.rglob("*.py")
        if path.name != "threads.py"
        for maker in makers
        if maker in path.read_text(encoding="utf-8")
    ]
    assert not found


def test_a_failing_worker_command_logs_a_traceback_and_the_window_says_so(
    qtbot, settings_path, caplog
):
    from bpviz.data import resolve_source

    dataset, description = resolve_source("sample")
    settings = store.open_settings(settings_path)
    config = store.load_config(settings)
    config = replace(config, sizes=(dataset.n_inputs, *config.sizes[1:-1], dataset.n_classes))
    worker = Worker(FlakySession(dataset, config))
    worker.start()
    assert any(t.name == "bpviz-worker" for t in threads.running())
    window = MainWindow(worker, config, dataset, description, settings)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    try:
        qtbot.waitUntil(lambda: window.latest is not None, timeout=WAIT_MS)
        window.activateWindow()
        with caplog.at_level(logging.ERROR, logger="bpviz"):
            qtbot.keyClick(window, Qt.Key.Key_Right)
            qtbot.waitUntil(
                lambda: window.latest is not None and window.latest.step == 1, timeout=WAIT_MS
            )
            qtbot.keyClick(window, Qt.Key.Key_Right)
            qtbot.waitUntil(
                lambda: "boom in step_batch" in window.statusBar().currentMessage(),
                timeout=WAIT_MS,
            )
        failure = [r for r in caplog.records if r.name == "bpviz.runtime.worker"]
        assert failure and failure[0].exc_info is not None
        assert "step_batch" in failure[0].getMessage()
        assert "Traceback" in caplog.text and "raise RuntimeError" in caplog.text
    finally:
        window.close()
    # closing asks the worker to stop after its current step: wait for that, not a guess
    qtbot.waitUntil(
        lambda: not any(t.name == "bpviz-worker" for t in threads.running()), timeout=WAIT_MS
    )


@pytest.mark.parametrize("flag", ["-v", "--verbose"])
def test_verbose_logs_debug_with_tracebacks_on_stderr(capsys, flag):
    log = logging.getLogger("bpviz.probe")
    try:
        build_parser().parse_args([flag])
        try:
            raise ValueError("shown with its traceback")
        except ValueError:
            log.debug("a debug line", exc_info=True)
        err = capsys.readouterr().err
        assert "a debug line" in err and "Traceback" in err and "shown with its" in err
        build_parser().parse_args([])  # default: warnings only, concise
        log.debug("hidden")
        log.warning("a warning")
        err = capsys.readouterr().err
        assert "hidden" not in err and "bpviz: a warning" in err
    finally:
        logging.getLogger("bpviz").setLevel(logging.NOTSET)


def test_every_command_line_takes_verbose(capsys):
    from bpviz.cli import download, gradcheck, train

    for module in (train, gradcheck, download):
        with pytest.raises(SystemExit) as stop:
            module.main(["--help"])
        assert stop.value.code == 0
        assert "-v, --verbose" in capsys.readouterr().out
