"""Writes the API asks of anomalies: acknowledging one. The caller commits."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from service.anomalies.orm import Anomaly
from service.anomalies.repository import get_anomaly
from service.anomalies.schemas import AnomalyRead
from service.kit.time import utcnow

NEW, ACKNOWLEDGED = "new", "acknowledged"


class AnomalyNotFound(LookupError):
    """No anomaly has this id."""


def acknowledge(session: Session, anomaly_id: int) -> AnomalyRead:
    """Mark an anomaly (and its twin of the other origin) acknowledged; again is a no-op that
    keeps the first time. Return it."""
    anomaly = session.get(Anomaly, anomaly_id)
    if anomaly is None:
        raise AnomalyNotFound(f"no anomaly {anomaly_id}")
    if anomaly.status != ACKNOWLEDGED:
        # One flag, acknowledged once: its twin of the other origin (the same series, month and
        # measure seen by the live forecast and by the backtest) is acknowledged with it.
        now = utcnow()
        session.execute(
            update(Anomaly)
            .where(Anomaly.series_id == anomaly.series_id, Anomaly.month == anomaly.month,
                   Anomaly.measure == anomaly.measure, Anomaly.status != ACKNOWLEDGED)
            .values(status=ACKNOWLEDGED, acknowledged_at=now)
            .execution_options(synchronize_session="fetch")
        )  # fmt: skip
        session.flush()
    read = get_anomaly(session, anomaly_id)
    assert read is not None
    return read
