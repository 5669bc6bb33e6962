"""One bounded exchange against a real local server: gzip members and raw deflate are read, a
bomb stops at the budget, `cut` keeps the start of an over-long answer, a trickle is cut off."""

from __future__ import annotations

import threading
import time
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from service.kit.bounded import BadEncoding, DeadlineExceeded, TooLarge, exchange

ANSWERS: dict[str, tuple[bytes, dict[str, str]]] = {}


def _gzip(data: bytes) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()


def _raw_deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802
        if self.path == "/trickle":
            self.send_response(200)
            self.send_header("Content-Length", "100")
            self.end_headers()
            try:
                for _ in range(100):
                    self.wfile.write(b".")
                    self.wfile.flush()
                    time.sleep(0.1)
            except OSError:
                pass
            return
        body, headers = ANSWERS[self.path]
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        try:
            self.wfile.write(body)
        except OSError:
            pass


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    ANSWERS.update(
        {
            "/members": (
                _gzip(b"a" * 100_000) + _gzip(b"b" * 100_000),
                {"Content-Encoding": "gzip"},
            ),
            "/deflate": (_raw_deflate(b"c" * 50_000), {"Content-Encoding": "deflate"}),
            "/bomb": (_gzip(b"0" * (64 << 20)), {"Content-Encoding": "gzip"}),
            "/brotli": (b"\x0b\x00\x80", {"Content-Encoding": "br"}),
            "/plain": (b"x" * 10_000, {}),
        }
    )
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _get(base: str, path: str, max_bytes: int, seconds: float = 30.0, cut: bool = False) -> bytes:
    with httpx.Client() as client:
        request = client.build_request("GET", base + path)
        deadline = time.monotonic() + seconds
        return exchange(client, request, deadline=deadline, max_bytes=max_bytes, cut=cut).body


def test_gzip_members_and_raw_deflate_are_read_whole(base: str) -> None:
    assert _get(base, "/members", 1 << 20) == b"a" * 100_000 + b"b" * 100_000
    assert _get(base, "/deflate", 1 << 20) == b"c" * 50_000


def test_a_bomb_stops_at_the_budget_and_cut_keeps_the_start(base: str) -> None:
    with pytest.raises(TooLarge):
        _get(base, "/bomb", 1 << 20)
    with pytest.raises(TooLarge):
        _get(base, "/plain", 9_999)  # refused by its Content-Length, unread
    assert _get(base, "/plain", 100, cut=True) == b""  # declared too long: status only
    assert _get(base, "/bomb", 1000, cut=True) == b"0" * 1000


def test_an_unreadable_encoding_is_refused(base: str) -> None:
    with pytest.raises(BadEncoding, match="'br'"):
        _get(base, "/brotli", 1 << 20)


def test_a_trickle_is_cut_off_at_the_deadline(base: str) -> None:
    with pytest.raises(DeadlineExceeded):
        _get(base, "/trickle", 1 << 20, seconds=0.5)
