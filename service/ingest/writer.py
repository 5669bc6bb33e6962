"""Write the new and newer events of checked chunks, inside the caller's transaction.

`prepare` does the part that needs no database — sorting a chunk against the stored events,
working out its actors, formatting its dates — so that it can run a chunk ahead, in a thread
(`pipeline.Ahead`), while `EventWriter` inserts the chunk before it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.bulk import delete_in, insert_frame
from service.ingest.actortypes import NOT_GIVEN
from service.ingest.attribution import Attribution, attribute
from service.ingest.normalize import Normalizer
from service.ingest.orm import AmbiguousMention, Event, EventActor, IngestedFile, Source
from service.ingest.registry import NameRegistry
from service.ingest.screen import date_span, sort_chunk
from service.series.aggregate import WrittenCounts

EVENT_COLUMNS_DB = [column.name for column in Event.__table__.columns]  # as the table lists them
# What the series count of an event (service/series/aggregate.py).
COUNTED_COLUMNS = ["id", "country", "region_id", "event_type", "month", "fatalities"]
# The tables keyed by event id that go with an event when it is replaced or deleted.
EVENT_LINKS = (EventActor.__table__, AmbiguousMention.__table__)


class Counts(Protocol):
    added: int
    updated: int


@dataclass
class Prepared:
    """One chunk, ready to write: its count and date span, and its changes (new rows first,
    then newer versions) with their actors worked out and dates as ISO text."""

    rows: int
    dates: pd.DataFrame
    unchanged: int
    new: int
    newer_ids: list[int]  # the stored ids of the events the newer rows replace
    old_countries: list[str]  # where those events were
    changed: pd.DataFrame
    found: Attribution | None


def prepare(
    chunk: pd.DataFrame,
    existing: pd.DataFrame,
    normalizer: Normalizer,
    roles: Sequence[str],
    armed: Sequence[int],
) -> Prepared:
    """Sort a chunk against the stored events and prepare its changes (no database)."""
    found = sort_chunk(chunk, existing)
    new, newer = found.new, found.newer
    changed = pd.concat([new, newer], ignore_index=True)
    prepared = Prepared(
        rows=len(chunk),
        dates=date_span(chunk),
        unchanged=found.unchanged,
        new=len(new),
        newer_ids=newer["id"].astype("int64").tolist(),
        old_countries=newer["old_country"].dropna().unique().tolist(),
        changed=changed,
        found=None,
    )
    if changed.empty:
        return prepared
    prepared.found = attribute(normalizer, changed, roles, armed)
    changed["ambiguous"] = prepared.found.ambiguous
    days = changed["event_date"].to_numpy().astype("datetime64[D]")
    changed["month"] = iso_dates(days.astype("datetime64[M]"))
    changed["event_date"] = iso_dates(days)
    for side in ("inter1", "inter2"):  # NOT_GIVEN is stored as NULL
        changed[side] = changed[side].astype("Int16").mask(changed[side] == NOT_GIVEN)
    return prepared


def iso_dates(values: np.ndarray) -> np.ndarray:
    """Dates (or months: their first day) as ISO text, each distinct one formatted once: a
    chunk's hundred thousand events fall on a few thousand days."""
    codes, distinct = pd.factorize(values.view("int64"))
    text = np.datetime_as_string(distinct.view(values.dtype).astype("datetime64[D]"), unit="D")
    return text.astype(object)[codes]


class EventWriter:
    """Inserts prepared chunks: events, their actor links and mentions, and their counts."""

    def __init__(
        self, session: Session, source: Source, record: IngestedFile, normalizer: Normalizer
    ) -> None:
        self.session, self.source, self.record = session, source, record
        self.names = NameRegistry(session, normalizer)
        self.next_id = next_event_id(session)
        self.touched: set[str] = set()
        self.counts = WrittenCounts(record.id)

    def write(self, item: Prepared, report: Counts) -> None:
        if item.found is None:
            return
        rows = item.changed
        ids = np.concatenate(
            [
                np.arange(self.next_id, self.next_id + item.new, dtype=np.int64),
                np.asarray(item.newer_ids, dtype=np.int64),
            ]
        )
        self.next_id += item.new
        rows["id"] = ids
        rows["source_id"] = self.source.id
        rows["file_id"] = self.record.id
        rows["region_id"] = self.names.region_ids(rows["country"], rows["admin1"])
        self.touched.update(rows["country"].unique())
        self.touched.update(item.old_countries)
        if item.newer_ids:
            delete_events(self.session, item.newer_ids)
        insert_frame(self.session, Event.__table__, rows[EVENT_COLUMNS_DB])
        links = write_links(self.session, self.names, item.found, ids)
        self.counts.add(rows[COUNTED_COLUMNS], links)
        report.added += item.new
        report.updated += len(item.newer_ids)


def write_links(
    session: Session, names: NameRegistry, found: Attribution, event_ids: np.ndarray
) -> pd.DataFrame:
    """Insert an attribution's actor links and ambiguous mentions; remember the aliases.

    Returns the links (event_id, actor_id, role).
    """
    actor_ids = np.asarray([names.actor_id(n) for n in found.actors], dtype=np.int64)
    written = []
    for table, pairs in ((EventActor, found.counted), (AmbiguousMention, found.mentioned)):
        frame = pd.DataFrame(
            {
                "event_id": event_ids[pairs.rows],
                "actor_id": actor_ids[pairs.actors],
                "role": found.roles[pairs.roles],
            }
        )
        insert_frame(session, table.__table__, frame.sort_values(["event_id", "actor_id"]))
        written.append(frame)
    names.record_actor_aliases(found.aliases)
    return written[0]


def delete_events(session: Session, ids: Sequence[int]) -> None:
    """Delete events and what is keyed by their ids."""
    for table in EVENT_LINKS:
        delete_in(session, table, "event_id", ids)
    delete_in(session, Event.__table__, "id", ids)


def next_event_id(session: Session) -> int:
    return int(session.scalar(select(func.coalesce(func.max(Event.id), 0))) or 0) + 1
