"""Reading LeCun's IDX format (the MNIST files), raw or gzip-compressed, safely.

An IDX file is a magic number ``00 00 <type> <ndim>``, one big-endian uint32 per
dimension, then the data, row-major. MNIST's images are ``(n, 28, 28)`` and its labels
``(n,)``, both of type ``0x08`` (unsigned byte), the only type read here.

Everything a file claims is checked against the bytes actually present before any
array is made, so a lying header can neither allocate a huge array nor return a
half-filled one: the result is either the whole, exact array or a :class:`DataError`.
Compression is recognised by content (gzip's ``1f 8b``), not by the file name.

Memory follows what a file really holds, never what it claims: a gzip file is inflated
as a stream, block by block, and stops at the size its IDX header declares (one byte
more is read only to prove there is nothing after it). The declared size is checked
first against :data:`MAX_DATA_BYTES` and against what the compressed size can hold, and
a gzip file larger than any IDX data bpviz reads is refused from its size alone. Only
regular files are opened, without blocking (a FIFO or device is named as what it is).
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import stat
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

import numpy as np

from bpviz.data.errors import DataError

IDX_UBYTE = 0x08
GZIP_MAGIC = b"\x1f\x8b"
# Deflate cannot expand data more than ~1032:1; a header promising more than that
# from the compressed size is lying (or the file is truncated).
MAX_DEFLATE_RATIO = 1032
# The largest IDX data (header excluded) read: 2.7× MNIST's 47,040,000-byte training
# images, room for EMNIST-balanced (88 MB); a header declaring more is refused unread.
MAX_DATA_BYTES = 128 * 2**20
# Zeros allowed after the last gzip member (tape-style block padding; MNIST has none).
MAX_GZIP_PADDING = 64 * 1024
BLOCK = 1 << 20  # compressed bytes read, and decompressed bytes produced, per step


def header_size(ndim: int) -> int:
    """Bytes before the data: the 4-byte magic and one uint32 per dimension."""
    return 4 + 4 * ndim


def parse_header(head: bytes, ndim: int, name: str) -> tuple[int, ...]:
    """Check the magic number of an IDX file expected to have ``ndim`` dimensions and
    return its dimensions. ``head`` is the file's first ``header_size(ndim)`` bytes
    (fewer if the file is shorter)."""
    if len(head) < 4:
        raise DataError(f"{name}: file is too short to be IDX ({len(head)} bytes)")
    if head[0] != 0 or head[1] != 0:
        raise DataError(
            f"{name}: not an IDX file (magic number starts {head[:2].hex(' ')}, expected 00 00)"
        )
    if head[2] != IDX_UBYTE:
        raise DataError(
            f"{name}: unsupported IDX data type 0x{head[2]:02x} "
            f"(only unsigned bytes, 0x{IDX_UBYTE:02x}, as in MNIST)"
        )
    if head[3] != ndim:
        raise DataError(
            f"{name}: has {head[3]} dimensions, expected {ndim} "
            f"({'images n×rows×cols' if ndim == 3 else 'labels n'})"
        )
    if len(head) < header_size(ndim):
        raise DataError(f"{name}: header is truncated ({len(head)} of {header_size(ndim)} bytes)")
    dims = tuple(int.from_bytes(head[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    if 0 in dims:
        raise DataError(f"{name}: header declares an empty array {dims}")
    if math.prod(dims) > MAX_DATA_BYTES:
        raise DataError(
            f"{name}: header declares {describe(dims)} ({math.prod(dims):,} bytes), more "
            f"than the {MAX_DATA_BYTES:,} bytes bpviz reads (header corrupt, or not a data "
            "set for this app)"
        )
    return dims


def describe(dims: tuple[int, ...]) -> str:
    """``"60,000 images of 28×28"`` / ``"60,000 labels"``, for messages."""
    if len(dims) == 3:
        return f"{dims[0]:,} images of {dims[1]}×{dims[2]}"
    return f"{dims[0]:,} labels" if len(dims) == 1 else f"array {dims}"


def decode_raw(blob: bytes | np.ndarray, ndim: int, name: str) -> np.ndarray:
    """Decode an uncompressed IDX file's bytes (or a read-only uint8 array of them, as
    :func:`read_bytes` gives). Returns a read-only uint8 view of ``blob``:
    ``(n, rows*cols)`` for images (``ndim == 3``), ``(n,)`` for labels."""
    dims = parse_header(bytes(blob[: header_size(ndim)]), ndim, name)
    _check_length(len(blob) - header_size(ndim), dims, name)
    data = np.frombuffer(blob, dtype=np.uint8, offset=header_size(ndim))
    return _shape(data, dims)


def decode_gzip(blob: bytes, ndim: int, name: str) -> tuple[bytes, memoryview, np.ndarray]:
    """Decompress and decode a gzip-compressed IDX file's bytes.

    Returns ``(header, body, array)``: the decompressed IDX header and data (for a
    cache of the raw file; ``body`` is a read-only view of ``array``'s bytes) and the
    array as :func:`decode_raw` gives it.
    """
    return _inflate(io.BytesIO(blob), len(blob), ndim, name)


def decode(blob: bytes, ndim: int, name: str) -> np.ndarray:
    """Decode an IDX file's bytes, gzip-compressed or raw (detected by content)."""
    if blob[:2] == GZIP_MAGIC:
        return decode_gzip(blob, ndim, name)[2]
    return decode_raw(blob, ndim, name)


def encode(array: np.ndarray) -> bytes:
    """The IDX bytes of a uint8 array (any number of dimensions): the inverse of
    :func:`decode_raw` for labels ``(n,)`` and images ``(n, rows, cols)``."""
    if array.dtype != np.uint8 or not 1 <= array.ndim <= 255:
        raise ValueError(f"IDX needs a uint8 array of 1–255 dimensions, got {array.dtype}")
    dims = b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return bytes((0, 0, IDX_UBYTE, array.ndim)) + dims + np.ascontiguousarray(array).tobytes()


def read_bytes(path: Path) -> np.ndarray:
    """A regular file's bytes as a read-only uint8 array, with a :class:`DataError`
    naming the file on failure."""
    with open_regular(path) as f, _reporting(path):
        return _read_up_to(f, os.fstat(f.fileno()).st_size)


def _read_up_to(f: BinaryIO, limit: int) -> np.ndarray:
    """Up to ``limit`` + 1 bytes of ``f`` from where it stands (the one more proves
    whether the file has grown since its size was taken), as a read-only uint8 array.

    Read straight into the array's memory: ``f.read()`` of a large file costs about
    twice as much, as it fills a buffer and copies it into a new ``bytes``.
    """
    buffer = np.empty(limit + 1, dtype=np.uint8)
    view, got = memoryview(buffer), 0
    while got < len(buffer):
        n = f.readinto(view[got:])
        if not n:
            break
        got += n
    data = buffer[:got]
    data.flags.writeable = False
    return data


def open_regular(path: Path) -> BinaryIO:
    """``path`` opened for reading, if it is a regular file (symbolic links followed).

    Never blocks: a FIFO, device, socket or directory is refused with a
    :class:`DataError` saying what it is (``"…: is a FIFO, not a file"``), and the file
    is opened non-blocking and checked again, so a FIFO swapped in meanwhile is refused
    too rather than waited on.
    """
    with _reporting(path):
        _check_regular(path, os.stat(path).st_mode)
        flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
        fd = os.open(path, flags)
        try:
            _check_regular(path, os.fstat(fd).st_mode)
            os.set_blocking(fd, True)
            return open(fd, "rb")
        except BaseException:
            os.close(fd)
            raise


def read_file(path: Path, ndim: int) -> tuple[np.ndarray, tuple[bytes, memoryview] | None]:
    """Read one IDX file, raw or gzip.

    A raw file's size is checked against its header before its data is read, so a
    padded or mislabelled huge file is refused without reading it; a gzip file is
    inflated as a stream up to the declared size (see the module docstring).

    Returns:
        ``(array, decompressed)``: the array as :func:`decode_raw` gives it and, for a
        gzip file, its decompressed ``(header, body)`` (None for a raw file).
    """
    name = str(path)
    with open_regular(path) as f, _reporting(path):
        size = os.fstat(f.fileno()).st_size
        start = f.read(header_size(ndim))
        if start[:2] == GZIP_MAGIC:
            f.seek(0)
            head, body, array = _inflate(f, size, ndim, name)
            return array, (head, body)
        dims = parse_header(start, ndim, name)
        _check_length(size - len(start), dims, name)
        data = _read_up_to(f, math.prod(dims))  # one more: the file may have grown since
    _check_length(len(data), dims, name)
    return _shape(data, dims), None


def read_idx(path: str | Path, ndim: int) -> np.ndarray:
    """Read one IDX file (raw or gzip) with ``ndim`` dimensions; see :func:`decode_raw`."""
    return read_file(Path(path), ndim)[0]


@contextlib.contextmanager
def _reporting(path: Path) -> Iterator[None]:
    """Turn the OS's errors about ``path`` into a :class:`DataError` naming it."""
    try:
        yield
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a directory, not a file (expected an IDX file)") from None
    except OSError as error:
        raise DataError(f"{path}: cannot read ({error.strerror or error})") from None


_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _check_regular(path: Path, mode: int) -> None:
    if stat.S_ISREG(mode):
        return
    kind = next((text for test, text in _KINDS if test(mode)), "not a regular file")
    raise DataError(f"{path}: is {kind}, not a file (expected an IDX file)")


def _inflate(
    source: BinaryIO, compressed: int, ndim: int, name: str
) -> tuple[bytes, memoryview, np.ndarray]:
    """Inflate a gzip IDX file from ``source`` (``compressed`` bytes long) into exactly
    the array its header declares; see :func:`decode_gzip`. Memory: the array (filled
    as it inflates, so a file that ends early never occupies its declared size) plus
    one :data:`BLOCK` of each of compressed and decompressed data."""
    if compressed > MAX_DATA_BYTES + BLOCK:
        raise DataError(
            f"{name}: a {compressed:,}-byte gzip file is larger than any IDX data bpviz "
            f"reads ({MAX_DATA_BYTES:,} bytes); not an MNIST file"
        )
    stream = _GunzipStream(lambda: source.read(BLOCK), name)
    head = stream.read(header_size(ndim))
    dims = parse_header(head, ndim, name)
    size = math.prod(dims)
    if size > compressed * MAX_DEFLATE_RATIO:
        raise DataError(
            f"{name}: header declares {describe(dims)} ({size:,} bytes), more than a "
            f"{compressed:,}-byte gzip file can hold (file truncated or header corrupt)"
        )
    data = np.empty(size, dtype=np.uint8)  # pages are only committed as they are filled
    got = stream.readinto(memoryview(data))
    _check_length(got, dims, name)
    if stream.read(1):  # also runs the stream to its end: gzip's CRC and length checks
        raise DataError(
            f"{name}: unexpected bytes after the {size:,} bytes of {describe(dims)} "
            "(padded file, or the header understates the size)"
        )
    data.flags.writeable = False
    return head, memoryview(data), _shape(data, dims)


def _check_length(present: int, dims: tuple[int, ...], name: str) -> None:
    size = math.prod(dims)
    if present < size:
        raise DataError(
            f"{name}: truncated: header declares {describe(dims)} ({size:,} bytes of data) "
            f"but only {present:,} bytes are present"
        )
    if present > size:
        raise DataError(
            f"{name}: {present - size:,} unexpected bytes after the {size:,} bytes of "
            f"{describe(dims)} (padded file, or the header understates the size)"
        )


def _shape(data: np.ndarray, dims: tuple[int, ...]) -> np.ndarray:
    return data.reshape(dims[0], -1) if len(dims) == 3 else data.reshape(dims)


class _GunzipStream:
    """Decompresses gzip data on demand, never producing more than asked for and never
    holding more than one :data:`BLOCK` of compressed input (so memory follows the
    bytes actually present, not what a header claims)."""

    def __init__(self, read_block: Callable[[], bytes], name: str) -> None:
        self._inflater = zlib.decompressobj(wbits=31)
        self._read_block = read_block
        self._input = b""
        self._name = name
        self._done = False

    def read(self, n: int) -> bytes:
        """Up to ``n`` bytes; fewer only where the data ends."""
        out = bytearray(n)
        return bytes(out[: self.readinto(memoryview(out))])

    def readinto(self, out: memoryview) -> int:
        """Fill ``out``; returns how many bytes were written (fewer only at the end)."""
        got, n = 0, len(out)
        while got < n and not self._done:
            if self._inflater.eof:
                self._next_member()
                continue
            if not self._input:
                self._input = self._read_block()
                if not self._input:
                    raise DataError(
                        f"{self._name}: compressed data ends early (truncated download?)"
                    )
            before = len(self._input)
            try:
                chunk = self._inflater.decompress(self._input, min(n - got, BLOCK))
            except zlib.error as error:
                raise DataError(f"{self._name}: corrupt gzip data ({error})") from None
            self._input = self._inflater.unconsumed_tail
            if not chunk and not self._inflater.eof and len(self._input) == before:
                raise DataError(f"{self._name}: compressed data ends early (truncated download?)")
            out[got : got + len(chunk)] = chunk
            got += len(chunk)
        return got

    def _next_member(self) -> None:
        """After a gzip member: the end (only zero padding follows, within
        :data:`MAX_GZIP_PADDING`), or the next member."""
        rest, padding = self._inflater.unused_data, 0
        while not rest.strip(b"\0"):
            padding += len(rest)
            if padding > MAX_GZIP_PADDING:
                raise DataError(
                    f"{self._name}: more than {MAX_GZIP_PADDING:,} bytes of padding after "
                    "the compressed data (damaged or altered file)"
                )
            rest = self._read_block()
            if not rest:
                self._done = True
                return
        self._inflater = zlib.decompressobj(wbits=31)  # another gzip member
        self._input = rest
