"""POST a signed webhook with bounded exponential backoff; report what happened."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from service.alerts.signing import (
    IDEMPOTENCY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    signature_header,
)
from service.alerts.urls import UnsafeUrl, check_url
from service.config import Settings

USER_AGENT = "sahelcast-webhooks/1"
RETRYABLE_CODES = {408, 425, 429}
Sleep = Callable[[float], None]


@dataclass
class Outcome:
    delivered: bool
    attempts: int
    response_code: int | None = None
    error: str | None = None


def backoff(settings: Settings, attempt: int, retry_after: str | None = None) -> float:
    """Seconds to wait after failed attempt number `attempt` (1-based), capped."""
    delay = settings.webhook_backoff_seconds * 2 ** (attempt - 1)
    if retry_after and retry_after.isdigit():
        delay = max(delay, float(retry_after))
    return float(min(delay, settings.webhook_backoff_max_seconds))


def _attempt(url: str, secret: str, key: str, body: bytes, settings: Settings) -> httpx.Response:
    target = check_url(url, settings)  # re-checked on every attempt: DNS may have changed
    timestamp = int(time.time())
    headers = {
        "Host": target.host_header,
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signature_header(secret, timestamp, body),
        IDEMPOTENCY_HEADER: key,
    }
    with httpx.Client(
        timeout=settings.webhook_timeout_seconds, follow_redirects=False, trust_env=False
    ) as client:
        return client.post(
            target.url, content=body, headers=headers, extensions={"sni_hostname": target.host}
        )


def send(
    url: str,
    secret: str,
    key: str,
    body: bytes,
    settings: Settings,
    *,
    max_attempts: int | None = None,
    sleep: Sleep = time.sleep,
) -> Outcome:
    """Deliver `body` to `url`: retry network errors, 5xx, 408 and 429; stop on other codes."""
    limit = max_attempts or settings.webhook_max_attempts
    outcome = Outcome(delivered=False, attempts=0)
    for attempt in range(1, limit + 1):
        outcome.attempts = attempt
        retry_after = None
        try:
            response = _attempt(url, secret, key, body, settings)
        except UnsafeUrl as error:
            outcome.error, outcome.response_code = f"refused: {error}", None
            return outcome  # the address will not become acceptable by waiting
        except httpx.HTTPError as error:
            outcome.error, outcome.response_code = f"{type(error).__name__}: {error}", None
        else:
            outcome.response_code = response.status_code
            if 200 <= response.status_code < 300:
                outcome.delivered, outcome.error = True, None
                return outcome
            outcome.error = f"HTTP {response.status_code}: {response.text[:200]}"
            retryable = response.status_code >= 500 or response.status_code in RETRYABLE_CODES
            if not retryable:
                return outcome
            retry_after = response.headers.get("retry-after")
        if attempt < limit:
            sleep(backoff(settings, attempt, retry_after))
    return outcome
