"""Read models of published runs and their forecasts (the API serializes these)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict


class RunRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    status: str
    started_at: dt.datetime
    finished_at: dt.datetime | None
    published_at: dt.datetime | None
    executor: str
    params: dict[str, Any]
    data_signature: str
    n_series: int
    n_failed: int
    message: str | None


class SeasonEffectRead(BaseModel):
    """The rainy-season rate ratio: events in a fully in-season month vs an out-of-season one."""

    rate_ratio: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    pooled: bool | None


class ForecastPoint(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    month: dt.date
    horizon: int
    mean: float
    q025: float
    q100: float
    q250: float
    q500: float
    q750: float
    q900: float
    q975: float
    in_season: bool


class SeriesForecast(BaseModel):
    """A series' result in a run: chosen model, backtest scores, season effect, forecast."""

    run_id: int
    series_id: int
    series_key: str
    status: str
    model: str | None
    trained_through: dt.date
    scores: dict[str, Any]
    failures: dict[str, Any]
    summary: dict[str, Any]
    season: SeasonEffectRead
    error: str | None
    points: list[ForecastPoint]
