"""The alert budget: at most N alerts per country and data month, the largest first.

Detection marks one anomaly per escalation step as alert-worthy. When more of them fall on one
country and month than the budget allows (counting those already alerted in earlier
detections), the largest keep their alert and the rest lose it: their escalations stay open
and reach subscribers in the weekly digest (service/alerts/digest.py) instead of a message of
their own. Functions only flush.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.anomalies.orm import Anomaly
from service.anomalies.severity import DEFAULT_RULES, SEVERITY_RANK, Rules, size_rank
from service.escalations.orm import Escalation
from service.series.orm import Series

LIVE = "live"


def strength(anomaly: Anomaly, rules: Rules = DEFAULT_RULES) -> tuple[int, float]:
    """How strongly an alert speaks: its severity, then its size in floors of its measure."""
    excess = anomaly.observed - anomaly.expected
    if anomaly.direction != "above":
        excess = -excess
    return SEVERITY_RANK.get(anomaly.severity, 0), size_rank(anomaly.measure, excess, rules)


def within_budget(
    session: Session, alerts: Sequence[Anomaly], budget: int, rules: Rules = DEFAULT_RULES
) -> list[Anomaly]:
    """Keep at most `budget` live alerts per (country, month); return the ones that lost theirs."""
    alerts = [a for a in alerts if a.alert and a.origin == LIVE]
    if not alerts:
        return []
    session.flush()
    countries = _countries(session, alerts)
    fresh = {a.id for a in alerts}
    months = sorted({a.month for a in alerts})
    spent: dict[tuple[str, dt.date], int] = {}
    for anomaly_id, month, country, escalation_country in session.execute(
        select(Anomaly.id, Anomaly.month, Series.country, Escalation.country)
        .join(Series, Series.id == Anomaly.series_id)
        .outerjoin(Escalation, Escalation.id == Anomaly.escalation_id)
        .where(Anomaly.origin == LIVE, Anomaly.alert.is_(True), Anomaly.month.in_(months))
    ):  # fmt: skip
        if anomaly_id not in fresh:
            key = (escalation_country or country, month)
            spent[key] = spent.get(key, 0) + 1
    by_slot: dict[tuple[str, dt.date], list[Anomaly]] = {}
    for anomaly in alerts:
        by_slot.setdefault((countries[anomaly.id], anomaly.month), []).append(anomaly)
    dropped: list[Anomaly] = []
    for slot, members in by_slot.items():
        members.sort(key=lambda a: (strength(a, rules), -a.id), reverse=True)
        room = max(budget - spent.get(slot, 0), 0)
        for anomaly in members[room:]:
            anomaly.alert = False
            dropped.append(anomaly)
    _uncount(session, dropped)
    session.flush()
    return dropped


def _countries(session: Session, alerts: Sequence[Anomaly]) -> dict[int, str]:
    """The country each alert counts against: its escalation's (a cross-border actor's
    escalation counts once, in its own country), else its series'."""
    series = {a.series_id for a in alerts}
    escalations = {a.escalation_id for a in alerts if a.escalation_id is not None}
    # Not dict(result): a Result has keys() and would be read as a mapping.
    of_series = {
        int(i): str(c)
        for i, c in session.execute(select(Series.id, Series.country).where(Series.id.in_(series)))
    }
    of_escalation = {
        int(i): str(c)
        for i, c in session.execute(
            select(Escalation.id, Escalation.country).where(Escalation.id.in_(escalations))
        )
    }
    return {
        a.id: of_escalation.get(a.escalation_id, of_series[a.series_id])
        if a.escalation_id is not None
        else of_series[a.series_id]
        for a in alerts
    }


def _uncount(session: Session, dropped: Sequence[Anomaly]) -> None:
    """An escalation step that did not alert is not counted among its alerts."""
    for anomaly in dropped:
        if anomaly.escalation_id is not None:
            escalation = session.get(Escalation, anomaly.escalation_id)
            if escalation is not None and escalation.alerts > 0:
                escalation.alerts -= 1
