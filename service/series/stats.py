"""What the catalogue is made of: series per level and per actor type, ambiguous events, and
actors with few events (`sahelcast series stats`, `GET /v1/series/stats`).

An actor's type is the ACLED type (service/ingest/actortypes.py) of the side it is most often
counted on, in that source and country; "not given" when the files gave none (older ACLED
exports, UCDP's non-state groups).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import pandas as pd
from sqlalchemy import ColumnElement, case, exists, func, select
from sqlalchemy.orm import QueryableAttribute, Session

from service.bulk import read_frame
from service.ingest.actortypes import NOT_GIVEN, label
from service.ingest.orm import Actor, Event, EventActor, Source
from service.series.levels import LEVELS
from service.series.orm import Observation, Series

ACTOR_LEVELS = ("actor_region_type", "actor_region", "actor_country")
SIDE_ONE = ("actor1", "assoc_actor_1")


@dataclass(frozen=True)
class LevelCount:
    level: str
    series: int
    with_events: int  # series without events: kept for history (their events went)


@dataclass(frozen=True)
class TypeCount:
    actor_type: str
    actors: int  # actors of this type (per source and country)
    series: int  # their series, all actor levels


@dataclass(frozen=True)
class SmallActor:
    source: str
    country: str
    actor: str
    actor_type: str
    events: int


@dataclass(frozen=True)
class CatalogueStats:
    events: int
    ambiguous_events: int  # counted for no actor: "A and/or B"
    events_without_actor: int  # no armed actor counted (civilians only, protests, ambiguous…)
    levels: list[LevelCount]
    actor_types: list[TypeCount]
    fewer_than: int
    small_actors: list[SmallActor]  # fewer than `fewer_than` events in their country


def stats_rows(stats: CatalogueStats) -> list[dict[str, object]]:
    """The statistics as one CSV: a row per figure, `section` naming its table (`events`,
    `level`, `actor_type`, `small_actor`); the CLI and the API write the same."""
    totals = {
        "section": "events",
        "events": stats.events,
        "ambiguous_events": stats.ambiguous_events,
        "events_without_actor": stats.events_without_actor,
    }
    rows: list[dict[str, object]] = [totals]
    for section, records in (
        ("level", stats.levels),
        ("actor_type", stats.actor_types),
        ("small_actor", stats.small_actors),
    ):
        rows += [{"section": section, **asdict(record)} for record in records]
    return rows


def catalogue_stats(
    session: Session, *, source: str | None = None, country: str | None = None, fewer_than: int = 10
) -> CatalogueStats:
    """The catalogue's make-up for a source and/or country (None: all)."""
    series_scope = _scope(Series.source_id, Series.country, source, country)
    event_scope = _scope(Event.source_id, Event.country, source, country)
    has_events = exists().where(Observation.series_id == Series.id)
    levels = {
        level: (int(n), int(full))
        for level, n, full in session.execute(
            select(Series.level, func.count(), func.count().filter(has_events))
            .where(*series_scope)
            .group_by(Series.level)
        )
    }
    n_events, n_ambiguous, n_without = session.execute(
        select(
            func.count(),
            func.count().filter(Event.ambiguous),
            func.count().filter(~exists().where(EventActor.event_id == Event.id)),
        ).where(*event_scope)
    ).one()
    types = _actor_types(session, event_scope)
    actor_series = read_frame(
        session,
        select(Series.source_id, Series.country, Series.actor_id, Series.level).where(
            *series_scope, Series.level.in_(ACTOR_LEVELS), has_events
        ),
    ).merge(types, on=["source_id", "country", "actor_id"], how="left")
    actor_series["actor_type"] = actor_series["actor_type"].fillna(label(NOT_GIVEN))
    return CatalogueStats(
        events=int(n_events),
        ambiguous_events=int(n_ambiguous),
        events_without_actor=int(n_without),
        levels=[LevelCount(lv, *levels.get(lv, (0, 0))) for lv in LEVELS],
        actor_types=_type_counts(actor_series),
        fewer_than=fewer_than,
        small_actors=_small_actors(session, series_scope, types, fewer_than),
    )


def _scope(
    source_id: QueryableAttribute[int],
    place: QueryableAttribute[str],
    source: str | None,
    country: str | None,
) -> list[ColumnElement[bool]]:
    terms: list[ColumnElement[bool]] = []
    if source:
        terms.append(source_id.in_(select(Source.id).where(Source.name == source)))
    if country:
        terms.append(func.lower(place) == country.lower())
    return terms


def _actor_types(session: Session, event_scope: list[ColumnElement[bool]]) -> pd.DataFrame:
    """Per (source, country, actor): the type of the side it is most often counted on."""
    e, ea = Event.__table__.c, EventActor.__table__.c
    side_type = case((ea.role.in_(SIDE_ONE), e.inter1), else_=e.inter2).label("code")
    counts = read_frame(
        session,
        select(e.source_id, e.country, ea.actor_id, side_type, func.count().label("n"))
        .join_from(EventActor.__table__, Event.__table__, ea.event_id == e.id)
        .where(*event_scope)
        .group_by(e.source_id, e.country, ea.actor_id, side_type),
    )
    columns = ["source_id", "country", "actor_id", "actor_type"]
    counts = counts.dropna(subset=["code"])
    if counts.empty:
        return pd.DataFrame(columns=columns)
    top = counts.sort_values("n", ascending=False).drop_duplicates(columns[:3])
    top["actor_type"] = [label(int(code)) for code in top["code"]]
    return top[columns]


def _type_counts(actor_series: pd.DataFrame) -> list[TypeCount]:
    if actor_series.empty:
        return []
    actors = actor_series.drop_duplicates(["source_id", "country", "actor_id"])
    per_type = pd.DataFrame(
        {
            "actors": actors.groupby("actor_type").size(),
            "series": actor_series.groupby("actor_type").size(),
        }
    ).fillna(0)
    per_type = per_type.sort_values(["series", "actors"], ascending=False)
    return [TypeCount(str(t), int(r.actors), int(r.series)) for t, r in per_type.iterrows()]


def _small_actors(
    session: Session, scope: list[ColumnElement[bool]], types: pd.DataFrame, fewer_than: int
) -> list[SmallActor]:
    totals = (
        select(Observation.series_id, func.sum(Observation.events).label("events"))
        .group_by(Observation.series_id)
        .subquery()
    )
    rows = read_frame(
        session,
        select(
            Source.name.label("source"),
            Series.source_id,
            Series.country,
            Series.actor_id,
            Actor.name.label("actor"),
            totals.c.events,
        )
        .join(Source, Source.id == Series.source_id)
        .join(Actor, Actor.id == Series.actor_id)
        .join(totals, totals.c.series_id == Series.id)
        .where(*scope, Series.level == "actor_country", totals.c.events < fewer_than),
    )
    if rows.empty:
        return []
    rows = rows.merge(types, on=["source_id", "country", "actor_id"], how="left")
    rows["actor_type"] = rows["actor_type"].fillna(label(NOT_GIVEN))
    rows = rows.sort_values(["events", "source", "country", "actor"])
    return [
        SmallActor(r.source, r.country, r.actor, r.actor_type, int(r.events))
        for r in rows.itertuples(index=False)
    ]
