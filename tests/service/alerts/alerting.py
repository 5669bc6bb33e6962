"""A builder for delivery tests: alert-worthy anomalies of one series and a subscription."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Engine

from service.alerts.service import SubscriptionSpec, subscribe
from service.config import Settings
from service.db import session_scope
from tests.service.api.builders import make_anomaly
from tests.service.builders import make_series


@dataclass
class Alerting:
    anomaly_ids: list[int]
    secret: str  # the subscription's signing secret


def alerting(engine: Engine, settings: Settings, url: str, n: int, actor: str = "JNIM") -> Alerting:
    """`n` alert-worthy monthly anomalies of `actor` in Mopti, and `url` subscribed to them."""
    with session_scope(engine) as session:
        series = make_series(
            session,
            [3] * 24,
            source="acled",
            country="Mali",
            region="Mopti",
            actor=actor,
            start=dt.date(2021, 1, 1),
        )
        months = [dt.date(2021 + i // 12, 1 + i % 12, 1) for i in range(n)]
        ids = [make_anomaly(session, series, month=month).id for month in months]
        _, secret = subscribe(session, SubscriptionSpec(name="desk", url=url), settings)
    return Alerting(ids, secret)
