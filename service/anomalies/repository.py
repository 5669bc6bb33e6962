"""Reads of anomalies and run accuracy (the API and the CLI call these; they never write)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, case, func, select
from sqlalchemy.orm import Session

from service.anomalies.orm import Anomaly, RunScore
from service.anomalies.schemas import AnomalyFilter, AnomalyRead, HorizonAccuracy, RunAccuracy
from service.anomalies.severity import at_least
from service.series.orm import Series
from service.series.repository import SeriesLabel, labelled, series_conditions


def labelled_anomalies() -> Select:
    """Anomalies with their series' labels: the labels first (as `SeriesLabel`), the row last."""
    return labelled().add_columns(Anomaly).join(Anomaly, Anomaly.series_id == Series.id)


def _read(row: Row[Any]) -> AnomalyRead:
    labels: list[Any] = list(row)
    anomaly = labels.pop()
    return AnomalyRead.of(anomaly, SeriesLabel(*labels))


def to_reads(session: Session, anomalies: Sequence[Anomaly]) -> list[AnomalyRead]:
    """Turn stored anomalies into read models (with their series' labels)."""
    if not anomalies:
        return []
    ids = {a.series_id for a in anomalies}
    labels = {row.id: SeriesLabel(*row) for row in session.execute(
        labelled().where(Series.id.in_(ids)))}  # fmt: skip
    return [AnomalyRead.of(a, labels[a.series_id]) for a in anomalies]


def anomaly_conditions(filters: AnomalyFilter) -> list[ColumnElement[bool]]:
    """WHERE terms for `filters` on `labelled_anomalies()`."""
    terms = series_conditions(filters.series)
    if filters.since:
        terms.append(Anomaly.month >= filters.since)
    if filters.until:
        terms.append(Anomaly.month <= filters.until)
    if filters.severity:
        terms.append(Anomaly.severity == filters.severity)
    if filters.min_severity:
        terms.append(Anomaly.severity.in_(at_least(filters.min_severity)))
    if filters.direction:
        terms.append(Anomaly.direction == filters.direction)
    if filters.status:
        terms.append(Anomaly.status == filters.status)
    if filters.origin:
        terms.append(Anomaly.origin == filters.origin)
    if filters.alert is not None:
        terms.append(Anomaly.alert.is_(filters.alert))
    if filters.series_id is not None:
        terms.append(Anomaly.series_id == filters.series_id)
    return terms


def list_anomalies(
    session: Session, filters: AnomalyFilter | None = None, *, limit: int = 100, offset: int = 0
) -> tuple[list[AnomalyRead], int]:
    """Return one page of anomalies matching `filters`, newest month first, and the total."""
    query = labelled_anomalies().where(*anomaly_conditions(filters or AnomalyFilter()))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = query.order_by(Anomaly.month.desc(), Anomaly.id.desc()).limit(limit).offset(offset)
    return [_read(row) for row in session.execute(page)], int(total)


def get_anomaly(session: Session, anomaly_id: int) -> AnomalyRead | None:
    row = session.execute(labelled_anomalies().where(Anomaly.id == anomaly_id)).first()
    return _read(row) if row else None


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
