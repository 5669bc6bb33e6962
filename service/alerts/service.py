"""Subscriptions and deliveries: subscribe, remove, test, and deliver what is pending.

`deliver_pending` is a job step that cannot lose events: it looks for every alert-worthy
anomaly that a matching subscription has not yet received, so a crash, a dead receiver or a
missed hook only delays a delivery. Receivers may see one twice (at least once); the
`X-Sahelcast-Idempotency-Key` header is the same for every retry of the same alert.

HTTP happens before any write, so the caller's transaction only holds write locks for the
final, short flush (on SQLite a long write transaction would stall ingests and training).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass

from sqlalchemy.orm import Session

from service.alerts import repository as repo
from service.alerts.filters import NAMED, checked
from service.alerts.orm import Delivery, Subscription
from service.alerts.payload import AlertItem, anomaly_payload, test_payload
from service.alerts.sender import Job, Outcome, Sleep, send, send_round
from service.alerts.signing import new_secret
from service.alerts.urls import check_url
from service.anomalies.severity import DIRECTIONS, SEVERITY_ORDER, SEVERITY_RANK
from service.config import Settings
from service.escalations.schemas import EscalationRead
from service.kit.time import utcnow
from service.measures import MEASURES

DELIVERED, FAILED, PENDING = "delivered", "failed", "pending"


@dataclass(frozen=True)
class SubscriptionSpec:
    """What a subscription listens to (None: any) and where it delivers."""

    name: str
    url: str
    country: str | None = None
    region: str | None = None
    actor: str | None = None
    event_type: str | None = None
    min_severity: str = "low"
    direction: str | None = None
    measure: str | None = None  # events | fatalities | None (both)


@dataclass
class DeliverySummary:
    delivered: int = 0
    failed: int = 0
    deferred: int = 0  # not tried: an earlier delivery to the same hook just failed

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


def subscribe(
    session: Session, spec: SubscriptionSpec, settings: Settings
) -> tuple[Subscription, str]:
    """Create a subscription after checking its URL; return it with its secret (shown once)."""
    if spec.min_severity not in SEVERITY_ORDER:
        raise ValueError(f"min_severity must be one of {', '.join(SEVERITY_ORDER)}")
    if spec.direction is not None and spec.direction not in DIRECTIONS:
        raise ValueError("direction must be 'above', 'below' or empty (both)")
    if spec.measure is not None and spec.measure not in MEASURES:
        raise ValueError(f"measure must be one of {', '.join(MEASURES)} or empty (both)")
    spec = checked(session, spec)  # UnknownFilter names the close matches
    check_url(spec.url, settings)
    secret = new_secret()
    subscription = Subscription(secret=secret, active=True, **asdict(spec))
    session.add(subscription)
    session.flush()
    return subscription, secret


NOT_NULL = ("name", "url", "min_severity", "active")


@dataclass(frozen=True)
class _NamedFilters:
    country: str | None
    region: str | None
    actor: str | None
    event_type: str | None


def update(
    session: Session, subscription: Subscription, changes: dict[str, object], settings: Settings
) -> Subscription:
    """Apply `changes` (a new URL is checked like a new subscription's)."""
    for name in NOT_NULL:
        if name in changes and changes[name] is None:
            raise ValueError(f"{name} cannot be null")
    if "url" in changes:
        check_url(str(changes["url"]), settings)
    named = [n for n in NAMED if n in changes]
    if named:
        now = {n: changes.get(n, getattr(subscription, n)) for n in NAMED}
        current = _NamedFilters(**{n: None if v is None else str(v) for n, v in now.items()})
        resolved = checked(session, current)
        changes = {**changes, **{n: getattr(resolved, n) for n in named}}
    for name, value in changes.items():
        setattr(subscription, name, value)
    session.flush()
    return subscription


def remove(session: Session, subscription_id: int) -> bool:
    subscription = repo.get_subscription(session, subscription_id)
    if subscription is None:
        return False
    session.delete(subscription)
    session.flush()
    return True


def _same(wanted: str | None, have: str | None) -> bool:
    return wanted is None or (have is not None and wanted.casefold() == have.casefold())


def matches(subscription: Subscription, item: AlertItem) -> bool:
    """Whether an alert passes a subscription's filters: for an escalation, any of its series
    passing them is enough (a Sahel subscriber hears of a surge headlined at the country), and
    its severity is the escalation's worst."""
    a = item.anomaly
    labels = [p.series for p in item.escalation.parts] if item.escalation else [item.series]
    worst = item.escalation.severity if item.escalation else a.severity
    return (
        any(
            _same(subscription.country, s.country)
            and _same(subscription.region, s.region)
            and _same(subscription.actor, s.actor)
            and _same(subscription.event_type, s.event_type)
            for s in labels
        )
        and SEVERITY_RANK.get(worst, 0) >= SEVERITY_RANK.get(subscription.min_severity, 0)
        and (subscription.direction is None or subscription.direction == a.direction)
        and (subscription.measure is None or subscription.measure in _measures(item))
    )


def _measures(item: AlertItem) -> list[str]:
    return item.escalation.measures if item.escalation else [item.anomaly.measure]


def escalation_matches(subscription: Subscription, e: EscalationRead) -> bool:
    """Whether an escalation passes a subscription's filters (as `matches` does for its alert)."""
    return (
        any(
            _same(subscription.country, p.series.country)
            and _same(subscription.region, p.series.region)
            and _same(subscription.actor, p.series.actor)
            and _same(subscription.event_type, p.series.event_type)
            for p in e.parts
        )
        and SEVERITY_RANK.get(e.severity, 0) >= SEVERITY_RANK.get(subscription.min_severity, 0)
        and (subscription.direction is None or subscription.direction == e.direction)
        and (subscription.measure is None or subscription.measure in e.measures)
    )


def delivery_key(subscription_id: int, anomaly_id: int) -> str:
    """The idempotency key of an alert: the same for every retry, in every job run."""
    return f"sahelcast-s{subscription_id}-a{anomaly_id}"


def record_outcome(delivery: Delivery, outcome: Outcome) -> None:
    """Write how one delivery attempt (or its retries) went."""
    now = utcnow()
    delivery.attempts = (delivery.attempts or 0) + outcome.attempts
    delivery.last_attempt_at = now
    delivery.response_code = outcome.response_code
    delivery.last_error = outcome.error
    delivery.status = DELIVERED if outcome.delivered else FAILED
    if outcome.delivered:
        delivery.delivered_at = now


def send_test(
    session: Session, subscription: Subscription, settings: Settings, *, sleep: Sleep = time.sleep
) -> Delivery:
    """Send one signed test payload (a single attempt) and record it."""
    key = f"sahelcast-s{subscription.id}-test-{uuid.uuid4().hex[:12]}"
    body = test_payload(subscription.id, subscription.name, key)
    outcome = send(
        subscription.url, subscription.secret, key, body, settings, max_attempts=1, sleep=sleep
    )
    delivery = Delivery(
        subscription_id=subscription.id,
        anomaly_id=None,
        kind="test",
        idempotency_key=key,
        status=PENDING,
        attempts=0,
    )
    record_outcome(delivery, outcome)
    session.add(delivery)
    session.flush()
    return delivery


Round = list[tuple[Subscription, AlertItem, Outcome | None]]


def deliver_pending(
    session: Session,
    settings: Settings,
    *,
    anomaly_ids: list[int] | None = None,
    sleep: Sleep = time.sleep,
    release: Callable[[], None] | None = None,
) -> DeliverySummary:
    """Deliver every alert-worthy anomaly to every matching subscription that lacks it.

    `release`, if given, is called once the round is planned and before any HTTP: the caller
    ends its read transaction there (e.g. `session.commit`), so no database session sits idle
    in a transaction while webhooks answer; the results are written in a fresh one."""
    subscriptions = repo.list_subscriptions(session, active_only=True)
    if not subscriptions:
        return DeliverySummary()
    items = latest_per_escalation(repo.alert_worthy(session, anomaly_ids))
    existing = repo.deliveries_for(session, [item.anomaly.id for item in items])
    done = {pair for pair, delivery in existing.items() if delivery.status == DELIVERED}
    due = [
        (subscription, item)
        for item in items
        for subscription in subscriptions
        if (subscription.id, item.anomaly.id) not in done and matches(subscription, item)
    ]
    if release is not None:
        release()
    results = _send_round(due, settings, sleep)
    return _record_round(session, results, existing)


def latest_per_escalation(items: list[AlertItem]) -> list[AlertItem]:
    """Drop alerts that a later alert of the same escalation supersedes: its payload carries the
    whole escalation, so a subscriber that missed the earlier step (a filter it did not pass
    then, a dead hook) gets one message, not one per step."""
    latest: dict[int, AlertItem] = {}
    for item in items:
        e = item.escalation
        if e is not None:
            best = latest.get(e.id)
            mine = (item.anomaly.month, item.anomaly.id)
            if best is None or mine > (best.anomaly.month, best.anomaly.id):
                latest[e.id] = item
    return [i for i in items if i.escalation is None or latest[i.escalation.id] is i]


def _send_round(
    due: list[tuple[Subscription, AlertItem]], settings: Settings, sleep: Sleep
) -> Round:
    """POST the due alerts, several at once (sender.send_round); once a hook fails, the rest of
    its alerts are deferred to the next round (None), as are those the round had no time for."""
    jobs = [
        Job(
            s.id,
            s.url,
            s.secret,
            key := delivery_key(s.id, item.anomaly.id),
            anomaly_payload(item, s.id, key, settings.public_url),
        )
        for s, item in due
    ]
    outcomes = send_round(jobs, settings, sleep=sleep)
    return [(s, item, outcome) for (s, item), outcome in zip(due, outcomes, strict=True)]


def _record_round(
    session: Session, results: Round, existing: dict[tuple[int, int], Delivery]
) -> DeliverySummary:
    summary = DeliverySummary()
    for subscription, item, outcome in results:
        delivery = existing.get((subscription.id, item.anomaly.id))
        if delivery is None:
            delivery = Delivery(
                subscription_id=subscription.id,
                anomaly_id=item.anomaly.id,
                kind="anomaly",
                status=PENDING,
                attempts=0,
                idempotency_key=delivery_key(subscription.id, item.anomaly.id),
            )
            session.add(delivery)
        if outcome is None:
            summary.deferred += 1
        else:
            record_outcome(delivery, outcome)
            summary.delivered += outcome.delivered
            summary.failed += not outcome.delivered
    session.flush()
    return summary
