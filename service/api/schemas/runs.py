"""Response schemas of runs, jobs, accuracy and health."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from service.api.schemas.common import PageInfo, UtcDateTime


class RunRead(BaseModel):
    id: int
    measure: str = Field(description="What the run forecasts: `events` or `fatalities`.")
    status: str
    published: bool
    started_at: UtcDateTime
    finished_at: UtcDateTime | None
    published_at: UtcDateTime | None
    duration_seconds: float | None
    executor: str
    n_series: int
    n_failed: int
    message: str | None


class RunDetailRead(RunRead):
    models: dict[str, int] = Field(
        description="How many series each engine forecast (the panel engine, `panel_nb`)."
    )
    statuses: dict[str, int] = Field(description="Series per outcome: ok, failed.")
    fit_seconds: float = Field(description="Sum of the per-series fit times.")
    backtest: dict[str, float] = Field(
        description="Backtest scores averaged over the series, for the engine and each naive "
        "peer scored on the same months (`seasonal_naive.crps`); `chosen.` holds the scores of "
        "the engine that forecast each series (`chosen.crps`)."
    )
    backtest_series: int
    params: dict[str, Any]


class RunPage(PageInfo):
    published_run_id: int | None = Field(description="The published events run.")
    published_run_ids: dict[str, int] = Field(
        description="The published run of each measure that has one."
    )
    items: list[RunRead]


class AccuracyRead(BaseModel):
    n: int = Field(description="Forecast months scored.")
    crps: float | None = Field(description="Mean continuous ranked probability score.")
    coverage_80: float | None = Field(description="Share of observations in the 80 % interval.")
    coverage_95: float | None = Field(description="Share of observations in the 95 % interval.")


class HorizonAccuracy(AccuracyRead):
    horizon: int


class LevelAccuracy(AccuracyRead):
    level: str = Field(description="The scored series' hierarchy level (`country`, `region`, …).")


class RunAccuracy(AccuracyRead):
    run_id: int
    measure: str = Field(default="events", description="What the run forecast.")
    same_data_runs: list[int] = Field(
        description="Every scored run trained on the same data as this one (retrains): "
        "they count once, as `run_id`, the latest."
    )


class MeasureAccuracy(BaseModel):
    measure: str = Field(description="`events`, or deaths (`fatalities`).")
    overall: AccuracyRead
    by_horizon: list[HorizonAccuracy]
    by_level: list[LevelAccuracy] = Field(default_factory=list)


class AccuracyReportRead(BaseModel):
    measure: str = Field(
        default="events",
        description="The measure `overall`, `by_horizon` and `by_run` report (events unless "
        "asked): scores of events and of deaths are never mixed.",
    )
    overall: AccuracyRead
    by_horizon: list[HorizonAccuracy]
    by_run: list[RunAccuracy]
    by_level: list[LevelAccuracy] = Field(
        default_factory=list,
        description="By the scored series' hierarchy level, country first: each run's "
        "forecasts of that level's series against what was observed.",
    )
    by_measure: list[MeasureAccuracy] = Field(
        default_factory=list, description="Each measure on its own: events, then fatalities."
    )
    note: str | None = Field(
        default=None, description="Why the report is empty, when it is (nothing scored yet)."
    )


class JobRead(BaseModel):
    id: int
    kind: str
    trigger: str
    status: str
    started_at: UtcDateTime
    finished_at: UtcDateTime | None
    message: str | None
    details: dict[str, Any]


class JobPage(PageInfo):
    items: list[JobRead]


class HealthRead(BaseModel):
    status: str


class PublishedRead(BaseModel):
    run_id: int
    published_at: UtcDateTime


class ReadyRead(BaseModel):
    status: str
    run_id: int | None = Field(description="The published events run (null: none yet).")
    published_at: UtcDateTime | None
    runs: dict[str, PublishedRead | None] = Field(
        description="Every measure's published run (null: none yet), e.g. `events`, `fatalities`."
    )
