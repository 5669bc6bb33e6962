"""A fake ACLED + UCDP API on 127.0.0.1 (an ephemeral port, in a thread), serving the shapes
the real services document: OAuth tokens that expire, paged `data`, `/api/deleted/read`, UCDP
`TotalCount/TotalPages/NextPageUrl/Result`. Every row it serves is made up (never ACLED data).

Faults are queued by the test (`fail(path, kind)`) and served once each, in order. Some are
hostile rather than faulty: a gzip bomb, an answer of hundreds of megabytes, a server that
trickles a byte at a time, JSON nested 200,000 deep, an error page quoting the request back
(credentials included) in several encodings; `pager` makes the pages cycle or never end, and
`ignore_filters` serves rows whatever the query asked.
"""

from __future__ import annotations

import inspect
import json
import threading
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, quote_plus, urlsplit

from tests.service.ingest.acled_rows import event

USERNAME = "analyst@example.org"
PASSWORD = "s3cret-Pa55-word"  # noqa: S105 - the fake's own test password
UCDP_TOKEN = "ucdp-token-123"  # noqa: S105
GW = {432: "Mali", 439: "Burkina Faso", 436: "Niger"}


@dataclass
class Clock:
    """Monotonic seconds shared by the client's token logic and the fake's token expiry."""

    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Seen:
    method: str
    path: str
    params: dict[str, str]
    headers: dict[str, str]
    form: dict[str, str]
    status: int = 0


@dataclass
class FakeApi:
    clock: Clock = field(default_factory=Clock)
    events: list[dict[str, Any]] = field(default_factory=list)  # ACLED rows
    deletions: list[dict[str, Any]] = field(default_factory=list)
    releases: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # UCDP
    expires_in: int = 3600
    tokens: dict[str, float] = field(default_factory=dict)  # access token -> expiry
    refresh_tokens: set[str] = field(default_factory=set)
    faults: list[tuple[str, str]] = field(default_factory=list)
    seen: list[Seen] = field(default_factory=list)
    after_page: Any = None  # called as each data page is served (tests move the clock)
    pager: str | None = None  # "cycle": pages A, B, A, B…; "endless": always a next page
    ignore_filters: bool = False  # serve every row, whatever country or dates were asked
    hostile_mb: int = 64  # the unpacked size of a bomb, the size of a huge answer
    trickle_seconds: float = 0.2  # between the bytes of a trickle
    base: str = ""
    _issued: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def fail(self, path: str, kind: str, times: int = 1) -> None:
        """Serve `kind` on the next `path` hits: 429, 500, 401, 403, truncated, html, cut, slow;
        hostile: bomb, huge, huge-declared, trickle, trickle-headers, deep, echo, markup."""
        self.faults += [(path, kind)] * times

    def requests(self, path: str) -> list[Seen]:
        return [s for s in self.seen if s.path.startswith(path)]

    # -- the handlers ------------------------------------------------------------------------

    def token(self, form: dict[str, str]) -> tuple[int, Any]:
        grant = form.get("grant_type")
        if form.get("client_id") != "acled":
            return 400, {"error": "invalid_client"}
        if grant == "password":
            if (form.get("username"), form.get("password")) != (USERNAME, PASSWORD):
                return 400, {"error": "invalid_grant", "error_description": "bad credentials"}
        elif grant == "refresh_token":
            if form.get("refresh_token") not in self.refresh_tokens:
                return 400, {"error": "invalid_grant"}
            self.refresh_tokens.discard(form["refresh_token"])
        else:
            return 400, {"error": "unsupported_grant_type"}
        self._issued += 1
        access, refresh = f"access-{self._issued}", f"refresh-{self._issued}"
        self.tokens[access] = self.clock() + self.expires_in
        self.refresh_tokens.add(refresh)
        return 200, {
            "token_type": "Bearer",
            "access_token": access,
            "refresh_token": refresh,
            "expires_in": self.expires_in,
        }

    def acled(self, path: str, params: dict[str, str], headers: dict[str, str]) -> tuple[int, Any]:
        bearer = headers.get("authorization", "").removeprefix("Bearer ")
        if self.tokens.get(bearer, 0) <= self.clock():
            return 401, {"error": "invalid or expired token"}
        if params.get("_format") != "json":
            return 400, {"error": "_format=json expected"}
        if path == "/api/acled/read":
            rows = [r for r in self.events if _acled_match(r, params, self.ignore_filters)]
        else:
            after = int(params.get("deleted_timestamp", 0))
            assert params.get("deleted_timestamp_where") == ">"
            rows = [r for r in self.deletions if int(r["deleted_timestamp"]) > after]
        limit, page = int(params["limit"]), int(params["page"])
        data = rows[(page - 1) * limit : page * limit]
        if self.pager == "cycle":  # the API ignores `page`: full pages A, B, A, B…
            data = [
                acled_row(n, "2024-01-05", timestamp=100 + n)
                for n in range(1 + (page % 2) * limit, 1 + (page % 2 + 1) * limit)
            ]
        elif self.pager == "endless":  # a full page every time, never the same
            data = [
                acled_row(page * limit + n, "2024-01-05", timestamp=100 + n) for n in range(limit)
            ]
        return 200, {"status": 200, "success": True, "count": len(data), "data": data}

    def ucdp(self, path: str, params: dict[str, str], headers: dict[str, str]) -> tuple[int, Any]:
        if headers.get("x-ucdp-access-token") != UCDP_TOKEN:
            return 401, {"message": "a valid x-ucdp-access-token is required"}
        version = path.rsplit("/", 1)[-1]
        if version not in self.releases:
            return 404, {"message": f"no version {version}"}
        codes = {int(c) for c in params.get("Country", "").split(",") if c}
        rows = [
            r
            for r in self.releases[version]
            if self.ignore_filters
            or (
                (not codes or r["country_id"] in codes)
                and params.get("StartDate", "0") <= r["date_start"][:10]
                and r["date_start"][:10] <= params.get("EndDate", "9")
            )
        ]
        size, page = int(params["pagesize"]), int(params["page"])
        pages = max((len(rows) + size - 1) // size, 1)
        following = ""
        if self.pager == "endless":  # a lying count, distinct rows, and always a next page
            result = [ucdp_row(page * size + n, "2024-01-02") for n in range(1, size + 1)]
            query = "&".join(f"{k}={v}" for k, v in {**params, "page": page + 1}.items())
            return 200, {
                "TotalCount": 10**12,
                "TotalPages": 10**9,
                "PreviousPageUrl": "",
                "NextPageUrl": f"{self.base}{path}?{query}",
                "Result": result,
            }
        if page + 1 < pages:
            query = "&".join(f"{k}={v}" for k, v in {**params, "page": page + 1}.items())
            following = f"{self.base}{path}?{query}"
        result = rows[page * size : (page + 1) * size]
        return 200, {
            "TotalCount": len(rows),
            "TotalPages": pages,
            "PreviousPageUrl": "",
            "NextPageUrl": following,
            "Result": result,
        }


def _acled_match(row: dict[str, Any], params: dict[str, str], ignore: bool = False) -> bool:
    if ignore:
        return True
    if params.get("country") and row["country"] != params["country"]:
        return False
    if "event_date" in params:
        assert params.get("event_date_where") == "BETWEEN"
        low, high = params["event_date"].split("|")
        if not low <= row["event_date"] <= high:
            return False
    if "timestamp" in params:
        assert params.get("timestamp_where") == ">"
        if int(row["timestamp"]) <= int(params["timestamp"]):
            return False
    return True


class _Handler(BaseHTTPRequestHandler):
    api: FakeApi

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def do_GET(self) -> None:  # noqa: N802
        self._serve("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._serve("POST")

    def _serve(self, method: str) -> None:
        api = self.api
        url = urlsplit(self.path)
        params = {k: v[-1] for k, v in parse_qs(url.query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        form = {k: v[-1] for k, v in parse_qs(body).items()}
        headers = {k.lower(): v for k, v in self.headers.items()}
        seen = Seen(method, url.path, params, headers, form)
        with api._lock:
            api.seen.append(seen)
            fault = next((f for f in api.faults if url.path.startswith(f[0])), None)
            if fault is not None:
                api.faults.remove(fault)
        if fault is not None and fault[1] != "slow":
            seen.status = self._fault(fault[1], seen)
            return
        if fault is not None:
            time.sleep(1.0)  # longer than the client's timeout in that test
        if url.path == "/oauth/token":
            status, answer = api.token(form)
        elif url.path.startswith("/api/gedevents/"):
            status, answer = api.ucdp(url.path, params, headers)
        elif url.path in ("/api/acled/read", "/api/deleted/read"):
            status, answer = api.acled(url.path, params, headers)
        else:
            status, answer = 404, {"error": "no such path"}
        seen.status = status
        # The hook runs once the page is made but before the client has it: after the send,
        # the client's next request could race ahead of it (a flaky clock move).
        if status == 200 and url.path.startswith("/api/") and api.after_page is not None:
            api.after_page(seen)
        self._send(status, json.dumps(answer).encode())

    def _fault(self, kind: str, seen: Seen) -> int:
        if kind in _HOSTILE:
            return _HOSTILE[kind](self, seen)
        if kind in ("429", "503"):
            self._send(int(kind), b'{"error": "slow down"}', {"Retry-After": "7"})
        elif kind in ("500", "401", "403"):
            self._send(int(kind), b'{"error": "' + kind.encode() + b'"}')
        elif kind == "truncated":
            self._send(200, b'{"status": 200, "success": true, "data": [{"event_id_cnty": "MLI')
        elif kind == "html":
            self._send(200, b"<html><body>Bad gateway</body></html>", ctype="text/html")
        elif kind == "cut":  # promises more bytes than it sends, then hangs up
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(b'{"data": [')
            self.close_connection = True
            return 200
        return int(kind) if kind.isdigit() else 200

    def _send(
        self,
        status: int,
        raw: bytes,
        headers: dict[str, str] | None = None,
        ctype: str = "application/json",
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(raw)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        try:
            self.wfile.write(raw)
        except OSError:
            self.close_connection = True  # the client stopped reading (a budget ran out)


def _bomb(handler: _Handler, seen: Seen) -> int:
    """`hostile_mb` of zeros as gzip members of 1 MiB each (about 1 kB apiece on the wire)."""
    member = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    one = member.compress(b"0" * (1 << 20)) + member.flush()
    raw = b"".join([one] * handler.api.hostile_mb)
    handler._send(200, raw, {"Content-Encoding": "gzip"})
    return 200


def _huge(handler: _Handler, seen: Seen, declared: bool = False) -> int:
    """A JSON answer of `hostile_mb` megabytes, streamed (never held whole by the fake)."""
    size = handler.api.hostile_mb << 20
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    if declared:
        handler.send_header("Content-Length", str(size))
    handler.end_headers()
    block = b" " * (1 << 20)
    try:
        handler.wfile.write(b'{"data": [')
        for _ in range(handler.api.hostile_mb):
            handler.wfile.write(block)
    except OSError:
        pass  # the client stopped reading: what it should do
    handler.close_connection = True
    return 200


def _trickle(handler: _Handler, seen: Seen, headers: bool = False) -> int:
    """A byte every `trickle_seconds`, for ever (until the client hangs up)."""
    pause = handler.api.trickle_seconds
    try:
        if headers:
            prefix = b"HTTP/1.1 200 OK\r\nX-Slow: "
        else:
            handler.send_response(200)
            handler.send_header("Content-Type", "application/json")
            handler.end_headers()
            handler.wfile.flush()
            prefix = b'{"data": ['
        handler.wfile.write(prefix)
        handler.wfile.flush()
        while True:
            time.sleep(pause)
            handler.wfile.write(b" ")
            handler.wfile.flush()
    except OSError:
        pass
    handler.close_connection = True
    return 200


def _deep(handler: _Handler, seen: Seen) -> int:
    handler._send(200, b"[" * 200_000 + b"]" * 200_000)
    return 200


def _echo(handler: _Handler, seen: Seen) -> int:
    """A 500 quoting the request back, as careless servers do: headers raw, the form body
    URL-encoded, both JSON-encoded, and the bearer token cut short at 14 characters."""
    bearer = seen.headers.get("authorization", "").removeprefix("Bearer ")
    secrets = [
        v
        for v in (
            bearer,
            seen.form.get("password", ""),
            seen.headers.get("x-ucdp-access-token", ""),
        )
        if v
    ]
    said = {
        "raw": " ".join(secrets),
        "url-encoded": "&".join(quote_plus(v) for v in secrets),
        "percent": " ".join(quote(v, safe="") for v in secrets),
        "cut": [v[:14] for v in secrets],
        "request": {"headers": seen.headers, "form": seen.form},
    }
    handler._send(500, (json.dumps(said) + " log: " + str(said)).encode())
    return 500


def _markup(handler: _Handler, seen: Seen) -> int:
    """An error page that a terminal library would read as markup, or choke on."""
    handler._send(500, b'{"error": "[/] [bold red]pwned[/bold red] [link=https://evil.example]x"}')
    return 500


_HOSTILE = {
    "markup": _markup,
    "bomb": _bomb,
    "huge": _huge,
    "huge-declared": lambda h, s: _huge(h, s, declared=True),
    "trickle": _trickle,
    "trickle-headers": lambda h, s: _trickle(h, s, headers=True),
    "deep": _deep,
    "echo": _echo,
}


@contextmanager
def serving(api: FakeApi) -> Iterator[str]:
    """Serve `api` on 127.0.0.1 in a thread; yield its base URL."""
    handler = type("Handler", (_Handler,), {"api": api})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    api.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, name="fake-api", daemon=True)
    thread.start()
    try:
        yield api.base
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


# The fields an export row takes (the rest of an API row's fields are given as they are).
EVENT_FIELDS = frozenset(inspect.signature(event).parameters)


def acled_row(n: int, date: str, *, country: str = "Mali", **fields: Any) -> dict[str, Any]:
    """A made-up ACLED API row: the export's row (`acled_rows.event`, whose defaults apply)
    with an ISO date and every value as text, as the API sends them."""
    prefix = {"Mali": "MLI", "Burkina Faso": "BFO", "Niger": "NIG"}[country]
    given = {name: fields.pop(name) for name in list(fields) if name in EVENT_FIELDS}
    sides = {"actor2": f"Civilians ({country})", "inter1": 2, "inter2": 7}
    row = event(f"{prefix}{n}", date, country=country, **{**sides, **given})
    row |= {"year": date[:4], "notes": f"A made-up event {n}."}
    return {name: str(value) for name, value in row.items()} | fields


def ucdp_row(
    n: int,
    date: str,
    *,
    country_id: int = 439,
    adm_1: str = "Sahel region",
    best: int = 3,
    violence: int = 1,
    **extra: Any,
) -> dict[str, Any]:
    """A made-up UCDP GED API row (typed values, ISO date-times, as the API sends them)."""
    row = {
        "id": n, "relid": f"BFO-{n}", "year": int(date[:4]), "active_year": True,
        "code_status": "Clear", "type_of_violence": violence, "conflict_new_id": 1,
        "conflict_name": "Burkina Faso: Government", "dyad_new_id": 2,
        "dyad_name": "Government of Burkina Faso - JNIM", "side_a_new_id": 3,
        "side_a": "Government of Burkina Faso", "side_b_new_id": 4, "side_b": "JNIM",
        "number_of_sources": 1, "source_article": "Made up", "where_prec": 1,
        "where_coordinates": "Somewhere", "adm_1": adm_1, "adm_2": "", "latitude": 13.1,
        "longitude": -1.1, "priogrid_gid": 1, "country": GW[country_id],
        "country_id": country_id, "region": "Africa", "event_clarity": 1, "date_prec": 1,
        "date_start": f"{date}T00:00:00.000", "date_end": f"{date}T00:00:00.000",
        "deaths_a": 0, "deaths_b": best, "deaths_civilians": 0, "deaths_unknown": 0,
        "best": best, "high": best, "low": best,
    }  # fmt: skip
    return row | extra
