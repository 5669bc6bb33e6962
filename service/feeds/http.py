"""One HTTP client for the feeds: retries with backoff on 429, 5xx and timeouts, within budgets.

`Retry-After` is honoured (seconds, or an HTTP date read against the answer's own `Date`
header so no local clock is involved); the sleep function is injected so tests never wait.
401/403 raise FeedAuthError naming the settings to check; other 4xx are not retried.

Every answer has an overall deadline and a byte budget (service.kit.bounded), and the whole
fetch has its own: a server trickling a byte a second, a gzip bomb or an endless pager stops
with an error naming the setting to raise, and nothing is written. Whatever an answer says is
scrubbed of the credentials (service.kit.scrub) before it reaches a message.
"""

from __future__ import annotations

import email.utils
import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from service.feeds.errors import FeedAuthError, FeedDataError, FeedHTTPError, FeedNotFound
from service.kit.bounded import BadEncoding, DeadlineExceeded, Reply, TooLarge, exchange
from service.kit.scrub import Scrubber

log = logging.getLogger(__name__)
Sleep = Callable[[float], None]
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# A server asking for more than this is not going to answer this run: give up instead.
RETRY_AFTER_MAX_SECONDS = 900.0
MB = 1 << 20


@dataclass
class Policy:
    """How hard to try (attempts, exponential backoff from `backoff` up to `cap`, `timeout` per
    socket operation) and how much one fetch may spend: `answer_seconds` and `answer_mb` per
    answer, `fetch_seconds` and `fetch_mb` in all, `max_pages` per query."""

    attempts: int = 5
    backoff: float = 2.0
    cap: float = 120.0
    timeout: float = 60.0
    answer_seconds: float = 120.0
    answer_mb: float = 64.0
    fetch_seconds: float = 3600.0
    fetch_mb: float = 128.0
    max_pages: int = 2000


@dataclass
class Answer:
    """A parsed JSON answer and its size in bytes (decoded)."""

    body: Any
    size: int


class FeedHTTP:
    """GET/POST JSON against one API; `label` (e.g. 'ACLED') and `settings` go into errors."""

    def __init__(
        self,
        base_url: str,
        *,
        label: str,
        settings: tuple[str, ...],
        policy: Policy | None = None,
        sleep: Sleep = time.sleep,
        transport: httpx.BaseTransport | None = None,
        secrets: tuple[str, ...] = (),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.label = label
        # Scrubbed from anything an answer says, should a server ever echo a credential back;
        # tokens obtained during the fetch are added as they come (see acled_auth).
        self.scrub = Scrubber(secrets)
        self.settings = settings
        self.policy = policy or Policy()
        self.sleep = sleep
        self.clock = clock
        self.deadline = clock() + self.policy.fetch_seconds
        self.bytes_read = 0
        self.client = httpx.Client(
            base_url=base_url.rstrip("/"),
            timeout=self.policy.timeout,
            transport=transport,
            follow_redirects=False,  # a redirect must not carry the token to another host
            headers={"User-Agent": "sahelcast", "Accept": "application/json"},
            # A fresh connection per request: the deadline's watchdog can then always reach
            # the socket (pages are large and few, so keep-alive saves little).
            limits=httpx.Limits(max_keepalive_connections=0),
        )

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> FeedHTTP:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(
        self, path: str, *, what: str, params: Mapping[str, Any], headers: Mapping[str, str]
    ) -> Answer:
        return self._json(self._send("GET", path, what, params=params, headers=headers), what)

    def post_form(self, path: str, *, what: str, data: Mapping[str, str]) -> Answer:
        return self._json(self._send("POST", path, what, data=data), what)

    def excerpt(self, raw: bytes | str) -> str:
        """The start of what a server said, scrubbed and cut, quoted for a message."""
        return self.scrub.excerpt(raw)

    def _send(self, method: str, path: str, what: str, **kwargs: Any) -> Reply:
        policy = self.policy
        for attempt in range(1, policy.attempts + 1):
            last = attempt == policy.attempts
            try:
                reply = self._exchange(method, path, what, **kwargs)
            except httpx.TransportError as error:  # timeouts, refused, cut-off bodies
                problem = _transport_problem(error)
                if last:
                    raise FeedHTTPError(
                        f"{self.label} {what}: {problem} ({policy.attempts} attempts)"
                    ) from None
                delay = self._backoff(attempt)
                log.warning(
                    "%s %s: %s; retry %d in %.1f s", self.label, what, problem, attempt, delay
                )
                self._wait(delay, what)
                continue
            status = reply.status
            if status < 300:
                return reply
            if status in (401, 403):
                raise FeedAuthError(
                    f"{self.label} refused the credentials (HTTP {status}) for {what}: "
                    f"check {' and '.join(self.settings)}"
                )
            if status not in RETRY_STATUSES or last:
                error_class = FeedNotFound if status == 404 else FeedHTTPError
                tries = f" after {policy.attempts} attempts" if status in RETRY_STATUSES else ""
                raise error_class(
                    f"{self.label} {what}: HTTP {status}{tries}: {self.excerpt(reply.body)}",
                    status,
                )
            delay = self._retry_after(reply) or self._backoff(attempt)
            log.warning(
                "%s %s: HTTP %d; retry %d in %.1f s", self.label, what, status, attempt, delay
            )
            self._wait(delay, what)
        raise AssertionError("unreachable")  # pragma: no cover

    def _exchange(self, method: str, path: str, what: str, **kwargs: Any) -> Reply:
        """One request and its whole answer, within the answer's and the fetch's budgets."""
        policy = self.policy
        now = self.clock()
        if now >= self.deadline:
            raise self._out_of_time(what)
        deadline = min(now + policy.answer_seconds, self.deadline)
        answer_max = int(policy.answer_mb * MB)
        left = int(policy.fetch_mb * MB) - self.bytes_read
        request = self.client.build_request(method, path, **kwargs)
        try:
            reply = exchange(
                self.client,
                request,
                deadline=deadline,
                max_bytes=min(answer_max, left),
                clock=self.clock,
            )
        except DeadlineExceeded:
            if deadline >= self.deadline:
                raise self._out_of_time(what) from None
            raise FeedHTTPError(
                f"{self.label} {what}: no whole answer within {policy.answer_seconds:g} s "
                "(SAHELCAST_FEED_ANSWER_SECONDS); the server is too slow or trickling, "
                "nothing was written"
            ) from None
        except TooLarge:
            if left < answer_max:
                raise FeedDataError(
                    f"{self.label} {what}: this fetch passed {policy.fetch_mb:g} MB of answers "
                    "(SAHELCAST_FEED_FETCH_MAX_MB); ask for fewer countries or raise it, "
                    "nothing was written"
                ) from None
            raise FeedDataError(
                f"{self.label} {what}: the answer is larger than {policy.answer_mb:g} MB "
                "(SAHELCAST_FEED_ANSWER_MAX_MB), unpacked; nothing was written"
            ) from None
        except BadEncoding as error:
            raise FeedDataError(f"{self.label} {what}: {error}; nothing was written") from None
        self.bytes_read += len(reply.body)
        return reply

    def _out_of_time(self, what: str) -> FeedHTTPError:
        return FeedHTTPError(
            f"{self.label} {what}: the fetch ran out of time ({self.policy.fetch_seconds:g} s, "
            "SAHELCAST_FEED_FETCH_SECONDS); nothing was written"
        )

    def _wait(self, delay: float, what: str) -> None:
        if self.clock() + delay >= self.deadline:
            raise self._out_of_time(what)
        self.sleep(delay)

    def _json(self, reply: Reply, what: str) -> Answer:
        raw = reply.body
        try:
            body = json.loads(raw)
        except RecursionError:
            raise FeedDataError(
                f"{self.label} {what}: the answer's JSON is nested too deeply to be data "
                "(not what the API documents); nothing was written"
            ) from None
        except (ValueError, UnicodeDecodeError):
            raise FeedDataError(
                f"{self.label} {what}: the answer is not JSON (truncated, or an error page?): "
                f"{self.excerpt(raw)}"
            ) from None
        return Answer(body, len(raw))

    def _backoff(self, attempt: int) -> float:
        return float(min(self.policy.backoff * 2 ** (attempt - 1), self.policy.cap))

    def _retry_after(self, reply: Reply) -> float | None:
        value = reply.headers.get("Retry-After", "").strip()
        if not value:
            return None
        if value.isdigit():
            seconds = float(value)
        else:
            try:
                when = email.utils.parsedate_to_datetime(value)
                now = email.utils.parsedate_to_datetime(reply.headers["Date"])
            except (KeyError, TypeError, ValueError, IndexError):
                return None
            seconds = max((when - now).total_seconds(), 0.0)
        if seconds > RETRY_AFTER_MAX_SECONDS:
            raise FeedHTTPError(
                f"{self.label}: the API asks to wait {seconds:.0f} s (Retry-After); "
                "try again later",
                reply.status,
            )
        return seconds


def _transport_problem(error: httpx.TransportError) -> str:
    if isinstance(error, httpx.TimeoutException):
        return "no answer in time"
    if isinstance(error, httpx.RemoteProtocolError):
        return "the connection broke off mid-answer (truncated)"
    return f"cannot reach the API ({type(error).__name__})"
