"""Coverage: the last complete month of each source and country.

Inside coverage a month without events is a real zero; after it the month is unknown.
ACLED publishes weekly, so its latest month is complete only when the data reach that month's
last day. A UCDP GED release covers whole months (yearly GED, monthly Candidate), so the month
of its latest event is complete.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.ingest.orm import Source
from service.kit.time import utcnow
from service.series.orm import Coverage

RELEASES_WHOLE_MONTHS = {"ucdp"}


def last_complete_month(source: str, last_event_date: dt.date) -> dt.date:
    """Return the first day of the last month the source's data fully cover."""
    month = last_event_date.replace(day=1)
    if source in RELEASES_WHOLE_MONTHS:
        return month
    next_day = last_event_date + dt.timedelta(days=1)
    if next_day.month != last_event_date.month:
        return month
    return (month - dt.timedelta(days=1)).replace(day=1)


def update_coverage(session: Session, source: Source, spans: pd.DataFrame) -> None:
    """Extend coverage with a file's per-country date spans (`country, min, max`).

    Every country of one file shares the file's reach: a file exported through 30 June covers
    June for a country whose last event fell on 12 June too.
    """
    if spans.empty:
        return
    file_last = pd.Timestamp(spans["max"].max()).date()
    firsts = spans.groupby("country")["min"].min()
    existing = {
        c.country: c
        for c in session.scalars(select(Coverage).where(Coverage.source_id == source.id))
    }
    last_month = last_complete_month(source.name, file_last)
    for country, first in firsts.items():
        first_month = pd.Timestamp(first).date().replace(day=1)
        row = existing.get(str(country))
        if row is None:
            session.add(
                Coverage(
                    source_id=source.id,
                    country=str(country),
                    first_month=first_month,
                    last_complete_month=last_month,
                    last_event_date=file_last,
                )
            )
            continue
        extended = (
            min(row.first_month, first_month),
            max(row.last_complete_month, last_month),
            max(row.last_event_date, file_last),
        )
        if extended != (row.first_month, row.last_complete_month, row.last_event_date):
            row.first_month, row.last_complete_month, row.last_event_date = extended
            row.updated_at = utcnow()  # only when the coverage really moved
    session.flush()
