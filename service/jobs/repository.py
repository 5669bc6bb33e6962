"""Job history rows: start, record, finish, read. Functions only flush; the runner or the
request commits. The CLI (`sahelcast jobs list`) and the API (`/v1/jobs`) read through here.

A running job holds a lease (`job_lease(id)`) that its process renews: when the process dies,
the lease lapses, and the next job or reader closes the job as abandoned, so no job stays
`running` for ever.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import String, cast, delete, exists, func, literal, select
from sqlalchemy.orm import Session

from service.jobs.kinds import FAILED, RUNNING
from service.jobs.orm import Job
from service.kit.lease import JOB_LEASE_PREFIX, job_lease
from service.kit.orm import Lock
from service.kit.time import Clock, utcnow

ABANDONED = "abandoned: the process stopped before finishing (its lease lapsed)"


def start_job(
    session: Session,
    kind: str,
    trigger: str,
    *,
    owner: str,
    seconds: float,
    details: dict[str, Any] | None = None,
    clock: Clock = utcnow,
) -> Job:
    """Record a running job and take its lease for `owner`, in the caller's transaction (a
    reader never sees the job without its lease)."""
    job = Job(kind=kind, trigger=trigger, status=RUNNING, details=details or {})
    session.add(job)
    session.flush()
    now = clock()
    expires = now + dt.timedelta(seconds=seconds)
    session.add(Lock(name=job_lease(job.id), owner=owner, acquired_at=now, expires_at=expires))
    session.flush()
    return job


def create_job(session: Session, kind: str, status: str, details: dict[str, Any]) -> Job:
    """Record a job the API did within its request (an upload), finished."""
    job = Job(kind=kind, trigger="api", status=status, details=details, finished_at=utcnow())
    session.add(job)
    session.flush()
    return job


def finish_job(
    session: Session, job_id: int, status: str, message: str | None, details: dict[str, Any]
) -> Job:
    """Record a job's outcome (its `details` added to those it started with) and drop its lease."""
    job = session.get(Job, job_id)
    assert job is not None
    job.status, job.message, job.finished_at = status, message, utcnow()
    job.details = {**(job.details or {}), **details}
    session.execute(delete(Lock).where(Lock.name == job_lease(job_id)))
    session.flush()
    return job


def fail_running(session: Session, job_id: int, message: str) -> bool:
    """Mark job `job_id` failed if it is still `running` (its run died), and drop its lease."""
    job = session.get(Job, job_id)
    if job is None or job.status != RUNNING:
        return False
    job.status, job.finished_at, job.message = FAILED, utcnow(), message
    session.execute(delete(Lock).where(Lock.name == job_lease(job_id)))
    session.flush()
    return True


def close_lapsed(session: Session, *, clock: Clock = utcnow) -> list[int]:
    """Mark `running` jobs whose lease lapsed (their process died) as failed; return their ids."""
    now = clock()
    live = exists().where(
        Lock.name == literal(JOB_LEASE_PREFIX, String) + cast(Job.id, String),
        Lock.expires_at > now,
    )
    dead = list(session.scalars(select(Job).where(Job.status == RUNNING, ~live)))
    for job in dead:
        job.status, job.finished_at, job.message = FAILED, now, ABANDONED
    if dead:
        names = [job_lease(job.id) for job in dead]
        session.execute(delete(Lock).where(Lock.name.in_(names)))
    session.flush()
    return [job.id for job in dead]


def get_job(session: Session, job_id: int) -> Job | None:
    close_lapsed(session)
    return session.get(Job, job_id)


def list_jobs(
    session: Session,
    *,
    kind: str | None = None,
    status: str | None = None,
    limit: int = 20,
    offset: int = 0,
) -> tuple[list[Job], int]:
    """One page of jobs, newest first, and how many match in all (jobs left behind by a dead
    process are closed first)."""
    close_lapsed(session)
    query = select(Job)
    if kind:
        query = query.where(Job.kind == kind)
    if status:
        query = query.where(Job.status == status)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = query.order_by(Job.id.desc()).limit(limit).offset(offset)
    return list(session.scalars(page)), int(total)
