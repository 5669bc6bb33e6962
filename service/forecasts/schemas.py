"""Read models of published runs and their forecasts (the API serializes these)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class RunRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    status: str
    measure: str = "events"
    started_at: dt.datetime
    finished_at: dt.datetime | None
    published_at: dt.datetime | None
    executor: str
    params: dict[str, Any]
    data_signature: str
    n_series: int
    n_failed: int
    n_carried: int = 0  # series a scoped run kept from the run it replaced
    message: str | None


class SeasonEffectRead(BaseModel):
    """The rainy-season rate ratio: events in a fully in-season month vs an out-of-season one.

    The one definition every reader shows (API, dashboard, plots, notebooks): it is the
    season term the published forecast multiplies in, so the forecast of a rainy month over
    that of a dry month is this ratio (apart from a trend, which is off by default).
    """

    rate_ratio: float | None = Field(
        description="In-season rate / off-season rate, as the forecast uses it (partially "
        "pooled across the series' tree); null when the data cannot support an estimate."
    )
    ci_low: float | None = Field(description="Lower end of the 95 % interval of the ratio.")
    ci_high: float | None = Field(description="Upper end of the 95 % interval of the ratio.")
    p_value: float | None = Field(
        description="Two-sided tail probability of no effect under the same pooled estimate."
    )
    pooled: bool | None = Field(description="Estimated by pooling similar series.")
    status: str | None = Field(
        default=None,
        description="`estimated` (the series' own data support a number), `pooled` (too few "
        "events of its own: the number comes from its group) or `insufficient_data` (the "
        "forecast assumes no rainy-season effect).",
    )
    raw_rate_ratio: float | None = Field(
        default=None, description="The series' own, unpooled estimate (null when too few events)."
    )
    raw_ci_low: float | None = Field(default=None, description="95 % interval of the raw ratio.")
    raw_ci_high: float | None = Field(default=None, description="95 % interval of the raw ratio.")
    events_in: float | None = Field(
        default=None,
        description="Counts behind it in rainy-season days (share-weighted): events, or deaths "
        "for a fatalities run.",
    )
    events_out: float | None = Field(
        default=None, description="Counts in dry-season days (events, or deaths)."
    )
    months_in: int | None = Field(default=None, description="Months mostly in the rainy season.")
    months_out: int | None = Field(default=None, description="Months mostly in the dry season.")

    @classmethod
    def of(cls, row: Any) -> SeasonEffectRead:
        """From a `run_series` row (or any object with its `season_*` attributes)."""
        return cls(**{name: getattr(row, column) for name, column in SEASON_COLUMNS.items()})


# SeasonEffectRead field -> run_series column: the single mapping every reader uses.
SEASON_COLUMNS = {
    "rate_ratio": "season_rate_ratio", "ci_low": "season_ci_low",
    "ci_high": "season_ci_high", "p_value": "season_p_value", "pooled": "season_pooled",
    "status": "season_status", "raw_rate_ratio": "season_raw_rate_ratio",
    "raw_ci_low": "season_raw_ci_low", "raw_ci_high": "season_raw_ci_high",
    "events_in": "season_events_in", "events_out": "season_events_out",
    "months_in": "season_months_in", "months_out": "season_months_out",
}  # fmt: skip


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


class OutlookRead(BaseModel):
    """The total of a series over its next N months, from the published run's joint paths."""

    model_config = ConfigDict(from_attributes=True)

    months: int = Field(description="How many months are summed (3, 6 or 12).")
    first_month: dt.date = Field(description="The first month summed.")
    mean: float = Field(description="Expected total: the sum of the monthly means.")
    q025: float
    q100: float = Field(description="Lower end of the 80 % interval of the total.")
    q250: float
    q500: float = Field(description="Median total.")
    q750: float
    q900: float = Field(description="Upper end of the 80 % interval of the total.")
    q975: float


class StateRead(BaseModel):
    """What the engine believes about one recent month of a series, given all the run saw."""

    model_config = ConfigDict(from_attributes=True)

    month: dt.date
    level: float = Field(description="The deseasonalized level (events or deaths per month).")
    p_shift_up: float = Field(
        description="Probability that the level shifted up in this month and stayed there."
    )
    p_shift_down: float = Field(description="Probability that the level shifted down and stayed.")
    p_outlier: float = Field(description="Probability that the month was a one-off burst.")
