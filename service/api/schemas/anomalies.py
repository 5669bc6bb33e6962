"""Response schemas of anomalies."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from service.anomalies import schemas
from service.api.schemas.common import PageInfo, UtcDateTime
from service.series.repository import SeriesLabel


class AnomalyRead(BaseModel):
    """A month whose observed count fell outside the interval forecast before it."""

    id: int
    series: SeriesLabel
    month: dt.date
    origin: str = Field(description="`live` (a published run) or `backtest` (historical scan).")
    measure: str = Field(description="What was counted: `events`, or deaths (`fatalities`).")
    kind: str = Field(
        description="`interval` (a month outside the forecast interval) or `new` (a series' "
        "first appearance: a new actor or region, reported once instead of month by month)."
    )
    run_id: int | None
    horizon: int = Field(
        description="Months ahead the judging forecast looked: 1 = the month after its origin."
    )
    forecast_origin: dt.date | None = Field(
        description="The last month the judging forecast saw (a live run's training data end, "
        "a backtest's origin); `month` is `horizon` months after it."
    )
    observed: int
    expected: float
    lower: float
    upper: float
    level: float = Field(description="Interval level, e.g. 0.95.")
    direction: str = Field(description="`above` or `below` the interval.")
    tail_probability: float
    severity: str = Field(description="`low`, `medium` or `high`.")
    in_season: bool
    episode_start: dt.date
    alert: bool = Field(description="False when suppressed as part of an ongoing episode.")
    status: str = Field(description="`new` or `acknowledged`.")
    created_at: UtcDateTime
    acknowledged_at: UtcDateTime | None
    escalation_id: int | None = Field(
        default=None, description="The escalation it is part of (/v1/escalations/{id})."
    )

    @classmethod
    def of(cls, read: schemas.AnomalyRead) -> AnomalyRead:
        fields = {n: getattr(read, n) for n in cls.model_fields if n != "series"}
        return cls(series=read.series, **fields)


class AnomalyPage(PageInfo):
    items: list[AnomalyRead]
