"""The weekly digest: one message per subscription per week listing its open escalations by size.

The alert budget lets only the largest escalations of a country and month alert on their own;
the digest is where every open escalation reaches subscribers (the budgeted ones too, so the
digest is the whole picture). An escalation is *open* while it is live and its last flagged
month is the latest complete month of its country's data or the one before. A subscription
with no open escalation matching its filters gets no digest that week.

Each digest is one delivery (kind `digest`) keyed by subscription and ISO week, signed like every
webhook; a failed one is retried by the next call in the same week, a delivered one never sent
again. HTTP happens before any write, as in `service.deliver_pending`.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.alerts import repository as repo
from service.alerts.mrkdwn import neutral
from service.alerts.orm import Delivery, Subscription
from service.alerts.payload import escalation_body
from service.alerts.sender import Job, Sleep, send_round
from service.alerts.service import DeliverySummary, escalation_matches, record_outcome
from service.config import Settings
from service.escalations.headline import headline, size
from service.escalations.orm import Escalation
from service.escalations.repository import escalation_reads
from service.escalations.schemas import EscalationRead
from service.kit.months import previous_month
from service.series.orm import Coverage

DIGEST = "digest"


def week_of(now: dt.datetime) -> str:
    """The ISO week a digest belongs to, e.g. '2026-W50'."""
    year, week, _ = now.isocalendar()
    return f"{year}-W{week:02d}"


def digest_key(subscription_id: int, week: str) -> str:
    return f"sahelcast-s{subscription_id}-digest-{week}"


def open_escalations(session: Session) -> list[EscalationRead]:
    """Live escalations still running (flagged in the latest complete month of their country's
    data or the one before), the largest first."""
    rows = session.execute(
        select(Escalation.id, Escalation.last_month, Coverage.last_complete_month)
        .join(Coverage, (Coverage.source_id == Escalation.source_id)
              & (Coverage.country == Escalation.country))
        .where(Escalation.origin == "live")
    ).all()  # fmt: skip
    ids = [i for i, last, latest in rows if latest and last >= previous_month(latest)]
    reads = escalation_reads(session, ids)
    return sorted(reads, key=lambda e: (size(e), e.id), reverse=True)


def digest_payload(
    subscription: Subscription, week: str, key: str, items: list[EscalationRead], public_url: str
) -> bytes:
    lines = [f"{i}. {headline(e)} ({e.severity})" for i, e in enumerate(items, start=1)]
    text = (
        f":newspaper: sahelcast weekly digest {week} for {subscription.name!r}: "
        f"{len(items)} open escalation{'s' if len(items) != 1 else ''}, largest first.\n"
        + "\n".join(lines)
    )
    body: dict[str, Any] = {
        "type": "sahelcast.digest",
        "idempotency_key": key,
        "subscription_id": subscription.id,
        "week": week,
        "text": neutral(text),
        "escalations": [escalation_body(e, public_url) for e in items],
    }
    return json.dumps(body, separators=(",", ":"), allow_nan=False).encode("utf-8")


def deliver_digest(
    session: Session,
    settings: Settings,
    *,
    now: dt.datetime,
    sleep: Sleep = time.sleep,
    release: Callable[[], None] | None = None,
) -> DeliverySummary:
    """Send this week's digest (the ISO week of `now`) to every active subscription that has open
    escalations and has not had it yet."""
    week = week_of(now)
    subscriptions = repo.list_subscriptions(session, active_only=True)
    escalations = open_escalations(session) if subscriptions else []
    keys = {s.id: digest_key(s.id, week) for s in subscriptions}
    existing = {
        d.idempotency_key: d
        for d in session.scalars(
            select(Delivery).where(Delivery.idempotency_key.in_(keys.values()))
        )
    }
    due: list[tuple[Subscription, list[EscalationRead]]] = []
    for subscription in subscriptions:
        done = existing.get(keys[subscription.id])
        if done is not None and done.status == "delivered":
            continue
        mine = [e for e in escalations if escalation_matches(subscription, e)]
        if mine:
            due.append((subscription, mine))
    jobs = [
        Job(s.id, s.url, s.secret, keys[s.id],
            digest_payload(s, week, keys[s.id], items, settings.public_url))
        for s, items in due
    ]  # fmt: skip
    if release is not None:
        release()
    outcomes = send_round(jobs, settings, sleep=sleep)
    summary = DeliverySummary()
    for (subscription, _), outcome in zip(due, outcomes, strict=True):
        delivery = existing.get(keys[subscription.id])
        if delivery is None:
            delivery = Delivery(subscription_id=subscription.id, anomaly_id=None, kind=DIGEST,
                                idempotency_key=keys[subscription.id], status="pending",
                                attempts=0)  # fmt: skip
            session.add(delivery)
        if outcome is None:
            summary.deferred += 1
            continue
        record_outcome(delivery, outcome)
        summary.delivered += outcome.delivered
        summary.failed += not outcome.delivered
    session.flush()
    return summary
