"""Job history rows: start, record, finish, read. Functions only flush; the runner or the
request commits. The CLI (`sahelcast jobs list`) and the API (`/v1/jobs`) read through here."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.jobs.kinds import FAILED, RUNNING
from service.jobs.orm import Job
from service.kit.time import utcnow


def start_job(session: Session, kind: str, trigger: str) -> Job:
    job = Job(kind=kind, trigger=trigger, status=RUNNING, details={})
    session.add(job)
    session.flush()
    return job


def create_job(session: Session, kind: str, status: str, details: dict[str, Any]) -> Job:
    """Record a job started from the API (an upload, a retrain), finished unless queued/running."""
    job = Job(kind=kind, trigger="api", status=status, details=details)
    if status not in ("queued", "running"):
        job.finished_at = utcnow()
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


def get_job(session: Session, job_id: int) -> Job | None:
    return session.get(Job, job_id)


def list_jobs(
    session: Session,
    *,
    kind: str | None = None,
    status: str | None = None,
    limit: int = 20,
    offset: int = 0,
) -> tuple[list[Job], int]:
    """One page of jobs, newest first, and how many match in all."""
    query = select(Job)
    if kind:
        query = query.where(Job.kind == kind)
    if status:
        query = query.where(Job.status == status)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = query.order_by(Job.id.desc()).limit(limit).offset(offset)
    return list(session.scalars(page)), int(total)
