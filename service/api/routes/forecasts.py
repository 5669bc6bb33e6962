"""Published forecasts by series or by filters (JSON or CSV), and what drives them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response

from service.api.deps import READ_SECURITY, ReadDep, SessionDep, authorize_read, read_connection
from service.api.formats import (
    CSV_RESPONSE,
    CSV_UTF8,
    JSON,
    attachment,
    csv_response,
    encode_csv,
    encode_json,
    json_response,
    wants_csv,
)
from service.api.lookups import no_published_run, series_or_404, unknown_series
from service.api.params import (
    AsCsv,
    FormatParam,
    Horizon,
    MeasureParam,
    OutlookMonths,
    PageDep,
    SeriesFilterDep,
    SeriesRefParam,
)
from service.api.problems import ProblemError, problems
from service.api.responsecache import Cached, ResponseCache
from service.api.routes import V1, Route, list_route
from service.api.schemas.forecasts import (
    DriversRead,
    ForecastPage,
    OutlookResponse,
    SeasonEffect,
    SeasonRead,
    SeriesForecastRead,
    StatesResponse,
)
from service.forecasts.published import (
    MONTH_COLUMNS,
    SeriesForecast,
    forecasts_page,
    published_run_id_raw,
    series_forecast,
)
from service.forecasts.repository import (
    published_result,
    published_run,
    series_outlook,
    series_states,
)
from service.forecasts.schemas import SeasonEffectRead
from service.measures import file_suffix
from service.series.repository import SeriesLabel as SeriesRef

router = APIRouter(prefix=V1, tags=["forecasts"], responses=problems(401, 422))
SERIES_COLUMNS = ("series_id", "series_key")
CSV_HEADER = ("run_id", *SERIES_COLUMNS, "model", *MONTH_COLUMNS)


def _body(series: SeriesRef, forecast: SeriesForecast, measure: str) -> dict[str, Any]:
    return {
        "run_id": forecast.run_id,
        "measure": measure,
        "published_at": forecast.published_at,
        "series": series.labels(),
        "model": forecast.model,
        "status": forecast.status,
        "trained_through": forecast.trained_through,
        "months": [dict(zip(MONTH_COLUMNS, month, strict=True)) for month in forecast.months],
        "reason": _reason(forecast),
        "state": forecast.state,
    }


def _reason(forecast: SeriesForecast) -> str | None:
    """Say why a series has no forecast months, so a client need not guess from `model: null`."""
    if forecast.months:
        return None
    run = f"the published run {forecast.run_id}"
    if forecast.status is None:
        return (
            f"{run} did not train this series: a series needs SAHELCAST_TRAIN_MIN_EVENTS "
            "(default 1) events inside its source's coverage, and a series first seen "
            "after the run waits for the next one"
        )
    if forecast.status == "failed":
        return f"the engine failed on this series' panel in {run} (see its `error` in /drivers)"
    return f"{run} has no forecast months for this series"


def _csv_rows(series: SeriesRef, forecast: SeriesForecast) -> list[tuple[Any, ...]]:
    return [(forecast.run_id, series.id, series.key, forecast.model, *m) for m in forecast.months]


@router.get(
    "/series/{ref}/forecast",
    response_model=SeriesForecastRead,
    responses={200: CSV_RESPONSE, **problems(404, 503)},
    summary="A series' forecast from the published run",
    openapi_extra={"security": READ_SECURITY},
)
async def get_series_forecast(
    request: Request,
    ref: SeriesRefParam,
    horizon: Horizon = 12,
    format: FormatParam = None,
    measure: MeasureParam = "events",
) -> Response:
    """Mean and quantiles of the events (or deaths: `measure=fatalities`) in the next `horizon`
    months, with the rainy-season flag per month."""
    # The hot path (see bench/api.py), run on the event loop: a thread hop, and the GIL
    # hand-offs it brings under load, would cost more than these sub-millisecond reads. The
    # key check is ReadDep's, minus the dependency machinery.
    as_csv = wants_csv(request, format)
    cache: ResponseCache = request.app.state.response_cache
    key = (ref, horizon, as_csv, measure)
    with read_connection(request) as connection:
        authorize_read(request, connection)
        hit = cache.get(key)
        if hit is not None and hit.run_id != published_run_id_raw(connection, measure):
            hit = None
        if hit is None:
            found = series_forecast(connection, ref, horizon, measure)  # resolves the pointer
    if hit is None:
        if found is None:
            raise unknown_series(ref)
        series, forecast = found
        if forecast is None:
            raise no_published_run(measure)
        hit = _encode(series, forecast, as_csv, measure)
        cache.put(key, hit)
    return Response(hit.body, media_type=hit.media_type, headers=hit.headers)


def _encode(series: SeriesRef, forecast: SeriesForecast, as_csv: bool, measure: str) -> Cached:
    if as_csv:
        body = encode_csv(CSV_HEADER, _csv_rows(series, forecast))
        name = f"forecast-{series.id}{file_suffix(measure)}.csv"
        return Cached(forecast.run_id, body, CSV_UTF8, attachment(name))
    return Cached(forecast.run_id, encode_json(_body(series, forecast, measure)), JSON, {})


@list_route(
    router, "/forecasts", ForecastPage, "Forecasts of every series matching the filters", 503
)
def list_forecasts(
    session: SessionDep,
    _: ReadDep,
    filters: SeriesFilterDep,
    page: PageDep,
    as_csv: AsCsv,
    horizon: Horizon = 12,
    measure: MeasureParam = "events",
) -> Response:
    """One page of series (ordered by key) from the published run of `measure`, with their
    forecasts."""
    run = published_run(session, measure)
    if run is None:
        raise no_published_run(measure)
    items, total = forecasts_page(session, run, filters, horizon, page.limit, page.offset)
    if as_csv:
        rows = [row for series, forecast in items for row in _csv_rows(series, forecast)]
        return csv_response(CSV_HEADER, rows, f"forecasts-run-{run.id}.csv")
    return json_response(
        {
            "run_id": run.id,
            "measure": measure,
            "published_at": run.published_at,
            "total": total,
            "limit": page.limit,
            "offset": page.offset,
            "items": [_body(series, forecast, measure) for series, forecast in items],
        }
    )


def _effect(result: Any) -> SeasonEffect:
    return SeasonEffectRead.of(result)


@dataclass(frozen=True)
class Published:
    """A series and its result in the published run of `measure`: what the series' views of
    that run (season, drivers, outlook, states) start from."""

    series: SeriesRef
    measure: str
    run_id: int
    result: Any

    def head(self) -> dict[str, Any]:
        """The fields every such view opens with."""
        return {"run_id": self.run_id, "measure": self.measure, "series": self.series}


def published_series(
    session: SessionDep, ref: SeriesRefParam, measure: MeasureParam = "events"
) -> Published:
    """The series `ref` in the published `measure` run; 404 without the series or when the
    run left it out, 503 without a published run."""
    series = series_or_404(session, ref)
    published = published_result(session, series.id, measure)
    if published is None:
        raise no_published_run(measure)
    if published.result is None:
        raise ProblemError(
            404,
            f"Series {series.key!r} is not in the published {measure} run {published.run_id}.",
            slug="not-in-run",
            title="Series not in the published run",
        )
    return Published(series, measure, published.run_id, published.result)


PublishedDep = Annotated[Published, Depends(published_series)]


def run_view(path: str, model: Any, summary: str) -> Callable[[Route], Route]:
    """A GET of one series' view of the published run (404 without the series or when the
    run left it out, 503 without a published run: `published_series`)."""
    return router.get(path, response_model=model, responses=problems(404, 503), summary=summary)


@run_view("/series/{ref}/season", SeasonRead, "The rainy-season effect on a series")
def get_season(_: ReadDep, published: PublishedDep) -> SeasonRead:
    """The ratio of event (or death) rates in and out of the rainy season, with its 95 %
    interval."""
    return SeasonRead(**published.head(), effect=_effect(published.result))


@run_view("/series/{ref}/drivers", DriversRead, "What drives a series' forecast")
def get_drivers(_: ReadDep, published: PublishedDep) -> DriversRead:
    """The engine's fitted summary of the series (level, trend, rainy-season terms) and its
    backtest scores beside its naive peers'."""
    result = published.result
    fitted: dict[str, Any] = {
        n: getattr(result, n) or {} for n in ("summary", "scores", "failures")
    }
    return DriversRead(
        **published.head(),
        **fitted,
        status=result.status,
        model=result.model,
        trained_through=result.trained_through,
        season=_effect(result),
        error=result.error,
    )


@run_view(
    "/series/{ref}/outlook", OutlookResponse, "A series' total over the next 3, 6 or 12 months"
)
def get_outlook(
    session: SessionDep, _: ReadDep, published: PublishedDep, months: OutlookMonths = 6
) -> OutlookResponse:
    """How many events (or deaths) to expect in the next `months` months in all, with the
    80 % and 95 % intervals of the total: from the same joint sample paths as the monthly
    forecast, so it is not the sum of the monthly intervals (those would be far too wide)."""
    series, measure, run_id = published.series, published.measure, published.run_id
    outlook = series_outlook(session, series.id, measure, months, run_id)
    if outlook is None:
        raise ProblemError(
            404,
            f"The published {measure} run {run_id} has no {months}-month "
            f"outlook for series {series.key!r}.",
            slug="not-in-run",
            title="No outlook",
        )
    last = outlook.first_month.replace(day=1)
    year, month = divmod(last.month - 1 + months - 1, 12)
    last_month = last.replace(year=last.year + year, month=month + 1)
    return OutlookResponse(**published.head(), last_month=last_month, outlook=outlook)


STATE_COLUMNS = ("run_id", "measure", "series_id", "series_key", "month", "level", "p_shift_up",
                 "p_shift_down", "p_outlier")  # fmt: skip


@list_route(
    router,
    "/series/{ref}/states",
    StatesResponse,
    "Did the level shift? The engine's posterior of a series' recent months",
    404,
    503,
)
def get_states(
    session: SessionDep, _: ReadDep, published: PublishedDep, as_csv: AsCsv
) -> Response | StatesResponse:
    """For each of the last 24 months the run saw: the probability that the series' level
    shifted up, or down, and stayed there, and that the month was a one-off burst."""
    series, measure, run_id = published.series, published.measure, published.run_id
    states = series_states(session, series.id, measure, run_id)
    if as_csv:
        head = (run_id, measure, series.id, series.key)
        rows = [
            (*head, s.month, s.level, s.p_shift_up, s.p_shift_down, s.p_outlier) for s in states
        ]
        return csv_response(STATE_COLUMNS, rows, f"states-{series.id}{file_suffix(measure)}.csv")
    return StatesResponse(**published.head(), months=states)
