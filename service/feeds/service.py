"""Fetch ACLED or UCDP events: the entry point of the CLI, the weekly job and the API.

Everything is read first (the network is slow and may fail), then written in one short
transaction; one fetch runs at a time (the `fetch` lease), so two never move a watermark apart.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
import pandas as pd
from sqlalchemy import Engine

from service.config import Settings
from service.db import session_scope
from service.feeds import acled, acled_fetch, ucdp, ucdp_fetch
from service.feeds.acled_auth import AcledToken
from service.feeds.countries import canonical
from service.feeds.errors import FeedConfigError
from service.feeds.fetched import Fetched, Progress
from service.feeds.http import FeedHTTP, Policy, Sleep
from service.feeds.versions import parse_version
from service.feeds.write import FetchReport, write
from service.kit.lease import FETCH_LOCK, Heartbeat, acquire
from service.migrate import require_current

log = logging.getLogger(__name__)


def utc_today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


@dataclass
class Options:
    """What a caller may change: the clock, the sleep, page sizes (tests), the transport."""

    today: Callable[[], dt.date] = field(default=lambda: utc_today())  # looked up late: tests
    sleep: Sleep = time.sleep
    monotonic: Callable[[], float] = time.monotonic
    progress: Progress | None = None
    acled_page_size: int = acled.PAGE_SIZE
    ucdp_page_size: int = ucdp.PAGE_SIZE
    transport: httpx.BaseTransport | None = field(default=None, repr=False)


def fetch_acled(
    engine: Engine,
    settings: Settings,
    countries: list[str],
    since: dt.date | None = None,
    options: Options | None = None,
) -> FetchReport:
    """Backfill new countries, then fetch what changed since the watermarks, and deletions."""
    options = options or Options()
    if not settings.acled_username or not settings.acled_password.get_secret_value():
        raise FeedConfigError(
            "ACLED needs an account: set SAHELCAST_ACLED_USERNAME and SAHELCAST_ACLED_PASSWORD"
        )
    countries = _distinct(countries)
    today = options.today()
    with _locked(engine, settings):
        with session_scope(engine) as session:
            queries, deletions_after = acled_fetch.plan(session, countries, since, today)
        label = "ACLED API: " + "; ".join(q.describe() for q in queries)
        fetched = Fetched("acled", "acled", label, {"countries": countries, "since": since,
                          "queries": [q.describe() for q in queries]},
                          progress=options.progress)  # fmt: skip
        with _http(settings.acled_url, "ACLED", settings, options,
                   secrets=(settings.acled_password.get_secret_value(),)) as http:  # fmt: skip
            token = AcledToken(http, settings.acled_username, settings.acled_password,
                               options.monotonic)  # fmt: skip
            acled_fetch.read(http, token, queries, deletions_after, fetched, _latest(today),
                             options.acled_page_size)  # fmt: skip
        report = write(engine, settings, fetched)
    log.info("fetched ACLED %s: %s", countries, report.to_dict())
    return report


def fetch_ucdp(
    engine: Engine,
    settings: Settings,
    countries: list[str],
    version: str | None,
    candidate: bool = False,
    since: dt.date | None = None,
    options: Options | None = None,
) -> FetchReport:
    """Fetch a GED release, or Candidate releases (the named one, or all new ones)."""
    options = options or Options()
    countries = [canonical(c) for c in _distinct(countries)]
    if not candidate and not version:
        raise FeedConfigError("name the UCDP GED release, e.g. --version 25.1")
    release = parse_version(version, candidate) if version else None
    today = options.today()
    feed = "ucdp-candidate" if candidate else "ucdp"
    token = settings.ucdp_token.get_secret_value()
    with _locked(engine, settings):
        asked = version or "Candidate (new)"
        label = f"UCDP API: gedevents {asked} for {', '.join(countries)}"
        label += f" since {since}" if since else ""
        fetched = Fetched(feed, "ucdp", label, {"countries": countries, "since": since,
                          "version": version, "candidate": candidate},
                          progress=options.progress)  # fmt: skip
        with (
            _http(settings.ucdp_url, "UCDP", settings, options, secrets=(token,)) as http,
            session_scope(engine) as session,
        ):
            if release is not None and not candidate:
                skipped = ucdp_fetch.read_ged(
                    session, http, token, release, countries, since, fetched, _latest(today),
                    options.ucdp_page_size,
                )  # fmt: skip
            else:
                skipped = ucdp_fetch.read_candidates(
                    session, http, token, release, countries, since, today, fetched,
                    _latest(today), options.ucdp_page_size,
                )  # fmt: skip
        report = write(engine, settings, fetched)
    report.skipped = skipped
    log.info("fetched UCDP %s: %s", countries, report.to_dict())
    return report


def _http(
    url: str, label: str, settings: Settings, options: Options, secrets: tuple[str, ...]
) -> FeedHTTP:
    names = (
        ("SAHELCAST_ACLED_USERNAME", "SAHELCAST_ACLED_PASSWORD")
        if label == "ACLED"
        else ("SAHELCAST_UCDP_TOKEN",)
    )
    policy = Policy(attempts=settings.feed_max_attempts, backoff=settings.feed_backoff_seconds,
                    timeout=settings.feed_timeout_seconds)  # fmt: skip
    return FeedHTTP(url, label=label, settings=names, policy=policy, sleep=options.sleep,
                    transport=options.transport, secrets=secrets)  # fmt: skip


class _locked:
    """Hold the `fetch` lease (renewed by a heartbeat) around a fetch; check the schema first."""

    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine, self.settings = engine, settings

    def __enter__(self) -> None:
        require_current(self.engine)
        self.lease = acquire(self.engine, FETCH_LOCK, self.settings.lock_lease_seconds)
        self.heartbeat = Heartbeat(self.lease).__enter__()

    def __exit__(self, *exc: object) -> None:
        self.heartbeat.__exit__(*exc)
        self.lease.release()


def _latest(today: dt.date) -> pd.Timestamp:
    """The latest plausible event date: tomorrow (time zones), as for files."""
    return pd.Timestamp(today) + pd.Timedelta(days=1)


def _distinct(countries: list[str]) -> list[str]:
    names = list(dict.fromkeys(c.strip() for c in countries if c.strip()))
    if not names:
        raise FeedConfigError("name at least one country, e.g. --country Mali")
    return names
