"""A real webhook receiver for tests: an HTTP server on 127.0.0.1 in a thread that records every
request and answers with scripted status codes (then 200). It can be slow: wait `delay` seconds
before answering, or trickle its answer a byte every `trickle` seconds for `trickle_for`
seconds; `busiest` counts the most requests it had in hand at once, and `on_request` runs as
each arrives."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    url: str
    requests: list[Received] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)  # answered in order, then 200
    delay: float = 0.0
    trickle: float = 0.0
    trickle_for: float = 5.0
    on_request: Callable[[], None] | None = None
    busiest: int = 0
    in_hand: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


@contextmanager
def receiver() -> Iterator[Receiver]:
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the http.server naming
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with state.lock:
                state.requests.append(
                    Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                )
                status = state.statuses.pop(0) if state.statuses else 200
                state.in_hand += 1
                state.busiest = max(state.busiest, state.in_hand)
            try:
                if state.on_request is not None:
                    state.on_request()
                time.sleep(state.delay)
                self._answer(status)
            except OSError:
                pass  # the sender hung up: what a bounded sender does
            finally:
                with state.lock:
                    state.in_hand -= 1

        def _answer(self, status: int) -> None:
            if not state.trickle:
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
                return
            steps = int(state.trickle_for / state.trickle)
            self.send_response(status)
            self.send_header("Content-Length", str(steps))
            self.end_headers()
            for _ in range(steps):
                self.wfile.write(b".")
                self.wfile.flush()
                time.sleep(state.trickle)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/sahelcast"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
