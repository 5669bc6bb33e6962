"""Read and record jobs started from the API (uploads, retrains)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.ingest.orm import utcnow
from service.jobs.orm import Job


def create_job(session: Session, kind: str, status: str, details: dict[str, Any]) -> Job:
    job = Job(kind=kind, trigger="api", status=status, details=details)
    if status not in ("queued", "running"):
        job.finished_at = utcnow()
    session.add(job)
    session.flush()
    return job


def get_job(session: Session, job_id: int) -> Job | None:
    return session.get(Job, job_id)


def list_jobs(
    session: Session, *, kind: str | None, limit: int, offset: int
) -> tuple[list[Job], int]:
    query = select(Job)
    if kind:
        query = query.where(Job.kind == kind)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    return list(session.scalars(query.order_by(Job.id.desc()).limit(limit).offset(offset))), int(
        total
    )
