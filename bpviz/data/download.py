"""Downloading the full MNIST: mirrors in order, MD5-verified, never a half file in place.

Each file is streamed to ``<name>.part`` beside its destination, checked against the
published MD5 and only then renamed to ``<name>``; so a file under its real name is
always complete and verified. An interrupted download keeps its ``.part`` and the next
attempt asks the server for the rest (HTTP Range); a server that ignores the request
sends the whole file again, and a ``.part`` that fails the checksum is discarded.

Only plain file names are fetched (:func:`check_file_name`): whatever a checksum list
says, nothing is written outside the destination directory. No server can hold the
download: see :mod:`bpviz.data.http` for the stall timeout, the header deadline and the
cancel poll. Plain standard library: four files, no sessions or retries policy worth a
dependency.
"""

from __future__ import annotations

import hashlib
import http.client as http_client
import io
import os
import re
import stat
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from bpviz.data import http
from bpviz.data.errors import DataError, DownloadCancelled, DownloadError
from bpviz.data.sources import default_mnist_dir

# The published MD5 of the official gzip files (the same on every mirror below).
MNIST_MD5: Mapping[str, str] = {
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}
# The mirrors the common frameworks use, in the order tried.
MIRRORS: tuple[str, ...] = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",  # torchvision
    "https://storage.googleapis.com/cvdf-datasets/mnist/",  # TensorFlow Datasets
    "http://yann.lecun.com/exdb/mnist/",  # the original
)
CHUNK = 64 * 1024
MAX_BYTES = 64 * 1024 * 1024  # MNIST's largest file is 9.9 MB; anything far larger is wrong
PART_SUFFIX = ".part"
# A mirror abandoned after this many seconds with (almost) nothing received (see
# bpviz.data.http.MIN_PROGRESS), or without complete response headers.
STALL_TIMEOUT = 30.0
HEADER_TIMEOUT = 30.0
# What a downloaded file may be called: one path component, no hidden or special names.
_PLAIN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,199}")

Progress = Callable[[str, int, int], None]


# One URL did not deliver the file; the message says why (for the final report).
_MirrorError = http.MirrorError


def download_mnist(
    dest: Path | None = None,
    mirrors: Sequence[str] | None = None,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    *,
    checksums: Mapping[str, str] | None = None,
    stall_timeout: float = STALL_TIMEOUT,
    header_timeout: float = HEADER_TIMEOUT,
) -> Path:
    """Download the full MNIST into ``dest`` and return ``dest``.

    Args:
        dest: target directory (created); default :func:`bpviz.data.default_mnist_dir`,
            where :func:`bpviz.data.resolve_source` looks.
        mirrors: base URLs tried in order for each file (default :data:`MIRRORS`).
        progress: ``progress(filename, bytes_done, bytes_total)``, called from the
            downloading thread after every chunk; ``bytes_total`` is 0 when the server
            does not say.
        cancel: set it (from any thread) to stop within :data:`bpviz.data.http.POLL`
            seconds (0.2); raises :class:`DownloadCancelled`, and the ``.part`` file is
            kept, with every byte received, for resuming.
        checksums: file name → MD5 to download and verify (default :data:`MNIST_MD5`).
            Each name must be a plain file name (:func:`check_file_name`).
        stall_timeout: seconds in which a body must deliver at least
            :data:`bpviz.data.http.MIN_PROGRESS` bytes; else the mirror is abandoned
            (with that reason in the final message) and the next one tried.
        header_timeout: seconds to connect and receive the response headers.

    Files already present with the right checksum are not downloaded again.

    Raises:
        DownloadError: every mirror failed for a file; lists each URL with its reason
            and how to place the files by hand.
        DownloadCancelled: ``cancel`` was set.
        DataError: ``dest`` cannot be created or written, or a name is not a plain
            file name (nothing is fetched then).
    """
    dest = Path(dest) if dest is not None else default_mnist_dir()
    mirrors = list(mirrors) if mirrors else list(MIRRORS)
    checksums = dict(checksums) if checksums is not None else dict(MNIST_MD5)
    for name in checksums:
        problem = check_file_name(name)
        if problem is not None:
            raise DataError(f"{name!r}: {problem}; nothing was downloaded")
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DataError(f"{dest}: cannot create the download directory ({error})") from None
    for name, md5 in checksums.items():
        limits = (stall_timeout, header_timeout)
        _fetch_file(name, md5.lower(), dest, mirrors, progress, cancel, limits, checksums)
    return dest


def check_file_name(name: str) -> str | None:
    """None if ``name`` may be downloaded, else why not (for a message).

    Only a plain file name is accepted: letters, digits and ``. _ - +``, starting with a
    letter or digit, at most 200 characters, not ending in ``.part``. So no absolute
    path, no ``..``, no directory separator (``/`` or ``\\``), nothing hidden: the file
    can only land inside the destination directory.
    """
    if _PLAIN_NAME.fullmatch(name) and not name.endswith(PART_SUFFIX):
        return None
    if name.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", name):
        kind = "an absolute path"
    elif "/" in name or "\\" in name:
        kind = "a path with directories"
    else:
        kind = "not a plain file name"
    return (
        f"{kind}: only plain file names (letters, digits, . _ - +; not starting with '.', "
        f"not ending in {PART_SUFFIX}) are downloaded, into the destination directory"
    )


def md5_of(path: Path) -> str:
    """Hex MD5 of a file's bytes."""
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _fetch_file(
    name: str,
    md5: str,
    dest: Path,
    mirrors: list[str],
    progress: Progress | None,
    cancel: threading.Event | None,
    limits: tuple[float, float],
    checksums: Mapping[str, str],
) -> None:
    target, part = dest / name, dest / (name + PART_SUFFIX)
    if target.is_file() and md5_of(target) == md5:
        if progress is not None:
            size = target.stat().st_size
            progress(name, size, size)
        return
    tried: list[str] = []
    for mirror in mirrors:
        url = mirror.rstrip("/") + "/" + name
        for _attempt in range(2):  # a resumed file failing its checksum gets one fresh try
            try:
                resumed = _stream(url, name, part, progress, cancel, limits)
            except _MirrorError as failure:
                tried.append(f"{url}: {failure}")
                break
            digest = md5_of(part)
            if digest == md5:
                os.replace(part, target)
                return
            part.unlink(missing_ok=True)
            if not resumed:
                tried.append(f"{url}: checksum mismatch (MD5 {digest}, expected {md5})")
                break
    raise DownloadError(_all_failed_message(name, tried, dest, checksums))


def _stream(
    url: str,
    name: str,
    part: Path,
    progress: Progress | None,
    cancel: threading.Event | None,
    limits: tuple[float, float],
) -> bool:
    """Fetch ``url`` into ``part``, appending if the server honours a Range request for
    what ``part`` already holds. Returns whether it appended.

    Each piece is written to ``part`` as it arrives (no buffering), so a cancel, a
    stall or Ctrl-C (KeyboardInterrupt, which propagates) keeps everything received."""
    _check_cancel(cancel, part)
    offset = part.stat().st_size if part.is_file() else 0
    headers = {"User-Agent": "bpviz", "Accept-Encoding": "identity"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    watch = http.Watch(cancel, *limits)
    try:
        with http.get(url, headers, watch) as response:
            if response.status == 416 and offset:  # nothing left: the .part may be complete
                return True
            if response.status not in (200, 206):
                raise _MirrorError(f"HTTP {response.status} {response.reason}")
            resumed = bool(offset) and response.status == 206
            content_range = response.getheader("Content-Range", "")
            if resumed and not content_range.startswith(f"bytes {offset}-"):
                raise _MirrorError(f"bad Content-Range {content_range!r}")
            done = offset if resumed else 0
            length = response.getheader("Content-Length", "")
            total = done + int(length) if length.isdigit() else 0
            if total > MAX_BYTES:
                raise _MirrorError(
                    f"announces {total:,} bytes, more than {MAX_BYTES:,}: not an MNIST file"
                )
            with _open_part(part, append=resumed) as f:
                while chunk := response.read1(CHUNK):
                    done += len(chunk)
                    if done > MAX_BYTES:
                        f.truncate(0)  # nothing worth resuming
                        raise _MirrorError(f"more than {MAX_BYTES:,} bytes: not an MNIST file")
                    _write(f, chunk, part)
                    if progress is not None:
                        progress(name, done, total)
            if total and done < total:
                raise _MirrorError(f"connection closed after {done:,} of {total:,} bytes")
            return resumed
    except http.Cancelled:
        _check_cancel(cancel, part)
        raise
    except (http_client.HTTPException, OSError) as error:
        raise _MirrorError(f"connection failed ({type(error).__name__}: {error})") from None


def _check_cancel(cancel: threading.Event | None, part: Path) -> None:
    if cancel is not None and cancel.is_set():
        raise DownloadCancelled(
            f"download cancelled; {part.name} is kept in {part.parent} to resume next time"
        )


def _open_part(part: Path, *, append: bool) -> io.FileIO:
    """``part`` opened unbuffered for writing, if it is (or becomes) a regular file;
    never through a symbolic link (a link planted as ``<name>.part`` must not redirect
    the download outside the folder) and never waiting on a FIFO."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else 0)
    flags |= getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    flags |= getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(part, flags, 0o644)
    except OSError as error:
        raise DataError(f"{part}: cannot write ({error.strerror or error})") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise DataError(f"{part}: cannot write (not a regular file)")
        os.set_blocking(fd, True)
        if not append:
            os.ftruncate(fd, 0)  # only now that it is known to be a regular file
        return io.FileIO(fd, "ab" if append else "wb")
    except BaseException:
        os.close(fd)
        raise


def _write(f: io.FileIO, chunk: bytes, part: Path) -> None:
    try:
        view = memoryview(chunk)
        while view:  # an unbuffered write may take only part of the chunk
            view = view[f.write(view) or 0 :]
    except OSError as error:
        raise DataError(f"{part}: cannot write ({error.strerror or error})") from None


def _all_failed_message(name: str, tried: list[str], dest: Path, names: Mapping[str, str]) -> str:
    lines = [f"could not download {name}; tried:"]
    lines += [f"  {attempt}" for attempt in tried] or ["  (no mirrors given)"]
    lines += [
        "To install MNIST by hand: fetch these files from any MNIST mirror "
        "(or copy them from a machine that has them):",  # one line: the window wraps it
        *(f"  {file}  (MD5 {md5})" for file, md5 in names.items()),
        f"and place them in {dest}",
        "or pass that directory with --data / set BPVIZ_DATA to it.",
    ]
    return "\n".join(lines)
