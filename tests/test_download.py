"""The downloader against a real HTTP server on 127.0.0.1 serving ../shared/mnist.

The server's paths pick a behaviour: /ok/ (honours Range), /plain/ (ignores Range),
/missing/ (404), /corrupt/ (one byte flipped), /truncated/ (announces the full length,
sends half, closes), /drop/ (sends half, then resets the connection), /badrange/ (a
wrong 206 answer), /stall/ (silent until the test releases it).
"""

from __future__ import annotations

import hashlib
import http.server
import socket
import struct
import threading
import time
from typing import ClassVar

import pytest

from bpviz.cli.download import main as download_cli
from bpviz.data import (
    DataError,
    DownloadCancelled,
    DownloadError,
    download,
    download_mnist,
    load_idx_dir,
)
from bpviz.data.download import MNIST_MD5, md5_of

SMALL = ("train-labels-idx1-ubyte.gz", "t10k-labels-idx1-ubyte.gz")


class Handler(http.server.BaseHTTPRequestHandler):
    files: ClassVar[dict[str, bytes]] = {}
    log: ClassVar[list[tuple[str, str | None]]] = []

    release: ClassVar[threading.Event] = threading.Event()

    def do_GET(self) -> None:
        self.log.append((self.path, self.headers.get("Range")))
        _, mode, name = self.path.split("/", 2)
        if mode == "stall":  # accept, then say nothing until released
            self.release.wait(5)
            self.close_connection = True
            return
        body = self.files.get(name)
        if mode == "missing" or body is None:
            self.send_error(404)
            return
        start = 0
        if mode == "badrange":  # claims a partial answer that is not what was asked for
            self.send_response(206)
            self.send_header("Content-Range", f"bytes 0-{len(body) - 1}/{len(body)}")
        elif mode == "ok" and self.headers.get("Range"):
            start = int(self.headers["Range"].removeprefix("bytes=").rstrip("-"))
            if start >= len(body):
                self.send_error(416)
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        else:
            self.send_response(200)
        if mode == "corrupt":
            body = body[:100] + bytes([body[100] ^ 0xFF]) + body[101:]
        self.send_header("Content-Length", str(len(body) - start))
        self.end_headers()
        if mode in ("truncated", "drop"):
            self.wfile.write(body[start : start + (len(body) - start) // 2])
            self.wfile.flush()
            if mode == "drop":  # RST instead of FIN: the client sees a reset connection
                linger = struct.pack("ii", 1, 0)
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
            self.close_connection = True
            return
        self.wfile.write(body[start:])

    def log_message(self, *args) -> None:  # keep test output clean
        pass


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = False  # server_close() joins every handler thread
    block_on_close = True

    def handle_error(self, request, client_address) -> None:  # dropped sockets are expected
        pass


@pytest.fixture(scope="module")
def served_files(mnist_dir) -> dict[str, bytes]:
    return {name: (mnist_dir / name).read_bytes() for name in MNIST_MD5}


@pytest.fixture
def server(served_files):
    """(base URL, request log, checksums of the served files); stopped and joined after."""
    Handler.files = served_files
    Handler.log = []
    Handler.release = threading.Event()
    httpd = Server(("127.0.0.1", 0), Handler)
    thread = threading.Thread(
        target=httpd.serve_forever, args=(0.02,), name="test-http", daemon=True
    )
    thread.start()
    checksums = {name: hashlib.md5(data).hexdigest() for name, data in served_files.items()}
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", Handler.log, checksums
    finally:
        Handler.release.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def small(checksums: dict[str, str]) -> dict[str, str]:
    return {name: checksums[name] for name in SMALL}


def test_full_download_verifies_renames_and_loads(server, tmp_path) -> None:
    url, log, checksums = server
    seen: dict[str, tuple[int, int]] = {}
    dest = download_mnist(
        tmp_path / "mnist",
        mirrors=[f"{url}/ok/"],
        progress=lambda name, done, total: seen.__setitem__(name, (done, total)),
        checksums=checksums,
    )
    assert sorted(p.name for p in dest.iterdir()) == sorted(MNIST_MD5)
    assert all(done == total > 0 for done, total in seen.values()) and len(seen) == 4
    dataset = load_idx_dir(dest, cache_dir=False)
    assert (len(dataset.train_labels), len(dataset.test_labels)) == (60_000, 10_000)
    # A second run finds verified files and fetches nothing.
    requests = len(log)
    download_mnist(dest, mirrors=[f"{url}/ok/"], checksums=checksums)
    assert len(log) == requests


def test_official_checksums_reject_the_differently_gzipped_copies(server, tmp_path) -> None:
    url, _, _ = server
    with pytest.raises(
        DownloadError, match=r"images-idx3-ubyte\.gz: checksum mismatch .*expected f68b3c2d"
    ):
        download_mnist(tmp_path, mirrors=[f"{url}/ok/"])
    assert list(tmp_path.iterdir()) == []  # nothing that looks complete, no .part either


def test_404_on_the_first_mirror_falls_through(server, tmp_path) -> None:
    url, log, checksums = server
    download_mnist(tmp_path, mirrors=[f"{url}/missing", f"{url}/ok"], checksums=small(checksums))
    assert [path.split("/")[1] for path, _ in log] == ["missing", "ok", "missing", "ok"]
    assert all(md5_of(tmp_path / name) == checksums[name] for name in SMALL)


def test_corrupt_file_is_discarded_and_the_next_mirror_used(server, tmp_path) -> None:
    url, _, checksums = server
    download_mnist(tmp_path, mirrors=[f"{url}/corrupt/", f"{url}/ok/"], checksums=small(checksums))
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(SMALL)


@pytest.mark.parametrize("fault", ["truncated", "drop"])
def test_broken_transfer_resumes_from_the_next_mirror(server, tmp_path, fault: str) -> None:
    url, log, checksums = server
    name = "t10k-images-idx3-ubyte.gz"
    download_mnist(
        tmp_path,
        mirrors=[f"{url}/{fault}/", f"{url}/ok/"],
        checksums=small(checksums) | {name: checksums[name]},
    )
    assert md5_of(tmp_path / name) == checksums[name]
    ranges = [rng for path, rng in log if path == f"/ok/{name}"]
    assert ranges and ranges[0] is not None and ranges[0].startswith("bytes=")  # resumed
    assert not list(tmp_path.glob("*.part"))


@pytest.mark.parametrize("mode", ["ok", "plain"])
def test_stale_part_is_restarted_cleanly(server, tmp_path, mode: str) -> None:
    url, log, checksums = server
    name = SMALL[0]
    (tmp_path / f"{name}.part").write_bytes(b"\x1f\x8b" + bytes(1000))  # garbage, resumable
    download_mnist(tmp_path, mirrors=[f"{url}/{mode}/"], checksums={name: checksums[name]})
    assert md5_of(tmp_path / name) == checksums[name]
    assert [rng for _, rng in log] == (["bytes=1002-", None] if mode == "ok" else ["bytes=1002-"])


def test_all_mirrors_failing_gives_one_message(server, tmp_path) -> None:
    url, _, checksums = server
    with socket.socket() as closed:  # a port nobody listens on
        closed.bind(("127.0.0.1", 0))
        refused = f"http://127.0.0.1:{closed.getsockname()[1]}/"
    mirrors = [f"{url}/missing/", f"{url}/truncated/", f"{url}/corrupt/", refused]
    with pytest.raises(DownloadError) as info:
        download_mnist(
            tmp_path / "d", mirrors=mirrors, checksums=small(checksums), header_timeout=5
        )
    message = str(info.value)
    name = SMALL[0]
    assert message.startswith(f"could not download {name}; tried:\n")
    assert f"{url}/missing/{name}: HTTP 404" in message
    assert f"{url}/truncated/{name}: connection closed after 14,440 of 28,881 bytes" in message
    assert f"{url}/corrupt/{name}: checksum mismatch" in message
    assert f"{refused}{name}: cannot connect" in message
    assert f"place them in {tmp_path / 'd'}" in message and "BPVIZ_DATA" in message
    assert not (tmp_path / "d" / name).exists()


def test_cancel_stops_within_a_chunk_and_a_later_run_resumes(server, tmp_path) -> None:
    url, log, checksums = server
    name = "t10k-images-idx3-ubyte.gz"
    cancel = threading.Event()
    calls: list[int] = []

    def progress(_name: str, done: int, _total: int) -> None:
        calls.append(done)
        cancel.set()

    with pytest.raises(DownloadCancelled, match=r"kept .* to resume next time"):
        download_mnist(
            tmp_path, [f"{url}/ok/"], progress, cancel, checksums={name: checksums[name]}
        )
    assert len(calls) == 1 and not (tmp_path / name).exists()
    assert (tmp_path / f"{name}.part").stat().st_size == calls[0] < len(Handler.files[name])
    download_mnist(tmp_path, [f"{url}/ok/"], checksums={name: checksums[name]})
    assert md5_of(tmp_path / name) == checksums[name]
    assert log[-1] == (f"/ok/{name}", f"bytes={calls[0]}-")


def test_cancel_from_another_thread(server, tmp_path) -> None:
    url, _, checksums = server
    cancel = threading.Event()
    errors: list[BaseException] = []

    def run() -> None:
        try:
            download_mnist(tmp_path, [f"{url}/ok/"], None, cancel, checksums=checksums)
        except DataError as error:
            errors.append(error)

    cancel.set()  # already set when the worker starts: nothing is fetched
    worker = threading.Thread(target=run)
    worker.start()
    worker.join(10)
    assert isinstance(errors[0], DownloadCancelled)
    assert list(tmp_path.iterdir()) == []


def test_unwritable_destination(tmp_path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(DataError, match="cannot create the download directory"):
        download_mnist(blocker / "mnist", mirrors=["http://127.0.0.1:9/"])


def test_cli_downloads_with_a_checksum_file(server, tmp_path, capsys, monkeypatch) -> None:
    url, _, checksums = server
    monkeypatch.setenv("BPVIZ_CACHE_DIR", str(tmp_path / "cache"))
    listing = tmp_path / "md5.txt"
    listing.write_text("".join(f"{md5}  {name}\n" for name, md5 in checksums.items()))
    dest = tmp_path / "mnist"
    args = ["--dir", str(dest), "--mirror", f"{url}/missing/", "--mirror", f"{url}/ok/"]
    assert download_cli([*args, "--checksums", str(listing)]) == 0
    err = capsys.readouterr().err
    assert f"ready: MNIST from {dest} (60,000 train / 10,000 held-out)" in err
    assert "train-images-idx3-ubyte.gz: 9.6/9.6 MB" in err


def test_cli_failure_exit_status_and_message(server, tmp_path, capsys) -> None:
    url, _, _ = server
    assert download_cli(["--dir", str(tmp_path), "--mirror", f"{url}/missing/", "--quiet"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: could not download train-images-idx3-ubyte.gz; tried:\n")
    bad = tmp_path / "bad.txt"
    bad.write_text("not a checksum line\n")
    assert download_cli(["--dir", str(tmp_path), "--checksums", str(bad)]) == 1
    assert "bad.txt:1: expected '<md5>  <file name>'" in capsys.readouterr().err


def test_wrong_partial_answer_and_oversized_file_are_mirror_failures(
    server, tmp_path, monkeypatch
) -> None:
    url, _, checksums = server
    name = SMALL[0]
    (tmp_path / f"{name}.part").write_bytes(b"x" * 10)
    with pytest.raises(DownloadError, match=r"bad Content-Range 'bytes 0-28880/28881'"):
        download_mnist(tmp_path, [f"{url}/badrange/"], checksums={name: checksums[name]})
    monkeypatch.setattr(download, "MAX_BYTES", 10_000)
    with pytest.raises(DownloadError, match="announces 28,881 bytes, more than 10,000: not an"):
        download_mnist(tmp_path / "big", [f"{url}/ok/"], checksums={name: checksums[name]})
    assert list((tmp_path / "big").iterdir()) == []  # refused before writing anything


def test_unwritable_part_file_stops_with_its_name(server, tmp_path) -> None:
    url, _, checksums = server
    name = SMALL[0]
    (tmp_path / f"{name}.part").mkdir()  # something that cannot be opened for writing
    with pytest.raises(DataError, match=rf"{name}\.part: cannot write \(Is a directory\)"):
        download_mnist(tmp_path, [f"{url}/ok/"], checksums={name: checksums[name]})


def test_cli_checksum_file_errors(tmp_path, capsys) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("\n")
    assert download_cli(["--dir", str(tmp_path), "--checksums", str(empty)]) == 1
    assert "empty.txt: no checksums in the file" in capsys.readouterr().err
    assert download_cli(["--dir", str(tmp_path), "--checksums", str(tmp_path / "no.txt")]) == 1
    assert "no.txt: cannot read the checksum file" in capsys.readouterr().err


def test_silent_server_times_out_and_the_next_mirror_is_used(server, tmp_path) -> None:
    url, _, checksums = server
    name = SMALL[1]
    start = time.monotonic()
    download_mnist(
        tmp_path,
        [f"{url}/stall/", f"{url}/ok/"],
        checksums={name: checksums[name]},
        header_timeout=0.3,
    )
    assert time.monotonic() - start < 3
    assert md5_of(tmp_path / name) == checksums[name]
