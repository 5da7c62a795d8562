"""The session file container: a zip (the ``.npz`` layout) of ``meta.json`` and ``.npy`` arrays.

``meta.json`` holds the format name, the format version and every scalar; each array is
one ``NAME.npy`` member written and read by NumPy's ``.npy`` format with pickling off, so
opening a file can never execute code. Reading checks the container before anything is
used: the format and its version, each member's declared size against its header (no
allocation a corrupt header asks for), the dtypes, the CRCs. Anything wrong raises
``CheckpointError`` with a sentence a person can act on.

Format history: version 1 (bpviz 0.1).
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.lib import format as npy

from bpviz.engine.validation import frozen

FORMAT = "bpviz-session"
VERSION = 1
META = "meta.json"
SUFFIX = ".npz"
MAX_META_BYTES = 64 << 20
MAX_ARRAY_BYTES = 4 << 30  # all arrays together, uncompressed
MAX_MEMBERS = 10_000
ALLOWED_KINDS = "biuf"  # bool, signed and unsigned integers, floats: nothing with objects


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

    Atomic: the file is written beside ``path`` and renamed over it only when complete, so
    a crash or a full disk never leaves a half-written session where a good one was.
    """
    path = Path(path)
    body = {"format": FORMAT, "version": VERSION, **meta}
    text = json.dumps(body, ensure_ascii=False, allow_nan=True, indent=1)
    directory = path.parent if str(path.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    except OSError as e:
        raise CheckpointError(f"cannot write {path}: {e.strerror or e}") from e
    try:
        with (
            os.fdopen(fd, "wb") as raw,
            zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf,
        ):
            zf.writestr(META, text.encode("utf-8"))
            for name, array in arrays.items():
                array = np.ascontiguousarray(array)
                if array.dtype.kind not in ALLOWED_KINDS:
                    raise CheckpointError(f"array {name!r} has unsupported dtype {array.dtype}")
                with zf.open(f"{name}.npy", "w", force_zip64=True) as member:
                    npy.write_array(member, array, allow_pickle=False)
        os.replace(tmp, path)
    except BaseException as e:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(e, OSError):
            raise CheckpointError(f"cannot write {path}: {e.strerror or e}") from e
        raise


def read_checkpoint(path: str | Path) -> Checkpoint:
    """Read and check a session file's container; raise ``CheckpointError`` if it is not a
    complete bpviz session file of a version this bpviz reads."""
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as zf:
            return _read_zip(path, zf)
    except CheckpointError:
        raise
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


def _read_zip(path: Path, zf: zipfile.ZipFile) -> Checkpoint:
    infos = zf.infolist()
    names = [info.filename for info in infos]
    if META not in names:
        raise CheckpointError(f"{path} is not a bpviz session file (it has no {META})")
    if len(infos) > MAX_MEMBERS or len(set(names)) != len(names):
        raise CheckpointError(f"{path} is damaged: unexpected archive members")
    meta_info = zf.getinfo(META)
    if meta_info.file_size > MAX_META_BYTES:
        raise CheckpointError(f"{path} is damaged: its metadata is implausibly large")
    meta = json.loads(zf.read(META).decode("utf-8"))
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
    total = sum(info.file_size for info in infos if info.filename != META)
    if total > MAX_ARRAY_BYTES:
        raise CheckpointError(f"{path} is damaged: its arrays are implausibly large")
    arrays: dict[str, np.ndarray] = {}
    for info in infos:
        if info.filename == META:
            continue
        if not info.filename.endswith(".npy") or info.is_dir():
            raise CheckpointError(f"{path} is damaged: unexpected member {info.filename!r}")
        arrays[info.filename[:-4]] = _read_member(zf, info)
    return Checkpoint(meta, arrays)


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> np.ndarray:
    with zf.open(info) as f:
        major, minor = npy.read_magic(f)
        if (major, minor) == (1, 0):
            shape, fortran, dtype = npy.read_array_header_1_0(f)
        elif (major, minor) == (2, 0):
            shape, fortran, dtype = npy.read_array_header_2_0(f)
        else:
            raise ValueError(f"unsupported .npy version {major}.{minor}")
        if dtype.kind not in ALLOWED_KINDS or dtype.hasobject:
            raise ValueError(f"array {info.filename!r} has unsupported dtype {dtype}")
        count = math.prod(shape)
        header = f.tell()
        if header + count * dtype.itemsize != info.file_size:
            raise ValueError(f"array {info.filename!r} does not match its declared size")
        data = f.read(count * dtype.itemsize)
        if len(data) != count * dtype.itemsize or f.read(1):  # reading to the end checks the CRC
            raise EOFError(f"array {info.filename!r} is truncated")
    order = "F" if fortran else "C"
    return frozen(np.frombuffer(data, dtype=dtype).reshape(shape, order=order))
