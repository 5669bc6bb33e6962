"""Each actor series' caveat: how many events name its actor only ambiguously ("A and/or B").

Those events count for no actor (the geography series count them), so an actor's series may
miss some of its own events; `series.ambiguous_events` says how many, per series, over all
months. Written with the series, by `rebuild_series`.
"""

from __future__ import annotations

from typing import cast

import pandas as pd
from sqlalchemy import Table, bindparam, update
from sqlalchemy.orm import Session

from service.bulk import read_frame
from service.ingest.orm import AmbiguousMention, Event
from service.series.orm import Series

ACTOR_GROUPS = {
    "actor_region_type": ["country", "region_id", "actor_id", "event_type"],
    "actor_region": ["country", "region_id", "actor_id"],
    "actor_country": ["country", "actor_id"],
}


def mention_counts(session: Session, source_id: int, countries: list[str]) -> pd.DataFrame:
    """Ambiguous events per actor series of `countries`: the group columns, level and count."""
    e, m = Event.__table__.c, AmbiguousMention.__table__.c
    query = (
        Event.__table__.join(AmbiguousMention.__table__, m.event_id == e.id)
        .select()
        .with_only_columns(e.country, e.region_id, m.actor_id, e.event_type)
        .where(e.source_id == source_id, e.country.in_(countries))
    )
    mentions = read_frame(session, query)
    frames = [
        mentions.groupby(keys, as_index=False).size().assign(level=level)
        for level, keys in ACTOR_GROUPS.items()
    ]
    columns = [*ACTOR_GROUPS["actor_region_type"], "events", "level"]
    if not len(mentions):
        return pd.DataFrame(columns=columns)
    return pd.concat(frames, ignore_index=True).rename(columns={"size": "events"})[columns]


def write_counts(
    session: Session, source_id: int, countries: list[str], counts: dict[str, int]
) -> None:
    """Set `ambiguous_events` of the source's series in `countries` from key -> count."""
    series = cast(Table, Series.__table__)
    connection = session.connection()  # Core statements: an executemany keyed by `key`
    connection.execute(
        update(series)
        .where(
            series.c.source_id == source_id,
            series.c.country.in_(countries),
            series.c.ambiguous_events != 0,
        )
        .values(ambiguous_events=0)
    )
    if counts:
        connection.execute(
            update(series)
            .where(series.c.source_id == source_id, series.c.key == bindparam("k"))
            .values(ambiguous_events=bindparam("n")),
            [{"k": key, "n": n} for key, n in counts.items()],
        )
