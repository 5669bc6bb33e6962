"""Aggregate events into monthly series and their roll-ups, for the countries an ingest touched.

Two additive trees (columns a level sums over are NULL in `series`):
geography, `region_type` (admin1 × event type, all actors) → `region` → `country`, where every
event counts once, however many actors it has, with `country_type` (country × event type, the
`region_type` series of one type summed over regions) beside `region`; and per actor,
`actor_region_type` (actor × admin1 × event type) → `actor_region` → `actor_country`, where an
event counts once for each of its actors.
"""

from __future__ import annotations

import re
from functools import lru_cache

import pandas as pd
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from service.bulk import delete_in, insert_frame, read_frame
from service.ingest.orm import Actor, Event, EventActor, Region, Source
from service.series.ambiguous import mention_counts, write_counts
from service.series.orm import Observation, Series

ALL = "*"
GEOGRAPHY_LEVELS = ("region_type", "region", "country_type", "country")
_GROUPS = {
    "actor_region_type": ["country", "region_id", "actor_id", "event_type"],
    "actor_region": ["country", "region_id", "actor_id"],
    "actor_country": ["country", "actor_id"],
    "region_type": ["country", "region_id", "event_type"],
    "region": ["country", "region_id"],
    "country_type": ["country", "event_type"],
    "country": ["country"],
}


SERIES_LABELS = ["level", "country", "region_id", "actor_id", "event_type"]
_ESCAPED = re.compile(r"([\\|*])")


@lru_cache(maxsize=1 << 16)  # a few thousand distinct names recur in every key of an ingest
def key_part(name: str) -> str:
    """A name as it appears in a key: `\\`, `|` and `*` escaped with a backslash.

    Without escaping, a region called `*` reads as "all regions" and an actor called `A|B`
    shifts the fields after it, so two different series could share a key. Names without
    these characters (all real ones seen so far) are unchanged, so existing keys stay valid.
    """
    if "|" not in name and "*" not in name and "\\" not in name:
        return name
    return _ESCAPED.sub(r"\\\1", name)


def series_key(
    source: str, country: str, region: str | None, actor: str | None, event_type: str | None
) -> str:
    """The stable, readable identity of a series: `source|country|region|actor|event type`."""
    parts = [source, country, region, actor, event_type]
    return "|".join(key_part(part) if part else ALL for part in parts)


class WrittenCounts:
    """The counts of the events one ingest wrote, added up chunk by chunk as they are written,
    so that rebuilding the series reads back only the events it did not write (none at all
    on a first ingest)."""

    def __init__(self, file_id: int) -> None:
        self.file_id = file_id
        self.by_actor: list[pd.DataFrame] = []
        self.by_region: list[pd.DataFrame] = []

    def add(self, events: pd.DataFrame, links: pd.DataFrame) -> None:
        """Count written events (id, country, region_id, event_type, month as ISO text,
        fatalities) and their actor links (event_id, actor_id)."""
        by_actor, by_region = _group(events, links.rename(columns={"event_id": "id"}))
        self.by_actor.append(by_actor)
        self.by_region.append(by_region)


def _group(events: pd.DataFrame, links: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Events and fatalities per (actor, region, type, month) and per (region, type, month)."""
    value = ["events", "fatalities"]
    events = events.assign(events=1)
    by_region = events.groupby([*_GROUPS["region_type"], "month"], as_index=False)[value].sum()
    actor_keys = [*_GROUPS["actor_region_type"], "month"]
    joined = links[["id", "actor_id"]].merge(events, on="id")
    by_actor = joined.groupby(actor_keys, as_index=False)[value].sum()
    return by_actor, by_region


def _counts(
    session: Session, source_id: int, countries: list[str], written: WrittenCounts | None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per (actor, region, type, month) and per (region, type, month): the stored events'
    counts, with those of `written` (an ingest's own) added rather than read back."""
    e, ea = Event.__table__.c, EventActor.__table__.c
    scope = (e.source_id == source_id) & e.country.in_(countries)
    if written is not None:
        scope = scope & (e.file_id != written.file_id)
    if session.get_bind().dialect.name == "postgresql":
        stored = _counts_in_database(session, scope)
    else:
        # SQLite: fetching the few columns and grouping in pandas is several times faster
        # than SQLite's GROUP BY over the join. Months stay ISO text, as SQLite gives them.
        events = read_frame(
            session,
            select(e.id, e.country, e.region_id, e.event_type, e.month, e.fatalities).where(scope),
        )
        links = read_frame(
            session,
            select(ea.event_id.label("id"), ea.actor_id)
            .join_from(EventActor.__table__, Event.__table__, ea.event_id == e.id)
            .where(scope),
        )
        stored = _group(events, links)
    if written is None or not written.by_region:
        return stored
    by_actor = pd.concat([stored[0], *written.by_actor], ignore_index=True)
    by_region = pd.concat([stored[1], *written.by_region], ignore_index=True)
    value = ["events", "fatalities"]
    return (
        by_actor.groupby([*_GROUPS["actor_region_type"], "month"], as_index=False)[value].sum(),
        by_region.groupby([*_GROUPS["region_type"], "month"], as_index=False)[value].sum(),
    )


def _counts_in_database(
    session: Session, scope: ColumnElement[bool]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    # PostgreSQL groups a million events with a parallel hash aggregate faster than the rows
    # could travel to Python.
    e, ea = Event.__table__.c, EventActor.__table__.c
    totals = (func.count().label("events"), func.sum(e.fatalities).label("fatalities"))
    actor_keys = (e.country, e.region_id, ea.actor_id, e.event_type, e.month)
    by_actor = read_frame(
        session,
        select(*actor_keys, *totals)
        .join_from(EventActor.__table__, Event.__table__, ea.event_id == e.id)
        .where(scope)
        .group_by(*actor_keys),
    )
    region_keys = (e.country, e.region_id, e.event_type, e.month)
    by_region = read_frame(
        session, select(*region_keys, *totals).where(scope).group_by(*region_keys)
    )
    for frame in (by_actor, by_region):
        frame["month"] = frame["month"].astype(str)  # ISO text, as SQLite gives them
        frame[["events", "fatalities"]] = frame[["events", "fatalities"]].astype("int64")
    return by_actor, by_region


def _rollups(actor_rows: pd.DataFrame, region_rows: pd.DataFrame) -> pd.DataFrame:
    frames = []
    for level, keys in _GROUPS.items():
        base = region_rows if level in GEOGRAPHY_LEVELS else actor_rows
        grouped = base.groupby([*keys, "month"], as_index=False, dropna=False)[
            ["events", "fatalities"]
        ].sum()
        frames.append(grouped.assign(level=level))
    out = pd.concat(frames, ignore_index=True)
    for column in ("region_id", "actor_id", "event_type"):
        if column not in out:
            out[column] = None
    return out


def rebuild_series(
    session: Session, source: Source, countries: list[str], written: WrittenCounts | None = None
) -> int:
    """Recompute every series of `source` in `countries` from the events; return the row count.

    `written`: the counts of the events this transaction's ingest wrote, kept as it wrote them.
    """
    session.flush()
    actor_rows, region_rows = _counts(session, source.id, countries, written)
    rows = _rollups(actor_rows, region_rows)
    # Keyed by `int | None` so a roll-up's missing region or actor looks up as no name.
    named = session.execute
    region_names: dict[int | None, str] = dict(named(select(Region.id, Region.name)).all())
    actor_names: dict[int | None, str] = dict(named(select(Actor.id, Actor.name)).all())

    # Keys are built once per series, not per month: a million events make ~10^5 rows.
    grouping = rows.groupby(SERIES_LABELS, dropna=False, sort=False)
    codes = grouping.ngroup().to_numpy()
    series = grouping.head(1).reset_index(drop=True)[SERIES_LABELS]
    series["key"] = _keys(source.name, series, region_names, actor_names)
    ids = _ensure_series(session, source.id, series)
    mentions = mention_counts(session, source.id, countries)
    keys = _keys(source.name, mentions, region_names, actor_names)
    counts = dict(zip(keys, mentions["events"].astype(int).tolist(), strict=True))
    write_counts(session, source.id, countries, counts)
    scope = select(Series.id).where(Series.source_id == source.id, Series.country.in_(countries))
    delete_in(session, Observation.__table__, "series_id", session.scalars(scope).all())
    rows["series_id"] = series["key"].map(ids).to_numpy()[codes]
    # In key order, the primary key's B-tree is appended to rather than split all over.
    rows = rows.sort_values(["series_id", "month"])
    return insert_frame(
        session, Observation.__table__, rows[["series_id", "month", "events", "fatalities"]]
    )


def _keys(
    source: str,
    frame: pd.DataFrame,
    region_names: dict[int | None, str],
    actor_names: dict[int | None, str],
) -> list[str]:
    """The series key of each row of a frame with country, region, actor and type columns."""
    return [
        series_key(source, country, region_names.get(region), actor_names.get(actor), etype)
        for country, region, actor, etype in zip(
            frame["country"],
            _optional_ids(frame["region_id"]),
            _optional_ids(frame["actor_id"]),
            _optional(frame["event_type"]),
            strict=True,
        )
    ]


def _optional_ids(values: pd.Series) -> list[int | None]:
    return [None if pd.isna(v) else int(v) for v in values]


def _optional(values: pd.Series) -> list[str | None]:
    return [None if pd.isna(v) else str(v) for v in values]


def _ensure_series(session: Session, source_id: int, rows: pd.DataFrame) -> dict[str, int]:
    query = select(Series.key, Series.id).where(Series.source_id == source_id)
    existing: dict[str, int] = dict(session.execute(query).all())
    fresh = rows.drop_duplicates("key")
    fresh = fresh[~fresh["key"].isin(existing)]
    if not fresh.empty:
        start = int(session.scalar(select(func.coalesce(func.max(Series.id), 0))) or 0) + 1
        new = pd.DataFrame(
            {
                "id": range(start, start + len(fresh)),
                "key": fresh["key"].values,
                "level": fresh["level"].values,
                "source_id": source_id,
                "country": fresh["country"].values,
                "region_id": _nullable_int(fresh["region_id"]),
                "actor_id": _nullable_int(fresh["actor_id"]),
                "event_type": _optional(fresh["event_type"]),
            }
        )
        insert_frame(session, Series.__table__, new)
        existing.update(zip(new["key"], new["id"], strict=True))
    return existing


def _nullable_int(values: pd.Series) -> pd.Series:
    return pd.Series(values.values, dtype="Int64")
