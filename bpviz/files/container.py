"""The session file container: a zip (the ``.npz`` layout) of ``meta.json`` and ``.npy`` arrays.

``meta.json`` holds the format name, the format version and every scalar; each array is
one ``NAME.npy`` member written and read by NumPy's ``.npy`` format with pickling off, so
opening a file can never execute code. Reading refuses what is not a regular file
before reading a byte (a FIFO would block, a device never end), then checks every
declared size before inflating or allocating anything: ``meta.json``'s, the arrays' in
total against a budget that grows with the file's size (a zip bomb is refused from its
directory), and each ``.npy`` header's shape and dtype against its member's size. Only
the members the format defines are read. Then the CRCs. Anything wrong raises
``CheckpointError`` with a sentence a person can act on.

Format history: version 1 (bpviz 0.1).
"""

from __future__ import annotations

import json
import math
import os
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.lib import format as npy

from bpviz.engine.validation import frozen
from bpviz.files.safe_files import UnsafePathError, atomic_write, open_regular

FORMAT = "bpviz-session"
VERSION = 1
META = "meta.json"
SUFFIX = ".npz"
# The arrays the format defines (both kinds of file); members of other names are never read.
ARRAY_NAME = re.compile(
    r"parameters|order|checkpoint\d{1,2}|history_(loss|per_class_accuracy|confusion)"
    r"|watch\d{1,4}_(w|grad)"
)
# meta.json holds scalars, the epoch list and the η changes: ~200 bytes an epoch, which
# deflate shrinks ~4× (an hour of the sample at full speed: ~60,000 epochs, 12 MB). Its
# text may be MAX_META_RATIO × the file's size (at least MIN_META_BYTES), and what parsing
# it would build — estimated from its brackets, commas and colons before it is parsed —
# MAX_META_COST × the file's size (at least MIN_META_COST): a small file never parses
# into a large object tree.
MAX_META_BYTES = 64 << 20
MAX_META_RATIO, MIN_META_BYTES = 16, 1 << 20
MAX_META_COST, MIN_META_COST = 4, 32 << 20
MAX_ARRAY_BYTES = 4 << 30  # all arrays together, uncompressed: the largest network fits
# Arrays may declare at most this many times the file's size (a session's arrays are
# mostly float noise that deflate hardly shrinks; a zip bomb shrinks ~1000×), or
# MIN_ARRAY_BUDGET, whichever is more: so a small file never costs much memory or time.
MAX_RATIO = 32
MIN_ARRAY_BUDGET = 16 << 20
MAX_MEMBERS = 4096
ALLOWED_KINDS = "biuf"  # bool, signed and unsigned integers, floats: nothing with objects
CHUNK = 1 << 20  # bytes inflated at a time into an array's own buffer

Header = tuple[tuple[int, ...], bool, np.dtype, int]  # shape, Fortran order, dtype, length


class CheckpointError(ValueError):
    """A session file cannot be written or opened; the message says why, for a person."""


@dataclass(frozen=True)
class Checkpoint:
    """The decoded container: JSON metadata and named arrays (read-only)."""

    meta: dict[str, Any]
    arrays: dict[str, np.ndarray]


# ------------------------------------------------------------------------- container


def write_checkpoint(path: str | Path, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
    """Write ``meta`` (JSON-able; format and version are added) and ``arrays`` to ``path``.

    Atomic (``bpviz.files.safe_files.atomic_write``): written beside the target and
    renamed onto it when complete, so a crash, a kill or a full disk never leaves a
    half-written session where a good one was. A symlink is written through (it stays a
    link to the new file); a device, FIFO, socket or folder at ``path`` is refused.
    """
    path = Path(path)
    body = {"format": FORMAT, "version": VERSION, **meta}
    text = json.dumps(body, ensure_ascii=False, allow_nan=True, indent=1)
    for name, array in arrays.items():
        if not ARRAY_NAME.fullmatch(name):
            raise CheckpointError(f"array name {name!r} is not part of the session format")
        dtype = np.asarray(array).dtype
        if dtype.kind not in ALLOWED_KINDS:
            raise CheckpointError(f"array {name!r} has unsupported dtype {dtype}")

    def write(raw) -> None:
        with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
            zf.writestr(META, text.encode("utf-8"))
            for name, array in arrays.items():
                with zf.open(f"{name}.npy", "w", force_zip64=True) as member:
                    npy.write_array(member, np.ascontiguousarray(array), allow_pickle=False)

    try:
        atomic_write(path, write)
    except UnsafePathError as e:
        raise CheckpointError(str(e)) from e
    except OSError as e:
        raise CheckpointError(f"cannot write {path}: {e.strerror or e}") from e


def read_checkpoint(path: str | Path) -> Checkpoint:
    """Read and check a session file's container; raise ``CheckpointError`` if it is not a
    complete bpviz session file of a version this bpviz reads."""
    path = Path(path)
    try:
        with open_regular(path) as raw:  # never blocks on a FIFO, never reads a device
            size = os.fstat(raw.fileno()).st_size
            with zipfile.ZipFile(raw) as zf:
                return _read_zip(path, zf, size)
    except CheckpointError:
        raise
    except UnsafePathError as e:
        raise CheckpointError(f"{e}: choose a bpviz session file (.npz)") from e
    except FileNotFoundError as e:
        raise CheckpointError(f"{path} does not exist") from e
    except IsADirectoryError as e:
        raise CheckpointError(f"{path} is a folder, not a session file") from e
    except OSError as e:
        raise CheckpointError(f"cannot read {path}: {e.strerror or e}") from e
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as e:
        raise CheckpointError(
            f"{path} is not a bpviz session file, or it is damaged or truncated ({e})"
        ) from e
    except (ValueError, KeyError, TypeError, OverflowError, UnicodeDecodeError) as e:
        raise CheckpointError(f"{path} is damaged: {e}") from e
    except Exception as e:  # zlib.error and friends from a corrupt stream
        raise CheckpointError(f"{path} is damaged ({type(e).__name__}: {e})") from e


def _read_zip(path: Path, zf: zipfile.ZipFile, size: int) -> Checkpoint:
    """Every declared size is checked before anything is inflated or allocated."""
    infos = zf.infolist()
    names = [info.filename for info in infos]
    if META not in names:
        raise CheckpointError(f"{path} is not a bpviz session file (it has no {META})")
    if len(infos) > MAX_MEMBERS or len(set(names)) != len(names):
        raise CheckpointError(f"{path} is damaged: unexpected archive members")
    budget = min(MAX_ARRAY_BYTES, max(MIN_ARRAY_BUDGET, MAX_RATIO * size))
    meta = _read_meta(path, zf, zf.getinfo(META), size)
    wanted = [info for info in infos if info.filename != META]
    stray = [info.filename for info in wanted if _array_name(info) is None]
    if stray:  # refused from its name alone: never read
        raise CheckpointError(f"{path} is damaged: unexpected member {stray[0]!r}")
    if any(info.compress_size > size for info in wanted):
        raise CheckpointError(f"{path} is damaged or truncated: an array is cut off")
    declared = sum(info.file_size for info in wanted)
    if declared > budget:
        raise CheckpointError(
            f"{path} is damaged: its arrays declare {declared:,} bytes, far more than a "
            f"session file of {size:,} bytes holds"
        )
    headers = {info.filename: _read_header(zf, info) for info in wanted}
    arrays = {_array_name(info): _read_member(zf, info, *headers[info.filename]) for info in wanted}
    return Checkpoint(meta, arrays)


def _array_name(info: zipfile.ZipInfo) -> str | None:
    """The array a member holds, if its name is one the format defines."""
    name = info.filename
    if not name.endswith(".npy") or info.is_dir() or not ARRAY_NAME.fullmatch(name[:-4]):
        return None
    return name[:-4]


def meta_cost(text: bytes) -> int:
    """An upper estimate of the bytes ``json.loads(text)`` builds: each container (~100
    bytes), each element or key (~64: a float, a short string, a slot), and the text."""
    containers = text.count(b"{") + text.count(b"[")
    return len(text) + 100 * containers + 64 * (text.count(b",") + text.count(b":"))


def _read_meta(path: Path, zf: zipfile.ZipFile, info: zipfile.ZipInfo, size: int) -> dict:
    limit = min(MAX_META_BYTES, max(MIN_META_BYTES, MAX_META_RATIO * size))
    if info.file_size > limit:
        raise CheckpointError(
            f"{path} is damaged: its metadata is implausibly large ({info.file_size:,} bytes)"
        )
    with zf.open(info) as f:
        text = f.read(info.file_size + 1)  # never more than declared (zipfile stops there)
    if meta_cost(text) > max(MIN_META_COST, MAX_META_COST * size):
        raise CheckpointError(f"{path} is damaged: its metadata is implausibly complex")
    meta = json.loads(text.decode("utf-8"))
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a bpviz session file")
    version = meta.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise CheckpointError(f"{path} is damaged: bad format version {version!r}")
    if version > VERSION:
        raise CheckpointError(
            f"{path} was saved by a newer bpviz (session format {version}; this bpviz "
            f"reads up to {VERSION}). Update bpviz to open it."
        )
    return meta


def _read_header(
    zf: zipfile.ZipFile, info: zipfile.ZipInfo
) -> tuple[tuple[int, ...], bool, np.dtype, int]:
    """A member's ``.npy`` header (shape, Fortran order, dtype, header length), checked
    against the member's declared size: nothing a header claims is allocated unchecked."""
    with zf.open(info) as f:
        major, minor = npy.read_magic(f)
        if (major, minor) == (1, 0):
            shape, fortran, dtype = npy.read_array_header_1_0(f)
        elif (major, minor) == (2, 0):
            shape, fortran, dtype = npy.read_array_header_2_0(f)
        else:
            raise ValueError(f"unsupported .npy version {major}.{minor}")
        header = f.tell()
    if dtype.kind not in ALLOWED_KINDS or dtype.hasobject or dtype.fields is not None:
        raise ValueError(f"array {info.filename!r} has unsupported dtype {dtype}")
    if any(n < 0 for n in shape) or header + math.prod(shape) * dtype.itemsize != info.file_size:
        raise ValueError(f"array {info.filename!r} does not match its declared size")
    return shape, fortran, dtype, header


def _read_member(
    zf: zipfile.ZipFile, info: zipfile.ZipInfo, shape, fortran: bool, dtype: np.dtype, header: int
) -> np.ndarray:
    """The member's array, inflated straight into its own buffer (read-only)."""
    array = np.empty(shape, dtype, order="F" if fortran else "C")
    flat = array.reshape(-1, order="A").view(np.uint8)
    with zf.open(info) as f:
        f.read(header)
        done = 0
        while done < flat.size:
            chunk = f.read(min(CHUNK, flat.size - done))
            if not chunk:
                raise EOFError(f"array {info.filename!r} is truncated")
            flat[done : done + len(chunk)] = np.frombuffer(chunk, np.uint8)
            done += len(chunk)
        if f.read(1):  # reading to the end checks the CRC
            raise ValueError(f"array {info.filename!r} is longer than its header says")
    return frozen(array)
