"""Run-result reads of the dashboard, the plot command and the notebooks: season effects,
backtest scores and backtest forecasts. (They move to the training domain with the forecasting
engine's new publication; the series and coverage reads live in service.series.repository.)

Each is one statement (two for the backtest frame), reading the run it is given, so a page
that resolved the publication pointer once sees one run throughout.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.forecasts.schemas import SeasonEffectRead
from service.series.orm import Series
from service.series.repository import SeriesFilter, SeriesLabel, labelled, series_conditions
from service.training.orm import QUANTILE_FIELDS, BacktestForecast, RunSeries


@dataclass(frozen=True)
class SeasonEffectRow:
    """A series' rainy-season effect in a run (the one its forecast uses), with its labels."""

    series: SeriesLabel
    model: str | None
    effect: SeasonEffectRead


def season_effects(
    session: Session, run_id: int, filters: SeriesFilter | None = None
) -> list[SeasonEffectRow]:
    """The rainy-season effect of every series of `run_id` matching `filters`, by key."""
    query = (
        labelled()
        .add_columns(RunSeries)
        .join(RunSeries, RunSeries.series_id == Series.id)
        .where(RunSeries.run_id == run_id, *series_conditions(filters or SeriesFilter()))
        .order_by(Series.key)
    )
    return [
        SeasonEffectRow(SeriesLabel(*row[:8]), row[8].model, SeasonEffectRead.of(row[8]))
        for row in session.execute(query)
    ]


def run_scores_frame(session: Session, run_id: int) -> pd.DataFrame:
    """A run's backtest scores, one row per series and candidate model.

    Columns: series_id, key, level, chosen (the model the run kept), candidate, and one column
    per metric (crps, mase, coverage_80, ...). Series without scores (too short to backtest)
    are left out.
    """
    rows = session.execute(
        select(Series.id, Series.key, Series.level, RunSeries.model, RunSeries.scores)
        .join(RunSeries, RunSeries.series_id == Series.id)
        .where(RunSeries.run_id == run_id)
        .order_by(Series.id)
    )
    records = [
        {"series_id": sid, "key": key, "level": level, "chosen": chosen, "candidate": candidate,
         **{name: value for name, value in metrics.items() if isinstance(value, int | float)}}
        for sid, key, level, chosen, scores in rows
        for candidate, metrics in (scores or {}).items()
        if isinstance(metrics, dict)
    ]  # fmt: skip
    return pd.DataFrame.from_records(records)


def backtest_frame(session: Session, run_id: int) -> pd.DataFrame:
    """A run's backtest forecasts with what was observed: one row per series and past month.

    Columns: series_id, key, level, month, origin, horizon, observed, mean, the quantiles
    (q025 ... q975) and in_season.
    """
    b = BacktestForecast
    rows = session.execute(
        select(Series.id, Series.key, Series.level, b.month, b.origin, b.horizon, b.observed,
               b.mean, *[getattr(b, q) for q in QUANTILE_FIELDS], b.in_season)
        .join(Series, Series.id == b.series_id)
        .where(b.run_id == run_id)
        .order_by(b.series_id, b.month)
    )  # fmt: skip
    columns = ["series_id", "key", "level", "month", "origin", "horizon", "observed", "mean",
               *QUANTILE_FIELDS, "in_season"]  # fmt: skip
    frame = pd.DataFrame(rows.all(), columns=columns)
    for column in ("month", "origin"):
        frame[column] = pd.to_datetime(frame[column])
    return frame
