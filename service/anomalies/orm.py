"""Tables of anomalies (observed months outside the interval forecast before them), run scores."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base
from service.escalations import orm as escalation_orm  # noqa: F401 - the table escalation_id refers to
from service.kit.time import utcnow


class Anomaly(Base):
    """A month whose observed count fell outside the forecast interval issued before it.

    One row per series, month, origin (`live` from a published run, `backtest` from the
    historical scan) and measure (events or fatalities), so detection can run any number of
    times.
    """

    __tablename__ = "anomalies"
    __table_args__ = (UniqueConstraint("series_id", "month", "origin", "measure"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("series.id", ondelete="CASCADE"), index=True)
    month: Mapped[dt.date] = mapped_column(Date, index=True)
    origin: Mapped[str] = mapped_column(String(16))  # live | backtest
    # What was counted (service/measures.py): the judging run's measure.
    measure: Mapped[str] = mapped_column(String(16), default="events", server_default="events")
    # `interval`: a month outside the forecast interval; `new`: a series' first appearance,
    # one record instead of a month-by-month flood against forecasts of [0, 0].
    kind: Mapped[str] = mapped_column(String(16), default="interval", server_default="interval")
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id", ondelete="SET NULL"))
    horizon: Mapped[int] = mapped_column(Integer)
    # The last month the judging forecast saw (a live run's trained_through, a backtest's
    # origin): with `horizon`, how far ahead the forecast looked. NULL only on rows flagged
    # before the column existed whose forecast is gone.
    forecast_origin: Mapped[dt.date | None] = mapped_column(Date)
    observed: Mapped[int] = mapped_column(Integer)
    expected: Mapped[float] = mapped_column(Float)
    lower: Mapped[float] = mapped_column(Float)
    upper: Mapped[float] = mapped_column(Float)
    level: Mapped[float] = mapped_column(Float)  # interval level, e.g. 0.95
    direction: Mapped[str] = mapped_column(String(8))  # above | below
    tail_probability: Mapped[float] = mapped_column(Float)
    severity: Mapped[str] = mapped_column(String(8))  # low | medium | high
    in_season: Mapped[bool] = mapped_column(Boolean)
    episode_start: Mapped[dt.date] = mapped_column(Date)
    alert: Mapped[bool] = mapped_column(Boolean)  # False when suppressed as part of an episode
    status: Mapped[str] = mapped_column(String(16), default="new")  # new | acknowledged
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # The escalation it is part of (service/escalations/); None until grouped.
    escalation_id: Mapped[int | None] = mapped_column(
        ForeignKey("escalations.id", ondelete="SET NULL"), index=True
    )


class RunScore(Base):
    """How a run's forecast for one series and month fared once the month was observed."""

    __tablename__ = "run_scores"

    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    series_id: Mapped[int] = mapped_column(
        ForeignKey("series.id", ondelete="CASCADE"), primary_key=True
    )
    month: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    horizon: Mapped[int] = mapped_column(Integer)
    observed: Mapped[int] = mapped_column(Integer)
    crps: Mapped[float] = mapped_column(Float)
    in_80: Mapped[bool] = mapped_column(Boolean)
    in_95: Mapped[bool] = mapped_column(Boolean)
