"""What was fetched from the APIs, and how far each feed has got (its watermarks)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base
from service.ingest.orm import AFTER_COUNTS, IngestCounts
from service.kit.time import utcnow


class FeedFetch(IngestCounts, Base):
    """One fetch: its query (no secrets), what it changed, and the watermarks it left.

    The rows it wrote hang off its `ingested_files` records, like the rows of a file.
    """

    __tablename__ = "feed_fetches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    feed: Mapped[str] = mapped_column(String(32), index=True)  # acled | ucdp | ucdp-candidate
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"))
    query: Mapped[dict[str, Any]] = mapped_column(JSON)
    events_file_id: Mapped[int | None] = mapped_column(ForeignKey("ingested_files.id"))
    deletions_file_id: Mapped[int | None] = mapped_column(ForeignKey("ingested_files.id"))
    pages: Mapped[int] = mapped_column(Integer, default=0)
    watermark: Mapped[dict[str, Any]] = mapped_column(JSON, sort_order=AFTER_COUNTS)


class FeedWatermark(Base):
    """How far a feed has got for one scope: a country, or `deletions` for ACLED's list.

    ACLED: `last_timestamp` (the newest `timestamp` seen; the next call asks for later ones)
    and `since` (the first date asked). UCDP: the `version` fetched and the dates it covers.
    """

    __tablename__ = "feed_watermarks"
    __table_args__ = (UniqueConstraint("feed", "scope"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    feed: Mapped[str] = mapped_column(String(32))
    scope: Mapped[str] = mapped_column(String(120))
    since: Mapped[dt.date | None] = mapped_column(Date)
    last_timestamp: Mapped[int | None] = mapped_column(BigInteger)
    version: Mapped[str | None] = mapped_column(String(32))
    covered_until: Mapped[dt.date | None] = mapped_column(Date)
    fetch_id: Mapped[int] = mapped_column(ForeignKey("feed_fetches.id"))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
