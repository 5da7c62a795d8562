"""Downloading the full MNIST: mirrors in order, MD5-verified, never a half file in place.

Each file is streamed to ``<name>.part`` beside its destination, checked against the
published MD5 and only then renamed to ``<name>``; so a file under its real name is
always complete and verified. An interrupted download keeps its ``.part`` and the next
attempt asks the server for the rest (HTTP Range); a server that ignores the request
sends the whole file again, and a ``.part`` that fails the checksum is discarded.

Plain standard library (urllib): four files, no sessions or retries policy worth a
dependency.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

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

Progress = Callable[[str, int, int], None]


class _MirrorError(Exception):
    """One URL did not deliver the file; the message says why (for the final report)."""


def download_mnist(
    dest: Path | None = None,
    mirrors: Sequence[str] | None = None,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    *,
    checksums: Mapping[str, str] | None = None,
    timeout: float = 30.0,
) -> Path:
    """Download the full MNIST into ``dest`` and return ``dest``.

    Args:
        dest: target directory (created); default :func:`bpviz.data.default_mnist_dir`,
            where :func:`bpviz.data.resolve_source` looks.
        mirrors: base URLs tried in order for each file (default :data:`MIRRORS`).
        progress: ``progress(filename, bytes_done, bytes_total)``, called from the
            downloading thread after every chunk; ``bytes_total`` is 0 when the server
            does not say.
        cancel: set it (from any thread) to stop within one chunk; raises
            :class:`DownloadCancelled`, and the ``.part`` file is kept for resuming.
        checksums: file name → MD5 to download and verify (default :data:`MNIST_MD5`).
        timeout: seconds a connection may stall before the mirror counts as failed.

    Files already present with the right checksum are not downloaded again.

    Raises:
        DownloadError: every mirror failed for a file; lists each URL with its reason
            and how to place the files by hand.
        DownloadCancelled: ``cancel`` was set.
        DataError: ``dest`` cannot be created or written.
    """
    dest = Path(dest) if dest is not None else default_mnist_dir()
    mirrors = list(mirrors) if mirrors else list(MIRRORS)
    checksums = dict(checksums) if checksums is not None else dict(MNIST_MD5)
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DataError(f"{dest}: cannot create the download directory ({error})") from None
    for name, md5 in checksums.items():
        _fetch_file(name, md5.lower(), dest, mirrors, progress, cancel, timeout, checksums)
    return dest


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
    timeout: float,
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
                resumed = _stream(url, name, part, progress, cancel, timeout)
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
    timeout: float,
) -> bool:
    """Fetch ``url`` into ``part``, appending if the server honours a Range request for
    what ``part`` already holds. Returns whether it appended."""
    _check_cancel(cancel, part)
    offset = part.stat().st_size if part.is_file() else 0
    request = urllib.request.Request(url, headers={"User-Agent": "bpviz"})
    if offset:
        request.add_header("Range", f"bytes={offset}-")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            resumed = bool(offset) and response.status == 206
            if resumed and not response.headers.get("Content-Range", "").startswith(
                f"bytes {offset}-"
            ):
                raise _MirrorError(f"bad Content-Range {response.headers['Content-Range']!r}")
            done = offset if resumed else 0
            length = response.headers.get("Content-Length")
            total = done + int(length) if length and length.isdigit() else 0
            with _open_part(part, "ab" if resumed else "wb") as f:
                while chunk := response.read(CHUNK):
                    done += len(chunk)
                    if done > MAX_BYTES:
                        f.truncate(0)  # nothing worth resuming
                        raise _MirrorError(f"more than {MAX_BYTES:,} bytes: not an MNIST file")
                    _write(f, chunk, part)
                    if progress is not None:
                        progress(name, done, total)
                    _check_cancel(cancel, part)
            if total and done < total:
                raise _MirrorError(f"connection closed after {done:,} of {total:,} bytes")
            return resumed
    except urllib.error.HTTPError as error:
        error.close()
        if error.code == 416 and offset:  # nothing left to send: the .part may be complete
            return True
        raise _MirrorError(f"HTTP {error.code} {error.reason}") from None
    except urllib.error.URLError as error:
        raise _MirrorError(f"cannot connect ({error.reason})") from None
    except (http.client.HTTPException, OSError) as error:
        raise _MirrorError(f"connection failed ({type(error).__name__}: {error})") from None


def _check_cancel(cancel: threading.Event | None, part: Path) -> None:
    if cancel is not None and cancel.is_set():
        raise DownloadCancelled(
            f"download cancelled; {part.name} is kept in {part.parent} to resume next time"
        )


def _open_part(part: Path, mode: str):
    try:
        return open(part, mode)
    except OSError as error:
        raise DataError(f"{part}: cannot write ({error.strerror or error})") from None


def _write(f, chunk: bytes, part: Path) -> None:
    try:
        f.write(chunk)
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
