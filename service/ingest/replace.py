"""A release replaces what it covers: events of the span it does not hold any more go."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.ingest.orm import Event, Source
from service.ingest.writer import delete_events


def replace_span(
    session: Session,
    source: Source,
    country: str,
    start: dt.date,
    end: dt.date,
    keep: Collection[str],
) -> int:
    """Delete `source`'s events of `country` dated start..end whose ids are not in `keep`.

    A UCDP GED release is the whole truth for the years it covers: Candidate events of those
    years, and events the release dropped, go. The caller rebuilds the country's series.
    """
    e = Event.__table__.c
    rows = session.execute(
        select(e.id, e.source_event_id).where(
            e.source_id == source.id, e.country == country, e.event_date.between(start, end)
        )
    ).all()
    kept = set(keep)
    ids = [int(row.id) for row in rows if row.source_event_id not in kept]
    delete_events(session, ids)
    return len(ids)
