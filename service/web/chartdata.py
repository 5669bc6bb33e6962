"""Everything a fan chart shows, read from the database in one place (dashboard and CLI alike)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Protocol

import pandas as pd
from sqlalchemy.orm import Session

from service.anomalies.repository import list_anomalies
from service.anomalies.schemas import AnomalyFilter, AnomalyRead
from service.forecasts.repository import series_forecast
from service.forecasts.schemas import SeriesForecast
from service.measures import EVENTS, noun
from service.series.repository import UNKNOWN, SeriesInfo, series_months
from service.web.seasons import Span, rainy_spans

HISTORY_MONTHS = 96  # eight years: enough seasons to see a pattern, few enough to read a month
MAX_MARKED = 500


@dataclass
class ChartData:
    """A series' observed months, its published forecast (if any), anomalies and rainy seasons,
    of one measure (events, or the deaths reported in them).

    `history` has columns month (month start), count (of the measure), status (observed | zero
    | unknown).
    """

    info: SeriesInfo
    history: pd.DataFrame
    forecast: SeriesForecast | None
    anomalies: list[AnomalyRead] = field(default_factory=list)
    seasons: list[Span] = field(default_factory=list)
    measure: str = EVENTS

    @property
    def label(self) -> str:
        return series_label(self.info)

    @property
    def has_forecast(self) -> bool:
        return self.forecast is not None and bool(self.forecast.points)

    @property
    def known(self) -> pd.DataFrame:
        """The months inside coverage (what the model saw)."""
        return self.history[self.history["status"] != UNKNOWN]


class Labelled(Protocol):
    @property
    def country(self) -> str: ...
    @property
    def region(self) -> str | None: ...
    @property
    def actor(self) -> str | None: ...
    @property
    def event_type(self) -> str | None: ...


def series_label(info: Labelled, *, country: bool = True) -> str:
    """A series in words: 'JNIM in Sahel, Burkina Faso — State-based conflict' (`country`
    False leaves the country out: 'JNIM in Sahel — State-based conflict')."""
    if info.region:
        place = f"{info.region}, {info.country}" if country else info.region
    else:
        place = info.country if country else "all regions"
    who = f"{info.actor} in {place}" if info.actor else f"All actors in {place}"
    return f"{who} — {info.event_type}" if info.event_type else who


def load_chart(
    session: Session,
    info: SeriesInfo,
    run_id: int | None,
    *,
    history_months: int | None = HISTORY_MONTHS,
    measure: str = EVENTS,
) -> ChartData:
    """Read what the fan chart of `info` shows for `measure`, with the forecast of `run_id`
    (None: none), a run of that measure.

    Callers resolve the published run once (`published_run_id`) and pass it on, so one page
    or one file never mixes runs.
    """
    months = series_months(session, info)
    history = months[["month", "status"]].assign(count=months[measure])
    if history_months is not None:
        history = history.tail(history_months).reset_index(drop=True)
    forecast = series_forecast(session, info.id, run_id) if run_id is not None else None
    anomalies, _ = list_anomalies(
        session, AnomalyFilter(origin=None, series_id=info.id, measure=measure), limit=MAX_MARKED
    )
    data = ChartData(info, history, forecast, anomalies, measure=measure)
    first, last = _x_range(data)
    if first is not None and last is not None:
        data.anomalies = [a for a in anomalies if first <= a.month <= last]
        data.seasons = rainy_spans(info.country, info.region, first, last)
    return data


def _x_range(data: ChartData) -> tuple[dt.date | None, dt.date | None]:
    months = [m.date() for m in data.history["month"]]
    if data.forecast is not None:
        months.extend(p.month for p in data.forecast.points)
    if not months:
        return None, None
    last = max(months)
    return min(months), (pd.Timestamp(last) + pd.offsets.MonthBegin(1)).date()


def describe(data: ChartData) -> str:
    """The chart in words, for screen readers and as a caption."""
    known = data.known
    parts = []
    what = noun(data.measure)
    if len(known):
        first, last = known["month"].iloc[0], known["month"].iloc[-1]
        recent = known["count"].tail(12)
        parts.append(
            f"Monthly {what} from {first:%B %Y} to {last:%B %Y}; {int(recent.sum())} {what} in "
            f"the last {len(recent)} months, at most {int(known['count'].max())} in one month."
        )
    else:
        parts.append("No month of this series is inside its source's coverage yet.")
    if data.has_forecast:
        assert data.forecast is not None
        points = data.forecast.points
        parts.append(
            f"Forecast by the {data.forecast.model} model for {points[0].month:%B %Y} to "
            f"{points[-1].month:%B %Y}: median {points[0].q500:.0f} {what} in the first month "
            f"(95 % interval {points[0].q025:.0f}–{points[0].q975:.0f}), median "
            f"{points[-1].q500:.0f} in the last (95 % interval "
            f"{points[-1].q025:.0f}–{points[-1].q975:.0f})."
        )
    else:
        parts.append("No published forecast.")
    if data.seasons:
        parts.append("Rainy seasons are shaded.")
    if data.anomalies:
        above = sum(a.direction == "above" for a in data.anomalies)
        below = len(data.anomalies) - above
        n = len(data.anomalies)
        marked = "1 anomalous month is" if n == 1 else f"{n} anomalous months are"
        parts.append(f"{marked} marked ({above} above the forecast interval, {below} below).")
    return " ".join(parts)
