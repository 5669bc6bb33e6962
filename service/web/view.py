"""What one dashboard render shows, read in one session from one published run."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from service.anomalies.repository import list_anomalies
from service.anomalies.schemas import AnomalyFilter, AnomalyRead
from service.escalations.headline import headline
from service.escalations.repository import escalation_reads
from service.escalations.schemas import EscalationRead
from service.forecasts.repository import list_runs, published_run, series_outlook, series_states
from service.forecasts.schemas import OutlookRead, RunRead, StateRead
from service.measures import EVENTS, MEASURES, link_query, noun
from service.series.repository import (
    CoverageRow,
    SeriesFilter,
    SeriesInfo,
    SeriesLabel,
    coverage_rows,
    get_series,
    series_catalogue,
)
from service.web.chartdata import ChartData, describe, load_chart, series_label
from service.web.drilldown import EventsPanel, load_panel, month_link
from service.web.plotting import fan_chart
from service.web.queries import SeasonEffectRow, season_effects
from service.web.render import svg_markup
from service.web.seasons import describe_window
from service.web.selection import Choice, Resolved, resolve

ANOMALY_ROWS = 12
RUN_ROWS = 5
STRIP_MONTHS = 24  # the months strip: two years of links into the events panel
LEVEL_ORDER = ("country", "country_type", "region", "region_type", "actor_country",
               "actor_region", "actor_region_type")  # fmt: skip
BASELINES = ("seasonal_naive", "poisson_last")
# The effects table's log scale: rate ratios from 1/8 to 8.
SCALE_MAX = 8.0


@dataclass(frozen=True)
class EffectView:
    """One row of the rainy-season effects table, with positions on its log-scale bar (%)."""

    row: SeasonEffectRow
    label: str
    current: bool

    @property
    def bar(self) -> dict[str, float] | None:
        r = self.row.effect
        if r.rate_ratio is None or r.ci_low is None or r.ci_high is None:
            return None
        lo, hi, mid = (_position(v) for v in (r.ci_low, r.ci_high, r.rate_ratio))
        return {"left": lo, "width": max(hi - lo, 0.6), "point": mid}


@dataclass(frozen=True)
class Skill:
    """The chosen model's backtest score against the best naive baseline."""

    model: str
    crps: float
    baseline: str
    baseline_crps: float
    coverage_80: float | None
    coverage_95: float | None

    @property
    def skill(self) -> float:
        """1 - CRPS / baseline CRPS: above 0 beats the baseline."""
        return 1.0 - self.crps / self.baseline_crps if self.baseline_crps > 0 else math.nan


REGIME_MONTHS = 6  # how far back the page looks for the likeliest shift


@dataclass(frozen=True)
class Regime:
    """The published run's reading of a series' recent months: where its level stands, the
    month of the last REGIME_MONTHS most likely to have shifted it up (and down), and whether
    the latest month was a one-off. The same posteriors `/v1/series/{ref}/states` serves."""

    latest: StateRead
    up: StateRead
    down: StateRead

    @classmethod
    def of(cls, states: list[StateRead]) -> Regime | None:
        if not states:
            return None
        recent = states[-REGIME_MONTHS:]
        return cls(
            states[-1],
            max(recent, key=lambda s: s.p_shift_up),
            max(recent, key=lambda s: s.p_shift_down),
        )


@dataclass
class DashboardPage:
    resolved: Resolved
    info: SeriesInfo | None = None
    chart: ChartData | None = None
    chart_svg: str = ""
    chart_desc: str = ""
    run: RunRead | None = None
    runs: list[RunRead] = field(default_factory=list)
    skill: Skill | None = None
    season_window: str = ""
    effects: list[EffectView] = field(default_factory=list)
    effects_scope: str = ""
    anomalies: list[AnomalyRead] = field(default_factory=list)
    anomalies_total: int = 0
    anomaly_labels: dict[int, str] = field(default_factory=dict)
    escalations: dict[int, EscalationRead] = field(default_factory=dict)
    coverage: list[CoverageRow] = field(default_factory=list)
    months: list[MonthLink] = field(default_factory=list)
    events: EventsPanel | None = None
    measure: str = EVENTS  # what the chart, effects and anomalies count: events or deaths
    origin: str = "live"  # the anomaly list's flags: live, or the backtest's when asked for
    escalation_id: int | None = None  # the anomaly list shows this escalation's parts
    escalation_headlines: dict[int, str] = field(default_factory=dict)  # what each one says
    measure_notice: str = ""
    outlook: OutlookRead | None = None  # the next six months' total, from the run's paths
    regime: Regime | None = None

    @property
    def noun(self) -> str:
        return noun(self.measure)

    @property
    def measure_query(self) -> str:
        """What links add to keep the measure shown: '' for events, '&measure=fatalities'."""
        return link_query(self.measure)


@dataclass(frozen=True)
class MonthLink:
    """A known month of the shown series and the link that opens its events."""

    month: dt.date
    count: int  # of the page's measure
    href: str
    current: bool


def build_page(
    session: Session,
    asked: Choice,
    series_ref: str | None = None,
    month: str | None = None,
    offset: int = 0,
    measure: str | None = None,
    *,
    origin: str | None = None,
    escalation: int | None = None,
) -> DashboardPage:
    """Read everything the dashboard shows for the form's choice (or a series id/key), of
    `measure` (events, or fatalities: the deaths), and with `month` (YYYY-MM) the events
    behind that month of the shown series."""
    catalogue = series_catalogue(session)
    if series_ref:
        named = next((s for s in catalogue if str(s.id) == series_ref or s.key == series_ref), None)
        asked = Choice.of(named) if named is not None else asked
    page = DashboardPage(resolve(catalogue, asked))
    if measure in MEASURES:
        page.measure = measure
    elif measure:
        page.measure_notice = (f"Unknown measure {measure!r} (events or fatalities): "
                               "showing events.")  # fmt: skip
    # Live flags unless the backtest's are asked for; `escalation`: that escalation's parts.
    page.origin = "backtest" if origin == "backtest" else "live"
    page.escalation_id = escalation
    # The pointer, read once: every read below uses this run.
    page.run = published_run(session, page.measure)
    page.runs = list_runs(session, limit=RUN_ROWS)
    page.coverage = coverage_rows(session)
    series = page.resolved.series
    if series is None:
        return page
    page.info = get_series(session, series.id)
    assert page.info is not None
    page.chart = load_chart(session, page.info, page.run.id if page.run else None,
                            measure=page.measure)  # fmt: skip
    page.chart_desc = describe(page.chart)
    page.chart_svg = svg_markup(
        fan_chart(page.chart),
        title=f"Monthly {page.noun} and forecast: {page.chart.label}",
        desc=page.chart_desc,
        ident="fan-chart",
        attrs=_chart_attrs(page.chart),
    )
    page.skill = _skill(page.chart)
    if page.run is not None:
        page.outlook = series_outlook(session, series.id, page.measure, 6, page.run.id)
        page.regime = Regime.of(series_states(session, series.id, page.measure, page.run.id))
    page.season_window = describe_window(page.info.country, page.info.region)
    _effects(session, page)
    _anomalies(session, page, catalogue)
    _months(page, month)
    if month:
        page.events = load_panel(session, series.id, month, offset)
    return page


def _months(page: DashboardPage, asked: str | None) -> None:
    """The last known months of the shown series, newest last, each a link to its events."""
    assert page.chart is not None
    assert page.info is not None
    known = page.chart.known.tail(STRIP_MONTHS)
    page.months = [
        MonthLink(day, int(count), month_link(page.info.id, day, measure=page.measure),
                  f"{day:%Y-%m}" == asked)
        for day, count in zip((m.date() for m in known["month"]), known["count"], strict=True)
    ]  # fmt: skip


def _chart_attrs(chart: ChartData) -> dict[str, Any]:
    forecast = chart.forecast
    return {
        "series-id": str(chart.info.id),
        "series-key": chart.info.key,
        "run-id": str(forecast.run_id) if forecast else "",
        "forecast-months": str(len(forecast.points)) if forecast else "0",
        "anomalies": str(len(chart.anomalies)),
    }


def _skill(chart: ChartData) -> Skill | None:
    forecast = chart.forecast
    if forecast is None or not forecast.model:
        return None
    scores = forecast.scores or {}
    own = scores.get(forecast.model) or {}
    baselines = [
        (b, scores[b]["crps"])
        for b in BASELINES
        if isinstance(scores.get(b), dict) and scores[b].get("crps") is not None
    ]
    if own.get("crps") is None or not baselines:
        return None
    name, crps = min(baselines, key=lambda item: item[1])
    return Skill(forecast.model, float(own["crps"]), name, float(crps),
                 own.get("coverage_80"), own.get("coverage_95"))  # fmt: skip


def _effects(session: Session, page: DashboardPage) -> None:
    """The effects of the series around the chosen one: an actor's regions, a region's actors,
    or, with neither chosen, the country's roll-ups (its event types among them)."""
    choice, run = page.resolved.choice, page.run
    if run is None:
        return
    if choice.actor:
        scope = SeriesFilter(choice.source, choice.country, actor=choice.actor)
        page.effects_scope = f"{choice.actor}, by region"
    elif choice.region:
        scope = SeriesFilter(choice.source, choice.country, region=choice.region)
        page.effects_scope = f"all actors in {choice.region}"
    else:
        scope = SeriesFilter(choice.source, choice.country)
        page.effects_scope = f"{choice.country}: country, event types, regions and actors"
    rows = season_effects(session, run.id, scope)
    if not (choice.actor or choice.region):
        kept = ("country", "country_type", "region", "actor_country")
        rows = [r for r in rows if r.series.level in kept]
    if choice.actor and not choice.event_type:
        rows = [r for r in rows if r.series.event_type is None]
    rows.sort(key=lambda r: (LEVEL_ORDER.index(r.series.level), _label(r).casefold()))
    current = page.info.id if page.info else None
    page.effects = [EffectView(r, _label(r), r.series.id == current) for r in rows]


def _label(row: SeasonEffectRow) -> str:
    s = row.series
    parts = [s.region or ("all regions" if s.actor else "whole country"), s.actor or "all actors"]
    if s.event_type:
        parts.append(s.event_type)
    return " · ".join(parts)


def _anomalies(session: Session, page: DashboardPage, catalogue: list[SeriesLabel]) -> None:
    """The latest anomalies of the chosen scope (blank choices: any), live and backtest."""
    c = page.resolved.choice
    scope = SeriesFilter(c.source, c.country, c.region, c.actor, c.event_type)
    if page.escalation_id is not None:  # the escalation's parts, whatever the selection
        wanted = AnomalyFilter(origin=None, escalation_id=page.escalation_id)
    else:
        wanted = AnomalyFilter(origin=page.origin, measure=page.measure, series=scope)
    page.anomalies, page.anomalies_total = list_anomalies(session, wanted, limit=ANOMALY_ROWS)
    grouped = sorted({a.escalation_id for a in page.anomalies if a.escalation_id is not None})
    page.escalations = {e.id: e for e in escalation_reads(session, grouped)}
    page.escalation_headlines = {i: headline(e) for i, e in page.escalations.items()}
    ids = {a.series_id for a in page.anomalies}
    ids |= {e.headline_series_id for e in page.escalations.values()}
    page.anomaly_labels = {s.id: series_label(s, country=False) for s in catalogue if s.id in ids}


def _position(value: float) -> float:
    """Where a rate ratio falls on the bar, in % (log scale from 1/8 to 8, clipped)."""
    if value <= 0:
        return 0.0
    x = (math.log(value) + math.log(SCALE_MAX)) / (2 * math.log(SCALE_MAX))
    return round(100 * min(1.0, max(0.0, x)), 2)
