"""POST signed webhooks: bounded attempts, bounded rounds, several receivers at once.

Each attempt is one exchange with an overall deadline (SAHELCAST_WEBHOOK_TIMEOUT_SECONDS: a
receiver trickling its answer is cut off, not waited on read by read), of which only the status
and the first bytes are kept. A round (`send_round`) runs its deliveries on a bounded pool
(SAHELCAST_WEBHOOK_CONCURRENCY) and ends by SAHELCAST_WEBHOOK_ROUND_SECONDS: no retry starts or
sleeps past it, and what has not started by then waits for the next round. So a slow or dead
receiver holds the command that delivers (`sahelcast ingest`, `detect`, the weekly job) for
that long at most, and 26 alerts to a two-second receiver take seconds, not a minute.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
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
from service.kit.bounded import BadEncoding, DeadlineExceeded, Reply, exchange
from service.kit.scrub import Scrubber

USER_AGENT = "sahelcast-webhooks/1"
RETRYABLE_CODES = {408, 425, 429}
ANSWER_BYTES = 4096  # of a receiver's answer: its status matters, its body only in errors
Sleep = Callable[[float], None]
Clock = Callable[[], float]


@dataclass
class Outcome:
    delivered: bool
    attempts: int
    response_code: int | None = None
    error: str | None = None


@dataclass(frozen=True)
class Job:
    """One delivery of a round: `hook` (the subscription) groups the deliveries to one URL."""

    hook: int
    url: str
    secret: str
    key: str
    body: bytes


def backoff(settings: Settings, attempt: int, retry_after: str | None = None) -> float:
    """Seconds to wait after failed attempt number `attempt` (1-based), capped."""
    delay = settings.webhook_backoff_seconds * 2 ** (attempt - 1)
    if retry_after and retry_after.isdigit():
        delay = max(delay, float(retry_after))
    return float(min(delay, settings.webhook_backoff_max_seconds))


def _attempt(
    url: str,
    secret: str,
    key: str,
    body: bytes,
    settings: Settings,
    deadline: float,
    clock: Clock,
) -> Reply:
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
        request = client.build_request(
            "POST",
            target.url,
            content=body,
            headers=headers,
            extensions={"sni_hostname": target.host},
        )
        end = min(clock() + settings.webhook_timeout_seconds, deadline)
        return exchange(
            client, request, deadline=end, max_bytes=ANSWER_BYTES, clock=clock, cut=True
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
    deadline: float | None = None,
    clock: Clock = time.monotonic,
) -> Outcome:
    """Deliver `body` to `url`: retry network errors, 5xx, 408 and 429; stop on other codes,
    and stop at `deadline` (a `clock` instant; default: one round's length from now)."""
    limit = max_attempts or settings.webhook_max_attempts
    if deadline is None:
        deadline = clock() + settings.webhook_round_seconds
    scrub = Scrubber([url, secret, *_url_parts(url)])
    outcome = Outcome(delivered=False, attempts=0)
    for attempt in range(1, limit + 1):
        if clock() >= deadline:
            outcome.error = (outcome.error or "not tried") + "; the round ran out of time"
            return outcome
        outcome.attempts = attempt
        retry_after = None
        try:
            reply = _attempt(url, secret, key, body, settings, deadline, clock)
        except UnsafeUrl as error:
            outcome.error, outcome.response_code = f"refused: {error}", None
            return outcome  # the address will not become acceptable by waiting
        except DeadlineExceeded:
            outcome.error = (
                f"no whole answer within {settings.webhook_timeout_seconds:g} s "
                "(SAHELCAST_WEBHOOK_TIMEOUT_SECONDS)"
            )
            outcome.response_code = None
        except (httpx.HTTPError, BadEncoding) as error:
            outcome.error = scrub(f"{type(error).__name__}: {error}")[:500]
            outcome.response_code = None
        else:
            outcome.response_code = reply.status
            if 200 <= reply.status < 300:
                outcome.delivered, outcome.error = True, None
                return outcome
            outcome.error = f"HTTP {reply.status}: {scrub.excerpt(reply.body)}"
            retryable = reply.status >= 500 or reply.status in RETRYABLE_CODES
            if not retryable:
                return outcome
            retry_after = reply.headers.get("retry-after")
        if attempt < limit:
            delay = backoff(settings, attempt, retry_after)
            if clock() + delay >= deadline:
                outcome.error = f"{outcome.error}; the round ran out of time"
                return outcome
            sleep(delay)
    return outcome


def _url_parts(url: str) -> list[str]:
    """The secret-bearing parts of a webhook URL (a Slack hook's path is its credential)."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return [p for p in (parts.path if len(parts.path) > 8 else "", parts.query) if p]


def send_round(
    jobs: Sequence[Job],
    settings: Settings,
    *,
    sleep: Sleep = time.sleep,
    clock: Clock = time.monotonic,
) -> list[Outcome | None]:
    """Deliver `jobs` concurrently within one round; None: deferred to the next round.

    A hook gets one delivery first; once it answers, its others go out in parallel, and once
    one fails, those not started are deferred (a dead receiver costs one delivery's attempts,
    not one per alert). Deliveries not started when the round's time is up are deferred too.
    """
    outcomes: list[Outcome | None] = [None] * len(jobs)
    if not jobs:
        return outcomes
    deadline = clock() + settings.webhook_round_seconds
    queues: dict[int, deque[int]] = {}
    for i, job in enumerate(jobs):
        queues.setdefault(job.hook, deque()).append(i)
    state = dict.fromkeys(queues, "new")  # new → probing → open | broken
    running: dict[Future[Outcome], int] = {}
    slots = settings.webhook_concurrency
    with ThreadPoolExecutor(max_workers=slots, thread_name_prefix="webhook") as pool:
        while True:
            for hook, queue in queues.items():
                while queue and len(running) < slots and state[hook] in ("new", "open"):
                    if clock() >= deadline:
                        break
                    i = queue.popleft()
                    job = jobs[i]
                    running[pool.submit(_guarded, job, settings, sleep, deadline, clock)] = i
                    if state[hook] == "new":
                        state[hook] = "probing"  # wait for its answer before the rest
            if not running:
                break
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                i = running.pop(future)
                outcome = outcomes[i] = future.result()
                hook = jobs[i].hook
                if not outcome.delivered:
                    state[hook] = "broken"
                elif state[hook] == "probing":
                    state[hook] = "open"
    return outcomes


def _guarded(job: Job, settings: Settings, sleep: Sleep, deadline: float, clock: Clock) -> Outcome:
    try:
        return send(
            job.url,
            job.secret,
            job.key,
            job.body,
            settings,
            sleep=sleep,
            deadline=deadline,
            clock=clock,
        )
    except Exception as error:  # noqa: BLE001 - recorded as this delivery's failure
        return Outcome(False, 1, None, f"{type(error).__name__} while delivering")
