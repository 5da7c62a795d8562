"""Paths into a JSON value, for tests that corrupt one entry of a file's metadata."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def paths(value: Any, prefix: tuple = ()) -> Iterator[tuple]:
    """Every path into a JSON value, as tuples of keys and indices (the root is ``()``)."""
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from paths(child, (*prefix, index))


def set_at(value: Any, path: tuple, new: Any) -> Any:
    """A copy of ``value`` with the entry at ``path`` replaced by ``new``."""
    if not path:
        return new
    head, *rest = path
    copy = dict(value) if isinstance(value, dict) else list(value)
    copy[head] = set_at(value[head], rest, new)
    return copy
