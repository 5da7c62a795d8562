"""The data folder's odd entries and the decompressed cache's bound (issue 15, item 11).

A FIFO, directory or device under an IDX file's name is reported as what it is, and
reading it never blocks; the decompressed-IDX cache keeps at most ``MAX_ENTRIES``
copies and ``MAX_BYTES`` bytes, evicting the least recently used.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from bounded import run_in_thread
from test_data_mnist import NAMES, write_set

from bpviz.data import DataError, cache, load_idx_dir, read_idx, resolve_source


def unblock(fifo: Path) -> None:
    """Open the FIFO for writing once, releasing any reader a broken reader left waiting."""
    try:
        fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
    except OSError:  # no reader waiting: nothing to release
        return
    os.close(fd)


@pytest.mark.parametrize("gz", [True, False])
def test_a_fifo_named_like_an_idx_file_is_named_as_one_and_never_waited_on(
    tmp_path, gz: bool
) -> None:
    folder = tmp_path / "set"
    write_set(folder, [1, 2, 3], [4], compress=gz)
    fifo = folder / (NAMES["train-images"] + (".gz" if gz else ""))
    fifo.unlink()
    os.mkfifo(fifo)
    try:
        for load in (lambda: load_idx_dir(folder, cache_dir=False), lambda: read_idx(fifo, 3)):
            result, _ = run_in_thread(load)  # fails if reading the FIFO blocked
            assert isinstance(result, DataError), result
            assert str(result) == f"{fifo}: is a FIFO, not a file (expected an IDX file)"
        with pytest.raises(DataError, match="is a FIFO, not a file"):  # an explicit choice
            resolve_source(str(folder))
    finally:
        unblock(fifo)


def test_a_directory_or_device_named_like_an_idx_file(tmp_path) -> None:
    folder = tmp_path / "set"
    write_set(folder, [1, 2, 3], [4])
    images = folder / (NAMES["train-images"] + ".gz")
    images.unlink()
    images.mkdir()
    with pytest.raises(DataError, match=r"idx3-ubyte\.gz: is a directory, not a file"):
        load_idx_dir(folder, cache_dir=False)
    images.rmdir()
    images.symlink_to("/dev/zero")  # a real device: would be read for ever
    result, _ = run_in_thread(lambda: load_idx_dir(folder, cache_dir=False))
    assert "idx3-ubyte.gz: is a character device, not a file" in str(result)


def test_a_regular_file_is_preferred_to_an_odd_entry_of_another_accepted_name(tmp_path) -> None:
    folder = tmp_path / "set"
    write_set(folder, [1, 2, 3], [4], compress=False)
    os.mkfifo(folder / (NAMES["train-images"] + ".gz"))  # beside the real raw file
    assert load_idx_dir(folder, cache_dir=False).train_images.shape == (3, 4)


def entries(directory: Path) -> set[str]:
    return {p.name for p in directory.iterdir()}


def copies_of(folder: Path, cache_dir: Path) -> set[str]:
    return {cache._names(p)[1] for p in folder.iterdir()} & entries(cache_dir)


def test_the_cache_keeps_the_most_recently_used_within_its_bounds(tmp_path) -> None:
    store = tmp_path / "cache"
    folders = [tmp_path / f"set{i}" for i in range(cache.MAX_ENTRIES // 4 + 2)]
    for folder in folders:
        write_set(folder, [1, 2, 3], [4])
    for folder in folders[: cache.MAX_ENTRIES // 4]:  # exactly full
        load_idx_dir(folder, cache_dir=store)
    assert len(entries(store)) == cache.MAX_ENTRIES
    load_idx_dir(folders[0], cache_dir=store)  # the oldest, used again
    load_idx_dir(folders[-2], cache_dir=store)  # four new copies: four evicted
    assert len(entries(store)) == cache.MAX_ENTRIES
    assert len(copies_of(folders[0], store)) == 4  # recently used: kept
    assert copies_of(folders[1], store) == set()  # least recently used: evicted
    load_idx_dir(folders[-1], cache_dir=store)
    assert copies_of(folders[2], store) == set() and len(entries(store)) == cache.MAX_ENTRIES


def test_the_cache_bound_in_bytes_and_an_oversized_copy(tmp_path, monkeypatch) -> None:
    store = tmp_path / "cache"
    write_set(tmp_path / "a", [1] * 100, [2] * 50, side=10)  # 10,016 + 5,016 + 108 + 58
    write_set(tmp_path / "b", [1] * 100, [2] * 50, side=10)
    monkeypatch.setattr(cache, "MAX_BYTES", 20_000)
    load_idx_dir(tmp_path / "a", cache_dir=store)
    load_idx_dir(tmp_path / "b", cache_dir=store)
    sizes = [p.stat().st_size for p in store.iterdir()]
    assert sum(sizes) <= 20_000
    assert copies_of(tmp_path / "b", store) == {
        cache._names(p)[1] for p in (tmp_path / "b").iterdir()
    }  # the newest set is whole
    monkeypatch.setattr(cache, "MAX_BYTES", 5_000)  # smaller than one copy of the images
    write_set(tmp_path / "c", [1] * 100, [2] * 50, side=10)
    load_idx_dir(tmp_path / "c", cache_dir=store)
    assert sum(p.stat().st_size for p in store.iterdir()) <= 5_000
    assert copies_of(tmp_path / "c", store) == {  # only the labels' copies fit at all
        cache._names(tmp_path / "c" / f"{NAMES[role]}.gz")[1]
        for role in ("train-labels", "t10k-labels")
    }


def test_leftover_temporary_files_are_cleaned(tmp_path) -> None:
    store = tmp_path / "cache"
    store.mkdir()
    old = store / ".tmp-killed.part"
    old.write_bytes(b"x" * 1000)
    os.utime(old, (1_000_000, 1_000_000))  # long ago: its writer is gone
    fresh = store / ".tmp-writing.part"
    fresh.write_bytes(b"y")  # another process may be writing it now
    write_set(tmp_path / "set", [1], [2])
    load_idx_dir(tmp_path / "set", cache_dir=store)
    assert not old.exists() and fresh.exists()
