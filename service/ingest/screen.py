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

import pandas as pd
from sqlalchemy import Connection, Engine, and_, func, select
from sqlalchemy.orm import Session

from service.bulk import read_frame
from service.ingest.actortypes import NOT_GIVEN
from service.ingest.orm import Event, IngestedFile, Source


def existing_events(session: Session, source_id: int | None) -> pd.DataFrame:
    """The source's stored events: id, timestamp, country, and whether they lack types."""
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
    frame = read_frame(session, query)
    return frame.astype({"id": "int64", "old_timestamp": "int64", "untyped": "bool"})


@dataclass
class Sorted:
    """A chunk merged with the stored events, and which of its rows are new or newer."""

    merged: pd.DataFrame
    is_new: pd.Series
    is_newer: pd.Series

    @property
    def changes(self) -> pd.Series:
        return self.is_new | self.is_newer


def sort_chunk(chunk: pd.DataFrame, existing: pd.DataFrame) -> Sorted:
    """Merge a chunk with the stored events: new rows, newer versions, the rest unchanged.

    A version is newer when its timestamp is, or when the stored one lacks the actor types
    this one gives.
    """
    merged = chunk.merge(existing, on="source_event_id", how="left")
    is_new = merged["id"].isna()
    typed = (merged["inter1"] != NOT_GIVEN) | (merged["inter2"] != NOT_GIVEN)
    is_newer = ~is_new & (
        (merged["source_timestamp"] > merged["old_timestamp"])
        | (merged["untyped"].eq(True) & typed)
    )
    return Sorted(merged, is_new, is_newer)


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
        changes = found.changes.to_numpy()
        self.unchanged += int(len(chunk) - changes.sum())
        return chunk[changes].reset_index(drop=True)

    def still_current(self, session: Session) -> bool:
        """True when no ingest has changed the stored events since they were read."""
        return _marker(session) == self.marker


def date_span(chunk: pd.DataFrame) -> pd.DataFrame:
    """The first and last event date per country of a chunk (`country, min, max`)."""
    return chunk.groupby("country", sort=False)["event_date"].agg(["min", "max"]).reset_index()
