"""One HTTP exchange with a host we do not control: an overall deadline and a byte budget.

httpx's timeouts bound each socket operation, so a peer that trickles a byte every few seconds
never trips them. Here a watchdog shuts the connection's socket down when the exchange's
deadline passes (the blocked read returns at once), and the body is read and decompressed in
slices counted against a byte budget: a 1 MB gzip bomb stops at the budget, a 500 MB answer is
not read whole. Only identity, gzip and deflate are accepted (and asked for), because only those
can be inflated a slice at a time here.
"""

from __future__ import annotations

import socket
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

Clock = Callable[[], float]
ACCEPT_ENCODING = "gzip, deflate"
_SLICE = 1 << 16  # bytes inflated per step: a bomb never unpacks more than this past the budget


class DeadlineExceeded(Exception):
    """The exchange did not finish before its deadline."""


class TooLarge(Exception):
    """The answer's body passed the byte budget (after decompression)."""


class _Overflow(Exception):
    def __init__(self, pieces: list[bytes]) -> None:
        self.pieces = pieces


class BadEncoding(Exception):
    """The body is in an encoding that cannot be read safely, or is corrupt."""


@dataclass
class Reply:
    """A whole answer: status, headers and the decoded body (within the budget)."""

    status: int
    headers: httpx.Headers
    body: bytes


def exchange(
    client: httpx.Client,
    request: httpx.Request,
    *,
    deadline: float,
    max_bytes: int,
    clock: Clock = time.monotonic,
    cut: bool = False,
) -> Reply:
    """Send `request` and read its answer before `deadline` (a `clock` instant), at most
    `max_bytes` of body after decompression; past that, raise TooLarge, or with `cut` keep the
    first `max_bytes` and stop reading (when only the status matters). Raises DeadlineExceeded,
    BadEncoding, or httpx.TransportError for what the network did."""
    remaining = deadline - clock()
    if remaining <= 0:
        raise DeadlineExceeded
    request.headers["Accept-Encoding"] = ACCEPT_ENCODING
    request.extensions = {**request.extensions, "timeout": _narrowed(request, remaining)}
    watchdog = _Watchdog(remaining)
    request.extensions["trace"] = watchdog.trace
    watchdog.start()
    try:
        response = client.send(request, stream=True)
        try:
            try:
                body = _read(response, max_bytes, deadline, clock)
            except _Overflow as overflow:
                if not cut:
                    raise TooLarge from None
                body = b"".join(overflow.pieces)[:max_bytes]
        finally:
            response.close()
    except httpx.TransportError:
        if watchdog.fired:
            raise DeadlineExceeded from None
        raise
    finally:
        watchdog.cancel()
    return Reply(response.status_code, response.headers, body)


def _narrowed(request: httpx.Request, remaining: float) -> dict[str, float | None]:
    """The request's per-operation timeouts, none longer than what is left of the deadline."""
    given = request.extensions.get("timeout") or {}
    return {
        name: remaining if given.get(name) is None else min(float(given[name]), remaining)
        for name in ("connect", "read", "write", "pool")
    }


class _Watchdog:
    """Shuts the exchange's socket down at the deadline (learnt from httpcore's trace hook)."""

    def __init__(self, seconds: float) -> None:
        self.fired = False
        self._socket: socket.socket | None = None
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True

    def start(self) -> None:
        self._timer.start()

    def cancel(self) -> None:
        self._timer.cancel()

    def trace(self, event: str, info: dict[str, Any]) -> None:
        if event not in ("connection.connect_tcp.complete", "connection.start_tls.complete"):
            return
        stream = info.get("return_value")
        sock = stream.get_extra_info("socket") if stream is not None else None
        if isinstance(sock, socket.socket):
            with self._lock:
                self._socket = sock
                if self.fired:
                    _shut(sock)

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            if self._socket is not None:
                _shut(self._socket)


def _shut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed: nothing left to stop


def _read(response: httpx.Response, max_bytes: int, deadline: float, clock: Clock) -> bytes:
    encoding = response.headers.get("content-encoding", "identity").strip().lower()
    inflate = _Inflater(encoding)
    declared = response.headers.get("content-length", "")
    if encoding == "identity" and declared.isdigit() and int(declared) > max_bytes:
        raise _Overflow([])
    # Pieces in a list, joined once at the end: a growing buffer would be copied as it grows.
    pieces: list[bytes] = []
    size = 0
    # An answer made in memory (a mock transport's) is already read: its bytes are all there.
    chunks = [response.content] if response.is_stream_consumed else response.iter_raw(_SLICE)
    for chunk in chunks:
        if clock() >= deadline:
            raise DeadlineExceeded
        for piece in inflate(chunk, max_bytes - size + 1):
            pieces.append(piece)
            size += len(piece)
            if size > max_bytes:
                raise _Overflow(pieces)
    pieces.append(inflate.rest())
    if size + len(pieces[-1]) > max_bytes:
        raise _Overflow(pieces)
    return b"".join(pieces)


class _Inflater:
    """Decompress a body slice by slice, never more than asked at a time."""

    def __init__(self, encoding: str) -> None:
        if encoding in ("gzip", "x-gzip"):
            self._make: Callable[[], Any] | None = lambda: zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            self._make = lambda: zlib.decompressobj()
        elif encoding in ("identity", ""):
            self._make = None
        else:
            raise BadEncoding(
                f"the answer is compressed as {encoding[:40]!r}; only {ACCEPT_ENCODING} can be read"
            )
        self._raw_deflate = encoding == "deflate"
        self._inflater = self._make() if self._make else None

    def __call__(self, data: bytes, room: int) -> list[bytes]:
        if self._inflater is None:
            return [data]
        pieces: list[bytes] = []
        while data:
            try:
                out = self._inflater.decompress(data, min(room, _SLICE))
            except zlib.error:
                if self._raw_deflate and not pieces:  # some servers send deflate without zlib
                    self._raw_deflate = False
                    self._inflater = zlib.decompressobj(-zlib.MAX_WBITS)
                    continue
                raise BadEncoding("the compressed answer is corrupt") from None
            self._raw_deflate = False
            pieces.append(out)
            room -= len(out)
            if room <= 0:
                return pieces  # over budget: the caller stops here
            if self._inflater.eof:  # a member ended; what follows is the next one's
                data = self._inflater.unused_data
                if data and self._make is not None:
                    self._inflater = self._make()
            else:
                data = self._inflater.unconsumed_tail
        return pieces

    def rest(self) -> bytes:
        if self._inflater is None:
            return b""
        return bytes(self._inflater.flush())
