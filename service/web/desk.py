"""The desk's pages: the country picker, a country's overview, its map, the track record and
the method page, and a CSV download of every table they show.

Every figure comes from `service.desk` (the API's and the CLI's source too).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session

from service.api.deps import SessionDep
from service.api.formats import csv_response, flatten, records_csv
from service.desk.freshness import Freshness, banner, freshness
from service.desk.overview import (
    OVERVIEW_COLUMNS,
    Overview,
    OverviewRow,
    UnknownCountry,
    country_overview,
    overview_rows,
)
from service.desk.trackrecord import PEER_LABELS, backtest_record, live_by_measure
from service.forecasts.repository import outlooks
from service.forecasts.schemas import OutlookRead
from service.measures import EVENTS, MEASURES, NOUNS, file_suffix, noun
from service.series.repository import SeriesFilter, SeriesLabel, coverage_rows, series_catalogue
from service.web import assets
from service.web.auth import Viewer, viewer
from service.web.choropleth import choropleth, map_facts
from service.web.compare import build_compare
from service.web.selection import Choice
from service.web.view import DashboardPage, build_page

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=assets.TEMPLATES)
templates.env.globals["asset"] = assets.url
NO_STORE = {"Cache-Control": "no-store"}
Name = Annotated[str | None, Query(max_length=255)]

# The overview's sortable columns: the key a header link asks for, and what it sorts by.
SORTS: dict[str, Callable[[OverviewRow], Any]] = {
    "name": lambda r: r.name.casefold(),
    "recent": lambda r: r.recent_observed if r.recent_observed is not None else -1,
    "forecast": lambda r: r.recent_forecast if r.recent_forecast is not None else -1,
    "outlook": lambda r: r.outlook.mean if r.outlook else -1,
    "trend": lambda r: {"up": 2, "steady": 1, "down": 0}.get(r.trend or "", -1),
    "season": lambda r: r.season.rate_ratio if r.season and r.season.rate_ratio else -1,
    "escalations": lambda r: len(r.escalations),
}


def today(request: Request) -> dt.date:
    """Today by the app's clock (a test gives one; no wall clock in the pages' logic)."""
    return request.app.state.clock().date()


def stale_sources(request: Request, session: Session) -> list[Freshness]:
    """The sources whose data are stale today: the banner every page shows."""
    return [f for f in freshness(session, today(request)) if f.stale]


def add_freshness(request: Request, session: Session, context: dict[str, Any]) -> None:
    """Put the stale sources and the banner's sentence in a page's context."""
    stale = stale_sources(request, session)
    context["stale"] = stale
    context["stale_text"] = banner(stale, today(request)) if stale else ""


def page(
    request: Request,
    session: Session,
    name: str,
    context: dict[str, Any],
    status: int = 200,
) -> HTMLResponse:
    """Render `name` with the viewer, the address and the freshness banner."""
    who: Viewer = context["viewer"]
    context.setdefault("here", _here(request))
    if who.can_read and "stale" not in context:
        add_freshness(request, session, context)
    return templates.TemplateResponse(request, name, context, status_code=status,
                                      headers=NO_STORE)  # fmt: skip


def _here(request: Request) -> str:
    return request.url.path + (f"?{request.url.query}" if request.url.query else "")


def locked(request: Request, session: Session, who: Viewer) -> HTMLResponse:
    """The sign-in prompt in place of a page the viewer may not read."""
    context = {"viewer": who, "page": None, "sign_in_error": None}
    return page(request, session, "dashboard.html", context)


def _measure(measure: str | None) -> str:
    return measure if measure in MEASURES else EVENTS


SIGN_IN_FIRST = "Sign in first: reading needs an API key."


@dataclass(frozen=True)
class Visit:
    """A page's request and the session it reads with."""

    request: Request
    session: Session


def visit(request: Request, session: SessionDep) -> Visit:
    return Visit(request, session)


@dataclass(frozen=True)
class Asked:
    """What a country page is asked for: the country (None: not chosen) and the measure."""

    country: str | None
    measure: str | None


def asked(country: Name = None, measure: Name = None) -> Asked:
    return Asked(country or None, measure)


def asked_download(country: Annotated[str, Query(max_length=255)], measure: Name = None) -> Asked:
    return Asked(country, measure)


VisitDep = Annotated[Visit, Depends(visit)]
AskedDep = Annotated[Asked, Depends(asked)]
DownloadDep = Annotated[Asked, Depends(asked_download)]  # a download names its country


def opened(
    request: Request, session: Session, measure: str | None
) -> dict[str, Any] | HTMLResponse:
    """A country page's start: the sign-in prompt for a viewer who may not read, else the
    context every such page has (the viewer, the measure and its noun, the countries held)."""
    who = viewer(request, session)
    if not who.can_read:
        return locked(request, session, who)
    wanted = _measure(measure)
    return {
        "viewer": who,
        "measure": wanted,
        "noun": noun(wanted),
        "countries": _countries(session),
    }


def download(here: Visit, ask: Asked, write: Callable[[Overview, str], Response]) -> Response:
    """A country's table as CSV, written by `write` from its overview and measure: 401 before
    signing in, 404 for a country not held."""
    if not viewer(here.request, here.session).can_read:
        return Response(SIGN_IN_FIRST, status_code=401)
    wanted = _measure(ask.measure)
    try:
        found = country_overview(here.session, ask.country or "", wanted)
    except UnknownCountry as error:
        return Response(str(error), status_code=404)
    return write(found, wanted)


@router.get("/overview", response_class=HTMLResponse)
def overview_page(
    here: VisitDep, ask: AskedDep, sort: Name = None, order: Name = None
) -> HTMLResponse:
    """A country at a glance: its total, regions, event types and actors, sortable, with CSV."""
    request, session, country = here.request, here.session, ask.country
    context = opened(request, session, ask.measure)
    if isinstance(context, HTMLResponse):
        return context
    wanted = context["measure"]
    if not country:
        context["overview"] = None
        return page(request, session, "overview.html", context)
    try:
        found = country_overview(session, country, wanted)
    except UnknownCountry as error:
        context.update(overview=None, problem=str(error))
        return page(request, session, "overview.html", context, 404)
    key = sort if sort in SORTS else None
    descending = order != "asc" if key and key != "name" else order == "desc"
    if key:
        for kind in ("region", "event_type", "actor"):
            ordered = sorted(found.of_kind(kind), key=SORTS[key], reverse=descending)
            others = [r for r in found.rows if r.kind != kind]
            found.rows = others + ordered
    context.update(overview=found, sort=key, descending=descending, sorts=list(SORTS),
                   multi=actors_in_several_countries(session),
                   svg=choropleth(found, "outlook", noun(wanted)))  # fmt: skip
    return page(request, session, "overview.html", context)


def actors_in_several_countries(session: Session) -> set[str]:
    """Actors with a series in more than one country (they have an /actor page across them)."""
    seen: dict[str, set[str]] = {}
    for s in series_catalogue(session, SeriesFilter(level="actor_country")):
        if s.actor:
            seen.setdefault(s.actor, set()).add(s.country)
    return {actor for actor, where in seen.items() if len(where) > 1}


def _countries(session: Session) -> list[str]:
    return sorted({s.country for s in series_catalogue(session, SeriesFilter(level="country"))})


@router.get("/web/overview.csv")
def overview_csv(here: VisitDep, ask: DownloadDep) -> Response:
    """The overview's table as CSV (the same columns as `/v1/overview?format=csv`)."""

    def write(found: Overview, wanted: str) -> Response:
        name = f"overview-{found.country.replace(' ', '-')}{file_suffix(wanted)}.csv"
        return csv_response(OVERVIEW_COLUMNS, overview_rows(found), name)

    return download(here, ask, write)


@dataclass(frozen=True)
class CountryCard:
    """A country of the picker: its total series, its next six months, where its data end."""

    country: str
    series: SeriesLabel
    outlook: OutlookRead | None
    last_complete_month: dt.date | None


def country_cards(session: Session) -> list[CountryCard]:
    """One card per country held (its busiest source's country total)."""
    totals = series_catalogue(session, SeriesFilter(level="country"))
    ends = {(c.source, c.country): c.last_complete_month for c in coverage_rows(session)}
    chosen: dict[str, SeriesLabel] = {}
    for s in totals:
        chosen.setdefault(s.country, s)
    found = outlooks(session, [s.id for s in chosen.values()], EVENTS, 6)
    return [CountryCard(c, s, found.get(s.id), ends.get((s.source, c)))
            for c, s in sorted(chosen.items(), key=lambda item: item[0].casefold())]  # fmt: skip


def picker(request: Request, session: Session, who: Viewer) -> HTMLResponse | None:
    """The start page when several countries are held: pick one (None with one country)."""
    cards = country_cards(session)
    if len(cards) < 2:
        return None
    return page(request, session, "picker.html", {"viewer": who, "cards": cards})


MAP_MODES = ("outlook", "escalations")
MAP_COLUMNS = ("polygon", "region", "expected_6_months", "low_80", "high_80", "last_6_months",
               "open_escalations")  # fmt: skip


@router.get("/map", response_class=HTMLResponse)
def map_page(here: VisitDep, ask: AskedDep, colour: Name = None) -> HTMLResponse:
    """The admin1 map of a country, coloured by the six-month outlook or open escalations."""
    request, session, country = here.request, here.session, ask.country
    context = opened(request, session, ask.measure)
    if isinstance(context, HTMLResponse):
        return context
    wanted, countries = context["measure"], context["countries"]
    mode = colour if colour in MAP_MODES else "outlook"
    context.update(mode=mode, overview=None)
    chosen = country or (countries[0] if countries else None)
    if chosen is None:
        return page(request, session, "map.html", context)
    try:
        found = country_overview(session, chosen, wanted)
    except UnknownCountry as error:
        context["problem"] = str(error)
        return page(request, session, "map.html", context, 404)
    context.update(overview=found, svg=choropleth(found, mode, noun(wanted)),
                   facts=map_facts(found), columns=MAP_COLUMNS)  # fmt: skip
    return page(request, session, "map.html", context)


@router.get("/web/map.csv")
def map_csv(here: VisitDep, ask: DownloadDep) -> Response:
    """The map's numbers as CSV: each polygon and the regions it holds."""

    def write(found: Overview, wanted: str) -> Response:
        rows = [[r[c] for c in MAP_COLUMNS] for r in map_facts(found)]
        return csv_response(MAP_COLUMNS, rows, f"map-{found.country.replace(' ', '-')}.csv")

    return download(here, ask, write)


def _track_tables(session: Session) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """The track record's tables per measure, as flat records (the page and its CSV)."""
    live = live_by_measure(session)
    out: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for measure in MEASURES:
        rec, back = live[measure], backtest_record(session, measure)
        horizons = [{"horizon": h, **asdict(a)} for h, a in rec.by_horizon]
        live_levels = [{"level": lv, **asdict(a)} for lv, a in rec.by_level]
        runs = [{"run_id": r.run_id, "measure": measure, **asdict(r.accuracy)}
                for r in rec.by_run]  # fmt: skip
        levels = []
        for lv in back.by_level:
            row: dict[str, Any] = {"level": lv.level, "series": lv.series,
                                   "engine_crps": lv.engine.crps,
                                   "engine_coverage_80": lv.engine.coverage_80,
                                   "engine_coverage_95": lv.engine.coverage_95}  # fmt: skip
            for p in lv.peers:
                row[f"{p.model}_crps"] = p.crps
                row[f"skill_vs_{p.model}"] = lv.skill[p.model]
            levels.append(row)
        coverage = [asdict(c) for c in back.by_horizon]
        out[measure] = {"overall": [{"measure": measure, **asdict(rec.overall)}],
                        "horizons": horizons, "runs": runs, "live_levels": live_levels,
                        "levels": levels,
                        "coverage": coverage, "run": [{"run_id": back.run_id}]}  # fmt: skip
    return out


TRACK_TABLES = ("horizons", "runs", "live_levels", "levels", "coverage")


@router.get("/track-record", response_class=HTMLResponse)
def track_record(request: Request, session: SessionDep) -> HTMLResponse:
    """How the published forecasts did, per measure: live scores and the published run's
    backtest beside the naive peers."""
    who = viewer(request, session)
    if not who.can_read:
        return locked(request, session, who)
    context = {"viewer": who, "tables": _track_tables(session), "nouns": NOUNS,
               "peers": PEER_LABELS}  # fmt: skip
    return page(request, session, "track_record.html", context)


@router.get("/web/track-record.csv")
def track_record_csv(
    request: Request,
    session: SessionDep,
    table: Annotated[str, Query(max_length=20)],
    measure: Annotated[str, Query(max_length=20)] = EVENTS,
) -> Response:
    """One table of the track record as CSV."""
    if not viewer(request, session).can_read:
        return Response(SIGN_IN_FIRST, status_code=401)
    if table not in TRACK_TABLES or measure not in MEASURES:
        return Response(f"table is one of {', '.join(TRACK_TABLES)}; measure events or "
                        "fatalities", status_code=400)  # fmt: skip
    rows = _track_tables(session)[measure][table]
    return records_csv(rows, f"track-record-{table}{file_suffix(measure)}.csv", ["empty"])


@router.get("/method", response_class=HTMLResponse)
def method(request: Request, session: SessionDep) -> HTMLResponse:
    """What the model is, what the intervals mean, and the known limits, in plain words."""
    who = viewer(request, session)
    return page(request, session, "method.html", {"viewer": who})


DASHBOARD_TABLES = ("forecast", "anomalies", "effects", "runs", "coverage")


def _dashboard_rows(page: DashboardPage, table: str) -> list[dict[str, Any]]:
    """One of the dashboard's tables as flat records (what the page shows, every digit)."""
    if table == "forecast":
        points = page.chart.forecast.points if page.chart and page.chart.forecast else []
        key = page.info.key if page.info else None
        return [{"series_key": key, "measure": page.measure, **p.model_dump()} for p in points]
    if table == "anomalies":
        return [flatten(a.model_dump(mode="json")) for a in page.anomalies]
    if table == "effects":
        return [{"series_id": e.row.series.id, "series_key": e.row.series.key, "label": e.label,
                 **e.row.effect.model_dump()} for e in page.effects]  # fmt: skip
    if table == "runs":
        return [{"id": r.id, "measure": r.measure, "status": r.status, "started_at": r.started_at,
                 "finished_at": r.finished_at, "n_series": r.n_series, "n_failed": r.n_failed}
                for r in page.runs]  # fmt: skip
    return [asdict(c) for c in page.coverage]


@router.get("/web/dashboard.csv")
def dashboard_csv(
    request: Request,
    session: SessionDep,
    table: Annotated[str, Query(max_length=20)],
    series: Annotated[str | None, Query(max_length=600)] = None,
    measure: Name = None,
) -> Response:
    """A table of the dashboard (of the series `series`) as CSV: the forecast, the anomalies,
    the rainy-season effects, the runs or the coverage."""
    if not viewer(request, session).can_read:
        return Response(SIGN_IN_FIRST, status_code=401)
    if table not in DASHBOARD_TABLES:
        return Response(f"table is one of {', '.join(DASHBOARD_TABLES)}", status_code=400)
    built = build_page(session, Choice(), series or None, measure=_measure(measure))
    suffix = f"-{built.info.id}" if built.info and table in ("forecast", "anomalies") else ""
    name = f"{table}{suffix}{file_suffix(built.measure)}.csv"
    return records_csv(_dashboard_rows(built, table), name, ["empty"])


@router.get("/actor", response_class=HTMLResponse)
def actor_page(
    request: Request,
    session: SessionDep,
    name: Annotated[str, Query(max_length=255)] = "",
    measure: Name = None,
) -> HTMLResponse:
    """One page for an actor across every country it is active in: a row per country (its
    own series, as the country's overview shows it), its chart in each country on one scale,
    and links to the actor across the regions of each."""
    who = viewer(request, session)
    if not who.can_read:
        return locked(request, session, who)
    wanted = _measure(measure)
    found = series_catalogue(session, SeriesFilter(actor=name or None, level="actor_country"))
    context: dict[str, Any] = {"viewer": who, "measure": wanted, "noun": noun(wanted),
                               "name": name, "rows": [], "compare": None}  # fmt: skip
    if not name or not found:
        actors = sorted({s.actor for s in series_catalogue(session, SeriesFilter(
            level="actor_country")) if s.actor}, key=str.casefold)  # fmt: skip
        context["actors"] = actors
        context["problem"] = f"No actor {name!r}." if name else None
        return page(request, session, "actor.html", context, 404 if name else 200)
    rows = []
    for label in sorted(found, key=lambda s: (s.country, s.source)):
        overview = country_overview(session, label.country, wanted, label.source)
        row = next((r for r in overview.of_kind("actor") if r.series.id == label.id), None)
        if row is not None:
            rows.append((overview, row))
    canonical = found[0].actor
    compare = build_compare(session, SeriesFilter(actor=canonical), wanted, "actor_country")
    context.update(name=canonical, rows=rows, compare=compare)
    return page(request, session, "actor.html", context)
