"""One HTTP(S) GET that can always be stopped: for the MNIST downloader.

Every wait on the network is a short poll (:data:`POLL` seconds), and between polls a
:class:`Watch` checks three things, so no server can hold the caller:

- the caller's cancel event (the window's Cancel button): stops within one poll;
- a deadline for connecting and receiving the response headers (``header_timeout``),
  which also ends an endless stream of ``100 Continue`` or headers sent a byte a second;
- a stall timeout for the body (``stall_timeout``): a mirror that delivers fewer than
  :data:`MIN_PROGRESS` bytes in that many seconds is abandoned. A slow mirror that keeps
  delivering is not a stalled one and is waited for.

Redirects are followed (at most :data:`MAX_REDIRECTS`, to http/https URLs only). The
HTTP parsing is the standard library's ``http.client``; only the socket under it is
ours. No Qt here.
"""

from __future__ import annotations

import contextlib
import errno
import http.client
import io
import select
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import urljoin, urlsplit

POLL = 0.2  # seconds a blocking network call waits before the Watch looks again
MIN_PROGRESS = 1024  # bytes a body must deliver per stall window to count as progressing
MAX_REDIRECTS = 5
REDIRECTS = (301, 302, 303, 307, 308)


class MirrorError(Exception):
    """This URL will not deliver the file; the message says why (one line)."""


class Cancelled(Exception):  # noqa: N818 (a request, not an error)
    """The caller's cancel event was set."""


class Watch:
    """The clocks and the cancel switch of one transfer; :meth:`check` raises when any
    of them says stop. Used from the downloading thread only."""

    def __init__(
        self, cancel: threading.Event | None, stall_timeout: float, header_timeout: float
    ) -> None:
        self.cancel = cancel
        self.stall_timeout = stall_timeout
        self.header_timeout = header_timeout
        self._deadline: float | None = None
        self._window_start = 0.0
        self._window_bytes = 0

    def start_headers(self) -> None:
        """Connecting and waiting for headers from now: at most ``header_timeout`` s."""
        self._deadline = time.monotonic() + self.header_timeout

    def start_body(self) -> None:
        """The body from now: each ``stall_timeout`` window must bring MIN_PROGRESS bytes."""
        self._deadline = None
        self._window_start, self._window_bytes = time.monotonic(), 0

    def received(self, count: int) -> None:
        self._window_bytes += count

    def check(self) -> None:
        """Raise :class:`Cancelled` or :class:`MirrorError` if the transfer must stop."""
        if self.cancel is not None and self.cancel.is_set():
            raise Cancelled
        now = time.monotonic()
        if self._deadline is not None:
            if now > self._deadline:
                raise MirrorError(
                    f"no response within {self.header_timeout:g} s (connection and headers)"
                )
            return
        if now - self._window_start >= self.stall_timeout:
            if self._window_bytes < MIN_PROGRESS:
                raise MirrorError(
                    f"stalled: {self._window_bytes:,} bytes in {self.stall_timeout:g} s "
                    f"(less than {MIN_PROGRESS:,} bytes in that time counts as no progress)"
                )
            self._window_start, self._window_bytes = now, 0

    def patiently(self, io_call: Callable[[Any], int], buffer: Any) -> int:
        """``io_call(buffer)`` (a socket's send or recv_into, whose timeout is the poll
        interval) retried until it moves bytes, with a ``check`` before each try."""
        while True:
            self.check()
            try:
                return io_call(buffer)
            except TimeoutError:
                continue


class _RawSocket(io.RawIOBase):
    """The socket as a raw stream whose reads poll the :class:`Watch`."""

    def __init__(self, sock: socket.socket, watch: Watch) -> None:
        super().__init__()
        self._sock = sock
        self._watch = watch

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        count = self._watch.patiently(self._sock.recv_into, buffer)
        self._watch.received(count)
        return count


class _WatchedSocket:
    """What ``http.client`` needs of a socket (sendall, makefile, close); the real
    socket's lifetime stays with :func:`get`."""

    def __init__(self, sock: socket.socket, watch: Watch) -> None:
        self._sock = sock
        self._watch = watch

    def sendall(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[self._watch.patiently(self._sock.send, view) :]

    def makefile(self, mode: str, *args, **kwargs) -> io.BufferedReader:
        return io.BufferedReader(_RawSocket(self._sock, self._watch))

    def close(self) -> None:
        pass


@contextlib.contextmanager
def get(url: str, headers: Mapping[str, str], watch: Watch) -> Iterator[http.client.HTTPResponse]:
    """GET ``url`` (following redirects) and yield the final response with its headers
    read; the body is left to the caller, whose reads keep being watched.

    Raises:
        MirrorError: connection, TLS, protocol or redirect failure, or the header deadline.
        Cancelled: the cancel event was set.
    """
    for _hop in range(MAX_REDIRECTS + 1):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise MirrorError(f"cannot fetch {url!r}: only http:// and https:// URLs are used")
        watch.start_headers()
        sock = _connect(parts.hostname, parts.port, parts.scheme, watch)
        try:
            response = _request(sock, parts, url, headers, watch)
            if response.status in REDIRECTS:
                location = response.getheader("Location")
                if not location:
                    raise MirrorError(f"HTTP {response.status} redirect without a Location")
                url = urljoin(url, location.strip())
                continue
            watch.start_body()
            yield response
            return
        finally:
            sock.close()
    raise MirrorError(f"more than {MAX_REDIRECTS} redirects (last to {url})")


def _request(
    sock: socket.socket, parts, url: str, headers: Mapping[str, str], watch: Watch
) -> http.client.HTTPResponse:
    cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = cls(parts.hostname, parts.port)
    connection.sock = _WatchedSocket(sock, watch)  # type: ignore[assignment]
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    try:
        connection.request("GET", target, headers={**headers, "Connection": "close"})
        return connection.getresponse()
    except (http.client.HTTPException, OSError) as error:
        detail = ascii(str(error))[1:-1]  # a garbage status line may hold any bytes
        raise MirrorError(f"bad response ({type(error).__name__}: {detail[:80]})") from None


def _connect(host: str, port: int | None, scheme: str, watch: Watch) -> socket.socket:
    """A connected socket (TLS-wrapped for https) in timeout mode (:data:`POLL`)."""
    port = port or (443 if scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as error:
        raise MirrorError(f"cannot connect ({error})") from None
    reasons = []
    for family, kind, proto, _, address in infos:
        sock = socket.socket(family, kind, proto)
        try:
            code = _connect_polling(sock, address, watch)
            if code == 0:
                sock.settimeout(POLL)
                return _tls(sock, host, watch) if scheme == "https" else sock
            reasons.append(errno.errorcode.get(code, str(code)) + f" ({address[0]})")
        except BaseException:
            sock.close()
            raise
        sock.close()
    raise MirrorError(f"cannot connect ({', '.join(reasons) or 'no address'})")


def _connect_polling(sock: socket.socket, address, watch: Watch) -> int:
    sock.setblocking(False)
    code = sock.connect_ex(address)
    while code in (errno.EINPROGRESS, errno.EALREADY, errno.EWOULDBLOCK):
        watch.check()
        _, writable, _ = select.select([], [sock], [], POLL)
        if writable:
            code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
    return code


def _tls(sock: socket.socket, host: str, watch: Watch) -> socket.socket:
    context = ssl.create_default_context()
    wrapped = context.wrap_socket(sock, server_hostname=host, do_handshake_on_connect=False)
    while True:
        watch.check()
        try:
            wrapped.do_handshake()
            return wrapped
        except TimeoutError:
            continue
        except (ssl.SSLError, OSError) as error:
            wrapped.close()
            raise MirrorError(f"TLS failed ({getattr(error, 'reason', None) or error})") from None
