"""Tables of the monthly series: series, their non-zero months, and source coverage."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base
from service.kit.time import utcnow


class Series(Base):
    """A monthly count series: actor × region × event type, or one of its roll-ups.

    `level` names the roll-up; columns that a roll-up sums over are NULL. `key` is the stable,
    human-readable identity used by the CLI and the API.
    """

    __tablename__ = "series"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(600), unique=True)
    level: Mapped[str] = mapped_column(String(24), index=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"))
    country: Mapped[str] = mapped_column(String(120), index=True)
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("actors.id"), index=True)
    event_type: Mapped[str | None] = mapped_column(String(64))
    # Events that name the series' actor only in an ambiguous attribution ("A and/or B"), so
    # do not count in it: a caveat readers show beside the series (0 for geography series).
    ambiguous_events: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class Observation(Base):
    """Events and fatalities of a series in one month. Months without a row are zero inside
    the coverage of the series' source and country, and unknown after it."""

    __tablename__ = "observations"

    series_id: Mapped[int] = mapped_column(
        ForeignKey("series.id", ondelete="CASCADE"), primary_key=True
    )
    month: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    events: Mapped[int] = mapped_column(Integer)
    fatalities: Mapped[int] = mapped_column(Integer)


class Coverage(Base):
    """How far a source's data really reaches for a country: its first and last complete month."""

    __tablename__ = "coverage"
    __table_args__ = (UniqueConstraint("source_id", "country"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"))
    country: Mapped[str] = mapped_column(String(120))
    first_month: Mapped[dt.date] = mapped_column(Date)
    last_complete_month: Mapped[dt.date] = mapped_column(Date)
    last_event_date: Mapped[dt.date] = mapped_column(Date)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
