"""Reads of the stored events: the events behind one series-month (the drill-down).

The API, the dashboard and the CLI call `series_events`; it selects exactly the events the
series counted in that month (see `service.series.aggregate`): the series' source and country,
and its region, event type and actor where the series has them. Only what `events` stores is
served, so nothing the deployment did not ingest (notes, locations) can leak out of it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, exists, func, select
from sqlalchemy.orm import Session

from service.ingest import actortypes
from service.ingest.orm import Actor, Event, EventActor, Region, Source
from service.series.orm import Series

# The raw actor columns, in the order an event names its actors.
PUBLISHED_ROLES = ("actor1", "assoc_actor_1", "actor2", "assoc_actor_2")
EXPORT_PAGE = 5_000


@dataclass(frozen=True)
class FoldedActor:
    """A canonical actor an event counts for, and the role it was named in."""

    name: str
    role: str


@dataclass(frozen=True)
class EventRow:
    """One stored event as the drill-down shows it."""

    id: int
    source: str
    source_event_id: str
    event_date: dt.date
    month: dt.date
    country: str
    admin1: str  # as published
    region: str  # canonical (after alias folding)
    event_type: str
    sub_event_type: str
    actors_published: dict[str, str]  # role -> raw name, empty roles left out
    actors_folded: list[FoldedActor]
    fatalities: int
    # The ACLED actor type of each side ("actor1": "Rebel groups", "actor2": "Civilians"), where
    # the source gave one: a side of an unarmed type counts for no actor (who was hit).
    actor_types: dict[str, str]
    ambiguous: bool  # an armed side's attribution is "A and/or B": counted for neither


def _in_series(series: Series, month: dt.date) -> list[ColumnElement[bool]]:
    """WHERE terms on `events` for the events `series` counts in `month`."""
    terms: list[ColumnElement[bool]] = [
        Event.source_id == series.source_id,
        Event.country == series.country,
        Event.month == month,
    ]
    if series.region_id is not None:
        terms.append(Event.region_id == series.region_id)
    if series.event_type is not None:
        terms.append(Event.event_type == series.event_type)
    if series.actor_id is not None:
        terms.append(
            exists().where(EventActor.event_id == Event.id, EventActor.actor_id == series.actor_id)
        )
    return terms


def series_events(
    session: Session, series_id: int, month: dt.date, *, limit: int = 100, offset: int = 0
) -> tuple[list[EventRow], int]:
    """One page of the events `series_id` counts in `month` (by date, then id), and the total.

    Raises LookupError when there is no such series.
    """
    series = session.get(Series, series_id)
    if series is None:
        raise LookupError(f"no series {series_id}")
    terms = _in_series(series, month.replace(day=1))
    total = session.scalar(select(func.count()).select_from(Event).where(*terms)) or 0
    rows = session.execute(
        select(
            Event.id,
            Source.name.label("source"),
            Event.source_event_id,
            Event.event_date,
            Event.month,
            Event.country,
            Event.admin1,
            Region.name.label("region"),
            Event.event_type,
            Event.sub_event_type,
            *[getattr(Event, r) for r in PUBLISHED_ROLES],
            Event.fatalities,
            Event.inter1,
            Event.inter2,
            Event.ambiguous,
        )
        .join(Source, Source.id == Event.source_id)
        .join(Region, Region.id == Event.region_id)
        .where(*terms)
        .order_by(Event.event_date, Event.id)
        .limit(limit)
        .offset(offset)
    ).all()
    folded = _folded(session, [row.id for row in rows])
    events = [
        EventRow(
            id=row.id,
            source=row.source,
            source_event_id=row.source_event_id,
            event_date=row.event_date,
            month=row.month,
            country=row.country,
            admin1=row.admin1,
            region=row.region,
            event_type=row.event_type,
            sub_event_type=row.sub_event_type,
            actors_published=_published([getattr(row, r) for r in PUBLISHED_ROLES]),
            actors_folded=folded.get(row.id, []),
            fatalities=row.fatalities,
            actor_types=_types(row.inter1, row.inter2),
            ambiguous=bool(row.ambiguous),
        )
        for row in rows
    ]
    return events, int(total)


def _types(inter1: int | None, inter2: int | None) -> dict[str, str]:
    sides = {"actor1": inter1, "actor2": inter2}
    return {
        side: actortypes.label(code)
        for side, code in sides.items()
        if code is not None and code > actortypes.NO_ACTOR
    }


def _published(names: Sequence[str | None]) -> dict[str, str]:
    return {role: name for role, name in zip(PUBLISHED_ROLES, names, strict=True) if name}


def _folded(session: Session, event_ids: list[int]) -> dict[int, list[FoldedActor]]:
    """The canonical actors of these events, in role order (actor1 first)."""
    if not event_ids:
        return {}
    rows = session.execute(
        select(EventActor.event_id, Actor.name, EventActor.role)
        .join(Actor, Actor.id == EventActor.actor_id)
        .where(EventActor.event_id.in_(event_ids))
    ).all()
    order = {role: i for i, role in enumerate(PUBLISHED_ROLES)}
    out: dict[int, list[FoldedActor]] = {}
    for event_id, name, role in sorted(rows, key=lambda r: (r[0], order.get(r[2], 9), r[1])):
        out.setdefault(event_id, []).append(FoldedActor(name, role))
    return out


def all_series_events(session: Session, series_id: int, month: dt.date) -> list[EventRow]:
    """Every event `series_id` counts in `month`, read a page at a time (for a CSV export)."""
    out: list[EventRow] = []
    while True:
        page, total = series_events(session, series_id, month, limit=EXPORT_PAGE, offset=len(out))
        out.extend(page)
        if not page or len(out) >= total:
            return out
