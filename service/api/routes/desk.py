"""The analyst's desk over the API: a country's overview and the data's freshness."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query, Request, Response

from service.api.deps import SessionDep
from service.api.formats import csv_response, json_response
from service.api.params import AsCsv, MeasureParam, Name
from service.api.problems import ProblemError
from service.api.routes import list_route, read_router
from service.desk.freshness import Freshness, freshness
from service.desk.overview import (
    OVERVIEW_COLUMNS,
    UnknownCountry,
    country_overview,
    overview_rows,
)
from service.ingest.sources import Source
from service.measures import file_suffix

router = read_router("overview")
FRESHNESS_COLUMNS = ("source", "country", "last_complete_month", "months_behind", "stale")


def today(request: Request) -> Any:
    """Today's date by the app's clock (tests give one)."""
    return request.app.state.clock().date()


def freshness_record(f: Freshness) -> dict[str, Any]:
    return {"source": f.source, "country": f.country, "last_complete_month": f.last_complete_month,
            "months_behind": f.months_behind, "stale": f.stale,
            "message": f.message if f.stale else None}  # fmt: skip


@list_route(
    router,
    "/overview",
    None,
    "A country at a glance: regions and actors, recent months and the next six",
    404,
)
def overview(
    request: Request,
    session: SessionDep,
    as_csv: AsCsv,
    country: Annotated[Name, Query(description="Country, e.g. `Mali`.")],
    source: Annotated[
        Source | None, Query(description="Data source (default: the one with the most series).")
    ] = None,  # fmt: skip
    measure: MeasureParam = "events",
) -> Response:
    """The country total, each region and each actor (country-wide) of `country`: the last
    three complete months observed and the published run's backtest forecast of them, the
    next six months' total with its 80 % interval (the engine's outlook, from its joint
    paths), a trend (`up`/`down` when that interval lies above/below the last six months'
    count), the level shift the engine saw in the last three months, the rainy-season rate
    ratio, and the escalations still running. `freshness` says when the data are stale."""
    try:
        found = country_overview(session, country, measure, source)
    except UnknownCountry as error:
        raise ProblemError(404, str(error), slug="not-found", title="Unknown country") from error
    if as_csv:
        name = f"overview-{found.country.replace(' ', '-')}{file_suffix(measure)}.csv"
        return csv_response(OVERVIEW_COLUMNS, overview_rows(found), name)
    fresh = freshness(session, today(request), found.country)
    return json_response({
        "country": found.country, "source": found.source, "measure": found.measure,
        "run_id": found.run_id, "last_complete_month": found.last_complete_month,
        "recent_months": list(found.recent_months) if found.recent_months else None,
        "freshness": [freshness_record(f) for f in fresh if f.source == found.source],
        "items": [row.record() for row in found.rows],
    })  # fmt: skip


@list_route(router, "/freshness", None, "How old each source's data are")
def freshness_(request: Request, session: SessionDep, as_csv: AsCsv) -> Response:
    """Per source and country: the last complete month, how many months it lags behind the
    last month that could be complete today, and `stale` when that is more than two."""
    rows = [freshness_record(f) for f in freshness(session, today(request))]
    if as_csv:
        return csv_response(FRESHNESS_COLUMNS, [[r[c] for c in FRESHNESS_COLUMNS] for r in rows],
                            "freshness.csv")  # fmt: skip
    return json_response({"stale": any(r["stale"] for r in rows), "items": rows})
