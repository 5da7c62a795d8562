"""Opening and replacing session files safely: regular files only, writes through symlinks.

Reading a path that is not a regular file can hang (``open()`` of a FIFO waits for a
writer) or never end (``/dev/zero``), so :func:`open_regular` refuses anything else
*before* reading: it looks with ``stat`` first, opens with ``O_NONBLOCK`` (a FIFO then
opens at once instead of blocking) and looks again with ``fstat`` on what it opened, in
case the path was swapped between the two.

Writing (:func:`atomic_write`) never replaces what is not a regular file: a symlink is
followed and its target replaced (the link stays a link), a device, FIFO, socket or
folder is refused. The new content goes to a temporary file in the target's folder,
named ``.NAME.PID.RANDOM.bpviz-tmp``, is flushed to disk and then renamed onto the
target, so the target is always either the old file or the complete new one. Temporary
files of earlier saves whose process is gone (killed mid-save) are removed by the next
save to the same target.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

TMP_SUFFIX = ".bpviz-tmp"


class UnsafePathError(OSError):
    """The path is not a regular file (or cannot be one); the message says what it is."""


def describe(mode: int) -> str:
    """What a ``st_mode`` is, in words: "a folder", "a named pipe (FIFO)", "a device", …"""
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _refuse(path: Path, mode: int, doing: str) -> UnsafePathError:
    return UnsafePathError(f"cannot {doing} {path}: it is {describe(mode)}, not a regular file")


@contextlib.contextmanager
def open_regular(path: str | Path) -> Iterator[BinaryIO]:
    """``path`` opened for binary reading, if it is a regular file (symlinks followed).

    Raises ``UnsafePathError`` for anything else without ever blocking on it, and the
    usual ``OSError``s (``FileNotFoundError``, ``PermissionError``, …) otherwise.
    """
    path = Path(path)
    mode = os.stat(path).st_mode  # never blocks, whatever the path is
    if not stat.S_ISREG(mode):
        raise _refuse(path, mode, "read")
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags | getattr(os, "O_BINARY", 0))
    try:
        mode = os.fstat(fd).st_mode  # what was opened: the path may have changed since
        if not stat.S_ISREG(mode):
            raise _refuse(path, mode, "read")
        file = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    with file:
        yield file


def write_target(path: str | Path) -> Path:
    """The file a save to ``path`` replaces: ``path``, or a symlink's final target.

    Raises ``UnsafePathError`` if that exists and is not a regular file (a device, a
    FIFO, a socket, a folder): a save never replaces those.
    """
    path = Path(path)
    target = Path(os.path.realpath(path)) if path.is_symlink() else path
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        return target
    if not stat.S_ISREG(mode):
        raise _refuse(path, mode, "save to")
    return target


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, but belongs to someone else
        return True
    return True


def remove_stale_temporaries(target: Path) -> list[Path]:
    """Delete the temporary files of earlier saves to ``target`` whose process has died
    (a kill mid-save leaves one); the ones of live processes may be in use. Returns the
    removed paths."""
    directory = target.parent
    prefix = f".{target.name}."
    removed = []
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return removed
    for entry in entries:
        name = entry.name
        if not (name.startswith(prefix) and name.endswith(TMP_SUFFIX)):
            continue
        pid_text = name[len(prefix) : -len(TMP_SUFFIX)].split(".")[0]
        if not pid_text.isdigit() or _pid_alive(int(pid_text)):
            continue
        try:
            if entry.is_file(follow_symlinks=False):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
        except OSError:
            pass  # someone else removed it, or we may not: not worth failing a save for
    return removed


def atomic_write(path: str | Path, write: Callable[[BinaryIO], None]) -> Path:
    """Replace the file at ``path`` (through symlinks) by what ``write(file)`` writes.

    The content is written to ``.NAME.PID.RANDOM.bpviz-tmp`` beside the target, synced
    to disk and renamed onto it; on any failure the temporary file is removed and the
    target is untouched. Keeps an existing target's permission bits. Returns the target.
    """
    target = write_target(path)
    directory = target.parent if str(target.parent) else Path(".")
    remove_stale_temporaries(target)
    tmp = directory / f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}{TMP_SUFFIX}"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(tmp, flags | getattr(os, "O_BINARY", 0), 0o666)  # a new file's usual mode
    try:
        with os.fdopen(fd, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        with contextlib.suppress(FileNotFoundError):  # keep the replaced file's mode
            os.chmod(tmp, stat.S_IMODE(os.stat(target).st_mode))
        write_target(target)  # still not a device or FIFO: the path may have been swapped
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    return target
