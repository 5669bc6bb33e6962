"""Writes the API asks of anomalies: acknowledging one. The caller commits."""

from __future__ import annotations

from sqlalchemy.orm import Session

from service.anomalies.orm import Anomaly
from service.anomalies.repository import get_anomaly
from service.anomalies.schemas import AnomalyRead
from service.kit.time import utcnow

NEW, ACKNOWLEDGED = "new", "acknowledged"


class AnomalyNotFound(LookupError):
    """No anomaly has this id."""


def acknowledge(session: Session, anomaly_id: int) -> AnomalyRead:
    """Mark an anomaly acknowledged (again is a no-op that keeps the first time); return it."""
    anomaly = session.get(Anomaly, anomaly_id)
    if anomaly is None:
        raise AnomalyNotFound(f"no anomaly {anomaly_id}")
    if anomaly.status != ACKNOWLEDGED:
        anomaly.status, anomaly.acknowledged_at = ACKNOWLEDGED, utcnow()
        session.flush()
    read = get_anomaly(session, anomaly_id)
    assert read is not None
    return read
