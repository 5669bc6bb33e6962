"""The table of escalations: flagged series-months of one tree grouped into one alertable event."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base
from service.kit.time import utcnow


class Escalation(Base):
    """Anomalies of one tree (a source and country's geography, or one actor's series there) in
    consecutive months and the same direction: one surge seen at several levels.

    `headline_*` is the highest level where it is significant; `alerts` counts the times it
    opened or escalated (each is one alert), so receivers can tell a re-alert from a new one.
    """

    __tablename__ = "escalations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    origin: Mapped[str] = mapped_column(String(16))  # live | backtest
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    country: Mapped[str] = mapped_column(String(120), index=True)
    tree: Mapped[str] = mapped_column(String(16))  # geography | actor
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"))
    direction: Mapped[str] = mapped_column(String(8))  # above | below
    first_month: Mapped[dt.date] = mapped_column(Date, index=True)
    last_month: Mapped[dt.date] = mapped_column(Date)
    headline_level: Mapped[str] = mapped_column(String(24))
    headline_series_id: Mapped[int] = mapped_column(ForeignKey("series.id", ondelete="CASCADE"))
    severity: Mapped[str] = mapped_column(String(8))  # worst severity of its parts
    parts: Mapped[int] = mapped_column(Integer)  # anomalies grouped into it
    alerts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
