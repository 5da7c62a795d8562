"""File ▸ Download full MNIST… in the real window, from a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import hashlib
import http.server
import threading
import time
from functools import partial
from typing import ClassVar

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton

from bpviz.data import download_mnist
from bpviz.data.download import MNIST_MD5


class Handler(http.server.BaseHTTPRequestHandler):
    files: ClassVar[dict[str, bytes]] = {}
    delay: ClassVar[float] = 0.0  # seconds between 16 KB chunks ("slow" server)
    # Set: send the first 16 KB, then nothing until the test ends (a stalled mirror).
    hold: ClassVar[threading.Event | None] = None

    def do_GET(self) -> None:
        body = self.files.get(self.path.rsplit("/", 1)[-1])
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            for start in range(0, len(body), 16 * 1024):
                self.wfile.write(body[start : start + 16 * 1024])
                self.wfile.flush()
                if self.hold is not None:
                    self.hold.wait(120)
                    return
                time.sleep(self.delay)
        except OSError:  # the client cancelled and hung up
            pass

    def log_message(self, *args) -> None:
        pass


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = False
    block_on_close = True

    def handle_error(self, request, client_address) -> None:
        pass


@pytest.fixture
def server(mnist_dir):
    Handler.files = {name: (mnist_dir / name).read_bytes() for name in MNIST_MD5}
    Handler.delay = 0.0
    Handler.hold = None
    httpd = Server(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    checksums = {name: hashlib.md5(data).hexdigest() for name, data in Handler.files.items()}
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/", checksums
    finally:
        if Handler.hold is not None:
            Handler.hold.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def test_download_shows_progress_then_trains_on_the_full_mnist(qtbot, window, server, tmp_path):
    url, checksums = server
    dest = tmp_path / "mnist"
    fetch = partial(download_mnist, dest=dest, mirrors=[url], checksums=checksums)
    dialog = window.controller.download_mnist(fetch)
    seen = []
    dialog.succeeded.connect(seen.append)
    qtbot.waitUntil(lambda: bool(seen), timeout=60_000)
    assert seen == [dest]
    name, done, total = dialog.shown  # the dialog displayed the real progress
    assert name in MNIST_MD5 and done == total == len(Handler.files[name])
    assert window.dataset.train_images.shape == (60_000, 784)
    assert "60,000" in window.status.labels["source"].toolTip()
    assert window.data_choice == str(dest)
    qtbot.waitUntil(lambda: window.latest.batches_per_epoch == 60_000 // 10, timeout=10_000)


def test_cancel_stops_the_download_and_keeps_the_data(qtbot, window, server, tmp_path):
    url, checksums = server
    Handler.delay = 0.05
    dataset = window.dataset
    fetch = partial(download_mnist, dest=tmp_path / "mnist", mirrors=[url], checksums=checksums)
    dialog = window.controller.download_mnist(fetch)
    failed = []
    dialog.failed.connect(failed.append)
    qtbot.waitUntil(lambda: dialog.shown is not None and dialog.value() > 0, timeout=20_000)
    dialog.findChild(QPushButton).click()  # Cancel
    qtbot.waitUntil(lambda: bool(failed), timeout=10_000)
    assert failed == ["cancelled"]
    assert window.dataset is dataset
    assert "cancelled" in window.statusBar().currentMessage()
    assert not dialog._thread.is_alive()


def test_cancel_takes_effect_within_a_second_while_the_server_is_silent(
    qtbot, window, server, tmp_path
):
    # The mirror sends 16 KB and then nothing: the download thread is waiting on the
    # socket, and Cancel must still stop it at once (not after a 30 s socket timeout),
    # keeping the 16 KB received in the .part for next time.
    url, checksums = server
    Handler.hold = threading.Event()
    name = "train-images-idx3-ubyte.gz"
    dest = tmp_path / "mnist"
    fetch = partial(download_mnist, dest=dest, mirrors=[url], checksums={name: checksums[name]})
    dialog = window.controller.download_mnist(fetch)
    failed = []
    dialog.failed.connect(failed.append)
    qtbot.waitUntil(lambda: dialog.shown is not None and dialog.shown[1] > 0, timeout=20_000)
    cancel = dialog.findChild(QPushButton)
    qtbot.mouseClick(cancel, Qt.MouseButton.LeftButton)
    clicked = time.monotonic()
    qtbot.waitUntil(lambda: bool(failed), timeout=30_000)
    took = time.monotonic() - clicked
    assert failed == ["cancelled"] and not dialog._thread.is_alive()
    assert took < 1.5, f"Cancel took {took:.2f} s"  # 0.2 s poll + 0.1 s dialog timer
    assert (dest / f"{name}.part").read_bytes() == Handler.files[name][: 16 * 1024]
    assert "cancelled" in window.statusBar().currentMessage()
