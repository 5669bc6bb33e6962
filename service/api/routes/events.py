"""The drill-down: the events behind a series-month, from a series or from an anomaly."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from service.anomalies.repository import get_anomaly
from service.api.deps import ReadDep, SessionDep
from service.api.formats import CSV_RESPONSE, csv_response, wants_csv
from service.api.lookups import not_found, series_or_404
from service.api.params import FormatParam, Id, Month, PageDep, SeriesRefParam
from service.api.problems import problems
from service.api.routes import V1
from service.api.schemas.common import SeriesLabel
from service.api.schemas.events import EventRead, SeriesEventPage
from service.ingest.export import CSV_HEADER, csv_row
from service.ingest.repository import series_events
from service.series.repository import SeriesLabel as Label

router = APIRouter(prefix=V1, tags=["events"], responses=problems(401, 422))
MonthParam = Annotated[Month, Query(description="The month, as YYYY-MM.")]


def _answer(
    request: Request,
    session: SessionDep,
    series: Label,
    month: dt.date,
    limit: int,
    offset: int,
    format: str | None,
) -> Response | SeriesEventPage:
    rows, total = series_events(session, series.id, month, limit=limit, offset=offset)
    if wants_csv(request, format):
        name = f"events-{series.id}-{month:%Y-%m}.csv"
        return csv_response(CSV_HEADER, [csv_row(r) for r in rows], name)
    return SeriesEventPage(
        total=total,
        limit=limit,
        offset=offset,
        series=SeriesLabel.of(series),
        month=month,
        items=[EventRead.of(r) for r in rows],
    )


@router.get(
    "/series/{ref}/events",
    response_model=SeriesEventPage,
    responses={200: CSV_RESPONSE, **problems(404)},
    summary="The events behind a series' month",
)
def series_month_events(
    request: Request,
    session: SessionDep,
    _: ReadDep,
    ref: SeriesRefParam,
    month: MonthParam,
    page: PageDep,
    format: FormatParam = None,
) -> Response | SeriesEventPage:
    """Exactly the events the series counted in `month` (their number is the month's `events`),
    by date. `format=csv` exports the page (raise `limit` to 1000 to take a month whole)."""
    series = series_or_404(session, ref)
    return _answer(request, session, series, month, page.limit, page.offset, format)


@router.get(
    "/anomalies/{anomaly_id}/events",
    response_model=SeriesEventPage,
    responses={200: CSV_RESPONSE, **problems(404)},
    summary="The events behind an anomaly",
)
def anomaly_events(
    request: Request,
    session: SessionDep,
    _: ReadDep,
    anomaly_id: Id,
    page: PageDep,
    format: FormatParam = None,
) -> Response | SeriesEventPage:
    """The events of the anomaly's series in the anomaly's month."""
    anomaly = get_anomaly(session, anomaly_id)
    if anomaly is None:
        raise not_found("anomaly", anomaly_id)
    return _answer(request, session, anomaly.series, anomaly.month, page.limit, page.offset, format)
