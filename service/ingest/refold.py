"""Re-apply the alias tables and the actor settings to every stored event, in the caller's
transaction.

Events keep their raw actor and admin1 names and their sides' types, so an edited alias table
(say, the line `sahelcast actors audit` proposes) or another SAHELCAST_ARMED_INTER applies to
what is stored without re-ingesting anything: each event's actors, ambiguous mentions, flag and
region are worked out again and every series of the source is rebuilt.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import cast

import numpy as np
import pandas as pd
from sqlalchemy import Table, bindparam, delete, select, update
from sqlalchemy.orm import Session

from service.bulk import read_frame
from service.config import Settings
from service.ingest.actortypes import NOT_GIVEN
from service.ingest.attribution import attribute
from service.ingest.normalize import Normalizer
from service.ingest.orm import AmbiguousMention, Event, EventActor, Source
from service.ingest.registry import NameRegistry
from service.ingest.writer import write_links
from service.series.aggregate import rebuild_series

CHUNK = 100_000
_COLUMNS = (
    "id",
    "source_event_id",
    "country",
    "admin1",
    "region_id",
    "actor1",
    "assoc_actor_1",
    "actor2",
    "assoc_actor_2",
    "inter1",
    "inter2",
    "ambiguous",
)


@dataclass
class RefoldReport:
    sources: list[str] = field(default_factory=list)
    events: int = 0
    links: int = 0
    ambiguous: int = 0
    regions_changed: int = 0


def refold_events(session: Session, settings: Settings, chunk: int = CHUNK) -> RefoldReport:
    """Work out every stored event's actors and region again; rebuild every series."""
    normalizer = Normalizer.load(extra_dirs=settings.alias_dirs)
    names = NameRegistry(session, normalizer)
    report = RefoldReport()
    for source in session.scalars(select(Source).order_by(Source.name)).all():
        countries: set[str] = set()
        in_source = select(Event.id).where(Event.source_id == source.id)
        for table in (EventActor, AmbiguousMention):
            gone = delete(table).where(table.event_id.in_(in_source))
            session.execute(gone.execution_options(synchronize_session=False))
        for events in _chunks(session, source.id, chunk):
            countries.update(events["country"].unique())
            for side in ("inter1", "inter2"):
                events[side] = events[side].fillna(NOT_GIVEN).astype("int8")
            found = attribute(normalizer, events, settings.actor_roles, settings.armed_inter)
            write_links(session, names, found, events["id"].to_numpy(dtype=np.int64))
            regions = names.region_ids(events["country"], events["admin1"])
            flags = pd.Series(found.ambiguous)
            _update(session, "ambiguous", events["id"], flags, events["ambiguous"].astype(bool))
            report.regions_changed += _update(
                session, "region_id", events["id"], regions, events["region_id"].astype("int64")
            )
            report.events += len(events)
            report.links += len(found.links)
            report.ambiguous += int(found.ambiguous.sum())
        if countries:
            rebuild_series(session, source, sorted(countries))
            report.sources.append(source.name)
    return report


def _chunks(session: Session, source_id: int, size: int) -> Iterator[pd.DataFrame]:
    """The source's events, `size` at a time, by id (keyset paging: each page one query)."""
    columns = [getattr(Event, c) for c in _COLUMNS]
    last = 0
    while True:
        query = (
            select(*columns)
            .where(Event.source_id == source_id, Event.id > last)
            .order_by(Event.id)
            .limit(size)
        )
        frame = read_frame(session, query)
        if frame.empty:
            return
        last = int(frame["id"].iloc[-1])
        yield frame


def _update(session: Session, column: str, ids: pd.Series, new: pd.Series, old: pd.Series) -> int:
    """Set `column` of the events whose value changed; return how many."""
    changed = new.to_numpy() != old.to_numpy()
    if not changed.any():
        return 0
    table = cast(Table, Event.__table__)
    params = [
        {"event": int(i), "value": v.item() if hasattr(v, "item") else v}
        for i, v in zip(ids.to_numpy()[changed], new.to_numpy()[changed], strict=True)
    ]
    session.connection().execute(
        update(table).where(table.c.id == bindparam("event")).values({column: bindparam("value")}),
        params,
    )
    return len(params)
