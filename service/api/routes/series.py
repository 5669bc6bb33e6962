"""The series catalogue and a series' monthly history with coverage marks."""

from __future__ import annotations

import math
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from service.api.deps import ReadDep, SessionDep
from service.api.formats import CSV_RESPONSE, csv_response, records_csv, wants_csv
from service.api.lookups import series_or_404
from service.api.params import (
    FormatParam,
    IsoDate,
    PageDep,
    SeriesFilterDep,
    SeriesRefParam,
    Text,
)
from service.api.problems import problems
from service.api.routes import V1
from service.api.schemas.series import MonthRead, SeriesHistory, SeriesPage, SeriesRead
from service.series.repository import SeriesInfo, get_series, list_series, series_months

router = APIRouter(prefix=V1, tags=["series"], responses=problems(401, 422))


@router.get(
    "/series",
    response_model=SeriesPage,
    responses={200: CSV_RESPONSE},
    summary="The series catalogue",
)
def list_(
    request: Request,
    session: SessionDep,
    _: ReadDep,
    filters: SeriesFilterDep,
    page: PageDep,
    key: Annotated[Text | None, Query(max_length=600, description="An exact series key.")] = None,
    format: FormatParam = None,
) -> Response | SeriesPage:
    """Series matching the filters, busiest first (`format=csv`: the page as CSV)."""
    answer = _catalogue(session, filters, page, key)
    if wants_csv(request, format):
        return records_csv(answer.items, "series.csv", list(SeriesRead.model_fields))
    return answer


def _catalogue(session: SessionDep, filters: Any, page: Any, key: str | None) -> SeriesPage:
    if key is not None:
        info = get_series(session, key) if not key.isdigit() else None
        found = [info] if info is not None and _matches(info, filters) else []
        items = found[page.offset : page.offset + page.limit]
        return SeriesPage(
            total=len(found),
            limit=page.limit,
            offset=page.offset,
            items=[SeriesRead.of(i) for i in items],
        )
    rows, total = list_series(session, filters, limit=page.limit, offset=page.offset)
    return SeriesPage(
        total=total,
        limit=page.limit,
        offset=page.offset,
        items=[SeriesRead.of(info) for info in rows],
    )


def _matches(info: SeriesInfo, filters: object) -> bool:
    for name in ("source", "country", "region", "actor", "event_type", "level"):
        wanted = getattr(filters, name)
        have = getattr(info, name)
        if wanted is not None and (have is None or have.lower() != wanted.lower()):
            return False
    return True


def _info(session: SessionDep, ref: str) -> SeriesInfo:
    series = series_or_404(session, ref)
    info = get_series(session, series.id)
    assert info is not None
    return info


@router.get("/series/{ref}", responses=problems(404), summary="One series")
def get_(session: SessionDep, _: ReadDep, ref: SeriesRefParam) -> SeriesRead:
    return SeriesRead.of(_info(session, ref))


MONTH_COLUMNS = ("series_id", "series_key", "month", "events", "fatalities", "status")


@router.get(
    "/series/{ref}/months",
    response_model=SeriesHistory,
    responses={200: CSV_RESPONSE, **problems(404)},
    summary="A series' monthly history",
)
def months(
    request: Request,
    session: SessionDep,
    _: ReadDep,
    ref: SeriesRefParam,
    since: Annotated[IsoDate | None, Query(description="First month to return.")] = None,
    until: Annotated[IsoDate | None, Query(description="Last month to return.")] = None,
    format: FormatParam = None,
) -> Response | SeriesHistory:
    """Monthly events and fatalities; `zero` months are known zeros, `unknown` ones are not
    (`format=csv`: one row per month, an unknown month's counts empty)."""
    info = _info(session, ref)
    frame = series_months(session, info)
    out = []
    for month, events, fatalities, status in frame[
        ["month", "events", "fatalities", "status"]
    ].itertuples(index=False, name=None):
        day = month.date()
        if (since and day < since) or (until and day > until):
            continue
        out.append(
            MonthRead(
                month=day, events=_count(events), fatalities=_count(fatalities), status=status
            )
        )
    if wants_csv(request, format):
        rows = [(info.id, info.key, m.month, m.events, m.fatalities, m.status) for m in out]
        return csv_response(MONTH_COLUMNS, rows, f"months-{info.id}.csv")
    return SeriesHistory(series=SeriesRead.of(info), months=out)


def _count(value: object) -> int | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return int(value)  # type: ignore[call-overload]
