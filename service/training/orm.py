"""Tables of training runs: the run, its per-series results, its forecasts, the published pointer.

A run is written while `status='running'` and is invisible to readers; publishing flips the single
row of `publication` to it in one transaction, so readers always see exactly one complete run.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Date, DateTime, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base
from service.kit.time import utcnow
from service.measures import PUBLICATION_IDS


class Run(Base):
    """One training run over a set of series."""

    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # running | published | superseded | failed
    status: Mapped[str] = mapped_column(String(16), index=True)
    # What the run forecasts (service/measures.py): each measure has its own published run.
    measure: Mapped[str] = mapped_column(String(16), default="events", server_default="events")
    started_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    published_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    executor: Mapped[str] = mapped_column(String(16))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # A fingerprint of the coverage the run trained on: the same fingerprint means no new data.
    data_signature: Mapped[str] = mapped_column(String(64))
    n_series: Mapped[int] = mapped_column(Integer, default=0)
    n_failed: Mapped[int] = mapped_column(Integer, default=0)
    # Series a scoped run copied from the run it replaced (their latest forecasts).
    n_carried: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The engine's horizon-wise calibration per panel: {panel: table, counts, coverage}.
    calibration: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    message: Mapped[str | None] = mapped_column(Text)


class RunSeries(Base):
    """A series' result in a run: the chosen model, its backtest, and its rainy-season effect."""

    __tablename__ = "run_series"

    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    series_id: Mapped[int] = mapped_column(
        ForeignKey("series.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    status: Mapped[str] = mapped_column(String(16))  # ok|fallback|failed
    model: Mapped[str | None] = mapped_column(String(32))
    trained_through: Mapped[dt.date] = mapped_column(Date)  # last month the fit saw
    scores: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    failures: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    season_rate_ratio: Mapped[float | None] = mapped_column(Float)
    season_ci_low: Mapped[float | None] = mapped_column(Float)
    season_ci_high: Mapped[float | None] = mapped_column(Float)
    season_p_value: Mapped[float | None] = mapped_column(Float)
    season_pooled: Mapped[bool | None] = mapped_column(Boolean)
    # estimated | pooled | insufficient_data: whether the series' own data support a number.
    season_status: Mapped[str | None] = mapped_column(String(24))
    # The series' own, unpooled estimate and the events behind it (rainy vs dry months).
    season_raw_rate_ratio: Mapped[float | None] = mapped_column(Float)
    season_raw_ci_low: Mapped[float | None] = mapped_column(Float)
    season_raw_ci_high: Mapped[float | None] = mapped_column(Float)
    season_events_in: Mapped[float | None] = mapped_column(Float)
    season_events_out: Mapped[float | None] = mapped_column(Float)
    season_months_in: Mapped[int | None] = mapped_column(Integer)
    season_months_out: Mapped[int | None] = mapped_column(Integer)
    # The run that computed this result when a scoped run carried it over (else NULL).
    trained_in_run_id: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    seconds: Mapped[float] = mapped_column(Float, default=0.0)


# The ORM lists a mixin's columns after the table's own: `sort_order` keeps the key first, in
# the order of the tables' primary keys.
class RunSeriesKey:
    """The key every per-series row of a run starts with: the run, then the series."""

    run_id: Mapped[int] = mapped_column(
        ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True, sort_order=-3
    )
    series_id: Mapped[int] = mapped_column(
        ForeignKey("series.id", ondelete="CASCADE"), primary_key=True, sort_order=-2
    )


class MonthKey(RunSeriesKey):
    """A run's row for one month of a series."""

    month: Mapped[dt.date] = mapped_column(Date, primary_key=True, sort_order=-1)


class QuantileColumns:
    """A predictive distribution: its mean and its quantiles."""

    mean: Mapped[float] = mapped_column(Float)
    q025: Mapped[float] = mapped_column(Float)
    q100: Mapped[float] = mapped_column(Float)
    q250: Mapped[float] = mapped_column(Float)
    q500: Mapped[float] = mapped_column(Float)
    q750: Mapped[float] = mapped_column(Float)
    q900: Mapped[float] = mapped_column(Float)
    q975: Mapped[float] = mapped_column(Float)


class PredictiveColumns(QuantileColumns):
    """The predictive distribution of one month, shared by live and backtest forecasts."""

    in_season: Mapped[bool] = mapped_column(Boolean)


# The quantile columns, lowest first (q025 is the 2.5 % quantile): the one list readers use.
QUANTILE_FIELDS: tuple[str, ...] = tuple(
    name for name in QuantileColumns.__annotations__ if name.startswith("q")
)


class Forecast(MonthKey, PredictiveColumns, Base):
    """One forecast month of a series in a run: the mean and the predictive quantiles."""

    __tablename__ = "forecasts"

    horizon: Mapped[int] = mapped_column(Integer)


class BacktestForecast(MonthKey, PredictiveColumns, Base):
    """A backtest forecast of the chosen model for one past month, from the latest origin before it.

    The rolling-origin backtest of a run refits the chosen model at earlier origins; keeping,
    per month, the forecast issued last before it lets the anomaly scan flag past months as
    the live detection would have.
    """

    __tablename__ = "backtest_forecasts"

    origin: Mapped[dt.date] = mapped_column(Date)  # last month the backtest fit saw
    horizon: Mapped[int] = mapped_column(Integer)
    observed: Mapped[int] = mapped_column(Integer)


class Outlook(RunSeriesKey, QuantileColumns, Base):
    """The total of a series over its next 3, 6 or 12 months in a run, with its interval.

    It comes from the same joint sample paths as the monthly forecasts: its mean is the sum of
    the monthly means, and a parent's mean is the sum of its children's.
    """

    __tablename__ = "outlooks"

    months: Mapped[int] = mapped_column(Integer, primary_key=True)  # 3, 6 or 12
    first_month: Mapped[dt.date] = mapped_column(Date)  # the first month summed


class SeriesState(MonthKey, Base):
    """The engine's posterior about one recent month of a series, given all the run saw.

    `p_shift_up` / `p_shift_down`: the probability that the series' level shifted up / down in
    that month (and stayed); `p_outlier`: that the month was a one-off burst; `level`: the
    deseasonalized level the engine believes the series was at.
    """

    __tablename__ = "series_states"

    level: Mapped[float] = mapped_column(Float)
    p_shift_up: Mapped[float] = mapped_column(Float)
    p_shift_down: Mapped[float] = mapped_column(Float)
    p_outlier: Mapped[float] = mapped_column(Float)


PUBLICATION_ID = PUBLICATION_IDS["events"]  # the row of `publication` of the events' run


class Publication(Base):
    """One row per measure naming the run readers see (switched atomically on publish)."""

    __tablename__ = "publication"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)  # PUBLICATION_IDS[measure]
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"))
    published_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
