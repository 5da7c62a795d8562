"""A hostile HTTP server on 127.0.0.1 for the downloader's tests: raw sockets, one
thread per connection, and the URL path ``/<behaviour>/<file>`` picks what the request
gets — a correct answer (honouring Range), slow bodies and headers, endless
``100 Continue``, stalls, lies about lengths, garbage, odd redirects."""

from __future__ import annotations

import random
import socket
import threading
from collections.abc import Callable

NAME = "t10k-labels-idx1-ubyte.gz"  # 4,542 bytes: the smallest real MNIST file
BIG = "train-labels-idx1-ubyte.gz"  # 28,881 bytes

Behaviour = Callable[["HostileServer", socket.socket, bytes, int], None]


def _head(status: str, body_length: int | None, extra: str = "") -> bytes:
    length = f"Content-Length: {body_length}\r\n" if body_length is not None else ""
    return f"HTTP/1.1 {status}\r\n{length}{extra}Connection: close\r\n\r\n".encode()


def ok(srv, conn, body, offset) -> None:
    if offset:
        if offset >= len(body):
            conn.sendall(_head("416 Range Not Satisfiable", 0))
            return
        extra = f"Content-Range: bytes {offset}-{len(body) - 1}/{len(body)}\r\n"
        conn.sendall(_head("206 Partial Content", len(body) - offset, extra) + body[offset:])
        return
    conn.sendall(_head("200 OK", len(body)) + body)


def slow_body(srv, conn, body, offset) -> None:  # 20 bytes a second, for ever
    conn.sendall(_head("200 OK", len(body)))
    for byte in body:
        conn.sendall(bytes([byte]))
        if srv.sleep(0.05):
            return


def slow_headers(srv, conn, body, offset) -> None:  # a header byte every 0.05 s, for ever
    conn.sendall(b"HTTP/1.1 200 OK\r\n")
    while True:
        for byte in b"X-Slow: yes\r\n":
            conn.sendall(bytes([byte]))
            if srv.sleep(0.05):
                return


def continues(srv, conn, body, offset) -> None:  # an endless stream of 100 Continue
    while True:
        conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        if srv.sleep(0.01):
            return


def progressing(srv, conn, body, offset) -> None:  # slow but steady: 2 KiB every 0.2 s
    conn.sendall(_head("200 OK", len(body)))
    for start in range(0, len(body), 2048):
        conn.sendall(body[start : start + 2048])
        if srv.sleep(0.2):
            return


def hold(srv, conn, body, offset) -> None:  # 1,000 bytes, then silence until shutdown
    conn.sendall(_head("200 OK", len(body)) + body[:1000])
    srv.sleep(3600)


def slow_then_stall(srv, conn, body, offset) -> None:
    conn.sendall(_head("200 OK", len(body)))
    for start in range(0, 1500, 300):
        conn.sendall(body[start : start + 300])
        if srv.sleep(0.1):
            return
    srv.sleep(3600)


def truncated(srv, conn, body, offset) -> None:
    conn.sendall(_head("200 OK", len(body)) + body[: len(body) // 2])


def short_length(srv, conn, body, offset) -> None:  # announces less than it sends
    conn.sendall(_head("200 OK", len(body) // 3) + body)


def huge_length(srv, conn, body, offset) -> None:
    conn.sendall(_head("200 OK", 10**15) + body)


def endless(srv, conn, body, offset) -> None:  # no length, zeros until the client leaves
    conn.sendall(_head("200 OK", None))
    block = bytes(64 * 1024)
    while not srv.stopping.is_set():
        conn.sendall(block)


def garbage(srv, conn, body, offset) -> None:
    conn.sendall(random.Random(len(body)).randbytes(3000))


def corrupt(srv, conn, body, offset) -> None:
    ok(srv, conn, body[:100] + bytes([body[100] ^ 0xFF]) + body[101:], offset)


def silent(srv, conn, body, offset) -> None:
    srv.sleep(3600)


def _redirect(location: str) -> Behaviour:
    def behaviour(srv, conn, body, offset) -> None:
        conn.sendall(_head("302 Found", 0, f"Location: {location}\r\n"))

    return behaviour


BEHAVIOURS: dict[str, Behaviour] = {
    "ok": ok,
    "slowbody": slow_body,
    "slowheaders": slow_headers,
    "continue": continues,
    "progressing": progressing,
    "hold": hold,
    "slowstall": slow_then_stall,
    "truncated": truncated,
    "shortlength": short_length,
    "hugelength": huge_length,
    "endless": endless,
    "garbage": garbage,
    "corrupt": corrupt,
    "silent": silent,
    "tofile": _redirect("file:///etc/passwd"),
    "toloop": _redirect("/toloop/" + NAME),
    "toparent": _redirect("/ok/../../../../etc/passwd"),
    "toftp": _redirect("ftp://127.0.0.1/x"),
    "toempty": _redirect(""),
    "took": _redirect("/ok/" + NAME),
}


class HostileServer:
    """A TCP server on 127.0.0.1; ``/<behaviour>/<file>`` picks what each request gets.
    Every connection has its own thread; :meth:`close` wakes and joins them all."""

    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files
        self.log: list[str] = []
        self.stopping = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.05)
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.threads: list[threading.Thread] = []
        self.acceptor = threading.Thread(target=self._accept, name="hostile-accept")
        self.acceptor.start()

    def sleep(self, seconds: float) -> bool:
        """Wait; True when the server is shutting down."""
        return self.stopping.wait(seconds)

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            thread = threading.Thread(target=self._serve, args=(conn,), name="hostile-conn")
            self.threads.append(thread)
            thread.start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(10)
            try:
                request = b""
                while b"\r\n\r\n" not in request and len(request) < 65536:
                    data = conn.recv(4096)
                    if not data:
                        return
                    request += data
                lines = request.decode("latin-1").split("\r\n")
                path = lines[0].split()[1]
                self.log.append(path)
                offset = 0
                for line in lines[1:]:
                    if line.lower().startswith("range: bytes="):
                        offset = int(line.split("=", 1)[1].rstrip("-"))
                _, mode, name = path.split("/", 2)
                behaviour = BEHAVIOURS.get(mode)
                body = self.files.get(name)
                if behaviour is None or body is None:
                    conn.sendall(_head("404 Not Found", 0))
                    return
                behaviour(self, conn, body, offset)
            except OSError:  # the client hung up: expected for most behaviours
                pass

    def close(self) -> None:
        self.stopping.set()
        self.listener.close()
        self.acceptor.join(5)
        for thread in self.threads:
            thread.join(5)
