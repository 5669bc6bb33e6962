"""The series catalogue, what it is made of, and a series' monthly history with coverage
marks."""

from __future__ import annotations

import math
from dataclasses import fields
from typing import Annotated, Any

from fastapi import Query, Response

from service.api.deps import SessionDep
from service.api.formats import csv_response, records_csv
from service.api.lookups import series_or_404
from service.api.params import AsCsv, IsoDate, Page, PageDep, SeriesFilterDep, SeriesRefParam, Text
from service.api.problems import problems
from service.api.routes import list_route, read_router
from service.api.routes.actors import ScopeDep
from service.api.schemas.actors import CatalogueStatsRead
from service.api.schemas.series import MonthRead, SeriesHistory, SeriesPage, SeriesRead
from service.series.repository import SeriesInfo, get_series, list_series, series_months
from service.series.stats import catalogue_stats, stats_rows

router = read_router("series")


# Before `/series/{ref}`, which it would otherwise fall under.
@list_route(router, "/series/stats", CatalogueStatsRead, "What the catalogue is made of")
def stats(
    session: SessionDep,
    scope: ScopeDep,
    as_csv: AsCsv,
    fewer_than: Annotated[
        int, Query(ge=1, le=1_000_000, description="List actors with fewer events than this.")
    ] = 10,
) -> Response | CatalogueStatsRead:
    """Series per level and per actor type, ambiguous events, events counted for no actor,
    and the actors with fewer than `fewer_than` events in a country. `format=csv`: one row per
    figure, `section` naming its table (`events`, `level`, `actor_type`, `small_actor`)."""
    found = catalogue_stats(
        session, source=scope.source, country=scope.country, fewer_than=fewer_than
    )
    if as_csv:
        return records_csv(stats_rows(found), "series-stats.csv")
    return CatalogueStatsRead.model_validate(found)


@list_route(router, "/series", SeriesPage, "The series catalogue")
def list_(
    session: SessionDep,
    filters: SeriesFilterDep,
    page: PageDep,
    as_csv: AsCsv,
    key: Annotated[Text | None, Query(max_length=600, description="An exact series key.")] = None,
) -> Response | SeriesPage:
    """Series matching the filters, busiest first (`format=csv`: the page as CSV)."""
    answer = _catalogue(session, filters, page, key)
    if as_csv:
        return records_csv(answer.items, "series.csv", [f.name for f in fields(SeriesRead)])
    return answer


def _catalogue(session: SessionDep, filters: Any, page: Page, key: str | None) -> SeriesPage:
    if key is not None:
        info = get_series(session, key) if not key.isdigit() else None
        rows = [info] if info is not None and _matches(info, filters) else []
        total, rows = len(rows), rows[page.offset : page.offset + page.limit]
    else:
        rows, total = list_series(session, filters, limit=page.limit, offset=page.offset)
    return SeriesPage.of(page, total, [SeriesRead.of(info) for info in rows])


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
def get_(session: SessionDep, ref: SeriesRefParam) -> SeriesRead:
    return SeriesRead.of(_info(session, ref))


MONTH_COLUMNS = ("series_id", "series_key", "month", "events", "fatalities", "status")


@list_route(router, "/series/{ref}/months", SeriesHistory, "A series' monthly history", 404)
def months(
    session: SessionDep,
    ref: SeriesRefParam,
    as_csv: AsCsv,
    since: Annotated[IsoDate | None, Query(description="First month to return.")] = None,
    until: Annotated[IsoDate | None, Query(description="Last month to return.")] = None,
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
    if as_csv:
        rows = [(info.id, info.key, m.month, m.events, m.fatalities, m.status) for m in out]
        return csv_response(MONTH_COLUMNS, rows, f"months-{info.id}.csv")
    return SeriesHistory(series=SeriesRead.of(info), months=out)


def _count(value: object) -> int | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return int(value)  # type: ignore[call-overload]
