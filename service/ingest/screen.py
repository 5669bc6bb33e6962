"""Sort a file's events into new, newer and unchanged while it is read, before any lock.

The stored events of the source are read once, up front (a read takes no write lock); each
checked chunk is then sorted against them, and only new and newer rows are kept for the write
transaction. Re-ingesting a file that changes nothing thus never writes, and stages nothing.

Every change to `events` writes an `ingested_files` row in its transaction, so the highest
id of that table says whether the stored events are still the ones screened against. If
another ingest wrote in between, the write transaction sorts the kept rows again against a
fresh read; rows screened out as unchanged stay unchanged (as if this ingest had come first).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from pandas.api.types import union_categoricals
from sqlalchemy import Connection, Engine, and_, func, select
from sqlalchemy.orm import Session

from service.ingest.actortypes import NOT_GIVEN
from service.ingest.orm import Event, IngestedFile, Source

BATCH = 200_000


def existing_events(session: Session, source_id: int | None) -> pd.DataFrame:
    """The source's stored events, indexed by source_event_id: id, timestamp, country (a
    category) and whether they lack actor types. Read in batches, so that a million events
    never stand as a million row tuples at once."""
    events = Event.__table__.c
    # Stored before actor types were kept (migration 20261207_0020): a file that gives them
    # updates the event, so re-ingesting an export applies the codebook's sides to it.
    untyped = and_(events.inter1.is_(None), events.inter2.is_(None))
    query = select(
        events.source_event_id,
        events.id,
        events.source_timestamp.label("old_timestamp"),
        events.country.label("old_country"),
        untyped.label("untyped"),
    ).where(events.source_id == (source_id if source_id is not None else -1))
    result = session.connection().execute(query)
    columns = list(result.keys())
    cursor = result.cursor  # the driver's rows, without SQLAlchemy's per-row processing
    assert cursor is not None
    parts = []
    while rows := cursor.fetchmany(BATCH):
        part = pd.DataFrame.from_records(rows, columns=columns)
        part["old_country"] = part["old_country"].astype("category")
        parts.append(part)
        del rows
    result.close()
    if not parts:
        parts = [pd.DataFrame({c: pd.Series(dtype=object) for c in columns})]
    countries = union_categoricals([p["old_country"].astype("category") for p in parts])
    frame = pd.concat([p.drop(columns="old_country") for p in parts], ignore_index=True)
    frame["old_country"] = pd.Categorical(countries)
    frame = frame.astype({"id": "int64", "old_timestamp": "int64", "untyped": "bool"})
    return frame.set_index("source_event_id")


@dataclass
class Sorted:
    """A chunk's rows sorted against the stored events: new, newer (with the stored event's
    id and country), and how many are unchanged."""

    new: pd.DataFrame
    newer: pd.DataFrame
    changes: np.ndarray  # bool per chunk row

    @property
    def unchanged(self) -> int:
        return int(len(self.changes) - self.changes.sum())


def sort_chunk(chunk: pd.DataFrame, existing: pd.DataFrame) -> Sorted:
    """Sort a chunk's rows: new, newer versions, the rest unchanged.

    A version is newer when its timestamp is, or when the stored one lacks the actor types
    this one gives. Rows are found by position in the stored events' index (no merge).
    """
    at = existing.index.get_indexer(chunk["source_event_id"])
    is_new = at < 0
    found = np.where(is_new, 0, at)
    if len(existing):
        stamps = existing["old_timestamp"].to_numpy()[found]
        untyped = existing["untyped"].to_numpy()[found]
    else:
        stamps = np.zeros(len(chunk), dtype=np.int64)
        untyped = np.zeros(len(chunk), dtype=bool)
    typed = (chunk["inter1"].to_numpy() != NOT_GIVEN) | (chunk["inter2"].to_numpy() != NOT_GIVEN)
    newer = ~is_new & ((chunk["source_timestamp"].to_numpy() > stamps) | (untyped & typed))
    replaced = at[newer]
    return Sorted(
        new=chunk[is_new],
        newer=chunk[newer].assign(
            id=existing["id"].to_numpy()[replaced],
            old_country=np.asarray(existing["old_country"], dtype=object)[replaced],
        ),
        changes=is_new | newer,
    )


def _marker(session: Session) -> int:
    return int(session.scalar(select(func.coalesce(func.max(IngestedFile.id), 0))) or 0)


@dataclass
class Screen:
    """What the read phase learned: the stored events it sorted against, and the counts."""

    marker: int
    existing: pd.DataFrame
    rows_read: int = 0
    unchanged: int = 0
    dates: list[pd.DataFrame] = field(default_factory=list)

    @classmethod
    def load(cls, bind: Engine | Connection, source: str) -> Screen:
        """Read the source's stored events in a session of its own (no write, no lock kept)."""
        with Session(bind) as session:
            source_id = session.scalar(select(Source.id).where(Source.name == source))
            return cls(_marker(session), existing_events(session, source_id))

    def keep(self, chunk: pd.DataFrame) -> pd.DataFrame:
        """Count a chunk and return its new and newer rows (reader columns only)."""
        self.rows_read += len(chunk)
        self.dates.append(date_span(chunk))
        found = sort_chunk(chunk, self.existing)
        self.unchanged += found.unchanged
        return chunk[found.changes].reset_index(drop=True)

    def still_current(self, session: Session) -> bool:
        """True when no ingest has changed the stored events since they were read."""
        return _marker(session) == self.marker


def date_span(chunk: pd.DataFrame) -> pd.DataFrame:
    """The first and last event date per country of a chunk (`country, min, max`)."""
    return chunk.groupby("country", sort=False)["event_date"].agg(["min", "max"]).reset_index()
