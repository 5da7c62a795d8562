"""The IDX reader: exact round trips, the real MNIST bytes, every malformation → DataError."""

from __future__ import annotations

import gzip
import hashlib
import tracemalloc
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bpviz.data import DataError, read_idx
from bpviz.data.idx import decode, decode_gzip, encode

RNG = np.random.default_rng(3)
IMAGES = RNG.integers(0, 256, size=(7, 5, 4), dtype=np.uint8)
LABELS = RNG.integers(0, 10, size=7, dtype=np.uint8)


def header(n: int, rows: int = 28, cols: int = 28) -> bytes:
    return bytes((0, 0, 8, 3)) + b"".join(d.to_bytes(4, "big") for d in (n, rows, cols))


@pytest.mark.parametrize("compress", [False, True])
def test_round_trip_images_and_labels(tmp_path, compress: bool) -> None:
    for name, array, ndim in (("img", IMAGES, 3), ("lab", LABELS, 1)):
        blob = encode(array)
        path = tmp_path / name
        path.write_bytes(gzip.compress(blob) if compress else blob)
        result = read_idx(path, ndim)
        assert result.dtype == np.uint8
        np.testing.assert_array_equal(result, array.reshape(len(array), -1) if ndim == 3 else array)


def test_real_mnist_decompresses_to_the_published_sha256(mnist_dir) -> None:
    # From ../shared/mnist/README.md: SHA-256 of the decompressed IDX files.
    published = {
        "train-labels-idx1-ubyte.gz": "65a50cbbf4e906d70832878ad85ccda5"
        "333a97f0f4c3dd2ef09a8a9eef7101c5",
        "t10k-images-idx3-ubyte.gz": "0fa7898d509279e482958e8ce81c8e77"
        "db3f2f8254e26661ceb7762c4d494ce7",
    }
    for name, digest in published.items():
        ndim = 3 if "images" in name else 1
        head, body, array = decode_gzip((mnist_dir / name).read_bytes(), ndim, name)
        assert hashlib.sha256(head + body).hexdigest() == digest
        assert array.shape == ((10_000, 784) if ndim == 3 else (60_000,))


@pytest.mark.parametrize(
    ("blob", "ndim", "message"),
    [
        (b"", 1, "too short to be IDX (0 bytes)"),
        (b"\x00\x00\x08", 1, "too short"),
        (b"PK\x03\x04" + bytes(20), 1, "not an IDX file (magic number starts 50 4b"),
        (bytes((0, 0, 0x0D, 1, 0, 0, 0, 1)) + bytes(4), 1, "unsupported IDX data type 0x0d"),
        (bytes((0, 0, 8, 1, 0, 0, 0, 3, 1, 2, 3)), 3, "has 1 dimensions, expected 3"),
        (bytes((0, 0, 8, 3, 0, 0, 0, 3, 0, 0)), 3, "header is truncated (10 of 16 bytes)"),
        (header(0) + b"", 3, "declares an empty array"),
        (header(2, 2, 2) + bytes(7), 3, "truncated: header declares 2 images of 2×2 (8 bytes"),
        (header(2, 2, 2) + bytes(9), 3, "1 unexpected bytes after the 8 bytes of 2 images"),
        (header(60_000) + bytes(100), 3, "declares 60,000 images of 28×28 (47,040,000 bytes"),
    ],
    ids=["empty", "short", "zip", "type", "ndim", "header", "zero", "trunc", "pad", "liar"],
)
def test_malformed_raw_file_is_a_clear_error(tmp_path, blob: bytes, ndim: int, message: str):
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(blob)
    with pytest.raises(DataError, match=r"^" + str(path).replace("\\", "\\\\")) as info:
        read_idx(path, ndim)
    assert message in str(info.value)


def test_gzip_truncated_padded_and_corrupt(tmp_path) -> None:
    packed = gzip.compress(encode(IMAGES))
    cases = {
        "truncated-body": (gzip.compress(encode(IMAGES)[:-5]), "truncated: header declares 7"),
        "truncated-stream": (packed[: len(packed) // 2], "compressed data ends early"),
        "no-trailer": (packed[:-8], "compressed data ends early"),
        "padded": (gzip.compress(encode(IMAGES) + b"\x01"), "unexpected bytes after the 140"),
        "second-member": (packed + gzip.compress(b"xx"), "unexpected bytes after"),
        "bad-crc": (packed[:-8] + bytes(4) + packed[-4:], "corrupt gzip data"),
        "garbage": (b"\x1f\x8b" + bytes(range(50)), "corrupt gzip data"),
    }
    for name, (blob, message) in cases.items():
        path = tmp_path / f"{name}.gz"
        path.write_bytes(blob)
        with pytest.raises(DataError) as info:
            read_idx(path, 3)
        assert str(info.value).startswith(str(path)), name
        assert message in str(info.value), (name, str(info.value))


def test_gzip_zero_padding_after_the_stream_is_accepted(tmp_path) -> None:
    path = tmp_path / "labels.gz"
    path.write_bytes(gzip.compress(encode(LABELS)) + bytes(16))
    np.testing.assert_array_equal(read_idx(path, 1), LABELS)


def test_lying_gzip_header_allocates_nothing_large(tmp_path) -> None:
    # Claims 78 MB of images; the gzip holds a few bytes of data. The reader must refuse
    # from the sizes alone, without inflating or allocating anything near that.
    liar = gzip.compress(header(100_000, 28, 28) + bytes(1000))
    tracemalloc.start()
    try:
        with pytest.raises(DataError, match=r"more than a .*-byte gzip file can hold"):
            decode(liar, 3, "liar.gz")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000


def test_gzip_bomb_within_the_bound_inflates_only_what_is_declared() -> None:
    # Declares 10 labels but inflates to 10 MB of zeros: stop after 11 bytes of data.
    bomb = gzip.compress(bytes((0, 0, 8, 1, 0, 0, 0, 10)) + bytes(10_000_000), compresslevel=9)
    tracemalloc.start()
    try:
        with pytest.raises(DataError, match="unexpected bytes after the 10 bytes"):
            decode(bomb, 1, "bomb.gz")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2_000_000


def test_missing_and_unreadable_paths(tmp_path) -> None:
    with pytest.raises(DataError, match=r"nowhere\.gz: file not found"):
        read_idx(tmp_path / "nowhere.gz", 1)
    with pytest.raises(DataError, match="is a directory"):
        read_idx(tmp_path, 1)


@st.composite
def mutated_idx(draw) -> tuple[bytes, int]:
    """A valid small IDX file, then damaged: bytes overwritten, cut, appended; maybe gzipped
    before or after the damage."""
    ndim = draw(st.sampled_from([1, 3]))
    shape = draw(st.lists(st.integers(1, 6), min_size=ndim, max_size=ndim))
    blob = bytearray(encode(np.zeros(shape, dtype=np.uint8) + 7))
    gzip_first = draw(st.sampled_from([None, True, False]))
    if gzip_first:
        blob = bytearray(gzip.compress(bytes(blob)))
    for _ in range(draw(st.integers(0, 4))):
        position = draw(st.integers(0, max(len(blob) - 1, 0)))
        if blob:
            blob[position] = draw(st.integers(0, 255))
    if draw(st.booleans()):
        blob = blob[: draw(st.integers(0, len(blob)))]
    blob += draw(st.binary(max_size=8))
    if gzip_first is False:
        blob = bytearray(gzip.compress(bytes(blob)))
    return bytes(blob), ndim


@pytest.fixture(scope="module")
def fuzz_file(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz") / "train-images-idx3-ubyte"


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=mutated_idx())
def test_fuzz_reader_gives_an_exact_array_or_our_error(
    fuzz_file: Path, case: tuple[bytes, int]
) -> None:
    blob, ndim = case
    fuzz_file.write_bytes(blob)
    try:
        array = decode(blob, ndim, "fuzz")
    except DataError as error:
        assert str(error).startswith("fuzz: ")
        with pytest.raises(DataError, match=f"^{fuzz_file}: "):  # the file reader agrees
            read_idx(fuzz_file, ndim)
        return
    raw = zlib.decompressobj(wbits=31).decompress(blob) if blob[:2] == b"\x1f\x8b" else blob
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    assert array.dtype == np.uint8 and array.shape[0] == dims[0]
    assert array.size == int(np.prod(dims)) == len(raw) - (4 + 4 * ndim)
    np.testing.assert_array_equal(read_idx(fuzz_file, ndim), array)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=64), st.sampled_from([1, 3]))
def test_fuzz_arbitrary_bytes(blob: bytes, ndim: int) -> None:
    for data in (blob, b"\x1f\x8b" + blob, gzip.compress(blob)):
        try:
            array = decode(data, ndim, "x")
        except DataError:
            continue
        assert array.dtype == np.uint8 and array.ndim == (2 if ndim == 3 else 1)


def test_huge_padded_raw_file_is_refused_before_reading(tmp_path) -> None:
    path = tmp_path / "labels"
    with open(path, "wb") as f:
        f.write(encode(LABELS))
        f.truncate(2_000_000_000)  # sparse: 2 GB of padding, never read
    tracemalloc.start()
    try:
        with pytest.raises(DataError, match="1,999,999,985 unexpected bytes after the 7 bytes"):
            read_idx(path, 1)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000
