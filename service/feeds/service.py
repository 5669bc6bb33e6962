"""Fetch ACLED or UCDP events: the entry point of the CLI, the weekly job and the API.

Everything is read first (the network is slow and may fail), then written in one short
transaction; one fetch runs at a time (the `fetch` lease), so two never move a watermark apart.
An error raised while reading is re-said scrubbed of the credentials (whatever an API quoted
back) before it reaches the CLI, a log or a job's details.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import httpx
import pandas as pd
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from service.config import Settings
from service.db import session_scope
from service.feeds import acled, acled_fetch, ucdp, ucdp_fetch
from service.feeds.acled_auth import AcledToken
from service.feeds.countries import canonical
from service.feeds.errors import FeedConfigError, FeedDataError, FeedError
from service.feeds.fetched import Fetched, Progress
from service.feeds.http import FeedHTTP, Policy, Sleep
from service.feeds.versions import parse_version
from service.feeds.write import FetchReport, write
from service.kit.lease import FETCH_LOCK, Heartbeat, acquire
from service.migrate import require_current

log = logging.getLogger(__name__)


MESSAGE_MAX_CHARS = 2000  # an error message about a fetch is never longer than this


def utc_today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def utc_now() -> int:
    """Unix seconds now: no row's `timestamp`, hence no watermark, may pass it."""
    return int(time.time())


@dataclass
class Options:
    """What a caller may change: the clock, the sleep, page sizes (tests), the transport."""

    today: Callable[[], dt.date] = field(default=lambda: utc_today())  # looked up late: tests
    now: Callable[[], int] = field(default=lambda: utc_now())
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
    force: bool = False,
) -> FetchReport:
    """Backfill new countries, then fetch what changed since the watermarks, and deletions.

    `force` writes an answer the sanity check refuses (see `write`)."""
    options = options or Options()
    if not settings.acled_username or not settings.acled_password.get_secret_value():
        raise FeedConfigError(
            "ACLED needs an account: set SAHELCAST_ACLED_USERNAME and SAHELCAST_ACLED_PASSWORD"
        )
    countries = _distinct(countries)
    today, now = options.today(), options.now()
    with _locked(engine, settings):
        with session_scope(engine) as session:
            queries, deletions_after = acled_fetch.plan(session, countries, since, today, now)
        label = "ACLED API: " + "; ".join(q.describe() for q in queries)
        fetched = Fetched(
            "acled",
            "acled",
            label,
            {"countries": countries, "since": since, "queries": [q.describe() for q in queries]},
            progress=options.progress,
        )
        with _http(
            settings.acled_url,
            "ACLED",
            settings,
            options,
            secrets=(settings.acled_password.get_secret_value(),),
        ) as http:
            with _scrubbed(http):
                token = AcledToken(
                    http, settings.acled_username, settings.acled_password, options.monotonic
                )
                acled_fetch.read(
                    http,
                    token,
                    queries,
                    deletions_after,
                    fetched,
                    _latest(today),
                    now,
                    options.acled_page_size,
                )
        report = write(engine, settings, fetched, force=force)
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
    force: bool = False,
) -> FetchReport:
    """Fetch a GED release, or Candidate releases (the named one, or all new ones).

    `force` writes an answer the sanity check refuses (see `write`)."""
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
        fetched = Fetched(
            feed,
            "ucdp",
            label,
            {"countries": countries, "since": since, "version": version, "candidate": candidate},
            progress=options.progress,
        )
        with (
            _http(settings.ucdp_url, "UCDP", settings, options, secrets=(token,)) as http,
            _scrubbed(http),
            session_scope(engine) as session,
        ):
            if release is not None and not candidate:
                skipped = ucdp_fetch.read_ged(
                    session,
                    http,
                    token,
                    release,
                    countries,
                    since,
                    fetched,
                    _latest(today),
                    options.ucdp_page_size,
                )
            else:
                skipped = ucdp_fetch.read_candidates(
                    session,
                    http,
                    token,
                    release,
                    countries,
                    since,
                    today,
                    fetched,
                    _latest(today),
                    options.ucdp_page_size,
                )
        report = write(engine, settings, fetched, force=force)
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
    policy = Policy(
        attempts=settings.feed_max_attempts,
        backoff=settings.feed_backoff_seconds,
        timeout=settings.feed_timeout_seconds,
        answer_seconds=settings.feed_answer_seconds,
        answer_mb=settings.feed_answer_max_mb,
        fetch_seconds=settings.feed_fetch_seconds,
        fetch_mb=settings.feed_fetch_max_mb,
        max_pages=settings.feed_max_pages,
    )
    return FeedHTTP(
        url,
        label=label,
        settings=names,
        policy=policy,
        sleep=options.sleep,
        transport=options.transport,
        secrets=secrets,
    )


@contextmanager
def _scrubbed(http: FeedHTTP) -> Iterator[None]:
    """Re-say any error of the reading scrubbed of the credentials and cut to a sane length;
    one that is not a FeedError (a parser's RecursionError, say) becomes a FeedDataError, so
    the caller's `except FeedError` sees it and the other feeds of a job still run."""
    try:
        yield
    except FeedError as error:
        error.args = (_said(http, str(error)),)
        raise
    except SQLAlchemyError:
        raise  # the database's own trouble, not something an API said
    except Exception as error:  # noqa: BLE001 - re-said, never swallowed
        raise FeedDataError(
            f"{http.label}: unexpected {type(error).__name__} while reading the answers: "
            f"{_said(http, str(error))}; nothing was written"
        ) from None


def _said(http: FeedHTTP, text: str) -> str:
    text = http.scrub(text[: MESSAGE_MAX_CHARS * 4])
    return text if len(text) <= MESSAGE_MAX_CHARS else text[:MESSAGE_MAX_CHARS] + "…"


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
