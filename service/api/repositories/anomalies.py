"""Read anomalies with their series' labels, and acknowledge them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.anomalies.orm import Anomaly
from service.api.repositories.series import SeriesRef, conditions, labelled
from service.series.orm import Series
from service.series.repository import SeriesFilter

SEVERITIES = ("low", "medium", "high")


@dataclass(frozen=True)
class AnomalyFilter:
    since: dt.date | None = None
    until: dt.date | None = None
    severity: str | None = None
    min_severity: str | None = None
    direction: str | None = None
    status: str | None = None
    origin: str | None = None
    alert: bool | None = None
    series_id: int | None = None
    series: SeriesFilter = SeriesFilter()


def at_least(severity: str) -> list[str]:
    """The severities at or above `severity`."""
    return list(SEVERITIES[SEVERITIES.index(severity) :])


def list_anomalies(
    session: Session, filters: AnomalyFilter, *, limit: int, offset: int
) -> tuple[list[tuple[Anomaly, SeriesRef]], int]:
    """One page of anomalies, newest month first, and the total count."""
    query = labelled().add_columns(Anomaly).join(Anomaly, Anomaly.series_id == Series.id)
    terms = conditions(filters.series)
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
    query = query.where(*terms)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.execute(
        query.order_by(Anomaly.month.desc(), Anomaly.id.desc()).limit(limit).offset(offset)
    ).all()
    return [(row[-1], SeriesRef(*row[:-1])) for row in rows], int(total)


def get_anomaly(session: Session, anomaly_id: int) -> tuple[Anomaly, SeriesRef] | None:
    row = session.execute(
        labelled()
        .add_columns(Anomaly)
        .join(Anomaly, Anomaly.series_id == Series.id)
        .where(Anomaly.id == anomaly_id)
    ).first()
    return (row[-1], SeriesRef(*row[:-1])) if row else None
