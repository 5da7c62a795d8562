"""Record ▸ Start/Stop: frames of the window or of one view, written as GIF, MP4 or PNGs.

Frames are taken on the GUI thread at a fixed rate and piped to ffmpeg, the binary that
imageio-ffmpeg ships inside its wheel, run as a QProcess: Qt writes the pipe from its
event loop, so neither grabbing nor encoding ever blocks the window, and no Python
thread is involved. A GIF gets one palette for the whole clip (``palettegen`` +
``paletteuse`` with ``diff_mode=rectangle``: about 13× smaller than a palette per
frame); ffmpeg holds the frames until Stop to build it, so keep GIFs short (default cap
60 s) and use MP4 (H.264, yuv420p) for long recordings. The file appears under its name
only when ffmpeg has finished it. Without imageio-ffmpeg, or for a path that is not
``.gif``/``.mp4``, frames are written as numbered PNGs in a folder.

Frames come from the screen's copy of the window (``QScreen.grabWindow``: a few ms)
where the platform gives one, else from repainting the widget (``QWidget.grab``: tens of
ms for the whole window). A timed recording keeps to the clock: when a grab comes late
(a busy machine, a slow repaint), the frame is written as many times as frame times have
passed, so the clip lasts as long as the recording did and plays at the pace it showed.
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QObject, QProcess, QRect, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QWidget

VIDEO_SUFFIXES = (".gif", ".mp4")
MAX_SIDE = {".gif": 960, ".mp4": 1920}  # longest side written, in pixels
MAX_SECONDS = {".gif": 60.0, ".mp4": 1800.0, "": 600.0}
MAX_PENDING = 256 << 20  # bytes queued for ffmpeg before frames are dropped


def ffmpeg_exe() -> str | None:
    """Path of the ffmpeg binary inside imageio-ffmpeg's wheel, or None without it."""
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except (ImportError, RuntimeError, OSError):
        return None


def ffmpeg_args(path: Path, size: QSize, fps: float, kind: str | None = None) -> list[str]:
    """ffmpeg arguments: raw RGB frames of ``size`` on stdin → ``path``, a GIF or an MP4
    as ``kind`` (``".gif"``/``".mp4"``, default: the path's suffix) says.

    Scaled to fit ``MAX_SIDE`` with even width and height (yuv420p needs them)."""
    suffix = kind or path.suffix.lower()
    w, h = size.width(), size.height()
    k = min(1.0, MAX_SIDE[suffix] / max(w, h))
    scale = f"scale={max(2, int(w * k) // 2 * 2)}:{max(2, int(h * k) // 2 * 2)}:flags=lanczos"
    args = ["-y", "-v", "error", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}"]
    args += ["-r", f"{fps:g}", "-i", "-"]
    if suffix == ".gif":
        graph = (
            f"{scale},split[a][b];[a]palettegen=stats_mode=diff[p];"
            "[b][p]paletteuse=dither=bayer:bayer_scale=5:diff_mode=rectangle"
        )
        return [*args, "-filter_complex", graph, "-loop", "0", "-f", "gif", str(path)]
    return [*args, "-vf", scale, "-c:v", "libx264", "-pix_fmt", "yuv420p", "-crf", "20",
            "-movflags", "+faststart", "-f", "mp4", str(path)]  # fmt: skip


def grab_frame(widget: QWidget) -> QImage:
    """What ``widget`` shows now: from the screen's copy of its window when available
    (cheap), otherwise by repainting it into an image."""
    window = widget.window()
    screen = window.screen()
    if window.isVisible() and screen is not None and window.windowHandle() is not None:
        origin = widget.mapTo(window, widget.rect().topLeft()) if widget is not window else None
        rect = QRect(origin, widget.size()) if origin is not None else QRect(0, 0, -1, -1)
        pixmap = screen.grabWindow(window.winId(), rect.x(), rect.y(), rect.width(),
                                   rect.height())  # fmt: skip
        expected = widget.size() * pixmap.devicePixelRatio()
        if not pixmap.isNull() and pixmap.size() == expected:
            return pixmap.toImage()
    return widget.grab().toImage()


def rgb_bytes(image: QImage) -> bytes:
    """The pixels as packed RGB (``h × w × 3`` bytes, no row padding)."""
    rgb = image.convertToFormat(QImage.Format.Format_RGB888)
    w, h, line = rgb.width(), rgb.height(), rgb.bytesPerLine()
    data = bytes(rgb.constBits())[: line * h]
    if line == 3 * w:
        return data
    return b"".join(data[r * line : r * line + 3 * w] for r in range(h))


class Recorder(QObject):
    """Captures a widget ``fps`` times a second from ``start`` to ``stop``.

    Signals: ``started(path)``; ``finished(path, frames)`` once the file (or the folder of
    PNGs) is complete — for video that is after ffmpeg has finished, a moment after
    ``stop``; ``failed(message)`` if anything could not be written (the recording stops).
    """

    started = Signal(str)
    finished = Signal(str, int)
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self.capture)
        self._widget: QWidget | None = None
        self._process: QProcess | None = None
        self._folder: Path | None = None
        self._part: Path | None = None
        self._size = QSize()
        self._max_frames = 0
        self._clock: tuple[float, float] | None = None  # (start time, fps) when timed
        self.output: Path | None = None
        self.frames = 0
        self.dropped = 0

    @property
    def recording(self) -> bool:
        """True from ``start`` until ``stop`` (the encoder may still be finishing)."""
        return self._widget is not None

    @property
    def busy(self) -> bool:
        """True while recording or while ffmpeg is still finishing the file."""
        return self.recording or self._process is not None

    def start(
        self,
        widget: QWidget,
        path: str | Path,
        fps: float = 10.0,
        max_seconds: float | None = None,
        *,
        timed: bool = True,
    ) -> Path:
        """Record ``widget`` into ``path`` (``.gif``, ``.mp4``, or a folder for PNGs) and
        return where the frames go (``<stem>_frames/`` when ffmpeg is missing). The first
        frame is taken at once; recording stops by itself after ``max_seconds``. With
        ``timed=False`` frames are taken only by ``capture()`` (one per step, say) and
        played back at ``fps``: a clip independent of how fast the machine draws."""
        if self.busy:
            raise RuntimeError("a recording is still in progress")
        if not fps > 0:
            raise ValueError(f"fps must be positive, got {fps}")
        first = grab_frame(widget)
        if first.isNull() or first.width() < 2 or first.height() < 2:
            raise ValueError("nothing to record: the widget has no size")
        path = Path(path)
        suffix = path.suffix.lower() if path.suffix.lower() in VIDEO_SUFFIXES else ""
        exe = ffmpeg_exe() if suffix else None
        self._size, self.frames, self.dropped = first.size(), 0, 0
        if exe is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._part = path.with_name(f".{path.name}.part")
            self._start_ffmpeg(exe, ffmpeg_args(self._part, self._size, fps, suffix))
        else:
            path = path.with_name(f"{path.stem}_frames") if suffix else path
            path.mkdir(parents=True, exist_ok=True)
            self._folder = path
        self.output, self._widget = path, widget
        limit = MAX_SECONDS[suffix] if max_seconds is None else max_seconds
        self._max_frames = max(1, round(limit * fps))
        self._write(first)
        self._clock = (time.perf_counter(), fps) if timed else None
        if timed:
            self._timer.start(max(1, round(1000 / fps)))
        self.started.emit(str(path))
        return path

    def _start_ffmpeg(self, exe: str, args: list[str]) -> None:
        process = QProcess(self)
        process.setProcessChannelMode(QProcess.ProcessChannelMode.MergedChannels)
        process.start(exe, args)
        if not process.waitForStarted(10_000):
            process.deleteLater()
            raise OSError(f"could not start ffmpeg ({exe}): {process.errorString()}")
        process.finished.connect(self._ffmpeg_finished)
        self._process = process

    def capture(self) -> None:
        """Take one frame now (the timer calls this); a resized widget is scaled back to
        the first frame's size. Timed, the frame fills every frame time since the last
        one (at least one frame), so the clip keeps the recording's duration."""
        if self._widget is None:
            return
        image = grab_frame(self._widget)
        if image.size() != self._size:
            image = image.scaled(self._size, Qt.AspectRatioMode.IgnoreAspectRatio,
                                 Qt.TransformationMode.SmoothTransformation)  # fmt: skip
        copies = 1
        if self._clock is not None:
            start, fps = self._clock
            due = int((time.perf_counter() - start) * fps) + 1  # frame times begun so far
            copies = max(1, min(due, self._max_frames) - self.frames)
        for _ in range(copies):
            if self._widget is None:  # a write failed: the recording has stopped
                return
            self._write(image)
        if self.recording and self.frames >= self._max_frames:
            self.stop()

    def _write(self, image: QImage) -> None:
        if self._process is not None:
            if self._process.bytesToWrite() > MAX_PENDING:  # ffmpeg is behind: skip
                self.dropped += 1
                return
            self._process.write(rgb_bytes(image))
        else:
            path = self._folder / f"frame_{self.frames + 1:06d}.png"
            if not image.save(str(path), "PNG"):
                self._fail(f"recording stopped: cannot write {path}")
                return
        self.frames += 1

    def stop(self) -> Path | None:
        """Stop taking frames. PNGs are complete at once (``finished`` is emitted now); a
        video is finished by ffmpeg in the background, then ``finished`` is emitted.
        Returns the output path (None if nothing was recording)."""
        self._timer.stop()
        if self._widget is None:
            return None
        self._widget = None
        if self._process is not None:
            self._process.closeWriteChannel()
        else:
            self._folder = None
            self.finished.emit(str(self.output), self.frames)
        return self.output

    def wait(self, msecs: int = 60_000) -> bool:
        """Block until ffmpeg has finished the file (for scripts and shutdown); True when
        nothing is left running."""
        process = self._process
        if process is not None and not process.waitForFinished(msecs):
            return False
        return self._process is None

    def _ffmpeg_finished(self, code: int, status: QProcess.ExitStatus) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        log = bytes(process.readAll()).decode("utf-8", "replace").strip()
        process.deleteLater()
        self._timer.stop()
        self._widget = None
        ok = status == QProcess.ExitStatus.NormalExit and code == 0 and self._part.is_file()
        if not ok:
            self._part.unlink(missing_ok=True)
            self.failed.emit(f"could not write {self.output}: ffmpeg said: {log or code}")
            return
        self._part.replace(self.output)
        self.finished.emit(str(self.output), self.frames)

    def _fail(self, message: str) -> None:
        self._timer.stop()
        self._widget = self._folder = None
        if self._process is not None:
            process, self._process = self._process, None
            process.kill()
            process.waitForFinished(1000)
            process.deleteLater()
        if self._part is not None:
            self._part.unlink(missing_ok=True)
        self.failed.emit(message)
