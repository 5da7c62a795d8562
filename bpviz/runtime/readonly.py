"""Published snapshots are read-only and share no memory the session may write again.

The Worker hands snapshots to other threads (the window) without a lock: that is safe only
if no array in one can change afterwards. The session builds its snapshots from frozen
copies; ``sealed`` is the Worker's guarantee on top of that, for whatever reached the
session from elsewhere (a session file opened, a history restored): any array that is
writable, or is a view of memory that is, is replaced by a read-only copy. The common
case — everything already sealed — costs one walk and no copy.
"""

from __future__ import annotations

from dataclasses import fields, is_dataclass, replace
from typing import Any

import numpy as np


def is_sealed(array: np.ndarray) -> bool:
    """True if ``array`` cannot be written, nor any array whose memory it views."""
    base: Any = array
    while isinstance(base, np.ndarray):
        if base.flags.writeable:
            return False
        base = base.base
    # bytes or a read-only buffer (shared-memory copies are arrays of their own) — but a
    # memoryview/mmap over writable memory is not ours to trust
    return not (isinstance(base, memoryview) and not base.readonly)


def sealed(tree: Any) -> Any:
    """``tree`` (a Snapshot, or any tuples and frozen dataclasses holding arrays) with every
    array sealed (see ``is_sealed``): unchanged parts are kept as they are, an array met
    twice becomes one copy met twice."""
    return Sealer().seal(tree)


class Sealer:
    """``sealed`` for a stream of snapshots: parts met before (the same tuple of
    parameters, the same history view — the session reuses them while unchanged) are not
    walked again. Parts are immutable once sealed, so the answer stays right; the cache
    holds them (their ids stay valid) and is emptied when it grows past ``KEEP``."""

    KEEP = 512

    def __init__(self) -> None:
        self._known: dict[int, tuple[Any, Any]] = {}

    def seal(self, tree: Any) -> Any:
        """``tree`` sealed (see ``sealed``)."""
        if len(self._known) > self.KEEP:
            self._known.clear()
        return self._seal(tree)

    def _seal(self, value: Any) -> Any:
        kind = type(value)
        if kind is np.ndarray:
            if is_sealed(value):
                return value
            known = self._known.get(id(value))
            if known is None or known[0] is not value:  # an array met twice: one copy
                copy = np.array(value, copy=True)
                copy.flags.writeable = False
                known = self._known[id(value)] = (value, copy)
            return known[1]
        if kind is tuple:
            if not value:
                return value
        elif not (is_dataclass(value) and not isinstance(value, type)):
            return value
        known = self._known.get(id(value))
        if known is not None and known[0] is value:
            return known[1]
        if kind is tuple:
            items = tuple(self._seal(item) for item in value)
            same = all(a is b for a, b in zip(items, value, strict=True))
            out = value if same else items
        else:
            changes = {}
            for name in _init_fields(kind):
                old = getattr(value, name)
                new = self._seal(old)
                if new is not old:
                    changes[name] = new
            out = replace(value, **changes) if changes else value
        self._known[id(value)] = (value, out)
        return out


_FIELDS: dict[type, tuple[str, ...]] = {}


def _init_fields(kind: type) -> tuple[str, ...]:
    names = _FIELDS.get(kind)
    if names is None:
        names = _FIELDS[kind] = tuple(f.name for f in fields(kind) if f.init)
    return names
