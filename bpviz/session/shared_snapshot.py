"""Snapshots through shared memory: the arrays in a block, a small message over the pipe.

The training process (``SharedWriter``) copies every array of a snapshot into a POSIX
shared-memory block and returns ``Packed``: the snapshot with each array replaced by an
``ArrayRef`` (offset, shape, dtype) — a few kilobytes to pickle instead of megabytes. The
window's process (``SharedReader``) attaches to the block by name and rebuilds the
snapshot with read-only *copies* of the arrays, at once, so that the GUI never reads
memory the training process may write again. Arrays are found wherever they are: in
Snapshot fields, in tuples (entries may be None), in nested dataclasses (HistoryView,
EpochMetrics, WatchView, SeriesView). An array that appears twice (``weights_before`` is
``weights`` before the update; ``a[0]`` is ``x``) is stored once and comes back as one
array, twice — and a tuple that appears twice comes back as one tuple — as pickle does.

The blocks hold raw array bytes only, of a whitelisted dtype (``DTYPES``); nothing is
unpickled from them. An array of another dtype stays in the message (pickled as before).

Protocol (why a reply's arrays are never overwritten before they are copied): the writer
has two slots, each one block, used alternately by the replies that carry a snapshot. The
window has at most two requests outstanding (one ``latest`` and one command call; it sends
a request only when at most one other is outstanding), and replies come in request order;
so when the child packs a reply into slot s, the previous reply in slot s is at least two
replies older, and the window took (copied) it before sending the request now answered.

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
from dataclasses import dataclass, fields, is_dataclass, replace
from multiprocessing.shared_memory import SharedMemory
from typing import Any

import numpy as np

DTYPES = frozenset(
    np.dtype(t) for t in (np.float32, np.float64, np.int64, np.intp, np.int32, np.uint8, bool)
)
ALIGN = 64  # bytes: every array starts on a cache line
SLOTS = 2


@dataclass(frozen=True)
class ArrayRef:
    """Where one array lies in the block: byte ``offset``, ``shape``, ``dtype`` (``.str``)."""

    offset: int
    shape: tuple[int, ...]
    dtype: str


@dataclass(frozen=True)
class Packed:
    """A snapshot whose arrays are ``ArrayRef``s into block ``number`` in ``slot``."""

    slot: int
    number: int
    tree: Any


def block_name(prefix: str, number: int) -> str:
    """The shared-memory name of block ``number``."""
    return f"{prefix}{number}"


def _map(value: Any, leaf: type, fn, memo: dict[int, Any]) -> Any:
    """``value`` with every ``leaf`` replaced by ``fn(leaf)``, walking tuples and dataclass
    instances; containers without leaves come back as they are (the same object), and an
    object met twice is converted once (``memo``, by id)."""
    key = id(value)
    if key in memo:
        return memo[key]
    if type(value) is leaf:
        new = fn(value)
    elif type(value) is tuple:
        items = tuple(_map(item, leaf, fn, memo) for item in value)
        new = value if all(a is b for a, b in zip(items, value, strict=True)) else items
    elif is_dataclass(value) and not isinstance(value, type):
        changed = {}
        for field in fields(value):
            old = getattr(value, field.name)
            if (item := _map(old, leaf, fn, memo)) is not old:
                changed[field.name] = item
        new = replace(value, **changed) if changed else value
    else:
        return value
    memo[key] = new
    return new


def _read_only(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array


def freeze(tree: Any) -> Any:
    """Make every array in ``tree`` (e.g. an unpickled snapshot) read-only; returns it."""
    return _map(tree, np.ndarray, _read_only, {})


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
        layout: list[tuple[int, np.ndarray]] = []
        end = 0

        def place(array: np.ndarray) -> ArrayRef | np.ndarray:
            nonlocal end
            if array.dtype not in DTYPES:
                return array  # stays in the message
            offset = end
            layout.append((offset, array))
            end = offset + -(-array.nbytes // ALIGN) * ALIGN
            return ArrayRef(offset, array.shape, array.dtype.str)

        tree = _map(snapshot, np.ndarray, place, {})
        slot = self._slot
        number, block = self._block(slot, max(end, 1))
        _copy_into(block, layout)
        self._slot = (slot + 1) % SLOTS
        return Packed(slot, number, tree)

    def _block(self, slot: int, size: int) -> tuple[int, SharedMemory]:
        """Slot ``slot``'s (number, block), a new one with room to grow if too small."""
        held = self._blocks[slot]
        if held is not None and held[1].size >= size:
            return held
        size = -(-(size + size // 4) // 65536) * 65536  # +25 %, whole 64 KiB
        number = self._number + 1
        new = SharedMemory(block_name(self.prefix, number), create=True, size=size)
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


def _copy_out(block: SharedMemory, ref: ArrayRef) -> np.ndarray:
    """A read-only copy of the array ``ref`` names in ``block``, checked to lie inside it."""
    dtype = np.dtype(ref.dtype)
    if dtype not in DTYPES:
        raise ValueError(f"dtype {ref.dtype!r} is not allowed in shared memory")
    shape = tuple(int(n) for n in ref.shape)
    count = int(np.prod(shape, dtype=np.int64))
    if min(shape, default=0) < 0 or not 0 <= ref.offset <= block.size - count * dtype.itemsize:
        raise ValueError(f"array {shape} at byte {ref.offset} is not inside the block")
    return _read_only(np.frombuffer(block.buf, dtype, count, ref.offset).reshape(shape).copy())


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
        block = self._attach(message.slot, message.number)
        return freeze(_map(message.tree, ArrayRef, lambda ref: _copy_out(block, ref), {}))

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
