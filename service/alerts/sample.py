"""What a subscription would receive: the payload of a real escalation matching its filters (an
open one if any, else the latest), or a labelled example when none matches. Built by the same
code as real deliveries (service/alerts/payload.py), so the sample cannot drift from them."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.alerts.digest import open_escalations
from service.alerts.filters import checked
from service.alerts.orm import Subscription
from service.alerts.payload import AlertItem, anomaly_payload
from service.alerts.service import SubscriptionSpec, escalation_matches
from service.anomalies.orm import Anomaly
from service.escalations.orm import Escalation
from service.escalations.repository import escalation_reads
from service.escalations.schemas import EscalationPart, EscalationRead
from service.series.repository import SeriesLabel

SAMPLE_KEY = "sahelcast-sample"
_LATEST = 500  # live escalations looked through when none is open


def sample(session: Session, spec: SubscriptionSpec, public_url: str = "") -> dict[str, Any]:
    """`{"source": "escalation" | "example", "payload": {...}}` for a subscription like `spec`
    (its filters are checked against the catalogue first: UnknownFilter)."""
    spec = checked(session, spec)
    probe = Subscription(id=0, name=spec.name, url=spec.url, secret="", active=True,
                         country=spec.country, region=spec.region, actor=spec.actor,
                         event_type=spec.event_type, min_severity=spec.min_severity,
                         direction=spec.direction, measure=spec.measure)  # fmt: skip
    found = next((e for e in open_escalations(session) if escalation_matches(probe, e)), None)
    if found is None:
        newest = Escalation.last_month.desc(), Escalation.id.desc()
        latest = list(session.scalars(
            select(Escalation.id).where(Escalation.origin == "live")
            .order_by(*newest).limit(_LATEST)))  # fmt: skip
        found = next(
            (e for e in escalation_reads(session, latest) if escalation_matches(probe, e)), None
        )
    if found is not None and found.headline is not None:
        part = found.headline
        anomaly = session.get(Anomaly, part.anomaly_ids[-1])
        if anomaly is not None:
            item = AlertItem(anomaly, part.series, found)
            body = json.loads(anomaly_payload(item, 0, SAMPLE_KEY, public_url))
            return {"source": "escalation", "payload": body}
    return {"source": "example", "payload": _example(public_url)}


def _example(public_url: str) -> dict[str, Any]:
    """A made-up escalation, labelled as such in its text and its `example` member."""
    month, since = dt.date(2026, 7, 1), dt.date(2026, 5, 1)
    label = SeriesLabel(0, "example", "actor_region", "example", "Mali", "Mopti", "JNIM", None)
    part = EscalationPart(series=label, measure="events", months=[since, month], anomaly_ids=[0, 0],
                          severity="high", observed=[31, 45], expected=[17.0, 18.0])  # fmt: skip
    escalation = EscalationRead(
        id=0, origin="live", source="example", country="Mali", tree="actor", actor="JNIM",
        direction="above", first_month=since, last_month=month, headline_level="actor_region",
        headline_series_id=0, severity="high", alerts=1, parts=[part],
    )  # fmt: skip
    anomaly = Anomaly(
        id=0, series_id=0, month=month, origin="live", measure="events", kind="interval",
        run_id=None, horizon=1, forecast_origin=dt.date(2026, 6, 1), observed=45, expected=18.0,
        lower=9.0, upper=30.0, level=0.95, direction="above", tail_probability=0.0004,
        severity="high", in_season=True, episode_start=since, alert=True, status="new",
    )  # fmt: skip
    body: dict[str, Any] = json.loads(
        anomaly_payload(AlertItem(anomaly, label, escalation), 0, SAMPLE_KEY, public_url)
    )
    body["text"] = "EXAMPLE (no escalation matches these filters yet): " + body["text"]
    body["example"] = True
    return body
