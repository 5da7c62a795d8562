"""A decompressed copy of gzip IDX files, so the full MNIST loads in tens of milliseconds.

Inflating ``train-images`` (9.9 MB of gzip) costs several times more than reading its 47
MB raw copy (``data_cache_speedup`` in ``benchmarks/bench_data.py``). The copy lives in
the user's cache directory (``BPVIZ_CACHE_DIR`` or platformdirs'
``user_cache_path("bpviz")/idx``), never beside the source, which may be read-only. It
is keyed by the source's absolute path, size and modification time, is written to a
temporary file and renamed (a reader never sees half a copy), and is read back through
the same validating decoder as any IDX file. Any failure to write it is ignored: the
cache only ever saves time.

The cache is bounded: at most :data:`MAX_ENTRIES` copies and :data:`MAX_BYTES` bytes
(256 MiB: the full MNIST takes 55 MB, so four data sets of its size fit). Storing a
copy evicts the least recently used ones beyond either bound (a copy counts as used
when it is stored or read); a copy larger than the whole budget is not kept.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import stat
import tempfile
import time
from pathlib import Path

import platformdirs

from bpviz.data import idx
from bpviz.data.errors import DataError

ENV_CACHE = "BPVIZ_CACHE_DIR"
MAX_ENTRIES = 32
MAX_BYTES = 256 * 2**20
# A copy's name: 16 hex digits of the source path's hash, then stem, size, mtime.
_ENTRY = re.compile(r"[0-9a-f]{16}-.+-\d+-\d+")
_STALE_TMP = 3600.0  # seconds after which a temporary file is a leftover of a killed process


def default_cache_dir() -> Path:
    """Where decompressed copies go: ``$BPVIZ_CACHE_DIR`` or the platform's user cache."""
    override = os.environ.get(ENV_CACHE)
    if override:
        return Path(override)
    return platformdirs.user_cache_path("bpviz", appauthor=False) / "idx"


def _names(source: Path) -> tuple[str, str]:
    """(prefix shared by every copy of ``source``, name of the copy of its current version)."""
    resolved = source.resolve()
    stat = resolved.stat()
    key = hashlib.sha256(os.fsencode(resolved)).hexdigest()[:16]
    stem = resolved.name.removesuffix(".gz")
    prefix = f"{key}-{stem}-"
    return prefix, f"{prefix}{stat.st_size}-{stat.st_mtime_ns}"


def load(source: Path, cache_dir: Path) -> bytes | None:
    """The cached decompressed bytes of ``source``, or None when there are none."""
    try:
        _, name = _names(source)
        path = cache_dir / name
        if path.stat().st_size > idx.MAX_DATA_BYTES + 64:
            return None
        data = idx.read_bytes(path)  # a regular file only: never blocks
        _touch(path)  # recently used: the last to be evicted
        return data
    except (OSError, DataError):
        return None


def store(source: Path, cache_dir: Path, parts: tuple[bytes, ...]) -> None:
    """Save the decompressed bytes of ``source`` (``parts`` concatenated); drop copies of
    its older versions and evict beyond the bounds. Never raises: a read-only or full
    disk just means no cache."""
    tmp_name = None
    try:
        if sum(memoryview(part).nbytes for part in parts) > MAX_BYTES:
            return
        prefix, name = _names(source)
        cache_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            dir=cache_dir, prefix=".tmp-", suffix=".part", delete=False
        ) as tmp:
            tmp_name = tmp.name
            for part in parts:
                tmp.write(part)
        os.replace(tmp_name, cache_dir / name)
        tmp_name = None
        _touch(cache_dir / name)
        for old in cache_dir.iterdir():
            if old.name.startswith(prefix) and old.name != name:
                old.unlink(missing_ok=True)
        evict(cache_dir, keep=name)
    except OSError:
        pass
    finally:
        if tmp_name is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp_name)


def evict(cache_dir: Path, keep: str | None = None) -> None:
    """Delete the least recently used copies beyond :data:`MAX_ENTRIES` / :data:`MAX_BYTES`
    (``keep`` is never deleted), and temporary files left by killed processes."""
    entries = []
    now = time.time()
    for path in cache_dir.iterdir():
        try:
            info = path.lstat()
        except OSError:
            continue
        if not stat.S_ISREG(info.st_mode):
            continue
        if path.name.startswith(".tmp-") and now - info.st_mtime > _STALE_TMP:
            path.unlink(missing_ok=True)
        elif _ENTRY.fullmatch(path.name):
            entries.append((path.name == keep, info.st_mtime_ns, info.st_size, path))
    entries.sort(reverse=True)  # the kept one first, then the most recently used
    count = total = 0
    for _kept, _used, size, path in entries:
        if count + 1 > MAX_ENTRIES or total + size > MAX_BYTES:
            with contextlib.suppress(OSError):
                path.unlink()
        else:
            count, total = count + 1, total + size


def _touch(path: Path) -> None:
    """Mark ``path`` used now, to the nanosecond (the file system's own clock is coarse:
    copies stored within a few milliseconds would tie)."""
    now = time.time_ns()
    os.utime(path, ns=(now, now))
