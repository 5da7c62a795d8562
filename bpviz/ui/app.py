"""Open the window: ``python main.py [FILE] [--data DIR] [--run] [--step-phases N]
[--quit-after SECONDS] [--screenshot FILE] [--settings FILE] [--inspect L,I,J]
[--record FILE.gif|.mp4]``.

Works offscreen (``QT_QPA_PLATFORM=offscreen``): ``--step-phases 7 --screenshot f.png``
steps into the backward pass, saves the whole window and quits.
"""

from __future__ import annotations

import argparse
import logging
import sys
import traceback
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QSettings, QTimer, QtMsgType, qInstallMessageHandler
from PySide6.QtWidgets import QApplication

from bpviz.ui import pacing
from bpviz.ui import settings as store
from bpviz.ui.record_cli import add_record_argument, check_record, start_record

if TYPE_CHECKING:  # imported when the window is built, while the training process starts
    from bpviz.ui.main_window import MainWindow

logger = logging.getLogger(__name__)
PUBLISH_HZ = 60


def build_parser(prog: str | None = None) -> argparse.ArgumentParser:
    """The window's command line (other panels add their options here); its help lists
    the headless commands too, which ``bpviz.__main__`` dispatches before this parser."""
    from bpviz.cli.common import COMMANDS, Parser, commands_help, int_at_least

    names = ",".join(COMMANDS)  # the usage line names every command there is
    parser = Parser(
        prog=prog or "bpviz",
        usage=f"%(prog)s [options] [FILE]\n       %(prog)s {{{names}}} [options]",
        description="Watch backpropagation train a NumPy network on MNIST.\n"
        "With no command, open the window (on the session FILE when one is given).",
        epilog=f"commands (%(prog)s COMMAND --help for their options):\n{commands_help()}",
    )
    parser.add_argument(
        "file",
        nargs="?",
        metavar="FILE",
        help="a session file (.npz) to open, as File ▸ Open session does (default: none)",
    )
    parser.add_argument(
        "--data",
        metavar="DIR",
        help="folder of MNIST IDX files, 'sample' / 'mnist', or a toy 2-D set: xor, circles, "
        "moons, spiral, blobs, blobs3 (default: the last choice, else $BPVIZ_DATA, a "
        "downloaded MNIST or the embedded sample)",
    )
    parser.add_argument(
        "--run", action="store_true", help="start training at once (default: paused)"
    )
    parser.add_argument(
        "--pace",
        type=_pace,
        default=argparse.SUPPRESS,  # absent: the saved pace
        metavar="N|full",
        help="train at N mini-batches per second (every phase of each shown up to "
        f"{pacing.ANIMATED_MAX:g}/s, e.g. 0.5 or 1), or 'full' speed — for this run only: "
        "the pace remembered for the next launch stays as it was (default: the last pace "
        f"chosen in the window; on a first launch {pacing.DEFAULT:g}, every phase shown)",
    )
    parser.add_argument(
        "--step-phases",
        type=int_at_least("--step-phases", 0),
        default=0,
        metavar="N",
        help="step N phases of backprop",
    )
    parser.add_argument(
        "--quit-after",
        type=float,
        metavar="SECONDS",
        help="close the window after SECONDS (default: stay open; 0.5 with --screenshot, "
        "3 with --screenshot --run, 10 with --record)",
    )
    parser.add_argument(
        "--screenshot",
        metavar="FILE",
        help="save the whole window as FILE (PNG) and quit (default: none)",
    )
    parser.add_argument(
        "--settings",
        metavar="FILE",
        help="settings INI file to use (default: the user's bpviz settings)",
    )
    parser.add_argument(
        "--inspect",
        metavar="L,I,J",
        type=_selection,
        help="open with wᵢⱼˡ selected (l = 1 … L as in the paper, i and j from 0; "
        "L,I,b for the bias bᵢˡ) (default: none)",
    )
    add_record_argument(parser)
    return parser


def _pace(text: str) -> float | None:
    """``--pace``'s value, judged by ``pacing.parse_pace`` (argparse names the flag)."""
    try:
        return pacing.parse_pace(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


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
    import os

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
    from bpviz.data.sources import ENV_DATA
    from bpviz.session.toyconfig import config_for_data

    stored = store.load_config(settings)
    choice = data if data is not None else saved
    if choice is None:  # $BPVIZ_DATA may name a toy set: its network then
        choice = os.environ.get(ENV_DATA) or None
    config = config_for_data(stored, dataset, choice)  # a toy set: its own network
    if in_process:
        from bpviz.runtime.worker import Worker
        from bpviz.session.session import Session

        worker = Worker(Session(dataset, config), publish_hz=PUBLISH_HZ)
        worker.start()
    else:
        from bpviz.runtime.remote import RemoteWorker

        # the child imports NumPy and trains on the other core while this process
        # imports the window (about as long): started first, awaited once both are ready
        worker = RemoteWorker(dataset, config, publish_hz=PUBLISH_HZ, wait=False)
    try:
        from bpviz.ui.main_window import MainWindow

        if not in_process:
            worker.wait_started()  # RemoteError if the child could not start
    except BaseException:
        worker.stop()
        raise
    window = MainWindow(worker, config, dataset, description, settings)
    window.controller.opened_on(choice, stored)  # a toy set's settings, the MNIST network
    source, _, note = description.partition(" — ")
    if note:  # a fallback (an unreadable download, a saved folder gone): say so, not only in a tip
        window.statusBar().showMessage(f"Using the {source.split(' (')[0]}: {note}", 0)
    return window


def save_screenshot(window: MainWindow, path: str) -> None:
    """Draw the newest snapshot, then save the whole window as ``path``."""
    window.refresh()
    QApplication.processEvents()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    if not window.grab().save(path):
        print(f"bpviz: could not write the screenshot {path}", file=sys.stderr)


def open_file(window: MainWindow, path: str) -> bool:
    """``bpviz FILE``: open the session file as File ▸ Open session does (the same code,
    the same message in the window when it cannot be used); whether it opened."""
    from PySide6.QtWidgets import QMessageBox

    if window.controller.open_session(path):
        return True
    boxes = [b for b in window.findChildren(QMessageBox) if b.objectName() == "bpviz_message"]
    reason = boxes[-1].text().split("\n\n")[-1] if boxes else f"{path}: see the message"
    window.statusBar().showMessage(f"Could not open the session: {reason}", 0)
    return False


def apply_script(window: MainWindow, args: argparse.Namespace) -> None:
    """Do what the command line asked: open FILE, run, step phases, screenshot, quit.

    A FILE that cannot be opened leaves the window on a new session with the message
    shown (and on stderr too in scripted mode, ``--screenshot`` or ``--quit-after``);
    the exit status is then 1."""
    if getattr(args, "file", None) and not open_file(window, args.file):
        window.set_script_status(1)
        if args.screenshot or args.quit_after is not None:
            print(f"bpviz: {window.statusBar().currentMessage()}", file=sys.stderr)
    if args.step_phases > 0:
        for _ in range(args.step_phases):
            window.controller.step_phase()  # as the . key does
        window.worker.wait_idle(timeout=30.0)
    if getattr(args, "inspect", None) is not None:
        window.refresh()  # draw first, so every view knows the network it highlights in
        try:
            window.controller.select(*args.inspect.entry)
            window.controller.show_panels()
        except ValueError as exc:
            print(f"bpviz: --inspect: {exc}", file=sys.stderr)
    if args.run:
        window.act.run.setChecked(True)
    quit_after = args.quit_after
    if quit_after is None and args.screenshot:
        quit_after = 3.0 if args.run else 0.5
    if quit_after is not None and not getattr(args, "record", None):  # --record quits itself

        def finish() -> None:
            if args.screenshot:
                save_screenshot(window, args.screenshot)
            window.close()

        QTimer.singleShot(round(1000 * quit_after), finish)


def _excepthook(kind, value, tb) -> None:
    """Report an unexpected error in one line (the traceback with -v or BPVIZ_DEBUG)."""
    import os

    if os.environ.get("BPVIZ_DEBUG"):
        traceback.print_exception(kind, value, tb)
    else:
        logger.debug("unexpected error", exc_info=(kind, value, tb))
    print(f"bpviz: unexpected error: {kind.__name__}: {value}", file=sys.stderr)


def _qt_message(mode: QtMsgType, context, message: str) -> None:
    """Qt's messages to stderr, minus the offscreen platform's note that it cannot pass
    size hints to a window system it does not have."""
    if message != "This plugin does not support propagateSizeHints()":
        print(message, file=sys.stderr)


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    """Open the window; returns the exit status (``prog``: the program name for usage)."""
    from bpviz.cli.common import COMMANDS, unknown_command

    parser = build_parser(prog)
    args, unknown = parser.parse_known_args(argv)  # a misplaced command first, then these
    if args.file in COMMANDS and not Path(args.file).exists():
        parser.error(f"a command comes first: {parser.prog} {args.file} [options]")
    if args.file and (message := unknown_command(args.file)):
        parser.error(message)
    if unknown:
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    check_record(parser, args)
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
        print(f"bpviz: {'--data ' if args.data is not None else ''}{exc}", file=sys.stderr)
        return 2
    except RemoteError as exc:
        print(f"bpviz: {exc}", file=sys.stderr)
        return 1
    if "pace" in vars(args):
        window.controller.set_pace(args.pace, remember=False)  # this run only
    app.aboutToQuit.connect(window.shutdown)
    window.show()
    QTimer.singleShot(0, lambda: apply_script(window, args))
    if args.record:
        shot = (lambda: save_screenshot(window, args.screenshot)) if args.screenshot else None
        QTimer.singleShot(0, lambda: start_record(window, args, shot))
    status = app.exec()
    window.shutdown()
    return status or getattr(window, "script_status", 0)
