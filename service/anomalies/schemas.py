"""Read models of anomalies and of run accuracy, shared by the CLI, the API and the alerts hook."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Self

from pydantic import BaseModel, ConfigDict

from service.series.repository import SeriesFilter, SeriesLabel

if TYPE_CHECKING:
    from service.anomalies.orm import Anomaly


class AnomalyRead(BaseModel):
    """One flagged month: what was observed, what the forecast issued before it expected."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    series_id: int
    series: SeriesLabel
    month: dt.date
    origin: str
    measure: str = "events"
    kind: str
    run_id: int | None
    horizon: int
    forecast_origin: dt.date | None
    observed: int
    expected: float
    lower: float
    upper: float
    level: float
    direction: str
    tail_probability: float
    severity: str
    in_season: bool
    episode_start: dt.date
    alert: bool
    status: str
    created_at: dt.datetime
    acknowledged_at: dt.datetime | None
    escalation_id: int | None = None

    @property
    def series_key(self) -> str:
        return self.series.key

    @classmethod
    def of(cls, anomaly: Anomaly, series: SeriesLabel) -> Self:
        fields = {n: getattr(anomaly, n) for n in cls.model_fields if n != "series"}
        return cls(series=series, **fields)


@dataclass(frozen=True)
class AnomalyFilter:
    """Filters of `list_anomalies`, the one filter of the API, dashboard, CLI and notebooks
    (None means any)."""

    since: dt.date | None = None  # months on or after
    until: dt.date | None = None  # months on or before
    severity: str | None = None  # exactly this severity
    min_severity: str | None = None  # this one or worse
    direction: str | None = None
    status: str | None = None
    # live (the default: backtest flags are evaluation history, shown only when asked for),
    # backtest, or None for both (internal reads such as a series' chart markers).
    origin: str | None = "live"
    measure: str | None = None  # events | fatalities
    kind: str | None = None  # interval | new
    alert: bool | None = None  # True: alert-worthy; False: suppressed inside an episode
    series_id: int | None = None
    escalation_id: int | None = None  # the parts of one escalation
    series: SeriesFilter = SeriesFilter()


@dataclass(frozen=True)
class Accuracy:
    """Scores over `n` forecast months: mean CRPS and the share inside the 80 % / 95 % intervals."""

    n: int
    crps: float | None
    coverage_80: float | None
    coverage_95: float | None


@dataclass(frozen=True)
class RunAccuracy:
    """How the forecasts issued from one body of data fared. `runs` are every scored run
    trained on that same data (a forced retrain); they count once, as `run_id`, the latest."""

    run_id: int
    runs: tuple[int, ...]
    accuracy: Accuracy


@dataclass(frozen=True)
class AccuracyReport:
    """Accuracy overall, by horizon, by run and by hierarchy level (the scored series'
    `level`); `note` says why it is empty, when it is."""

    overall: Accuracy
    by_horizon: list[tuple[int, Accuracy]]
    by_run: list[RunAccuracy]
    note: str | None = None
    by_level: list[tuple[str, Accuracy]] = field(default_factory=list)
