"""The compare view: small multiples of related series on one y scale.

`/compare?actor=JNIM` shows the actor in each of its regions; `/compare?region=Sahel` every
actor in the region. Each panel is the dashboard's fan chart, smaller, with the rainy seasons
of its own place shaded; the y scale is shared so that panel heights compare.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from service.forecasts.repository import published_run
from service.measures import EVENTS, noun
from service.series.repository import SeriesFilter, SeriesLabel, get_series, series_catalogue
from service.web.chartdata import describe, load_chart, series_label
from service.web.plotting import chart_top, small_multiple
from service.web.render import svg_markup

MAX_PANELS = 24
HISTORY_MONTHS = 60  # five years: the panels are small


@dataclass(frozen=True)
class Panel:
    series: SeriesLabel
    title: str
    svg: str
    total: int


@dataclass
class ComparePage:
    """What `/compare` shows: the panels, their shared scale, and what was asked."""

    heading: str
    ask: SeriesFilter
    panels: list[Panel] = field(default_factory=list)
    ymax: float = 0.0
    left_out: int = 0  # panels beyond MAX_PANELS
    problem: str | None = None
    measure: str = EVENTS
    actors: list[str] = field(default_factory=list)  # what the form offers
    regions: list[str] = field(default_factory=list)
    countries: list[str] = field(default_factory=list)

    @property
    def noun(self) -> str:
        return noun(self.measure)


def _scope(ask: SeriesFilter, actor_level: str = "actor_region") -> SeriesFilter | None:
    """The series to compare, or None when neither an actor nor a region is asked (an actor's
    regions; with `actor_level="actor_country"`, its countries)."""
    if ask.actor:
        return SeriesFilter(ask.source, ask.country, actor=ask.actor, level=actor_level)
    if ask.region:
        return SeriesFilter(ask.source, ask.country, ask.region, level="actor_region")
    return None


def _heading(ask: SeriesFilter, first: SeriesLabel | None) -> str:
    """The page's heading, with the stored spelling of the names when a series was found."""
    actor = first.actor if first and ask.actor else ask.actor
    region = first.region if first and ask.region else ask.region
    country = first.country if first and ask.country else ask.country
    if actor:
        return f"{actor} across its regions" + (f" in {country}" if country else "")
    return f"All actors in {region}" + (f", {country}" if country else "")


def nice_ceiling(value: float) -> float:
    """A round top for the shared axis (1, 2, 2.5 or 5 times a power of ten, at least 1)."""
    if value <= 1:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    return next(step * power for step in (1, 2, 2.5, 5, 10) if step * power >= value)


def _offers(session: Session, page: ComparePage) -> None:
    """What the form's selects offer: the actors and regions with series (in the country)."""
    rows = series_catalogue(session, SeriesFilter(page.ask.source, level="actor_region"))
    page.countries = sorted({s.country for s in rows}, key=str.casefold)
    if page.ask.country:
        rows = [s for s in rows if s.country.casefold() == page.ask.country.casefold()]
    page.actors = sorted({s.actor for s in rows if s.actor}, key=str.casefold)
    page.regions = sorted({s.region for s in rows if s.region}, key=str.casefold)


def build_compare(
    session: Session, ask: SeriesFilter, measure: str = EVENTS, actor_level: str = "actor_region"
) -> ComparePage:
    """Read and draw the panels `ask` names (an actor, or a region), on one y scale, counting
    `measure` (events, or fatalities: deaths, with the fatalities run's forecasts); an actor
    is drawn in each of its regions, or (`actor_level="actor_country"`) of its countries."""
    filters = _scope(ask, actor_level)
    if filters is None:
        page = ComparePage("Compare", ask, problem="Choose an actor or a region to compare.",
                           measure=measure)  # fmt: skip
        _offers(session, page)
        return page
    found = series_catalogue(session, filters)
    heading = _heading(ask, found[0] if found else None)
    page = ComparePage(heading, ask, measure=measure)
    _offers(session, page)
    page.left_out = max(0, len(found) - MAX_PANELS)
    run = published_run(session, measure)
    charts = []
    for label in found[:MAX_PANELS]:
        info = get_series(session, label.id)
        assert info is not None
        data = load_chart(session, info, run.id if run else None, history_months=HISTORY_MONTHS,
                          measure=measure)  # fmt: skip
        charts.append((label, info.total_events, data))
    if not charts:
        page.problem = "No series matches: " + heading + "."
        return page
    # Busiest first: the panels an analyst reads first are the ones with most to say.
    charts.sort(key=lambda item: (-item[1], item[0].key))
    page.ymax = nice_ceiling(max(chart_top(data) for _, _, data in charts))
    for i, (label, total, data) in enumerate(charts):
        title = series_label(label, country=ask.country is None)
        svg = svg_markup(small_multiple(data, ymax=page.ymax), title=title, desc=describe(data),
                         ident=f"panel-{i}", attrs={"series-id": str(label.id),
                                                    "ymax": f"{page.ymax:g}"})  # fmt: skip
        page.panels.append(Panel(label, title, svg, total))
    return page
