"""Queries of the feeds: watermarks, fetch records, and where ACLED's deletion list must start."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.feeds.orm import FeedFetch, FeedWatermark
from service.ingest.orm import Event, Source
from service.kit.time import utcnow

DELETIONS_SCOPE = "deletions"


def watermarks(session: Session, feed: str) -> dict[str, FeedWatermark]:
    """The feed's watermarks by scope (country, or `deletions`)."""
    rows = session.scalars(select(FeedWatermark).where(FeedWatermark.feed == feed))
    return {row.scope: row for row in rows}


def save_watermark(session: Session, feed: str, scope: str, fetch_id: int, **values: Any) -> None:
    """Create or move the watermark of (feed, scope)."""
    row = session.scalar(
        select(FeedWatermark).where(FeedWatermark.feed == feed, FeedWatermark.scope == scope)
    )
    if row is None:
        row = FeedWatermark(feed=feed, scope=scope, fetch_id=fetch_id)
        session.add(row)
    for name, value in values.items():
        setattr(row, name, value)
    row.fetch_id, row.updated_at = fetch_id, utcnow()
    session.flush()


def record_fetch(session: Session, **values: Any) -> FeedFetch:
    fetch = FeedFetch(**values, finished_at=utcnow())
    session.add(fetch)
    session.flush()
    return fetch


def list_fetches(session: Session, feed: str | None = None, limit: int = 20) -> list[FeedFetch]:
    """Fetches, newest first."""
    query = select(FeedFetch).order_by(FeedFetch.id.desc()).limit(limit)
    if feed:
        query = query.where(FeedFetch.feed == feed)
    return list(session.scalars(query))


def oldest_timestamp(session: Session, source: str) -> int | None:
    """The oldest `source_timestamp` among a source's events: deletions before it cannot matter."""
    query = (
        select(func.min(Event.source_timestamp))
        .join(Source, Source.id == Event.source_id)
        .where(Source.name == source)
    )
    value = session.scalar(query)
    return None if value is None else int(value)


def held_by_country(session: Session, source_id: int) -> dict[str, int]:
    """How many events of a source each country holds."""
    query = (
        select(Event.country, func.count())
        .where(Event.source_id == source_id)
        .group_by(Event.country)
    )
    return {country: int(n) for country, n in session.execute(query)}


def held_between(
    session: Session, source_id: int, country: str, first: dt.date, last: dt.date
) -> int:
    """How many events of a source a country (any case) holds dated first..last."""
    query = select(func.count()).where(
        Event.source_id == source_id,
        func.lower(Event.country) == country.strip().lower(),
        Event.event_date.between(first, last),
    )
    return int(session.scalar(query) or 0)


def would_move(session: Session, feed: str, scope: str, values: dict[str, Any]) -> bool:
    """Whether saving these watermark values changes anything."""
    row = session.scalar(
        select(FeedWatermark).where(FeedWatermark.feed == feed, FeedWatermark.scope == scope)
    )
    return row is None or any(getattr(row, name) != value for name, value in values.items())


def as_date(value: dt.date | None) -> str | None:
    return None if value is None else value.isoformat()
