"""The lease lock: one holder at a time, a clear refusal, expiry of a dead holder's lease."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import Engine, select

from service.training.lock import Heartbeat, LockHeld, LockLost, acquire
from service.training.orm import Lock


def test_second_holder_is_refused_with_owner_and_expiry(engine: Engine) -> None:
    lease = acquire(engine, "training", 60, owner="host-a:pid 1")
    with pytest.raises(LockHeld) as refused:
        acquire(engine, "training", 60, owner="host-b:pid 2")
    message = str(refused.value)
    assert "host-a:pid 1" in message
    assert f"{lease.expires_at:%Y-%m-%d %H:%M:%S}" in message
    lease.release()
    acquire(engine, "training", 60, owner="host-b:pid 2").release()


def test_expired_lease_is_taken_over_and_the_old_holder_loses_it(engine: Engine) -> None:
    old = acquire(engine, "training", 0.2, owner="crashed")
    time.sleep(0.3)
    new = acquire(engine, "training", 60, owner="fresh")
    with engine.connect() as connection:
        assert connection.scalar(select(Lock.owner)) == "fresh"
    with pytest.raises(LockLost):
        old.renew()
    old.release()  # releasing a lease we lost must not remove the new holder's
    with engine.connect() as connection:
        assert connection.scalar(select(Lock.owner)) == "fresh"
    new.release()


def test_heartbeat_keeps_a_short_lease_alive(engine: Engine) -> None:
    lease = acquire(engine, "training", 0.6, owner="worker")
    with Heartbeat(lease) as heartbeat:
        time.sleep(1.5)
        with pytest.raises(LockHeld):
            acquire(engine, "training", 60, owner="intruder")
        heartbeat.check()
    lease.release()


def test_heartbeat_reports_a_lost_lease(engine: Engine) -> None:
    lease = acquire(engine, "training", 0.3, owner="slow")
    lease.release()
    acquire(engine, "training", 60, owner="other")
    with Heartbeat(lease) as heartbeat:
        time.sleep(0.4)
    with pytest.raises(LockLost):
        heartbeat.check()
