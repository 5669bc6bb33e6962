"""Lean series look-ups for the API's hot paths (no totals, no pandas)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, bindparam, func, select
from sqlalchemy.orm import Session, aliased

from service.ingest.orm import Actor, Region, Source
from service.series.orm import Series
from service.series.repository import SeriesFilter

REGION, ACTOR = aliased(Region, name="region"), aliased(Actor, name="actor")


@dataclass(frozen=True)
class SeriesLabel:
    """A series' identity and labels."""

    id: int
    key: str
    level: str
    source: str
    country: str
    region: str | None
    actor: str | None
    event_type: str | None


def labelled() -> Select:
    """Series with their source, region and actor names (for joins and filters)."""
    return (
        select(
            Series.id,
            Series.key,
            Series.level,
            Source.name.label("source"),
            Series.country,
            REGION.name.label("region"),
            ACTOR.name.label("actor"),
            Series.event_type,
        )
        .join(Source, Source.id == Series.source_id)
        .outerjoin(REGION, REGION.id == Series.region_id)
        .outerjoin(ACTOR, ACTOR.id == Series.actor_id)
    )


def conditions(filters: SeriesFilter) -> list[ColumnElement[bool]]:
    """WHERE terms for `filters` on a `labelled()` query (names compare case-insensitively)."""
    terms: list[ColumnElement[bool]] = []
    if filters.source:
        terms.append(Source.name == filters.source)
    if filters.country:
        terms.append(func.lower(Series.country) == filters.country.lower())
    if filters.region:
        terms.append(func.lower(REGION.name) == filters.region.lower())
    if filters.actor:
        terms.append(func.lower(ACTOR.name) == filters.actor.lower())
    if filters.event_type:
        terms.append(func.lower(Series.event_type) == filters.event_type.lower())
    if filters.level:
        terms.append(Series.level == filters.level)
    return terms


_BY_ID = labelled().where(Series.id == bindparam("ref"))
_BY_KEY = labelled().where(Series.key == bindparam("ref"))
MAX_ID = 2**31 - 1


def find_series(session: Session, ref: str) -> SeriesLabel | None:
    """Find a series by id (digits) or by key."""
    if ref.isascii() and ref.isdigit():
        number = int(ref)
        if number > MAX_ID:
            return None
        row = session.execute(_BY_ID, {"ref": number}).first()
    else:
        row = session.execute(_BY_KEY, {"ref": ref}).first()
    return SeriesLabel(*row) if row else None
