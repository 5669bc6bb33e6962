"""Anomalies with filters, and their acknowledgement (admin)."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

from fastapi import Depends, Query, Response

from service.anomalies.repository import get_anomaly, list_anomalies
from service.anomalies.schemas import AnomalyFilter
from service.anomalies.service import AnomalyNotFound, acknowledge
from service.anomalies.severity import Direction, Kind, Origin, Severity, Status
from service.api.deps import AdminDep, SessionDep
from service.api.formats import records_csv
from service.api.lookups import found_or_404, not_found, series_or_404
from service.api.params import AsCsv, Id, IsoDate, PageDep, SeriesFilterDep, Text
from service.api.problems import problems
from service.api.routes import list_route, read_router
from service.api.schemas.anomalies import AnomalyPage, AnomalyRead
from service.measures import Measure

router = read_router("anomalies")


async def anomaly_filter(
    series_filter: SeriesFilterDep,
    since: Annotated[IsoDate | None, Query(description="Months from this one on.")] = None,
    until: Annotated[IsoDate | None, Query(description="Months up to this one.")] = None,
    severity: Annotated[Severity | None, Query(description="Exactly this severity.")] = None,
    min_severity: Annotated[Severity | None, Query(description="At least this severity.")] = None,
    direction: Annotated[Direction | None, Query()] = None,
    status: Annotated[Status | None, Query()] = None,
    origin: Annotated[
        Origin,
        Query(description="`live` flags; `backtest` ones (evaluation history) only when asked."),
    ] = "live",
    measure: Annotated[
        Measure | None, Query(description="`events`, or deaths (`fatalities`); both if absent.")
    ] = None,
    kind: Annotated[
        Kind | None, Query(description="`interval`, or `new` for series' first appearances.")
    ] = None,
    alert: Annotated[bool | None, Query(description="Only alert-worthy (or suppressed).")] = None,
) -> AnomalyFilter:
    return AnomalyFilter(
        since=since,
        until=until,
        severity=severity,
        min_severity=min_severity,
        direction=direction,
        status=status,
        origin=origin,
        measure=measure,
        kind=kind,
        alert=alert,
        series=series_filter,
    )


AnomalyFilterDep = Annotated[AnomalyFilter, Depends(anomaly_filter)]


@list_route(router, "/anomalies", AnomalyPage, "Anomalies", 404)
def list_(
    session: SessionDep,
    filters: AnomalyFilterDep,
    page: PageDep,
    as_csv: AsCsv,
    series: Annotated[Text | None, Query(max_length=600, description="A series id or key.")] = None,
) -> Response | AnomalyPage:
    """Observed months outside the interval forecast before them, newest first; `format=csv`
    gives the page as flat columns (`series_key`, `series_country`, …)."""
    if series is not None:
        filters = replace(filters, series_id=series_or_404(session, series).id)
    rows, total = list_anomalies(session, filters, limit=page.limit, offset=page.offset)
    items = [AnomalyRead.of(read) for read in rows]
    if as_csv:
        return records_csv(items, "anomalies.csv", list(AnomalyRead.model_fields))
    return AnomalyPage.of(page, total, items)


@router.get("/anomalies/{anomaly_id}", responses=problems(404), summary="One anomaly")
def get_(session: SessionDep, anomaly_id: Id) -> AnomalyRead:
    return AnomalyRead.of(found_or_404(get_anomaly(session, anomaly_id), "anomaly", anomaly_id))


@router.post(
    "/anomalies/{anomaly_id}/acknowledge",
    responses=problems(403, 404),
    summary="Acknowledge an anomaly (admin)",
)
def acknowledge_(session: SessionDep, _: AdminDep, anomaly_id: Id) -> AnomalyRead:
    """Mark the anomaly seen; acknowledging twice keeps the first time."""
    try:
        acknowledge(session, anomaly_id)
    except AnomalyNotFound as error:
        raise not_found("anomaly", anomaly_id) from error
    return AnomalyRead.of(found_or_404(get_anomaly(session, anomaly_id), "anomaly", anomaly_id))
