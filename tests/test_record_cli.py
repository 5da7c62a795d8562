"""``main.py --record FILE.gif|.mp4 --quit-after S``: a real process records its window.

The GIF is read block by block here (no new dependency): its frames, their delays and
their pixels; the MP4 by imageio-ffmpeg, which ships the ffmpeg the recorder uses.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys
import time
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtGui import QImageReader

from bpviz.ui.export import image_array
from bpviz.ui.recorder import ffmpeg_exe

ROOT = Path(__file__).resolve().parents[1]
needs_ffmpeg = pytest.mark.skipif(ffmpeg_exe() is None, reason="imageio-ffmpeg not installed")


def start(tmp_path: Path, *args: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(ROOT), HOME=str(tmp_path))
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    argv = [sys.executable, str(ROOT / "main.py"), "--settings", str(tmp_path / "s.ini"), *args]
    return subprocess.Popen(
        argv, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    process = start(tmp_path, *args)
    out, err = process.communicate(timeout=300)
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def gif_blocks(data: bytes) -> tuple[tuple[int, int], list[int]]:
    """A GIF's logical screen (width, height) and the delay of each image, in 1/100 s.

    Walks the blocks of GIF89a: header, screen descriptor (+ global colour table), then
    extensions (0x21; a graphic control extension 0xF9 holds the next image's delay),
    images (0x2C: descriptor, local colour table, LZW data in sub-blocks) and the
    trailer 0x3B. Raises ValueError on anything else (a truncated file)."""
    if data[:6] not in (b"GIF89a", b"GIF87a"):
        raise ValueError("not a GIF")
    width, height, flags = struct.unpack_from("<HHB", data, 6)
    pos = 13 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0)

    def skip_sub_blocks(pos: int) -> int:
        while data[pos]:
            pos += data[pos] + 1
        return pos + 1

    delays, delay = [], 0
    while True:
        kind = data[pos]
        if kind == 0x3B:
            return (width, height), delays
        if kind == 0x21:
            if data[pos + 1] == 0xF9:
                delay = struct.unpack_from("<H", data, pos + 4)[0]
            pos = skip_sub_blocks(pos + 2)
        elif kind == 0x2C:
            local = data[pos + 9]
            pos += 10 + (3 << ((local & 7) + 1) if local & 0x80 else 0)
            pos = skip_sub_blocks(pos + 1)  # after the LZW minimum code size
            delays.append(delay)
        else:
            raise ValueError(f"unexpected block 0x{kind:02x} at byte {pos}")


def gif_frames(path: Path) -> list[np.ndarray]:
    reader = QImageReader(str(path))
    frames = []
    while not (image := reader.read()).isNull():
        frames.append(image_array(image))
    return frames


@needs_ffmpeg
def test_a_gif_of_the_running_window(tmp_path):
    seconds = 3
    result = run(tmp_path, "--data", "sample", "--run", "--record", "clip.gif",
                 "--quit-after", str(seconds))  # fmt: skip
    assert result.returncode == 0, result.stderr
    clip = tmp_path / "clip.gif"
    assert f"recorded {clip.name}" in result.stdout or f"recorded {clip}" in result.stdout
    (width, height), delays = gif_blocks(clip.read_bytes())
    assert width == 960 and 400 < height < 960  # the whole window, scaled to 960 px wide
    # 15 frames a second, late grabs repeated: the clip lasts as long as the recording
    assert sum(delays) / 100 == pytest.approx(seconds, abs=1.0)
    assert len(delays) > 10
    frames = gif_frames(clip)
    assert len(frames) == len(delays)
    changed = [not np.array_equal(a, b) for a, b in pairwise(frames)]
    # training runs: the picture changes (a loaded machine repaints less often: 2 is enough)
    assert sum(changed) >= 2
    assert not np.array_equal(frames[0], frames[-1])
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix in (".gif", ".part")) == [
        "clip.gif"
    ]


@needs_ffmpeg
def test_an_mp4_of_the_running_window(tmp_path):
    import imageio_ffmpeg

    result = run(tmp_path, "--data", "sample", "--run", "--record", "clip.mp4",
                 "--quit-after", "2")  # fmt: skip
    assert result.returncode == 0, result.stderr
    data = (tmp_path / "clip.mp4").read_bytes()
    assert data[4:8] == b"ftyp"  # an ISO media file, finished (faststart: moov up front)
    reader = imageio_ffmpeg.read_frames(str(tmp_path / "clip.mp4"))
    meta = next(reader)
    w, h = meta["size"]
    frames = [np.frombuffer(f, np.uint8).reshape(h, w, 3) for f in reader]
    assert meta["fps"] == 25 and len(frames) >= 40  # 2 s at 25 frames a second
    assert not np.array_equal(frames[0], frames[-1])


@pytest.mark.parametrize(
    ("target", "says"),
    [
        ("clip.avi", "must end in .gif or .mp4"),
        ("missing/clip.gif", "does not exist"),
        ("afile/clip.gif", "is not a folder"),
        (".", "must end in .gif or .mp4"),
        ("adir.gif", "is a folder"),
    ],
)
def test_a_bad_path_is_refused_before_the_window_opens(tmp_path, target, says):
    (tmp_path / "afile").write_text("x")
    (tmp_path / "adir.gif").mkdir()
    began = time.monotonic()
    result = run(tmp_path, "--data", "sample", "--record", target, "--quit-after", "60")
    assert result.returncode == 2
    assert "--record" in result.stderr and says in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1  # one line, no traceback
    assert time.monotonic() - began < 60  # it never waited for --quit-after
    assert not list(tmp_path.glob("**/*.part"))


def test_a_gif_longer_than_its_cap_is_refused(tmp_path):
    result = run(tmp_path, "--record", "clip.gif", "--quit-after", "90")
    assert result.returncode == 2 and "record 90 s as .mp4" in result.stderr


@needs_ffmpeg
def test_a_recording_that_fails_midway_exits_non_zero(tmp_path):
    folder = tmp_path / "clips"
    folder.mkdir()
    process = start(tmp_path, "--data", "sample", "--run", "--record", "clips/clip.mp4",
                    "--quit-after", "4")  # fmt: skip
    deadline = time.monotonic() + 120
    while not (folder / ".clip.mp4.part").exists():  # ffmpeg is writing
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    shutil.rmtree(folder)  # the folder goes away under it (as a removed disk would)
    out, err = process.communicate(timeout=300)
    assert process.returncode == 1, (out, err)
    assert "--record" in err and "could not write" in err
    assert not folder.exists()
