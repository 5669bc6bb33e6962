"""Response schemas of published forecasts and of what drives them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field

from service.api.schemas.common import PageInfo, UtcDateTime
from service.forecasts.schemas import OutlookRead, SeasonEffectRead, StateRead
from service.measures import Measure
from service.series.repository import SeriesLabel


class ForecastMonth(BaseModel):
    """One forecast month: the mean and predictive quantiles of the count (events or deaths)."""

    month: dt.date
    horizon: int = Field(description="Months after the last month the model saw.")
    mean: float
    q025: float = Field(description="2.5 % quantile (lower end of the 95 % interval).")
    q100: float = Field(description="10 % quantile (lower end of the 80 % interval).")
    q250: float = Field(description="25 % quantile.")
    q500: float = Field(description="Median.")
    q750: float = Field(description="75 % quantile.")
    q900: float = Field(description="90 % quantile (upper end of the 80 % interval).")
    q975: float = Field(description="97.5 % quantile (upper end of the 95 % interval).")
    in_season: bool = Field(description="Whether the month is in the rainy season.")


class SeriesForecastRead(BaseModel):
    """A series' forecast from the published run; every month comes from `run_id`."""

    run_id: int
    measure: Measure = Field(description="What is forecast: `events` or `fatalities`.")
    published_at: UtcDateTime
    series: SeriesLabel
    model: str | None = Field(description="The engine that forecast this series (`panel_nb`).")
    status: str | None = Field(description="`ok` or `failed`; null if not in the run.")
    trained_through: dt.date | None = Field(description="Last month the fit saw.")
    months: list[ForecastMonth]
    reason: str | None = Field(
        default=None, description="Why `months` is empty (the run did not forecast the series)."
    )
    state: StateRead | None = Field(
        default=None,
        description="The engine's posterior about the last month it saw: did the level shift "
        "up or down and stay, or was the month a one-off burst (see `/states` for earlier "
        "months).",
    )


class ForecastPage(PageInfo):
    run_id: int
    measure: Measure
    published_at: UtcDateTime
    items: list[SeriesForecastRead]


# The API shows the rainy-season effect exactly as the forecasts domain defines it.
SeasonEffect = SeasonEffectRead


class SeasonRead(BaseModel):
    run_id: int
    measure: Measure
    series: SeriesLabel
    effect: SeasonEffect


class DriversRead(BaseModel):
    """What drives a series' forecast: the engine's fitted components, and its backtest beside
    its naive peers'."""

    run_id: int
    measure: Measure
    series: SeriesLabel
    status: str
    model: str | None
    trained_through: dt.date
    summary: dict[str, Any] = Field(
        description="The fitted summary: level, trend, seasonal and rainy-season terms."
    )
    scores: dict[str, Any] = Field(
        description="Backtest scores of the engine and of its naive peers (seasonal naive, no "
        "change) on the same months."
    )
    failures: dict[str, Any] = Field(
        description="Empty: the engine fits a panel whole, and a failure is the series' "
        "`status` and `error`."
    )
    season: SeasonEffect
    error: str | None


class OutlookResponse(BaseModel):
    """A series' total over its next N months, with its interval, from the published run."""

    run_id: int
    measure: Measure
    series: SeriesLabel
    last_month: dt.date = Field(description="The last month summed.")
    outlook: OutlookRead


class StatesResponse(BaseModel):
    """The engine's shift and outlier posteriors of a series' recent months."""

    run_id: int
    measure: Measure
    series: SeriesLabel
    months: list[StateRead]
