"""The hot reads of published forecasts (the API's), on the driver's cursor where it pays.

Every answer comes from exactly one run.

A series' forecast is one statement that resolves the publication pointer, the series and its
forecast months together. A page of forecasts resolves the pointer first and then reads that
run id only. Either way a publish landing mid-request never mixes runs.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, and_, bindparam, func, select
from sqlalchemy.orm import Session

from service.forecasts.schemas import RunRead
from service.measures import EVENTS, PUBLICATION_IDS
from service.rawsql import RawStatement, as_date, as_datetime
from service.series.orm import Series
from service.series.repository import MAX_ID, SeriesFilter, labelled
from service.series.repository import SeriesLabel as SeriesRef
from service.series.repository import series_conditions as conditions
from service.training.orm import Forecast, Publication, RunSeries, SeriesState

QUANTILES = ("q025", "q100", "q250", "q500", "q750", "q900", "q975")
MONTH_COLUMNS = ("month", "horizon", "mean", *QUANTILES, "in_season")
_FORECAST_COLUMNS = [getattr(Forecast, name) for name in MONTH_COLUMNS]


@dataclass
class SeriesForecast:
    """The forecast months of one series in one run (`months` are tuples in MONTH_COLUMNS order)."""

    run_id: int
    published_at: dt.datetime
    model: str | None
    status: str | None
    trained_through: dt.date | None
    months: list[tuple[object, ...]] = field(default_factory=list)
    state: dict[str, Any] | None = None  # the engine's posterior about the last month it saw


def _one_series(match: ColumnElement[bool]) -> Select[Any]:
    return (
        labelled()
        .add_columns(
            Publication.run_id,
            Publication.published_at,
            RunSeries.model,
            RunSeries.status,
            RunSeries.trained_through,
            *_FORECAST_COLUMNS,
        )
        .outerjoin(Publication, Publication.id == bindparam("pointer"))
        .outerjoin(
            RunSeries,
            and_(RunSeries.run_id == Publication.run_id, RunSeries.series_id == Series.id),
        )
        .outerjoin(
            Forecast,
            and_(
                Forecast.run_id == Publication.run_id,
                Forecast.series_id == Series.id,
                Forecast.horizon <= bindparam("horizon"),
            ),
        )
        .where(match)
        .order_by(Forecast.month)
    )


_BY_ID = RawStatement(_one_series(Series.id == bindparam("ref")))
_BY_KEY = RawStatement(_one_series(Series.key == bindparam("ref")))


STATE_COLUMNS = ("month", "level", "p_shift_up", "p_shift_down", "p_outlier")
_STATE = RawStatement(
    select(*[getattr(SeriesState, c) for c in STATE_COLUMNS])
    .where(SeriesState.run_id == bindparam("run"), SeriesState.series_id == bindparam("series"))
    .order_by(SeriesState.month.desc())
    .limit(1)
)  # fmt: skip


POINTER_SQL = {
    measure: f"SELECT run_id FROM publication WHERE id = {pointer}"
    for measure, pointer in PUBLICATION_IDS.items()
}


def published_run_id_raw(connection: Connection, measure: str = EVENTS) -> int | None:
    """The published run's id of `measure`, read on the driver's cursor.

    Every hot request reads it, and SQLAlchemy's statement machinery costs several times what
    this one primary-key read does (the SQL is the same on SQLite and PostgreSQL).
    """
    cursor = connection.connection.cursor()
    try:
        cursor.execute(POINTER_SQL[measure])
        row = cursor.fetchone()
    finally:
        cursor.close()
    return None if row is None else int(row[0])


def series_forecast(
    connection: Connection, ref: str, horizon: int, measure: str = EVENTS
) -> tuple[SeriesRef, SeriesForecast | None] | None:
    """A series (by id or key) and its published forecast of `measure` up to `horizon`, in one
    statement.

    None when there is no such series; a None forecast when nothing is published; empty
    `months` when the published run has no forecast for the series.
    """
    if ref.isascii() and ref.isdigit():
        if int(ref) > MAX_ID:
            return None
        statement, value = _BY_ID, int(ref)
    else:
        statement, value = _BY_KEY, ref  # type: ignore[assignment]
    params = {"ref": value, "horizon": horizon, "pointer": PUBLICATION_IDS[measure]}
    rows = statement.rows(connection, params)
    if not rows:
        return None
    first = rows[0]
    series = SeriesRef(*first[:8])
    if first[8] is None:
        return series, None
    forecast = SeriesForecast(
        first[8], as_datetime(first[9]), first[10], first[11], as_date(first[12])
    )
    forecast.months = [
        (as_date(row[13]), *row[14:23], bool(row[23])) for row in rows if row[13] is not None
    ]
    state = _STATE.rows(connection, {"run": forecast.run_id, "series": series.id})
    if state:
        forecast.state = dict(zip(STATE_COLUMNS, (as_date(state[0][0]), *state[0][1:]),
                                  strict=True))  # fmt: skip
    return series, forecast


def forecasts_page(
    session: Session,
    run: RunRead,
    filters: SeriesFilter,
    horizon: int,
    limit: int,
    offset: int,
) -> tuple[list[tuple[SeriesRef, SeriesForecast]], int]:
    """One page of the series (with results in `run`) matching `filters`, with their forecasts."""
    base = (
        labelled()
        .add_columns(RunSeries.model, RunSeries.status, RunSeries.trained_through)
        .join(RunSeries, and_(RunSeries.series_id == Series.id, RunSeries.run_id == run.id))
        .where(*conditions(filters))
    )
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    page = session.execute(base.order_by(Series.key).limit(limit).offset(offset)).all()
    if not page:
        return [], int(total)
    ids = [row[0] for row in page]
    months: dict[int, list[tuple[object, ...]]] = {i: [] for i in ids}
    for row in session.execute(
        select(Forecast.series_id, *_FORECAST_COLUMNS)
        .where(Forecast.run_id == run.id, Forecast.series_id.in_(ids), Forecast.horizon <= horizon)
        .order_by(Forecast.series_id, Forecast.month)
    ):
        months[row[0]].append(tuple(row[1:]))
    published_at = run.published_at
    assert published_at is not None, "a published run has its publication time"
    items = [
        (
            SeriesRef(*row[:8]),
            SeriesForecast(run.id, published_at, row[8], row[9], row[10], months[row[0]]),
        )
        for row in page
    ]
    return items, int(total)
