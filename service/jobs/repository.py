"""Job history rows: start, finish, list. Functions only flush; the runner commits."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.ingest.orm import utcnow
from service.jobs.kinds import FAILED, RUNNING
from service.jobs.orm import Job


def start_job(session: Session, kind: str, trigger: str) -> Job:
    job = Job(kind=kind, trigger=trigger, status=RUNNING, details={})
    session.add(job)
    session.flush()
    return job


def finish_job(
    session: Session, job_id: int, status: str, message: str | None, details: dict[str, Any]
) -> Job:
    job = session.get(Job, job_id)
    assert job is not None
    job.status, job.message, job.details, job.finished_at = status, message, details, utcnow()
    session.flush()
    return job


def abandon_running(session: Session, kind: str) -> list[int]:
    """Mark `kind` jobs left `running` by a dead process as failed, all but the newest one.

    Called by a step that holds the training lease: no other job of its kind can be alive.
    """
    running = list(
        session.scalars(
            select(Job).where(Job.kind == kind, Job.status == RUNNING).order_by(Job.id.desc())
        )
    )
    for job in running[1:]:
        job.status, job.finished_at = FAILED, utcnow()
        job.message = "abandoned: the process stopped before finishing"
    session.flush()
    return [job.id for job in running[1:]]


def list_jobs(
    session: Session, *, kind: str | None = None, status: str | None = None, limit: int = 20
) -> list[Job]:
    """Jobs, newest first."""
    query = select(Job).order_by(Job.id.desc()).limit(limit)
    if kind:
        query = query.where(Job.kind == kind)
    if status:
        query = query.where(Job.status == status)
    return list(session.scalars(query))
