"""``bpviz --record FILE.gif|.mp4``: record the whole window while it runs, then quit.

For teachers making clips and for tests. The recording starts as the window opens (after
``--run`` and the other scripted actions), takes ``FPS`` frames a second and stops after
``--quit-after`` seconds (``DEFAULT_SECONDS`` when not given); the window closes only once
ffmpeg has finished the file, so the file is complete when the process exits. Exit status
1, with the reason on stderr and in the window, if the recording failed.

Everything that can be checked before the window opens is (``check_record``): the suffix,
the folder, ffmpeg, the length a GIF may have — a parser error (exit 2) names the flag.
Built on ``bpviz.ui.recorder.Recorder`` (Record ▸ Record window… uses the same).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from bpviz.ui.recorder import MAX_SECONDS, VIDEO_SUFFIXES, ffmpeg_exe

if TYPE_CHECKING:
    from bpviz.ui.window_api import Window

DEFAULT_SECONDS = 10.0  # --record without --quit-after: a clip, not a recording left running
# frames a second: at 1 mini-batch/s on 784-30-10 a phase lasts 1/8 s, so 15 fps gives each
# phase two frames; GIF delays are in 1/100 s, and 15 fps (6.67 → 7 cs) stays close to it.
# MP4 takes 25, smooth motion at little cost (H.264 stores what changed).
FPS = {".gif": 15.0, ".mp4": 25.0}
FINISH_MS = 120_000  # at most this long for ffmpeg to finish the file after the last frame


def add_record_argument(parser: argparse.ArgumentParser) -> None:
    """``--record FILE`` on the window's command line."""
    parser.add_argument(
        "--record",
        metavar="FILE",
        help="record the whole window into FILE (.gif: 15 frames/s, 960 px wide, at most "
        f"{MAX_SECONDS['.gif']:g} s; .mp4: 25 frames/s) from the start until --quit-after "
        f"seconds (default with --record: {DEFAULT_SECONDS:g}), then quit once the file is "
        "complete (default: none)",
    )


def record_problem(path: str, seconds: float) -> str | None:
    """Why ``path`` cannot be recorded into for ``seconds``, or None when it can."""
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in VIDEO_SUFFIXES:
        return f"{path}: the file must end in .gif or .mp4"
    if not seconds > 0:
        return f"--quit-after must be positive to record, got {seconds:g}"
    if seconds > MAX_SECONDS[suffix]:
        return (
            f"a GIF holds at most {MAX_SECONDS[suffix]:g} s (ffmpeg keeps every frame until "
            f"the end to build its palette); record {seconds:g} s as .mp4"
        )
    if target.is_dir():
        return f"{path} is a folder; give a file name ending in {suffix}"
    folder = target.parent
    if not folder.exists():
        return f"the folder {folder} does not exist"
    if not folder.is_dir():
        return f"{folder} is not a folder"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"cannot write into the folder {folder}"
    if ffmpeg_exe() is None:
        return "recording needs the ffmpeg of imageio-ffmpeg (pip install imageio-ffmpeg)"
    return None


def check_record(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Before the window opens: default ``--quit-after`` for ``--record`` and refuse what
    cannot be recorded (``parser.error``: one line naming the flag, exit 2)."""
    if getattr(args, "record", None) is None:
        return
    if args.quit_after is None:
        args.quit_after = DEFAULT_SECONDS
    if problem := record_problem(args.record, args.quit_after):
        parser.error(f"--record: {problem}")


def start_record(
    window: Window, args: argparse.Namespace, before_close: Callable[[], None] | None = None
) -> None:
    """Record the whole window into ``args.record`` for ``args.quit_after`` seconds, then
    close it once the file is complete (or the recording failed: exit status 1), after
    calling ``before_close`` (the ``--screenshot``)."""
    from PySide6.QtCore import QTimer

    recorder, path = window.recorder, Path(args.record)
    fps = FPS[path.suffix.lower()]
    done = {"closing": False}

    def close(status: int, message: str) -> None:
        if done["closing"]:
            return
        done["closing"] = True
        print(f"bpviz: {message}", file=sys.stderr if status else sys.stdout, flush=True)
        if status:
            window.set_script_status(status)
            window.statusBar().showMessage(message, 0)
        if before_close is not None:
            before_close()
        window.close()

    def finished(out: str, frames: int) -> None:
        size = Path(out).stat().st_size if Path(out).is_file() else 0
        close(0, f"recorded {out}: {frames} frames at {fps:g} frames/s, {size / 1e6:.1f} MB")

    def stop() -> None:
        if recorder.recording:
            recorder.stop()  # ffmpeg finishes the file, then ``finished`` closes the window
            QTimer.singleShot(FINISH_MS, lambda: close(1, f"--record: {path}: ffmpeg did not "
                                                          "finish the file in time"))  # fmt: skip
        elif not recorder.busy:  # stopped by itself already and reported
            window.close()

    recorder.finished.connect(finished)
    recorder.failed.connect(lambda message: close(1, f"--record: {message}"))
    try:
        # a little longer than the run so that the quit timer, not the cap, ends it
        recorder.start(window, path, fps=fps, max_seconds=args.quit_after + 1.0)
    except (OSError, ValueError, RuntimeError) as error:
        close(1, f"--record: could not start recording {path}: {error}")
        return
    QTimer.singleShot(round(1000 * args.quit_after), stop)
