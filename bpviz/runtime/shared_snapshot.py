"""Snapshots through shared memory: the arrays in a block, a small message over the pipe.

The training process (``SharedWriter``) copies the arrays of a snapshot into a POSIX
shared-memory block and returns ``Packed``: the snapshot pickled with each array replaced
by a reference (pickle's persistent ids: byte offset, shape, dtype) — kilobytes instead
of megabytes. The window's process (``SharedReader``) attaches to the block by name and
unpickles the snapshot with read-only *copies* of the arrays, at once, so that the GUI
never reads memory the training process may write again. Pickle finds the arrays wherever
they are (Snapshot fields, tuples with None entries, HistoryView, EpochMetrics, WatchView)
and keeps identity: an array met twice (``a[0]`` is ``x``) is stored once and comes back
as one array, twice; a tuple met twice (``weights_before`` is ``weights`` before the
update) comes back as one tuple. Arrays under ``SMALL`` bytes (an epoch's confusion
matrix, hundreds of them in a long history) travel in the message as their raw bytes,
rebuilt in C as read-only ``ndarray(shape, dtype, bytes)``, with no Python call each.

The blocks hold raw array bytes only, of a whitelisted dtype (``DTYPES``), checked with
the bounds on arrival; nothing is unpickled from them. An array of another dtype stays in
the message, pickled as every snapshot was before, and is then made read-only.

Protocol (why a reply's arrays are never overwritten before they are copied): the writer
has two slots, each one block, used alternately by the replies that carry a snapshot. The
window has at most two requests outstanding — one ``latest`` (asked again only once its
reply is in) and one command call (synchronous, from the one thread that drives it) —
and replies come in request order; so when the child packs a reply into slot s, the
previous reply in slot s is at least two replies older, and the window took (copied) it
before it sent the request now answered.

Lifetime: the training process creates its blocks, named ``prefix + number`` (numbers
count up, one new block when a slot is too small for the snapshot — another network
size after a reset), unlinks a slot's old block when it replaces it (the window, which
has copied everything out of it, closes its mapping when a message names the new one)
and unlinks its blocks when it ends (``SharedWriter.close``). If it is killed instead,
the window unlinks them (``SharedReader.unlink_leftovers``): the blocks it is attached to,
plus the next two numbers — each reply creates at most one block, and at most two replies
can be on their way that the window has not taken.

The resource tracker: ``spawn`` shares the parent's tracker with the child. Creating a
block registers its name; the window's attach registers it again, which the tracker's set
already holds (a no-op), and the child's unlink unregisters it. So the window must *not*
unregister after attaching (the usual cure for an unrelated process): that would remove
the child's entry, and the child's unlink would then raise KeyError in the tracker.
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import pickle
from dataclasses import dataclass, fields, is_dataclass
from multiprocessing.shared_memory import SharedMemory
from typing import Any

import numpy as np

from bpviz.engine.validation import frozen

DTYPES = frozenset(
    np.dtype(t) for t in (np.float32, np.float64, np.int64, np.intp, np.int32, np.uint8, bool)
)
_DTYPES = {dtype.str: dtype for dtype in DTYPES}
ALIGN = 64  # bytes: every array starts on a cache line
SMALL = 1024  # bytes: a smaller array travels in the message, as raw bytes
SLOTS = 2


@dataclass(frozen=True)
class Packed:
    """A snapshot pickled with its arrays replaced by references into block ``number`` in
    ``slot`` (``data``); ``inline`` if some array of a dtype outside ``DTYPES`` stayed in
    ``data`` (pickled, so not yet read-only)."""

    slot: int
    number: int
    data: bytes
    inline: bool = False


def block_name(prefix: str, number: int) -> str:
    """The shared-memory name of block ``number``."""
    return f"{prefix}{number}"


class _Saver(pickle.Pickler):
    """Pickles a snapshot with each whitelisted array of ``SMALL`` bytes or more replaced
    by a reference ``(offset, shape, dtype string)`` and lays those arrays out, each once;
    a smaller one becomes ``ndarray(shape, dtype string, its bytes)`` — read-only, as it
    views immutable bytes, and built in C, not in a Python ``persistent_load``."""

    def __init__(self, file) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.layout: list[tuple[int, np.ndarray]] = []
        self.end = 0  # bytes laid out
        self.refs: dict[int, tuple] = {}  # id(array) -> reference
        self.inline = False

    def persistent_id(self, obj: Any) -> tuple | None:
        if type(obj) is not np.ndarray:
            return None
        ref = self.refs.get(id(obj))
        if ref is None:
            if obj.dtype not in DTYPES:
                self.inline = True
                return None
            if obj.nbytes < SMALL:
                return None  # reducer_override's
            ref = (self.end, obj.shape, obj.dtype.str)
            self.refs[id(obj)] = ref
            self.layout.append((self.end, obj))  # (keeps obj, and so its id, alive)
            self.end += -(-obj.nbytes // ALIGN) * ALIGN
        return ref

    def reducer_override(self, obj: Any) -> Any:
        if type(obj) is np.ndarray and obj.dtype in DTYPES:  # a small one (pickle memoizes)
            return np.ndarray, (obj.shape, obj.dtype.str, obj.tobytes())
        return NotImplemented


class _Loader(pickle.Unpickler):
    """Unpickles a Packed snapshot, each reference a read-only copy out of ``block``."""

    def __init__(self, data: bytes, block: SharedMemory) -> None:
        super().__init__(io.BytesIO(data))
        self.block = block
        self.copies: dict[int, np.ndarray] = {}  # offset -> copy: one array, met twice

    def persistent_load(self, pid: Any) -> np.ndarray:
        offset, shape, dtype = pid
        copy = self.copies.get(offset)
        if copy is None:
            copy = self.copies[offset] = _copy_out(self.block, offset, shape, dtype)
        return copy


def freeze(tree: Any) -> Any:
    """Make every array in ``tree`` (e.g. an unpickled snapshot) read-only, walking tuples
    and dataclass instances; returns ``tree``."""
    seen: set[int] = set()
    stack = [tree]
    while stack:
        value = stack.pop()
        if id(value) in seen:
            continue
        seen.add(id(value))
        if type(value) is np.ndarray:
            frozen(value)
        elif type(value) is tuple:
            stack.extend(value)
        elif is_dataclass(value) and not isinstance(value, type):
            stack.extend(getattr(value, field.name) for field in fields(value))
    return tree


class SharedWriter:
    """The training process's side: packs snapshots into two slots of shared memory."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self._blocks: list[tuple[int, SharedMemory] | None] = [None] * SLOTS
        self._slot = 0
        self._number = 0  # of the newest block

    def pack(self, snapshot: Any) -> Packed:
        """Copy the arrays of ``snapshot`` into the next slot; the message to send.
        OSError if a block cannot be created (no /dev/shm, no room)."""
        file = io.BytesIO()
        saver = _Saver(file)
        saver.dump(snapshot)
        slot = self._slot
        number, block = self._block(slot, max(saver.end, 1))
        _copy_into(block, saver.layout)
        self._slot = (slot + 1) % SLOTS
        return Packed(slot, number, file.getvalue(), saver.inline)

    def _block(self, slot: int, size: int) -> tuple[int, SharedMemory]:
        """Slot ``slot``'s (number, block), a new one with room to grow if too small."""
        held = self._blocks[slot]
        if held is not None and held[1].size >= size:
            return held
        size = -(-(size + size // 4) // 65536) * 65536  # +25 %, whole 64 KiB
        number = self._number + 1
        new = SharedMemory(block_name(self.prefix, number), create=True, size=size)
        try:
            _reserve(new)
        except OSError:
            _discard(new)
            raise
        self._number = number
        if held is not None:  # the window has copied everything out of it
            _discard(held[1])
        self._blocks[slot] = (number, new)
        return number, new

    def close(self) -> None:
        """Unlink every block (idempotent)."""
        for slot, held in enumerate(self._blocks):
            if held is not None:
                _discard(held[1])
                self._blocks[slot] = None


def _copy_into(block: SharedMemory, layout: list[tuple[int, np.ndarray]]) -> None:
    """Copy each (offset, array) into ``block`` (no view outlives this call: a block with
    a view still open cannot be closed)."""
    raw = np.ndarray((block.size,), np.uint8, buffer=block.buf)
    for offset, array in layout:
        target = raw[offset : offset + array.nbytes].view(array.dtype).reshape(array.shape)
        np.copyto(target, array, casting="no")


def _copy_out(block: SharedMemory, offset: int, shape: tuple, dtype: str) -> np.ndarray:
    """A read-only copy of the array at byte ``offset`` of ``block``, checked to lie
    inside it and to be of a whitelisted dtype: raw bytes, nothing unpickled."""
    kind = _DTYPES.get(dtype) if isinstance(dtype, str) else None
    if kind is None:
        raise ValueError(f"dtype {dtype!r} is not allowed in shared memory")
    count = math.prod(shape)
    if min(shape, default=0) < 0 or not 0 <= offset <= block.size - count * kind.itemsize:
        raise ValueError(f"array {shape} at byte {offset} is not inside the block")
    return frozen(np.frombuffer(block.buf, kind, count, offset).reshape(shape).copy())


def _reserve(block: SharedMemory) -> None:
    """Give ``block`` all its pages now. A new block is a sparse file: on a tmpfs without
    room for it (Docker's /dev/shm is 64 MB) writing into it would kill the process with
    SIGBUS; reserving says ENOSPC (an OSError: the caller pickles instead). Where the OS
    has no ``posix_fallocate`` (macOS) the block stays as created."""
    fallocate, fd = getattr(os, "posix_fallocate", None), getattr(block, "_fd", -1)
    if fallocate is not None and fd >= 0:
        fallocate(fd, 0, block.size)


def _discard(block: SharedMemory) -> None:
    block.close()
    with contextlib.suppress(FileNotFoundError):
        block.unlink()


class SharedReader:
    """The window's side: rebuilds snapshots from ``Packed`` messages, with copies."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self._blocks: list[tuple[int, SharedMemory] | None] = [None] * SLOTS
        self._newest = 0  # the highest block number seen

    def unpack(self, message: Any) -> Any:
        """The snapshot of ``message`` (a Packed one, or a pickled one as it is), every
        array a read-only copy that shares no memory with a block."""
        if not isinstance(message, Packed):
            return freeze(message)
        if message.slot not in range(SLOTS):
            raise ValueError(f"no slot {message.slot}")
        snapshot = _Loader(message.data, self._attach(message.slot, message.number)).load()
        return freeze(snapshot) if message.inline else snapshot

    def _attach(self, slot: int, number: int) -> SharedMemory:
        held = self._blocks[slot]
        if held is not None and held[0] == number:
            return held[1]
        block = SharedMemory(block_name(self.prefix, number))  # registered: see module doc
        if held is not None:
            held[1].close()
        self._blocks[slot] = (number, block)
        self._newest = max(self._newest, number)
        return block

    def close(self) -> None:
        """Close the mappings (idempotent); the blocks stay for their owner to unlink."""
        for slot, held in enumerate(self._blocks):
            if held is not None:
                held[1].close()
                self._blocks[slot] = None

    def unlink_leftovers(self) -> None:
        """After the training process has ended: unlink whatever blocks it left (none if
        it closed its writer), then close."""
        names = {block_name(self.prefix, number) for number, _ in filter(None, self._blocks)}
        names.update(block_name(self.prefix, self._newest + k) for k in (1, 2))
        self.close()
        for name in names:
            with contextlib.suppress(FileNotFoundError):
                _discard(SharedMemory(name))
