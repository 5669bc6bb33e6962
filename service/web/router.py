"""The dashboard at `/`: server-rendered HTML, the chart inline as SVG, plain forms.

Routes are left out of the OpenAPI schema (they answer HTML, not the API's JSON). Reads follow
the API's `public_read` setting; a key can be given once and is kept in a cookie (see `auth`).
"""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from service.anomalies.service import AnomalyNotFound, acknowledge
from service.api.deps import SessionDep
from service.api.formats import csv_response
from service.api.params import MAX_ID, Id
from service.api.strictquery import KnownQuery
from service.ingest.export import CSV_HEADER, csv_row
from service.ingest.repository import all_series_events
from service.measures import EVENTS, MEASURES
from service.series.repository import SeriesFilter
from service.web import assets, auth
from service.web.auth import Viewer, check_key, local_path, same_origin, viewer
from service.web.compare import build_compare
from service.web.desk import NO_STORE, Name, add_freshness, locked, picker, templates
from service.web.desk import router as desk_router
from service.web.drilldown import parse_month
from service.web.selection import Choice
from service.web.view import build_page

router = APIRouter(include_in_schema=False)
router.include_router(desk_router)  # overview, map, track record, method (service/web/desk)


def _page(request: Request, name: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    return templates.TemplateResponse(request, name, context, status_code=status, headers=NO_STORE)


def _message(
    request: Request, who: Viewer | None, status: int, title: str, text: str, back: str = "/"
) -> HTMLResponse:
    context = {"viewer": who, "title": title, "text": text, "back": local_path(back)}
    return _page(request, "message.html", context, status)


def chosen(
    source: Name = None,
    country: Name = None,
    region: Name = None,
    actor: Name = None,
    event_type: Name = None,
) -> Choice:
    """The series the query string chooses (an empty field chooses nothing)."""
    return Choice(*(v or None for v in (source, country, region, actor, event_type)))


def compared(
    actor: Name = None, region: Name = None, country: Name = None, source: Name = None
) -> SeriesFilter:
    """What /compare draws: an actor across its regions (a region chosen beside the actor in
    the form is left out), or the actors of a region."""
    region = None if actor else region
    return SeriesFilter(source or None, country or None, region or None, actor or None)


@router.get("/", response_class=HTMLResponse)
def dashboard(
    request: Request,
    session: SessionDep,
    choice: Annotated[Choice, Depends(chosen)],
    series: Annotated[str | None, Query(max_length=600)] = None,
    month: Annotated[str | None, Query(max_length=20)] = None,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    measure: Name = None,
    origin: Name = None,
    escalation: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> HTMLResponse:
    """The analyst dashboard for the chosen series (or the country total), counting events or
    (`measure=fatalities`) deaths; with `month` (YYYY-MM), the events behind that month."""
    started = time.perf_counter()
    who = viewer(request, session)
    if not who.can_read:
        return locked(request, session, who)
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if not (any(choice.__dict__.values()) or series or month or measure or escalation):
        start = picker(request, session, who)  # several countries: the page starts on a choice
        if start is not None:
            return start
    page = build_page(session, choice, series or None, month or None, offset, measure or None,
                      origin=origin or None, escalation=escalation)  # fmt: skip
    elapsed_ms = (time.perf_counter() - started) * 1000
    context: dict[str, Any] = {"viewer": who, "page": page, "here": here, "elapsed_ms": elapsed_ms}
    add_freshness(request, session, context)
    response = _page(request, "dashboard.html", context)
    response.headers["Server-Timing"] = f"render;dur={elapsed_ms:.1f}"
    return response


@router.get("/compare", response_class=HTMLResponse, dependencies=[KnownQuery])
def compare(
    request: Request,
    session: SessionDep,
    ask: Annotated[SeriesFilter, Depends(compared)],
    measure: Name = None,
) -> HTMLResponse:
    """Small multiples on one y scale: an actor across its regions, or the actors of a region;
    events, or deaths with `measure=fatalities`."""
    who = viewer(request, session)
    if not who.can_read:
        return locked(request, session, who)
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    page = build_compare(session, ask, measure if measure in MEASURES else EVENTS)
    # Nothing asked is a prompt; an actor or region with no series is not found.
    status = 404 if page.problem and (ask.actor or ask.region) else 200
    return _page(request, "compare.html", {"viewer": who, "page": page, "here": here}, status)


@router.get("/web/events.csv", dependencies=[KnownQuery])
def events_csv(
    request: Request,
    session: SessionDep,
    series: Annotated[int, Query(ge=1, le=MAX_ID)],
    month: Annotated[str, Query(max_length=20)],
) -> Response:
    """The events behind a month of a series, as CSV (the events panel's download)."""
    who = viewer(request, session)
    if not who.can_read:
        return _message(request, who, 401, "Sign in first", "Reading events needs an API key.")
    day = parse_month(month)
    if day is None:
        return _message(request, who, 400, "Not a month", f"{month!r} is not a month (YYYY-MM).")
    try:
        rows = all_series_events(session, series, day)
    except LookupError:
        return _message(request, who, 404, "No such series", f"No series {series}.")
    return csv_response(CSV_HEADER, [csv_row(r) for r in rows], f"events-{series}-{day:%Y-%m}.csv")


@router.post("/web/session")
def sign_in(
    request: Request,
    session: SessionDep,
    key: Annotated[str, Form(max_length=200)],
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    """Check an API key and start a session for this browser (the cookie holds its id)."""
    if not same_origin(request):
        return _message(request, None, 403, "Refused", "This form must be sent from this site.")
    token = key.strip()
    principal = check_key(request, session, token, cached=False) if token else None
    if principal is None:
        who = Viewer(None, bool(request.app.state.settings.public_read))
        context = {"viewer": who, "page": None, "here": local_path(next),
                   "sign_in_error": "That API key is invalid or revoked."}  # fmt: skip
        return _page(request, "dashboard.html", context, 401)
    response = RedirectResponse(local_path(next), status_code=303)
    auth.sign_in(request, response, session, principal)
    return response


@router.post("/web/session/end")
def sign_out(request: Request, session: SessionDep) -> Response:
    """End this browser's session."""
    if not same_origin(request):
        return _message(request, None, 403, "Refused", "This form must be sent from this site.")
    response = RedirectResponse("/", status_code=303)
    auth.sign_out(request, response, session)
    return response


@router.post("/web/anomalies/{anomaly_id}/acknowledge")
def acknowledge_anomaly(
    request: Request,
    session: SessionDep,
    anomaly_id: Id,
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    """Acknowledge an anomaly with the admin key kept in this browser, then go back."""
    back = local_path(next)
    if not same_origin(request):
        return _message(request, None, 403, "Refused", "This form must be sent from this site.")
    who = viewer(request, session)  # the session and its key are checked in the database
    if who.principal is None:
        return _message(request, who, 401, "Sign in first",
                        "Acknowledging an anomaly needs an admin API key.", back)  # fmt: skip
    if not who.can_acknowledge:
        return _message(request, who, 403, "Admin key needed",
                        f"The key “{who.principal.name}” is a read key; acknowledging needs an "
                        "admin key (sahelcast keys create --scope admin).", back)  # fmt: skip
    try:
        acknowledge(session, anomaly_id)
    except AnomalyNotFound:
        return _message(request, who, 404, "No such anomaly", f"No anomaly {anomaly_id}.", back)
    return RedirectResponse(f"{back}#anomaly-{anomaly_id}", status_code=303)


@router.get("/web/assets/{name}")
def asset(name: str) -> Response:
    """The dashboard's stylesheet and script; versioned URLs, so they can be cached for good."""
    path = assets.path(name)
    if path is None:
        return Response(status_code=404)
    return FileResponse(path, media_type=assets.media_type(name), headers=assets.CACHE_FOREVER)
