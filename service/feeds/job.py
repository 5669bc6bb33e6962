"""Fetch one feed of a SAHELCAST_FEEDS spec (the jobs' fetch step, service.jobs.steps, runs
every feed of the spec through here)."""

from __future__ import annotations

from sqlalchemy import Engine

from service.config import Settings
from service.feeds.service import Options, fetch_acled, fetch_ucdp
from service.feeds.spec import FeedSpec
from service.feeds.write import FetchReport


def run_feed(
    engine: Engine, settings: Settings, feed: FeedSpec, options: Options | None = None
) -> FetchReport:
    """Fetch one feed of the spec."""
    if feed.name == "acled":
        return fetch_acled(engine, settings, list(feed.countries), options=options)
    return fetch_ucdp(
        engine,
        settings,
        list(feed.countries),
        feed.version,
        candidate=feed.candidate,
        options=options,
    )
