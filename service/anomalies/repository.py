"""Reads of anomalies and of run accuracy: the API, the dashboard, the CLI, the alerts and the
notebooks call these (they never write)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, case, func, select
from sqlalchemy.orm import Session

from service.anomalies.orm import Anomaly, RunScore
from service.anomalies.schemas import (
    Accuracy,
    AccuracyReport,
    AnomalyFilter,
    AnomalyRead,
    RunAccuracy,
)
from service.anomalies.severity import at_least
from service.series.orm import Series
from service.series.repository import SeriesLabel, labelled, series_conditions
from service.training.orm import Run


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
    if filters.measure:
        terms.append(Anomaly.measure == filters.measure)
    if filters.kind:
        terms.append(Anomaly.kind == filters.kind)
    if filters.alert is not None:
        terms.append(Anomaly.alert.is_(filters.alert))
    if filters.series_id is not None:
        terms.append(Anomaly.series_id == filters.series_id)
    if filters.escalation_id is not None:
        terms.append(Anomaly.escalation_id == filters.escalation_id)
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


NOTHING_SCORED = (
    "No forecast month has been observed yet. A run's forecasts are scored once the months after "
    "its training data are ingested (`sahelcast ingest`, then detection; the weekly job does "
    "both); until then there is nothing to measure. On the demo data the published forecasts "
    "start where the data end. The published run's backtest scores are at /v1/runs/{id}."
)


def _measures() -> list[Any]:
    return [
        func.count(),
        func.avg(RunScore.crps),
        func.avg(case((RunScore.in_80.is_(True), 1.0), else_=0.0)),
        func.avg(case((RunScore.in_95.is_(True), 1.0), else_=0.0)),
    ]


def _accuracy(n: Any, crps: Any, c80: Any, c95: Any) -> Accuracy:
    as_float = [None if v is None else float(v) for v in (crps, c80, c95)]
    return Accuracy(int(n or 0), *as_float)


def accuracy_report(
    session: Session, *, run_id: int | None = None, series_id: int | None = None
) -> AccuracyReport:
    """How past runs fared once their months were observed: overall, by horizon, by run and
    by the scored series' hierarchy level, optionally for one run and/or one series.

    Runs trained on the same data (a forced retrain) forecast the same months from the same
    information: only the latest of them counts, so a retrain does not weigh a month twice.
    """
    trained_on = select(Run.id, Run.measure, Run.data_signature).join(
        RunScore, RunScore.run_id == Run.id
    )
    groups: dict[tuple[str, str], list[int]] = {}
    for rid, measure, signature in session.execute(trained_on.distinct().order_by(Run.id)):
        # an events run and a deaths run never count for each other, whatever the signature
        groups.setdefault((measure, signature), []).append(rid)
    counted = [runs[-1] for runs in groups.values()]
    where: list[ColumnElement[bool]] = [RunScore.run_id.in_(counted)]
    if run_id is not None:
        where = [RunScore.run_id == run_id]
    if series_id is not None:
        where.append(RunScore.series_id == series_id)
    overall = _accuracy(*session.execute(select(*_measures()).where(*where)).one())
    horizons = session.execute(
        select(RunScore.horizon, *_measures()).where(*where)
        .group_by(RunScore.horizon).order_by(RunScore.horizon)
    )  # fmt: skip
    by_run = session.execute(
        select(RunScore.run_id, *_measures()).where(*where)
        .group_by(RunScore.run_id).order_by(RunScore.run_id)
    )  # fmt: skip
    levels = session.execute(
        select(Series.level, *_measures()).join(Series, Series.id == RunScore.series_id)
        .where(*where).group_by(Series.level).order_by(Series.level)
    )  # fmt: skip
    same_data = {runs[-1]: tuple(runs) for runs in groups.values()}
    return AccuracyReport(
        overall=overall,
        by_horizon=[(int(h), _accuracy(*rest)) for h, *rest in horizons],
        by_run=[
            RunAccuracy(int(r), same_data.get(int(r), (int(r),)), _accuracy(*rest))
            for r, *rest in by_run
        ],  # fmt: skip
        note=NOTHING_SCORED if overall.n == 0 else None,
        by_level=[(str(level), _accuracy(*rest)) for level, *rest in levels],
    )
