"""Leases in the `locks` table: one training run, one fetch, one running job at a time.

Taking the lease is an INSERT on the primary key, or an UPDATE of a lease that has expired; both
are single statements each database serializes, so two processes never both win. The holder
renews the lease from a heartbeat thread; a killed holder stops renewing and its lease lapses.
Each operation runs in its own short transaction so it never waits on the run's writes.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Connection, Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service.kit.orm import Lock
from service.kit.time import Clock, utcnow

log = logging.getLogger(__name__)

# Every lease the system takes, by name. A training run and a fetch are one at a time; so are
# the API's requests for them, from the request on (service.jobs.launch). Each running job holds
# `job_lease(id)`: a job whose lease lapsed was left behind by a dead process.
TRAINING_LOCK = "training"
FETCH_LOCK = "fetch"
RETRAIN_REQUEST_LOCK = "retrain-request"
FETCH_REQUEST_LOCK = "fetch-request"
JOB_LEASE_PREFIX = "job:"


def job_lease(job_id: int) -> str:
    """The name of the lease a running job holds."""
    return f"{JOB_LEASE_PREFIX}{job_id}"


class LockHeld(RuntimeError):
    """Another process holds the lease."""

    def __init__(self, name: str, owner: str, expires_at: dt.datetime) -> None:
        self.name, self.owner, self.expires_at = name, owner, expires_at
        super().__init__(
            f"another {name} run holds the lock: {owner}, lease expires at "
            f"{expires_at:%Y-%m-%d %H:%M:%S} UTC (it is renewed while that run is alive; "
            "a crashed run's lease lapses by itself)"
        )


class LockLost(RuntimeError):
    """The lease expired and was taken by someone else while we worked."""


def make_owner() -> str:
    """Name the holder so the refusal message tells the user where to look."""
    return f"{socket.gethostname()}:pid {os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass
class Lease:
    """A held lease; renew it before `seconds` pass, release it when done."""

    engine: Engine
    name: str
    owner: str
    seconds: float
    expires_at: dt.datetime
    clock: Clock = field(default=utcnow, repr=False)

    def renew(self) -> None:
        """Push the expiry forward, or raise LockLost if the lease is no longer ours."""
        expires = self.clock() + dt.timedelta(seconds=self.seconds)
        with self.engine.begin() as connection:
            result = connection.execute(
                update(Lock)
                .where(Lock.name == self.name, Lock.owner == self.owner)
                .values(expires_at=expires)
            )
        if result.rowcount != 1:
            raise LockLost(f"the {self.name} lease of {self.owner} was lost")
        self.expires_at = expires

    def release(self, db: Session | Connection | None = None) -> None:
        """Give the lease up (in `db`'s transaction when given, so it goes with other writes)."""
        mine = delete(Lock).where(Lock.name == self.name, Lock.owner == self.owner)
        if db is not None:
            db.execute(mine)
            return
        with self.engine.begin() as connection:
            connection.execute(mine)

    @classmethod
    def held(cls, engine: Engine, name: str, owner: str, seconds: float) -> Lease:
        """A lease taken elsewhere under `owner` (by the request that started this job, in
        another process), to renew and release from here."""
        return cls(engine, name, owner, seconds, utcnow())


def holder(db: Session | Connection, name: str, *, clock: Clock = utcnow) -> str | None:
    """The owner of the live lease `name`, or None when nobody holds it (or it lapsed)."""
    row = db.execute(select(Lock.owner).where(Lock.name == name, Lock.expires_at > clock())).first()
    return row.owner if row else None


def acquire(
    engine: Engine, name: str, seconds: float, owner: str | None = None, *, clock: Clock = utcnow
) -> Lease:
    """Take the lease `name` for `seconds`, or raise LockHeld naming the holder."""
    owner = owner or make_owner()
    now = clock()
    expires = now + dt.timedelta(seconds=seconds)
    try:
        with engine.begin() as connection:
            connection.execute(
                insert(Lock).values(name=name, owner=owner, acquired_at=now, expires_at=expires)
            )
        return Lease(engine, name, owner, seconds, expires, clock)
    except IntegrityError:
        pass  # someone holds or held it: take it over only if it has expired
    with engine.begin() as connection:
        taken = connection.execute(
            update(Lock)
            .where(Lock.name == name, Lock.expires_at < now)
            .values(owner=owner, acquired_at=now, expires_at=expires)
        )
        if taken.rowcount == 1:
            log.info("took over the expired %s lease", name)
            return Lease(engine, name, owner, seconds, expires, clock)
        holder = connection.execute(
            select(Lock.owner, Lock.expires_at).where(Lock.name == name)
        ).first()
    if holder is None:  # released between our two statements: try once more from the start
        return acquire(engine, name, seconds, owner, clock=clock)
    raise LockHeld(name, holder.owner, holder.expires_at)


class Heartbeat:
    """Renew a lease every third of its length from a daemon thread, while a run works.

    A renewal that fails is remembered in `error` (checked before publishing) rather than
    raised in the thread, where nobody would see it. `pause(seconds)` waits between beats and
    returns True when the heartbeat should stop; tests pass one that does not sleep.
    """

    def __init__(self, lease: Lease, pause: Callable[[float], bool] | None = None) -> None:
        self.lease = lease
        self.error: BaseException | None = None
        self._stop = threading.Event()
        self._pause = pause or self._stop.wait
        self._thread = threading.Thread(target=self._run, name="lease-heartbeat", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def check(self) -> None:
        """Raise the renewal failure, if any, so the run stops before it publishes."""
        if self.error is not None:
            raise LockLost(str(self.error)) from self.error

    def beat(self) -> bool:
        """Renew the lease once; on failure remember the error and return False."""
        try:
            self.lease.renew()
        except Exception as error:  # noqa: BLE001 - kept and raised by check()
            log.error("lease renewal failed: %s", error)
            self.error = error
            return False
        return True

    def _run(self) -> None:
        while not self._pause(self.lease.seconds / 3):
            if not self.beat():
                return
