"""Reads and writes of subscriptions and deliveries, and the anomalies alerts are made of."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.alerts.orm import Delivery, Subscription
from service.alerts.payload import AlertItem
from service.anomalies.orm import Anomaly
from service.anomalies.repository import labelled_anomalies
from service.escalations.repository import escalation_reads
from service.series.repository import SeriesLabel


def list_subscriptions(session: Session, *, active_only: bool = False) -> list[Subscription]:
    query = select(Subscription).order_by(Subscription.id)
    if active_only:
        query = query.where(Subscription.active.is_(True))
    return list(session.scalars(query))


def get_subscription(session: Session, subscription_id: int) -> Subscription | None:
    return session.get(Subscription, subscription_id)


def alert_worthy(session: Session, anomaly_ids: list[int] | None = None) -> list[AlertItem]:
    """Live anomalies flagged for alerting and not yet acknowledged, oldest first."""
    query = (
        labelled_anomalies()
        .where(Anomaly.origin == "live", Anomaly.alert.is_(True), Anomaly.status == "new")
        .order_by(Anomaly.month, Anomaly.id)
    )
    if anomaly_ids is not None:
        query = query.where(Anomaly.id.in_(anomaly_ids))
    rows = []
    for row in session.execute(query):
        labels: list[Any] = list(row)
        anomaly = labels.pop()
        rows.append((anomaly, SeriesLabel(*labels)))
    wanted = sorted({a.escalation_id for a, _ in rows if a.escalation_id is not None})
    escalations = {e.id: e for e in escalation_reads(session, wanted)}
    return [
        AlertItem(a, label, escalations.get(a.escalation_id) if a.escalation_id else None)
        for a, label in rows
    ]


def deliveries_for(session: Session, anomaly_ids: list[int]) -> dict[tuple[int, int], Delivery]:
    """Existing deliveries of these anomalies, by (subscription id, anomaly id)."""
    found: dict[tuple[int, int], Delivery] = {}
    for start in range(0, len(anomaly_ids), 1000):
        chunk = anomaly_ids[start : start + 1000]
        for delivery in session.scalars(select(Delivery).where(Delivery.anomaly_id.in_(chunk))):
            assert delivery.anomaly_id is not None
            found[(delivery.subscription_id, delivery.anomaly_id)] = delivery
    return found


def list_deliveries(
    session: Session, subscription_id: int, *, limit: int, offset: int
) -> tuple[list[Delivery], int]:
    query = select(Delivery).where(Delivery.subscription_id == subscription_id)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(Delivery.id.desc()).limit(limit).offset(offset))
    return list(rows), int(total)
