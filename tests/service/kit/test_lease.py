"""The lease: one holder at a time, a clear refusal, expiry of a dead holder's lease.

Time is a fake clock moved by hand, so no test sleeps and none depends on the machine's speed.
"""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import Engine, select

from service.kit.lease import Heartbeat, LockHeld, LockLost, acquire, holder
from service.kit.orm import Lock


class FakeClock:
    """Naive UTC time that only moves when a test says so."""

    def __init__(self) -> None:
        self.now = dt.datetime(2026, 3, 2, 3, 0, 0)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


def test_second_holder_is_refused_with_owner_and_expiry(engine: Engine) -> None:
    clock = FakeClock()
    lease = acquire(engine, "training", 60, owner="host-a:pid 1", clock=clock)
    assert lease.expires_at == clock.now + dt.timedelta(seconds=60)
    with pytest.raises(LockHeld) as refused:
        acquire(engine, "training", 60, owner="host-b:pid 2", clock=clock)
    message = str(refused.value)
    assert "host-a:pid 1" in message
    assert "lease expires at 2026-03-02 03:01:00 UTC" in message
    lease.release()
    acquire(engine, "training", 60, owner="host-b:pid 2", clock=clock).release()


def test_a_lease_is_held_until_it_expires_and_then_taken_over(engine: Engine) -> None:
    clock = FakeClock()
    old = acquire(engine, "training", 60, owner="crashed", clock=clock)
    clock.advance(59)
    with pytest.raises(LockHeld):
        acquire(engine, "training", 60, owner="fresh", clock=clock)
    clock.advance(2)
    new = acquire(engine, "training", 60, owner="fresh", clock=clock)
    with engine.connect() as connection:
        assert connection.scalar(select(Lock.owner)) == "fresh"
    with pytest.raises(LockLost):
        old.renew()
    old.release()  # releasing a lease we lost must not remove the new holder's
    with engine.connect() as connection:
        assert connection.scalar(select(Lock.owner)) == "fresh"
    new.release()


def test_the_holder_is_named_while_the_lease_is_live_and_not_after(engine: Engine) -> None:
    clock = FakeClock()
    lease = acquire(engine, "fetch", 60, owner="host-a:pid 1", clock=clock)
    with engine.connect() as connection:
        assert holder(connection, "fetch", clock=clock) == "host-a:pid 1"
        assert holder(connection, "training", clock=clock) is None
        clock.advance(61)  # a crashed holder's row stays, but its lease has lapsed
        assert holder(connection, "fetch", clock=clock) is None
    lease.release()


def test_a_beat_pushes_the_expiry_past_the_original_one(engine: Engine) -> None:
    clock = FakeClock()
    lease = acquire(engine, "training", 60, owner="worker", clock=clock)
    heartbeat = Heartbeat(lease)
    clock.advance(20)  # a third of the lease: when the heartbeat thread renews
    assert heartbeat.beat()
    assert lease.expires_at == clock.now + dt.timedelta(seconds=60)
    clock.advance(50)  # past the first expiry, inside the renewed one
    with pytest.raises(LockHeld):
        acquire(engine, "training", 60, owner="intruder", clock=clock)
    heartbeat.check()
    lease.release()


def test_the_heartbeat_thread_renews_every_third_of_the_lease(engine: Engine) -> None:
    clock = FakeClock()
    lease = acquire(engine, "training", 90, owner="worker", clock=clock)
    pauses: list[float] = []
    third_pause = threading.Event()

    def pause(seconds: float) -> bool:
        # Stands in for waiting `seconds`: moves the clock instead, twice, then waits to stop.
        pauses.append(seconds)
        if len(pauses) <= 2:
            clock.advance(seconds)
            return False
        third_pause.set()
        return heartbeat_stopped.wait(timeout=30)

    heartbeat_stopped = threading.Event()
    with Heartbeat(lease, pause=pause) as heartbeat:
        assert third_pause.wait(timeout=30), "the heartbeat thread never paused a third time"
        heartbeat_stopped.set()
    assert pauses == [30.0, 30.0, 30.0]
    assert lease.expires_at == dt.datetime(2026, 3, 2, 3, 2, 30)  # renewed at +60 s, for 90 s
    with engine.connect() as connection:
        assert connection.scalar(select(Lock.expires_at)) == lease.expires_at
    heartbeat.check()
    lease.release()


def test_heartbeat_reports_a_lost_lease(engine: Engine) -> None:
    clock = FakeClock()
    lease = acquire(engine, "training", 60, owner="slow", clock=clock)
    lease.release()
    acquire(engine, "training", 60, owner="other", clock=clock)
    # A pause that never waits: the thread beats at once, fails, and ends; leaving joins it.
    with Heartbeat(lease, pause=lambda seconds: False) as heartbeat:
        pass
    with pytest.raises(LockLost, match="slow"):
        heartbeat.check()
