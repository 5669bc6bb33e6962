"""A country at a glance: its total, each region, each event type and each actor, with the
last three months observed against what was forecast for them, the next six months' total
with its 80 % interval (the engine's outlook, never re-summed), a trend, the level shifts the
engine saw, the rainy-season effect and the open escalations.

The API (`/v1/overview`), the dashboard (`/overview`), the map and the CLI (`sahelcast
overview`) all read `country_overview`.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.escalations.repository import EscalationFilter, list_escalations
from service.forecasts.repository import outlooks, published_run_id
from service.forecasts.schemas import OutlookRead, SeasonEffectRead
from service.kit.months import previous_month
from service.measures import EVENTS
from service.series.orm import Observation
from service.series.repository import SeriesFilter, SeriesLabel, coverage_rows, series_catalogue
from service.training.orm import BacktestForecast, RunSeries, SeriesState

RECENT = 3  # months observed against their forecast
BEFORE = 6  # months the outlook is set against for the trend
OUTLOOK_MONTHS = 6
SHIFT_P = 0.5  # a level shift the engine believes in more than not
KINDS = ("country", "region", "event_type", "actor")
LEVEL_OF_KIND = {"country": "country", "region": "region", "event_type": "country_type",
                 "actor": "actor_country"}  # fmt: skip


OVERVIEW_COLUMNS = (
    "kind", "name", "series_id", "series_key", "country", "region", "actor", "event_type",
    "recent_observed",
    "recent_forecast", "previous_observed", "outlook_mean", "outlook_low_80", "outlook_high_80",
    "outlook_first_month", "trend", "trend_ratio", "shift", "shift_month", "shift_probability",
    "season_rate_ratio", "season_ci_low", "season_ci_high", "open_escalations", "escalation_ids",
)  # fmt: skip


class UnknownCountry(LookupError):
    """No series of that country (the message names the countries held)."""


@dataclass(frozen=True)
class Shift:
    """A level shift the engine saw in the last months: its direction, month and probability."""

    direction: str  # up | down
    month: dt.date
    probability: float


@dataclass
class OverviewRow:
    """One row of the overview: the country total, a region, an event type or an actor (the
    last two country-wide)."""

    series: SeriesLabel
    kind: str  # country | region | event_type | actor
    recent_observed: int | None = None  # the last RECENT complete months, summed
    recent_forecast: float | None = None  # the run's backtest means of the same months, summed
    previous_observed: int | None = None  # the last BEFORE complete months, summed
    outlook: OutlookRead | None = None
    shift: Shift | None = None
    season: SeasonEffectRead | None = None
    escalations: list[int] = field(default_factory=list)  # open ones touching the series

    @property
    def name(self) -> str:
        if self.kind == "country":
            return f"{self.series.country} (all)"
        label = {"region": self.series.region, "event_type": self.series.event_type}
        return label.get(self.kind, self.series.actor) or ""

    @property
    def ratio(self) -> float | None:
        """The next six months' expected total over the last six months' count."""
        if self.outlook is None or self.previous_observed is None:
            return None
        if self.previous_observed == 0:
            return None if self.outlook.mean == 0 else float("inf")
        return self.outlook.mean / self.previous_observed

    @property
    def trend(self) -> str | None:
        """up when the next six months' 80 % interval lies above the last six months' count,
        down when below, steady when it holds it (None without an outlook)."""
        o, before = self.outlook, self.previous_observed
        if o is None or before is None:
            return None
        return "up" if o.q100 > before else "down" if o.q900 < before else "steady"

    def record(self) -> dict[str, Any]:
        """The row as flat JSON-ready values (the API's, the CLI's and the CSV's columns)."""
        o, s, sh = self.outlook, self.season, self.shift
        ratio = self.ratio
        return {
            "kind": self.kind,
            "name": self.name,
            "series_id": self.series.id,
            "series_key": self.series.key,
            "country": self.series.country,
            "region": self.series.region,
            "actor": self.series.actor,
            "event_type": self.series.event_type,
            "recent_observed": self.recent_observed,
            "recent_forecast": None if self.recent_forecast is None else round(
                self.recent_forecast, 2),
            "previous_observed": self.previous_observed,
            "outlook_mean": None if o is None else round(o.mean, 2),
            "outlook_low_80": None if o is None else o.q100,
            "outlook_high_80": None if o is None else o.q900,
            "outlook_first_month": None if o is None else o.first_month,
            "trend": self.trend,
            "trend_ratio": None if ratio is None or ratio == float("inf") else round(ratio, 3),
            "shift": None if sh is None else sh.direction,
            "shift_month": None if sh is None else sh.month,
            "shift_probability": None if sh is None else round(sh.probability, 3),
            "season_rate_ratio": None if s is None else s.rate_ratio,
            "season_ci_low": None if s is None else s.ci_low,
            "season_ci_high": None if s is None else s.ci_high,
            "open_escalations": len(self.escalations),
            "escalation_ids": self.escalations,
        }  # fmt: skip


@dataclass
class Overview:
    """A country's overview in one published run of one measure."""

    source: str
    country: str
    measure: str
    run_id: int | None
    last_complete_month: dt.date | None
    recent_months: tuple[dt.date, dt.date] | None
    rows: list[OverviewRow]

    def of_kind(self, kind: str) -> list[OverviewRow]:
        return [r for r in self.rows if r.kind == kind]


def country_overview(
    session: Session, country: str, measure: str = EVENTS, source: str | None = None
) -> Overview:
    """The overview of `country` (any case) from the published run of `measure`; with several
    sources, the one with the most series unless `source` is named."""
    labels = [s for s in series_catalogue(session, SeriesFilter(source, country))
              if s.level in LEVEL_OF_KIND.values()]  # fmt: skip
    if not labels:
        held = sorted({s.country for s in series_catalogue(session)})
        raise UnknownCountry(f"No series for {country!r}" + (f" from {source}" if source else "")
                             + f"; countries held: {', '.join(held) or 'none'}.")  # fmt: skip
    counts: dict[str, int] = defaultdict(int)
    for s in labels:
        counts[s.source] += 1
    chosen = max(sorted(counts), key=lambda name: counts[name])
    labels = [s for s in labels if s.source == chosen]
    name = labels[0].country
    kind_of = {level: kind for kind, level in LEVEL_OF_KIND.items()}
    rows = [OverviewRow(s, kind_of[s.level]) for s in labels]
    rows.sort(key=lambda r: (KINDS.index(r.kind), r.name.casefold()))
    run_id = published_run_id(session, measure)
    last = next((c.last_complete_month for c in coverage_rows(session)
                 if c.source == chosen and c.country == name), None)  # fmt: skip
    overview = Overview(chosen, name, measure, run_id, last, None, rows)
    ids = [r.series.id for r in rows]
    if last is not None:
        _observed(session, overview, ids, last)
    if run_id is not None:
        found = outlooks(session, ids, measure, OUTLOOK_MONTHS, run_id)
        for row in rows:
            row.outlook = found.get(row.series.id)
        _forecast_of_recent(session, overview, ids, run_id)
        _shifts(session, overview, ids, run_id)
        _seasons(session, overview, ids, run_id)
    _escalations(session, overview)
    return overview


def _months_back(last: dt.date, n: int) -> dt.date:
    first = last
    for _ in range(n - 1):
        first = previous_month(first)
    return first


def _observed(session: Session, overview: Overview, ids: Sequence[int], last: dt.date) -> None:
    """The last RECENT and BEFORE complete months' counts (months without a row are zeros)."""
    column = Observation.events if overview.measure == EVENTS else Observation.fatalities
    recent_start, before_start = _months_back(last, RECENT), _months_back(last, BEFORE)
    overview.recent_months = (recent_start, last)
    sums: dict[int, list[int]] = {i: [0, 0] for i in ids}
    rows = session.execute(
        select(Observation.series_id, Observation.month, column).where(
            Observation.series_id.in_(list(ids)),
            Observation.month >= before_start,
            Observation.month <= last,
        )
    )
    for series_id, month, value in rows:
        sums[series_id][1] += int(value)
        if month >= recent_start:
            sums[series_id][0] += int(value)
    for row in overview.rows:
        row.recent_observed, row.previous_observed = sums[row.series.id]


def _forecast_of_recent(session: Session, overview: Overview, ids: Sequence[int], run: int) -> None:
    """What the run's backtest forecast for each of the last RECENT months (the forecast from the
    latest origin before each month), summed; None unless every month has one."""
    if overview.recent_months is None:
        return
    first, last = overview.recent_months
    rows = session.execute(
        select(BacktestForecast.series_id, func.count(), func.sum(BacktestForecast.mean))
        .where(BacktestForecast.run_id == run, BacktestForecast.series_id.in_(list(ids)),
               BacktestForecast.month >= first, BacktestForecast.month <= last)
        .group_by(BacktestForecast.series_id)
    )  # fmt: skip
    found = {sid: float(total) for sid, n, total in rows if n == RECENT}
    for row in overview.rows:
        row.recent_forecast = found.get(row.series.id)


def _shifts(session: Session, overview: Overview, ids: Sequence[int], run: int) -> None:
    """The most probable level shift of the last RECENT months the run saw, if above SHIFT_P."""
    latest = session.scalar(
        select(func.max(SeriesState.month)).where(SeriesState.run_id == run,
                                                  SeriesState.series_id.in_(list(ids)))
    )  # fmt: skip
    if latest is None:
        return
    start = _months_back(latest, RECENT)
    best: dict[int, Shift] = {}
    for sid, month, up, down in session.execute(
        select(SeriesState.series_id, SeriesState.month, SeriesState.p_shift_up,
               SeriesState.p_shift_down)
        .where(SeriesState.run_id == run, SeriesState.series_id.in_(list(ids)),
               SeriesState.month >= start)
    ):  # fmt: skip
        for direction, p in (("up", up), ("down", down)):
            if p > SHIFT_P and (sid not in best or p > best[sid].probability):
                best[sid] = Shift(direction, month, float(p))
    for row in overview.rows:
        row.shift = best.get(row.series.id)


def _seasons(session: Session, overview: Overview, ids: Sequence[int], run: int) -> None:
    """The rainy-season effect each series' forecast uses (the run's, as published)."""
    results = session.scalars(
        select(RunSeries).where(RunSeries.run_id == run, RunSeries.series_id.in_(list(ids)))
    )
    effects = {r.series_id: SeasonEffectRead.of(r) for r in results}
    for row in overview.rows:
        row.season = effects.get(row.series.id)


def _escalations(session: Session, overview: Overview) -> None:
    """Escalations still running in the last RECENT months, by the series they touch."""
    if overview.recent_months is None:
        return
    reads, _ = list_escalations(
        session, EscalationFilter(country=overview.country, since=overview.recent_months[0]),
        limit=1000,
    )  # fmt: skip
    touching: dict[int, list[int]] = defaultdict(list)
    for e in reads:
        if e.source != overview.source:
            continue
        for sid in sorted({p.series.id for p in e.parts if p.measure == overview.measure}):
            touching[sid].append(e.id)
    for row in overview.rows:
        row.escalations = touching.get(row.series.id, [])


def overview_rows(overview: Overview) -> list[list[Any]]:
    """The overview's rows as CSV cells (lists joined by `;`)."""
    out = []
    for row in overview.rows:
        record = row.record()
        record["escalation_ids"] = ";".join(str(i) for i in record["escalation_ids"])
        out.append([record[c] for c in OVERVIEW_COLUMNS])
    return out
