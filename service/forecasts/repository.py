"""Read side of training runs: the published run and its forecasts.

Readers go through the `publication` pointer, read once per request: the run it names is
complete, and its rows are not deleted while it is published (nor while it is among the newest
retained runs), so every later query of the same request sees the same run.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, and_, func, select
from sqlalchemy.orm import Session

from service.forecasts.schemas import (
    ForecastPoint,
    OutlookRead,
    RunRead,
    SeasonEffectRead,
    SeriesForecast,
    StateRead,
)
from service.measures import EVENTS, MEASURES, PUBLICATION_IDS
from service.series.orm import Series
from service.series.repository import SeriesFilter
from service.series.repository import filter_series as series_conditions
from service.training.orm import (
    BacktestForecast,
    Forecast,
    Outlook,
    Publication,
    Run,
    RunSeries,
    SeriesState,
)


def published_run_id(session: Session, measure: str = EVENTS) -> int | None:
    """Return the id of the run of `measure` readers see, or None before its first publication."""
    return session.scalar(
        select(Publication.run_id).where(Publication.id == PUBLICATION_IDS[measure])
    )


def published_runs(session: Session) -> dict[str, int]:
    """The published run of every measure that has one: {measure: run id}."""
    rows = session.execute(
        select(Run.measure, Run.id).join(Publication, Publication.run_id == Run.id)
    ).all()
    return {str(row.measure): int(row.id) for row in rows}


@dataclass(frozen=True)
class Published:
    """Which run of a measure readers see, since when."""

    run_id: int
    published_at: dt.datetime


def publications(db: Session | Connection) -> dict[str, Published | None]:
    """Every measure's published run (None before its first), in MEASURES order."""
    rows = db.execute(select(Publication.id, Publication.run_id, Publication.published_at)).all()
    by_id = {row.id: Published(row.run_id, row.published_at) for row in rows}
    return {m: by_id.get(PUBLICATION_IDS[m]) for m in MEASURES}


def published_row(session: Session, measure: str = EVENTS) -> Run | None:
    """The run of `measure` readers currently see, as its table row (a training run starts
    from it: its data signature, its calibration), if any."""
    return session.scalar(
        select(Run)
        .join(Publication, Publication.run_id == Run.id)
        .where(Publication.id == PUBLICATION_IDS[measure])
    )


def published_run(session: Session, measure: str = EVENTS) -> RunRead | None:
    run = published_row(session, measure)
    return RunRead.model_validate(run) if run else None


def get_run(session: Session, run_id: int) -> RunRead | None:
    run = session.get(Run, run_id)
    return RunRead.model_validate(run) if run else None


def list_runs(
    session: Session, *, status: str | None = None, limit: int = 20, offset: int = 0
) -> list[RunRead]:
    """Runs, newest first (every status unless one is asked: running, published, ...)."""
    query = select(Run).order_by(Run.id.desc()).limit(limit).offset(offset)
    if status:
        query = query.where(Run.status == status)
    return [RunRead.model_validate(r) for r in session.scalars(query)]


def count_runs(session: Session, *, status: str | None = None) -> int:
    query = select(func.count()).select_from(Run)
    if status:
        query = query.where(Run.status == status)
    return int(session.scalar(query) or 0)


@dataclass
class RunDetail:
    run: Run
    published: bool
    models: dict[str, int] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)
    fit_seconds: float = 0.0
    backtest: dict[str, float] = field(default_factory=dict)
    backtest_series: int = 0


def run_detail(session: Session, run_id: int) -> RunDetail | None:
    """A run with its per-model and per-status counts and the mean of its backtest scores."""
    run = session.get(Run, run_id)
    if run is None:
        return None
    detail = RunDetail(run=run, published=published_run_id(session, run.measure) == run_id)
    models: Counter[str] = Counter()
    statuses: Counter[str] = Counter()
    sums: dict[str, float] = defaultdict(float)
    counts: Counter[str] = Counter()
    rows = session.execute(
        select(RunSeries.model, RunSeries.status, RunSeries.seconds, RunSeries.scores).where(
            RunSeries.run_id == run_id
        )
    )
    for model, status, seconds, scores in rows:
        models[model or "none"] += 1
        statuses[status] += 1
        detail.fit_seconds += float(seconds or 0.0)
        leaves = numeric_leaves(scores or {})
        # The chosen model's own scores, under `chosen.` (scores are keyed by candidate).
        if model and isinstance((scores or {}).get(model), dict):
            leaves.update(numeric_leaves(scores[model], "chosen."))
        if leaves:
            detail.backtest_series += 1
        for key, value in leaves.items():
            sums[key] += value
            counts[key] += 1
    detail.models = dict(models.most_common())
    detail.statuses = dict(sorted(statuses.items()))
    detail.backtest = {key: sums[key] / counts[key] for key in sorted(sums)}
    return detail


@dataclass(frozen=True)
class PublishedResult:
    run_id: int
    published_at: dt.datetime
    result: RunSeries | None


def published_result(
    session: Session, series_id: int, measure: str = EVENTS
) -> PublishedResult | None:
    """The series' `run_series` row in the published run of `measure` (one statement); None if
    unpublished."""
    row = session.execute(
        select(Publication.run_id, Publication.published_at, RunSeries)
        .select_from(Publication)
        .outerjoin(
            RunSeries,
            and_(RunSeries.run_id == Publication.run_id, RunSeries.series_id == series_id),
        )
        .where(Publication.id == PUBLICATION_IDS[measure])
    ).first()
    return PublishedResult(row[0], row[1], row[2]) if row else None


def numeric_leaves(data: Any, prefix: str = "") -> dict[str, float]:
    """Flatten nested dicts to `a.b` keys, keeping only numbers (for score summaries)."""
    out: dict[str, float] = {}
    if isinstance(data, dict):
        for key, value in data.items():
            out.update(numeric_leaves(value, f"{prefix}{key}."))
    elif isinstance(data, int | float) and not isinstance(data, bool) and data == data:
        if abs(float(data)) != float("inf"):
            out[prefix.rstrip(".")] = float(data)
    return out


def _points(
    session: Session, table: type[Forecast], run_id: int, series_id: int
) -> list[ForecastPoint]:
    rows = session.scalars(
        select(table)
        .where(table.run_id == run_id, table.series_id == series_id)
        .order_by(table.month)
    )
    return [ForecastPoint.model_validate(r) for r in rows]


def series_forecast(
    session: Session, series_id: int, run_id: int | None = None, measure: str = EVENTS
) -> SeriesForecast | None:
    """A series' result and forecast in `run_id` (default: the published run of `measure`)."""
    run_id = run_id if run_id is not None else published_run_id(session, measure)
    if run_id is None:
        return None
    row = session.execute(
        select(RunSeries, Series.key)
        .join(Series, Series.id == RunSeries.series_id)
        .where(RunSeries.run_id == run_id, RunSeries.series_id == series_id)
    ).first()
    if row is None:
        return None
    rs, key = row
    return SeriesForecast(
        run_id=run_id,
        series_id=series_id,
        series_key=key,
        status=rs.status,
        model=rs.model,
        trained_through=rs.trained_through,
        scores=rs.scores,
        failures=rs.failures,
        summary=rs.summary,
        error=rs.error,
        season=SeasonEffectRead.of(rs),
        points=_points(session, Forecast, run_id, series_id),
    )


def backtest_points(
    session: Session, series_id: int, run_id: int | None = None, measure: str = EVENTS
) -> list[ForecastPoint]:
    """The backtest forecasts of a series in a run (default: the published one of `measure`):
    per past month, the forecast of the latest origin before it."""
    run_id = run_id if run_id is not None else published_run_id(session, measure)
    if run_id is None:
        return []
    return _points(session, BacktestForecast, run_id, series_id)  # type: ignore[arg-type]


def list_forecasts(
    session: Session,
    filters: SeriesFilter | None = None,
    *,
    run_id: int | None = None,
    month: object = None,
    limit: int = 1000,
    offset: int = 0,
    measure: str = EVENTS,
) -> list[tuple[str, ForecastPoint]]:
    """Forecast points of many series in one run (default: the published one of `measure`),
    ordered by series and month; `month` restricts to one target month. Returns (series key,
    point) pairs."""
    run_id = run_id if run_id is not None else published_run_id(session, measure)
    if run_id is None:
        return []
    query = select(Forecast, Series.key).join(Series, Series.id == Forecast.series_id)
    query = series_conditions(filters or SeriesFilter(), query).where(Forecast.run_id == run_id)
    if month is not None:
        query = query.where(Forecast.month == month)
    query = query.order_by(Series.key, Forecast.month).limit(limit).offset(offset)
    return [(key, ForecastPoint.model_validate(f)) for f, key in session.execute(query)]


def outlooks(
    session: Session,
    series_ids: list[int],
    measure: str = EVENTS,
    months: int = 6,
    run_id: int | None = None,
) -> dict[int, OutlookRead]:
    """The N-month outlook totals of many series in one run (default: the published one of
    `measure`), by series id; series without one are left out."""
    run_id = run_id if run_id is not None else published_run_id(session, measure)
    if run_id is None or not series_ids:
        return {}
    out: dict[int, OutlookRead] = {}
    for chunk in range(0, len(series_ids), 20_000):
        rows = session.scalars(
            select(Outlook).where(
                Outlook.run_id == run_id,
                Outlook.months == months,
                Outlook.series_id.in_(series_ids[chunk : chunk + 20_000]),
            )
        )
        out.update({r.series_id: OutlookRead.model_validate(r) for r in rows})
    return out


def series_outlook(
    session: Session,
    series_id: int,
    measure: str = EVENTS,
    months: int = 6,
    run_id: int | None = None,
) -> OutlookRead | None:
    """A series' total over its next `months` months (3, 6 or 12) with its interval."""
    return outlooks(session, [series_id], measure, months, run_id).get(series_id)


def series_states(
    session: Session, series_id: int, measure: str = EVENTS, run_id: int | None = None
) -> list[StateRead]:
    """The engine's shift and outlier posteriors of a series' recent months, oldest first."""
    run_id = run_id if run_id is not None else published_run_id(session, measure)
    if run_id is None:
        return []
    rows = session.scalars(
        select(SeriesState)
        .where(SeriesState.run_id == run_id, SeriesState.series_id == series_id)
        .order_by(SeriesState.month)
    )
    return [StateRead.model_validate(r) for r in rows]
