"""Recording real views (offscreen) to GIF, MP4 and numbered PNGs."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtGui import QImage, QImageReader
from snapshots import make_snapshots
from viewtools import shown

from bpviz.ui.export import image_array, is_blank
from bpviz.ui.recorder import Recorder, ffmpeg_args, ffmpeg_exe
from bpviz.ui.views import NetworkView

needs_ffmpeg = pytest.mark.skipif(ffmpeg_exe() is None, reason="imageio-ffmpeg not installed")


@pytest.fixture
def view(qtbot):
    return shown(qtbot, NetworkView(), 640, 400)


def _record(qtbot, recorder, view, path, fps=20.0, **kwargs):
    """Step through the phases of two mini-batches while recording; wait for the file."""
    snaps = make_snapshots(sizes=(784, 16, 10)) + make_snapshots(sizes=(784, 16, 10), step=1)
    recorder.start(view, path, fps=fps, **kwargs)
    for snap in snaps:
        view.show_snapshot(snap)
        qtbot.wait(25)
    with qtbot.waitSignal(recorder.finished, timeout=60_000) as blocker:
        recorder.stop()
    return blocker.args


def _gif_frames(path) -> list[np.ndarray]:
    reader = QImageReader(str(path))
    frames = []
    while True:
        image = reader.read()
        if image.isNull():
            break
        frames.append(image_array(image))
    return frames


@needs_ffmpeg
def test_gif_of_delta_flowing_backward(qtbot, view, tmp_path):
    recorder = Recorder()
    out, frames = _record(qtbot, recorder, view, tmp_path / "clip.gif")
    assert out == str(tmp_path / "clip.gif") and frames >= 10
    assert not recorder.busy
    decoded = _gif_frames(tmp_path / "clip.gif")
    assert len(decoded) >= 2  # identical consecutive frames may be merged by the encoder
    assert decoded[0].shape == (400, 640, 4)
    assert not is_blank(QImage(str(tmp_path / "clip.gif")))
    assert any(not np.array_equal(decoded[0], f) for f in decoded[1:])  # it moves
    assert [p.name for p in tmp_path.iterdir()] == ["clip.gif"]  # no partial file left


@needs_ffmpeg
def test_mp4_has_every_frame_at_even_size(qtbot, view, tmp_path):
    import imageio_ffmpeg

    view.resize(641, 401)  # odd: H.264 needs even sides
    qtbot.wait(20)
    recorder = Recorder()
    _, frames = _record(qtbot, recorder, view, tmp_path / "clip.mp4", fps=25.0)
    reader = imageio_ffmpeg.read_frames(str(tmp_path / "clip.mp4"))
    meta = reader.__next__()
    assert tuple(meta["size"]) == (640, 400)
    decoded = [np.frombuffer(f, np.uint8).reshape(400, 640, 3) for f in reader]
    assert len(decoded) == frames
    assert decoded[-1].std() > 10  # a picture, not a flat frame


def test_png_sequence_without_a_video_suffix(qtbot, view, tmp_path):
    recorder = Recorder()
    out, frames = _record(qtbot, recorder, view, tmp_path / "frames", fps=20.0)
    files = sorted((tmp_path / "frames").iterdir())
    assert out == str(tmp_path / "frames")
    assert [f.name for f in files] == [f"frame_{k:06d}.png" for k in range(1, frames + 1)]
    first, last = QImage(str(files[0])), QImage(str(files[-1]))
    assert (first.width(), first.height()) == (640, 400)
    assert not is_blank(last) and image_array(first).tobytes() != image_array(last).tobytes()


def test_resizing_while_recording_keeps_the_frame_size(qtbot, view, tmp_path):
    recorder = Recorder()
    recorder.start(view, tmp_path / "f", fps=50.0)
    view.resize(500, 300)
    qtbot.wait(60)
    recorder.capture()
    recorder.stop()
    sizes = {QImage(str(p)).size().toTuple() for p in (tmp_path / "f").iterdir()}
    assert sizes == {(640, 400)}


def test_recording_stops_by_itself_after_max_seconds(qtbot, view, tmp_path):
    recorder = Recorder()
    with qtbot.waitSignal(recorder.finished, timeout=5000) as blocker:
        recorder.start(view, tmp_path / "f", fps=50.0, max_seconds=0.1)
    assert blocker.args[1] == 5 and not recorder.recording


def test_bad_requests_are_refused(qtbot, view, tmp_path):
    recorder = Recorder()
    with pytest.raises(ValueError, match="fps"):
        recorder.start(view, tmp_path / "f", fps=0)
    (tmp_path / "file").write_text("x")
    with pytest.raises(OSError):
        recorder.start(view, tmp_path / "file" / "sub", fps=10)
    assert not recorder.busy
    recorder.start(view, tmp_path / "ok", fps=10)
    with pytest.raises(RuntimeError, match="in progress"):
        recorder.start(view, tmp_path / "again", fps=10)
    recorder.stop()
    assert recorder.stop() is None


@needs_ffmpeg
def test_an_encoder_failure_is_reported_and_leaves_no_file(qtbot, view, tmp_path):
    recorder = Recorder()
    recorder.start(view, tmp_path / "clip.mp4", fps=10)
    # ffmpeg dies mid-recording (as on a full disk): we are told, nothing half-written stays
    with qtbot.waitSignal(recorder.failed, timeout=10_000) as blocker:
        recorder._process.kill()
    assert "could not write" in blocker.args[0]
    assert not recorder.busy and list(tmp_path.iterdir()) == []


def test_ffmpeg_arguments_fit_and_even_the_size():
    from pathlib import Path

    from PySide6.QtCore import QSize

    args = ffmpeg_args(Path("a.gif"), QSize(1601, 1001), 10)
    graph = args[args.index("-filter_complex") + 1]
    assert graph.startswith("scale=960:600:") and "palettegen" in graph
    args = ffmpeg_args(Path("a.mp4"), QSize(641, 401), 25)
    assert args[args.index("-vf") + 1].startswith("scale=640:400:")
    assert "libx264" in args and "yuv420p" in args
