"""The actor catalogue's audit: likely relabelings with their evidence."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from service.actors.audit import AuditSettings, audit_actors
from service.api.deps import ReadDep, SessionDep
from service.api.params import Name
from service.api.problems import problems
from service.api.routes import V1
from service.api.schemas.actors import AuditRead, RelabelingRead
from service.ingest.sources import Source

router = APIRouter(prefix=V1, tags=["actors"], responses=problems(401, 422))
# The scope of the catalogue's views (the audit here, the statistics in `catalogue`).
CountryQuery = Annotated[Name | None, Query(description="Country, e.g. `Mali`.")]
SourceQuery = Annotated[Source | None, Query(description="Data source.")]


@router.get("/actors/audit", summary="Likely relabelings of actors")
def audit(
    session: SessionDep,
    _: ReadDep,
    country: CountryQuery = None,
    source: SourceQuery = None,
    min_events: Annotated[int, Query(ge=2, le=100_000)] = 10,
    window: Annotated[int, Query(ge=1, le=36)] = 6,
    quiet: Annotated[int, Query(ge=1, le=36)] = 3,
) -> AuditRead:
    """Names whose events stop while another's start in the same regions and months, or whose
    events mostly name another as associated actor: likely the same group under a new name.
    Each comes with its evidence and the alias line to add; nothing is changed."""
    thresholds = AuditSettings(min_events=min_events, window=window, quiet=quiet)
    found = audit_actors(session, source=source, country=country, settings=thresholds)
    return AuditRead(items=[RelabelingRead.model_validate(f) for f in found])
