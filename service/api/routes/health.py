"""Liveness and readiness probes (no key needed)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy import select, text
from sqlalchemy.exc import SQLAlchemyError

from service.api.problems import ProblemError, problems
from service.api.schemas.runs import HealthRead, ReadyRead
from service.training.orm import PUBLICATION_ID, Publication

router = APIRouter(tags=["health"])


@router.get("/health", summary="The process is alive")
async def health() -> HealthRead:
    return HealthRead(status="ok")


@router.get(
    "/ready",
    responses=problems(503),
    summary="The database is reachable, migrated, and a run is published",
)
def ready(request: Request) -> ReadyRead:
    """200 when the API can answer forecasts; 503 with the reason otherwise (also when the
    database does not answer within SAHELCAST_DB_TIMEOUT_SECONDS)."""
    head = request.app.state.schema_head
    try:
        with request.app.state.read_engine.connect() as connection:
            current = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
            row = connection.execute(
                select(Publication.run_id, Publication.published_at).where(
                    Publication.id == PUBLICATION_ID
                )
            ).first()
    except SQLAlchemyError as error:
        raise ProblemError(
            503,
            "The database is unreachable, not migrated, or busy past "
            f"SAHELCAST_DB_TIMEOUT_SECONDS ({type(error).__name__}).",
            slug="database-unavailable",
            title="Database unavailable",
        ) from error
    if current != head:
        raise ProblemError(
            503,
            f"The database is at revision {current}; the code needs {head}. "
            "Run `sahelcast db upgrade`.",
            slug="database-not-migrated",
            title="Database not migrated",
        )
    if row is None:
        raise ProblemError(
            503,
            "No training run has been published yet.",
            slug="no-published-run",
            title="No published run",
        )
    return ReadyRead(status="ready", run_id=row.run_id, published_at=row.published_at)
