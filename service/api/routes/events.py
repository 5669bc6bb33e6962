"""The drill-down: the events behind a series-month, from a series or from an anomaly."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import Query, Response

from service.anomalies.repository import get_anomaly
from service.api.deps import SessionDep
from service.api.formats import csv_response
from service.api.lookups import not_found, series_or_404
from service.api.params import AsCsv, Id, Month, Page, PageDep, SeriesRefParam
from service.api.routes import list_route, read_router
from service.api.schemas.events import EventRead, SeriesEventPage
from service.ingest.export import CSV_HEADER, csv_row
from service.ingest.repository import series_events
from service.series.repository import SeriesLabel

router = read_router("events")
MonthParam = Annotated[Month, Query(description="The month, as YYYY-MM.")]


def _answer(
    session: SessionDep, series: SeriesLabel, month: dt.date, page: Page, as_csv: bool
) -> Response | SeriesEventPage:
    rows, total = series_events(session, series.id, month, limit=page.limit, offset=page.offset)
    if as_csv:
        name = f"events-{series.id}-{month:%Y-%m}.csv"
        return csv_response(CSV_HEADER, [csv_row(r) for r in rows], name)
    items = [EventRead.of(r) for r in rows]
    return SeriesEventPage.of(page, total, items, series=series, month=month)


@list_route(
    router, "/series/{ref}/events", SeriesEventPage, "The events behind a series' month", 404
)
def series_month_events(
    session: SessionDep,
    ref: SeriesRefParam,
    month: MonthParam,
    page: PageDep,
    as_csv: AsCsv,
) -> Response | SeriesEventPage:
    """Exactly the events the series counted in `month` (their number is the month's `events`),
    by date. `format=csv` exports the page (raise `limit` to 1000 to take a month whole)."""
    series = series_or_404(session, ref)
    return _answer(session, series, month, page, as_csv)


@list_route(
    router, "/anomalies/{anomaly_id}/events", SeriesEventPage, "The events behind an anomaly", 404
)
def anomaly_events(
    session: SessionDep, anomaly_id: Id, page: PageDep, as_csv: AsCsv
) -> Response | SeriesEventPage:
    """The events of the anomaly's series in the anomaly's month."""
    anomaly = get_anomaly(session, anomaly_id)
    if anomaly is None:
        raise not_found("anomaly", anomaly_id)
    return _answer(session, anomaly.series, anomaly.month, page, as_csv)
