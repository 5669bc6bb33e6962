"""Slow receivers cannot hold sahelcast: each attempt and each round has a deadline, deliveries
run side by side, no database session waits on a webhook, and a failed delivery does not fail
the detection (or the ingest) whose data landed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, select, text

from service.alerts import hooks
from service.alerts.orm import Delivery
from service.alerts.signing import verify
from service.anomalies import events
from service.anomalies.repository import get_anomaly
from service.config import Settings
from service.db import session_scope
from tests.service.alerts.alerting import alerting
from tests.service.alerts.conftest import deliver, reaching_the_hook
from tests.service.alerts.receiver import Receiver

IDLE_IN_TRANSACTION = text(
    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
    "AND state LIKE 'idle in transaction%' AND pid <> pg_backend_pid()"
)


def _alerts(engine: Engine, settings: Settings, hook: Receiver, n: int) -> list[int]:
    made = alerting(engine, settings, hook.url, n)
    SECRETS[:] = [made.secret]
    return made.anomaly_ids


SECRETS: list[str] = []  # the secret of the last subscription `_alerts` made


def test_a_trickling_receiver_is_cut_off_at_each_attempts_deadline(
    engine: Engine, settings: Settings, hook: Receiver
) -> None:
    local = reaching_the_hook(settings, webhook_timeout_seconds=0.5, webhook_max_attempts=2)
    _alerts(engine, local, hook, 1)
    hook.trickle, hook.trickle_for = 0.1, 3.0  # a byte every 0.1 s beats any read timeout
    assert deliver(engine, local) == {"delivered": 0, "failed": 1, "deferred": 0}
    with session_scope(engine) as session:
        delivery = session.scalars(select(Delivery)).one()
    assert (delivery.status, delivery.attempts) == ("failed", 2)
    assert "no whole answer within 0.5 s" in (delivery.last_error or "")


def test_a_round_ends_on_time_and_the_rest_waits_for_the_next(
    engine: Engine, settings: Settings, hook: Receiver
) -> None:
    local = reaching_the_hook(settings, webhook_round_seconds=2.5, webhook_concurrency=1)
    _alerts(engine, local, hook, 10)
    hook.delay = 1.0  # each answer takes a second; the round has time for two or three
    first = deliver(engine, local)
    assert first["delivered"] <= 3
    assert first["failed"] <= 1  # the one in hand when the round ended is cut off
    assert sum(first.values()) == 10
    assert first["deferred"] >= 6
    hook.delay = 0.0
    second = deliver(engine, local)
    assert second == {"delivered": 10 - first["delivered"], "failed": 0, "deferred": 0}


def test_deliveries_to_a_working_hook_run_side_by_side(
    engine: Engine, settings: Settings, hook: Receiver
) -> None:
    local = reaching_the_hook(settings, webhook_concurrency=4)
    _alerts(engine, local, hook, 9)
    hook.delay = 0.3
    assert deliver(engine, local) == {"delivered": 9, "failed": 0, "deferred": 0}
    assert hook.busiest > 1  # after the first answered, the rest went out together
    assert len({r.headers["x-sahelcast-idempotency-key"] for r in hook.requests}) == 9
    for r in hook.requests:  # each signed over its own body, whichever thread sent it
        stamp = int(r.headers["x-sahelcast-timestamp"])
        assert verify(SECRETS[0], r.headers["x-sahelcast-signature"], r.body, now=stamp)


@pytest.fixture
def listening() -> Iterator[object]:
    hooks.register()
    yield hooks.deliver_new
    events.remove_listener(hooks.deliver_new)


@pytest.mark.usefixtures("listening")
def test_the_hook_holds_no_transaction_and_a_failed_delivery_fails_nothing(
    engine: Engine, settings: Settings, hook: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in {
        "SAHELCAST_WEBHOOK_ALLOW_PRIVATE": "true",
        "SAHELCAST_WEBHOOK_BACKOFF_SECONDS": "0.01",
        "SAHELCAST_WEBHOOK_MAX_ATTEMPTS": "2",
    }.items():
        monkeypatch.setenv(name, value)
    from service.config import get_settings

    get_settings.cache_clear()
    ids = _alerts(engine, get_settings(), hook, 2)
    idle: list[int] = []

    def count_idle_sessions() -> None:
        # While the webhook is in hand: is any session of ours idle inside a transaction?
        if engine.dialect.name != "postgresql":
            return
        with engine.connect() as connection:
            idle.append(int(connection.execute(IDLE_IN_TRANSACTION).scalar() or 0))

    hook.on_request = count_idle_sessions
    hook.statuses = [500, 500]
    with session_scope(engine) as session:
        found = [get_anomaly(session, i) for i in ids]
    failures = events.emit(found)  # type: ignore[arg-type]
    if engine.dialect.name == "postgresql":
        assert idle
        assert set(idle) == {0}
    assert failures == []  # the deliveries failed and are recorded; detection did not
    with session_scope(engine) as session:
        assert {d.status for d in session.scalars(select(Delivery))} == {"failed", "pending"}
