"""Tables of what was ingested: sources, files, canonical events, actors and regions."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.expression import false

from service.db import Base
from service.kit.time import utcnow


class Source(Base):
    """An event data provider (`acled`, `ucdp`)."""

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(32), unique=True)


# The ORM lists a mixin's columns after the table's own; `sort_order=AFTER_COUNTS` puts a column
# after the counts of `IngestCounts`, before its times, as the migrations have it.
AFTER_COUNTS = 1


class IngestCounts:
    """What one ingest (of a file, or an API fetch) read and changed, and when it ran."""

    rows_read: Mapped[int] = mapped_column(Integer, default=0)
    added: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    deleted: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[dt.datetime] = mapped_column(
        DateTime, default=utcnow, sort_order=AFTER_COUNTS
    )
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime, sort_order=AFTER_COUNTS)


class IngestedFile(IngestCounts, Base):
    """One ingest of one file: its hash and what it changed, written in the ingest transaction."""

    __tablename__ = "ingested_files"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"))
    kind: Mapped[str] = mapped_column(String(16))  # events | deletions
    path: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    rejected: Mapped[int] = mapped_column(Integer, default=0, sort_order=AFTER_COUNTS)


class Actor(Base):
    """A canonical actor (after alias folding), e.g. `JNIM`."""

    __tablename__ = "actors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)


class ActorAlias(Base):
    """A raw actor name seen in a file and the canonical actor it folded into."""

    __tablename__ = "actor_aliases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alias: Mapped[str] = mapped_column(String(500), unique=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"), index=True)


class Region(Base):
    """A canonical admin1 region of a country, e.g. (`Mali`, `Mopti`)."""

    __tablename__ = "regions"
    __table_args__ = (UniqueConstraint("country", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    country: Mapped[str] = mapped_column(String(120))
    name: Mapped[str] = mapped_column(String(255))


class RegionAlias(Base):
    """A raw admin1 name seen in a file and the canonical region it folded into."""

    __tablename__ = "region_aliases"
    __table_args__ = (UniqueConstraint("country", "alias"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    country: Mapped[str] = mapped_column(String(120))
    alias: Mapped[str] = mapped_column(String(500))
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id", ondelete="CASCADE"), index=True)


class Event(Base):
    """One canonical event; the raw actor and admin1 names are kept so aliases can be re-applied.

    `events` and `event_actors` are the fact tables a million-row export lands in, so they carry
    no foreign keys: PostgreSQL checks each with a per-row trigger, which doubled COPY time.
    Their only writer is `service.ingest.sync`, which resolves every id inside the transaction.
    """

    __tablename__ = "events"
    __table_args__ = (UniqueConstraint("source_id", "source_event_id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    source_id: Mapped[int] = mapped_column(Integer)
    source_event_id: Mapped[str] = mapped_column(String(64))
    event_date: Mapped[dt.date] = mapped_column(Date)
    month: Mapped[dt.date] = mapped_column(Date)
    country: Mapped[str] = mapped_column(String(120))
    region_id: Mapped[int] = mapped_column(Integer)
    admin1: Mapped[str] = mapped_column(Text)
    event_type: Mapped[str] = mapped_column(String(64))
    sub_event_type: Mapped[str] = mapped_column(String(120))
    actor1: Mapped[str] = mapped_column(Text)
    assoc_actor_1: Mapped[str] = mapped_column(Text)
    actor2: Mapped[str] = mapped_column(Text)
    assoc_actor_2: Mapped[str] = mapped_column(Text)
    fatalities: Mapped[int] = mapped_column(Integer)
    source_timestamp: Mapped[int] = mapped_column(BigInteger)
    file_id: Mapped[int] = mapped_column(Integer)
    # ACLED actor types of the two sides (service/ingest/actortypes.py); NULL: not given.
    inter1: Mapped[int | None] = mapped_column(SmallInteger)
    inter2: Mapped[int | None] = mapped_column(SmallInteger)
    # An armed side's attribution is "A and/or B": the event counts for neither actor.
    ambiguous: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class EventActor(Base):
    """Which canonical actors an event counts for, and in which role (actor1, assoc_actor_2…)."""

    __tablename__ = "event_actors"

    event_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True
    )
    actor_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    role: Mapped[str] = mapped_column(String(16))


class AmbiguousMention(Base):
    """An actor an event names only in an ambiguous attribution ("A and/or B"): not counted.

    Kept so each actor series can say how many events might be its own; like `event_actors`,
    a fact table without foreign keys, written only by `service.ingest.sync`.
    """

    __tablename__ = "ambiguous_mentions"

    event_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True
    )
    actor_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    role: Mapped[str] = mapped_column(String(16))
