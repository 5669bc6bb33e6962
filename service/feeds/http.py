"""One HTTP client for the feeds: retries with backoff on 429, 5xx and timeouts.

`Retry-After` is honoured (seconds, or an HTTP date read against the answer's own `Date`
header so no local clock is involved); the sleep function is injected so tests never wait.
401/403 raise FeedAuthError naming the settings to check; other 4xx are not retried.
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

log = logging.getLogger(__name__)
Sleep = Callable[[float], None]
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# A server asking for more than this is not going to answer this run: give up instead.
RETRY_AFTER_MAX_SECONDS = 900.0
EXCERPT_CHARS = 200


@dataclass
class Policy:
    """How hard to try: attempts per request, exponential backoff from `backoff` up to `cap`."""

    attempts: int = 5
    backoff: float = 2.0
    cap: float = 120.0
    timeout: float = 60.0


@dataclass
class Answer:
    """A parsed JSON answer and its raw bytes."""

    body: Any
    raw: bytes


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
    ) -> None:
        self.label = label
        # Scrubbed from any answer quoted in an error, should a server ever echo one back.
        self.secrets = tuple(s for s in secrets if s)
        self.settings = settings
        self.policy = policy or Policy()
        self.sleep = sleep
        self.client = httpx.Client(
            base_url=base_url.rstrip("/"),
            timeout=self.policy.timeout,
            transport=transport,
            follow_redirects=False,  # a redirect must not carry the token to another host
            headers={"User-Agent": "sahelcast", "Accept": "application/json"},
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

    def _send(self, method: str, path: str, what: str, **kwargs: Any) -> httpx.Response:
        policy = self.policy
        for attempt in range(1, policy.attempts + 1):
            last = attempt == policy.attempts
            try:
                response = self.client.request(method, path, **kwargs)
                response.read()
            except httpx.TransportError as error:  # timeouts, refused, cut-off bodies
                problem = _transport_problem(error)
                if last:
                    raise FeedHTTPError(
                        f"{self.label} {what}: {problem} ({policy.attempts} attempts)"
                    ) from None
                delay = self._backoff(attempt)
                log.warning("%s %s: %s; retry %d in %.1f s", self.label, what, problem,
                            attempt, delay)  # fmt: skip
                self.sleep(delay)
                continue
            status = response.status_code
            if status < 300:
                return response
            if status in (401, 403):
                raise FeedAuthError(
                    f"{self.label} refused the credentials (HTTP {status}) for {what}: "
                    f"check {' and '.join(self.settings)}"
                )
            if status not in RETRY_STATUSES or last:
                error_class = FeedNotFound if status == 404 else FeedHTTPError
                tries = f" after {policy.attempts} attempts" if status in RETRY_STATUSES else ""
                raise error_class(
                    f"{self.label} {what}: HTTP {status}{tries}: {self._excerpt(response.content)}",
                    status,
                )
            delay = self._retry_after(response) or self._backoff(attempt)
            log.warning("%s %s: HTTP %d; retry %d in %.1f s", self.label, what, status,
                        attempt, delay)  # fmt: skip
            self.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def _json(self, response: httpx.Response, what: str) -> Answer:
        raw = response.content
        try:
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise FeedDataError(
                f"{self.label} {what}: the answer is not JSON (truncated, or an error page?): "
                f"{self._excerpt(raw)}"
            ) from None
        return Answer(body, raw)

    def _excerpt(self, raw: bytes) -> str:
        text = " ".join(raw[:EXCERPT_CHARS].decode("utf-8", "replace").split())
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return repr(text + ("…" if len(raw) > EXCERPT_CHARS else ""))

    def _backoff(self, attempt: int) -> float:
        return float(min(self.policy.backoff * 2 ** (attempt - 1), self.policy.cap))

    def _retry_after(self, response: httpx.Response) -> float | None:
        value = response.headers.get("Retry-After", "").strip()
        if not value:
            return None
        if value.isdigit():
            seconds = float(value)
        else:
            try:
                when = email.utils.parsedate_to_datetime(value)
                now = email.utils.parsedate_to_datetime(response.headers["Date"])
            except (KeyError, TypeError, ValueError, IndexError):
                return None
            seconds = max((when - now).total_seconds(), 0.0)
        if seconds > RETRY_AFTER_MAX_SECONDS:
            raise FeedHTTPError(
                f"{self.label}: the API asks to wait {seconds:.0f} s (Retry-After); "
                "try again later",
                response.status_code,
            )
        return seconds


def _transport_problem(error: httpx.TransportError) -> str:
    if isinstance(error, httpx.TimeoutException):
        return "no answer in time"
    if isinstance(error, httpx.RemoteProtocolError):
        return "the connection broke off mid-answer (truncated)"
    return f"cannot reach the API ({type(error).__name__})"
