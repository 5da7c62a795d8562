"""Open the window: ``python main.py [--data DIR] [--run] [--step-phases N]
[--quit-after SECONDS] [--screenshot FILE] [--settings FILE]``.

Works offscreen (``QT_QPA_PLATFORM=offscreen``): ``--step-phases 7 --screenshot f.png``
steps into the backward pass, saves the whole window and quits.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QSettings, QTimer, QtMsgType, qInstallMessageHandler
from PySide6.QtWidgets import QApplication

from bpviz.ui import settings as store
from bpviz.ui.main_window import MainWindow

PUBLISH_HZ = 60


def build_parser() -> argparse.ArgumentParser:
    """The window's command line (other panels add their options here)."""
    parser = argparse.ArgumentParser(
        prog="bpviz", description="Watch backpropagation train a NumPy network on MNIST."
    )
    parser.add_argument(
        "--data",
        metavar="DIR",
        help="folder of MNIST IDX files, or 'sample' / 'mnist' (default: best available)",
    )
    parser.add_argument("--run", action="store_true", help="start training at once")
    parser.add_argument(
        "--step-phases", type=int, default=0, metavar="N", help="step N phases of backprop"
    )
    parser.add_argument(
        "--quit-after", type=float, metavar="SECONDS", help="close the window after SECONDS"
    )
    parser.add_argument(
        "--screenshot", metavar="FILE", help="save the whole window as FILE (PNG) and quit"
    )
    parser.add_argument("--settings", metavar="FILE", help="settings INI file to use")
    parser.add_argument(
        "--inspect",
        metavar="L,I,J",
        type=_selection,
        help="open with w_IJ^L selected (L = 1 … L as in the paper, I and J from 0; "
        "L,I,b for the bias b_I^L)",
    )
    return parser


def _selection(text: str):
    from bpviz.ui.inspection import Selection

    try:
        return Selection.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_window(
    data: str | None = None, settings: QSettings | None = None, *, in_process: bool = False
) -> MainWindow:
    """A window training on ``data`` (None: the saved choice, else best available).

    Training runs in a child process (``RemoteWorker``) unless ``in_process``, where a
    ``Worker`` thread shares this process's GIL with the painting (slower at full speed;
    its ``session`` is reachable). Raises ``bpviz.data.DataError`` when ``data`` holds
    no usable MNIST.
    """
    from bpviz.data import DataError, resolve_source

    settings = settings if settings is not None else store.open_settings()
    saved = store.load_data_choice(settings)
    try:
        dataset, description = resolve_source(data if data is not None else saved)
    except DataError as error:
        if data is not None:
            raise
        dataset, description = resolve_source(None)  # the saved folder went away
        description = f"{description} — the data source chosen last is unusable: {error}"
        saved = None
    store.save_data_choice(settings, data if data is not None else saved)
    config = store.load_config(settings)
    sizes = (dataset.n_inputs, *config.sizes[1:-1], dataset.n_classes)
    config = replace(config, sizes=sizes)
    if in_process:
        from bpviz.runtime.worker import Worker
        from bpviz.session.session import Session

        worker = Worker(Session(dataset, config), publish_hz=PUBLISH_HZ)
        worker.start()
    else:
        from bpviz.runtime.remote import RemoteWorker

        worker = RemoteWorker(dataset, config, publish_hz=PUBLISH_HZ)
    return MainWindow(worker, config, dataset, description, settings)


def save_screenshot(window: MainWindow, path: str) -> None:
    """Draw the newest snapshot, then save the whole window as ``path``."""
    window.refresh()
    QApplication.processEvents()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    if not window.grab().save(path):
        print(f"bpviz: could not write the screenshot {path}", file=sys.stderr)


def apply_script(window: MainWindow, args: argparse.Namespace) -> None:
    """Do what the command line asked: run, step phases, screenshot, quit."""
    if args.step_phases > 0:
        for _ in range(args.step_phases):
            window.worker.step_phase()
        window.worker.wait_idle(timeout=30.0)
    if getattr(args, "inspect", None) is not None:
        from bpviz.ui import inspect_wiring

        window.refresh()  # draw first, so every view knows the network it highlights in
        try:
            inspect_wiring.select(window, *args.inspect.entry)
            inspect_wiring.show_panels(window)
        except ValueError as exc:
            print(f"bpviz: --inspect: {exc}", file=sys.stderr)
    if args.run:
        window.act.run.setChecked(True)
    quit_after = args.quit_after
    if quit_after is None and args.screenshot:
        quit_after = 3.0 if args.run else 0.5
    if quit_after is not None:

        def finish() -> None:
            if args.screenshot:
                save_screenshot(window, args.screenshot)
            window.close()

        QTimer.singleShot(round(1000 * quit_after), finish)


def _excepthook(kind, value, tb) -> None:
    """Report an unexpected error in one line (full traceback only with BPVIZ_DEBUG)."""
    import os

    if os.environ.get("BPVIZ_DEBUG"):
        traceback.print_exception(kind, value, tb)
    print(f"bpviz: unexpected error: {kind.__name__}: {value}", file=sys.stderr)


def _qt_message(mode: QtMsgType, context, message: str) -> None:
    """Qt's messages to stderr, minus the offscreen platform's note that it cannot pass
    size hints to a window system it does not have."""
    if message != "This plugin does not support propagateSizeHints()":
        print(message, file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    """Open the window; returns the exit status."""
    args = build_parser().parse_args(argv)
    qInstallMessageHandler(_qt_message)
    app = QApplication.instance() or QApplication([sys.argv[0]])
    app.setOrganizationName(store.ORGANISATION)
    app.setApplicationName(store.APPLICATION)
    app.setApplicationDisplayName("bpviz")
    sys.excepthook = _excepthook
    from bpviz.data import DataError
    from bpviz.runtime.remote import RemoteError

    try:
        window = build_window(args.data, store.open_settings(args.settings))
    except DataError as exc:
        print(f"bpviz: {exc}", file=sys.stderr)
        return 2
    except RemoteError as exc:
        print(f"bpviz: {exc}", file=sys.stderr)
        return 1
    app.aboutToQuit.connect(window.shutdown)
    window.show()
    QTimer.singleShot(0, lambda: apply_script(window, args))
    status = app.exec()
    window.shutdown()
    return status
