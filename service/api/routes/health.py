"""Liveness and readiness probes (no key needed)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from service.api.problems import ProblemError, problems
from service.api.schemas.runs import HealthRead, PublishedRead, ReadyRead
from service.forecasts.repository import publications
from service.measures import EVENTS

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
    """200 when the API can answer forecasts (a run of some measure is published), with every
    measure's published run; 503 with the reason otherwise (also when the database does not
    answer within SAHELCAST_DB_TIMEOUT_SECONDS)."""
    head = request.app.state.schema_head
    try:
        with request.app.state.read_engine.connect() as connection:
            current = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
            published = publications(connection)
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
    if not any(published.values()):
        raise ProblemError(
            503,
            "No training run has been published yet.",
            slug="no-published-run",
            title="No published run",
        )
    runs = {
        m: PublishedRead(run_id=p.run_id, published_at=p.published_at) if p else None
        for m, p in published.items()
    }
    events = runs[EVENTS]
    return ReadyRead(
        status="ready",
        run_id=events.run_id if events else None,
        published_at=events.published_at if events else None,
        runs=runs,
    )
