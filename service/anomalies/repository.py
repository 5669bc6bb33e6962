"""Reads of anomalies and run accuracy (the API and the CLI call these; they never write)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, case, func, select
from sqlalchemy.orm import Session, aliased

from service.anomalies.orm import Anomaly, RunScore
from service.anomalies.schemas import AnomalyFilter, AnomalyRead, HorizonAccuracy, RunAccuracy
from service.anomalies.severity import SEVERITY_RANK
from service.ingest.orm import Actor, Region, Source
from service.series.orm import Series
from service.series.repository import SeriesFilter


def _read_query() -> Select:
    return select(Anomaly, Series.key).join(Series, Series.id == Anomaly.series_id)


def _read(anomaly: Anomaly, key: str) -> AnomalyRead:
    data = {c.key: getattr(anomaly, c.key) for c in Anomaly.__table__.columns}
    return AnomalyRead(**data, series_key=key)


def to_reads(session: Session, anomalies: Sequence[Anomaly]) -> list[AnomalyRead]:
    """Turn stored anomalies into read models (with their series' keys)."""
    if not anomalies:
        return []
    keys = dict(
        session.execute(
            select(Series.id, Series.key).where(Series.id.in_({a.series_id for a in anomalies}))
        ).all()
    )
    return [_read(a, keys[a.series_id]) for a in anomalies]


def series_conditions(filters: SeriesFilter, query: Select) -> Select:
    """Add the conditions of a series filter to a query that already joins `Series`."""
    conditions: list[ColumnElement[bool]] = []
    if filters.source:
        query = query.join(Source, Source.id == Series.source_id)
        conditions.append(Source.name == filters.source)
    if filters.country:
        conditions.append(func.lower(Series.country) == filters.country.lower())
    if filters.region:
        region = aliased(Region)
        query = query.join(region, region.id == Series.region_id)
        conditions.append(func.lower(region.name) == filters.region.lower())
    if filters.actor:
        actor = aliased(Actor)
        query = query.join(actor, actor.id == Series.actor_id)
        conditions.append(func.lower(actor.name) == filters.actor.lower())
    if filters.event_type:
        conditions.append(func.lower(Series.event_type) == filters.event_type.lower())
    if filters.level:
        conditions.append(Series.level == filters.level)
    return query.where(*conditions)


def _filtered(filters: AnomalyFilter) -> Select:
    query = series_conditions(filters.series, _read_query())
    conditions: list[ColumnElement[bool]] = []
    if filters.since:
        conditions.append(Anomaly.month >= filters.since)
    if filters.until:
        conditions.append(Anomaly.month <= filters.until)
    if filters.severity:
        conditions.append(Anomaly.severity == filters.severity)
    if filters.min_severity:
        worse = [s for s, rank in SEVERITY_RANK.items()
                 if rank >= SEVERITY_RANK[filters.min_severity]]  # fmt: skip
        conditions.append(Anomaly.severity.in_(worse))
    if filters.direction:
        conditions.append(Anomaly.direction == filters.direction)
    if filters.status:
        conditions.append(Anomaly.status == filters.status)
    if filters.origin:
        conditions.append(Anomaly.origin == filters.origin)
    if filters.alert_only:
        conditions.append(Anomaly.alert.is_(True))
    if filters.series_id is not None:
        conditions.append(Anomaly.series_id == filters.series_id)
    return query.where(*conditions)


def list_anomalies(
    session: Session, filters: AnomalyFilter | None = None, *, limit: int = 100, offset: int = 0
) -> tuple[list[AnomalyRead], int]:
    """Return one page of anomalies matching `filters`, newest month first, and the total."""
    query = _filtered(filters or AnomalyFilter())
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = query.order_by(Anomaly.month.desc(), Anomaly.id.desc()).limit(limit).offset(offset)
    return [_read(a, key) for a, key in session.execute(page)], int(total)


def get_anomaly(session: Session, anomaly_id: int) -> AnomalyRead | None:
    row = session.execute(_read_query().where(Anomaly.id == anomaly_id)).first()
    return _read(*row) if row else None


def _accuracy_columns() -> list[Any]:
    return [
        func.count().label("n"),
        func.avg(RunScore.crps).label("crps"),
        func.avg(case((RunScore.in_80.is_(True), 1.0), else_=0.0)).label("coverage_80"),
        func.avg(case((RunScore.in_95.is_(True), 1.0), else_=0.0)).label("coverage_95"),
    ]


def run_accuracy(session: Session, run_id: int, series_id: int | None = None) -> RunAccuracy:
    """A run's accuracy on the months observed since it was issued: overall and by horizon,
    for one series or over all of them."""
    where = [RunScore.run_id == run_id]
    if series_id is not None:
        where.append(RunScore.series_id == series_id)
    overall = session.execute(select(*_accuracy_columns()).where(*where)).one()
    rows = session.execute(
        select(RunScore.horizon, *_accuracy_columns())
        .where(*where)
        .group_by(RunScore.horizon)
        .order_by(RunScore.horizon)
    ).all()
    by_horizon = [
        HorizonAccuracy(horizon=h, n=n, crps=float(c), coverage_80=float(c80),
                        coverage_95=float(c95))
        for h, n, c, c80, c95 in rows
    ]  # fmt: skip
    n, crps, c80, c95 = overall
    return RunAccuracy(
        run_id=run_id, series_id=series_id, n=int(n),
        crps=_opt(crps), coverage_80=_opt(c80), coverage_95=_opt(c95), by_horizon=by_horizon,
    )  # fmt: skip


def accuracy_by_run(session: Session, series_id: int | None = None) -> list[RunAccuracy]:
    """Every scored run's accuracy, oldest first: accuracy over time."""
    query = select(RunScore.run_id).distinct().order_by(RunScore.run_id)
    if series_id is not None:
        query = query.where(RunScore.series_id == series_id)
    return [run_accuracy(session, run_id, series_id) for run_id in session.scalars(query)]


def _opt(value: Any) -> float | None:
    return None if value is None else float(value)
