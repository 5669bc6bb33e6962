"""The actor catalogue's audit: likely relabelings with their evidence."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query, Response

from service.actors.audit import AUDIT_ROW_COLUMNS, AuditSettings, audit_actors, audit_row
from service.api.deps import SessionDep
from service.api.formats import records_csv
from service.api.params import AsCsv, Name
from service.api.routes import list_route, read_router
from service.api.schemas.actors import AuditRead, RelabelingRead
from service.ingest.sources import Source

router = read_router("actors")


@dataclass(frozen=True)
class Scope:
    """The scope of the catalogue's views (the audit here, the statistics in `catalogue`)."""

    source: str | None
    country: str | None


async def catalogue_scope(
    country: Annotated[Name | None, Query(description="Country, e.g. `Mali`.")] = None,
    source: Annotated[Source | None, Query(description="Data source.")] = None,
) -> Scope:
    return Scope(source, country)


ScopeDep = Annotated[Scope, Depends(catalogue_scope)]


@list_route(router, "/actors/audit", AuditRead, "Likely relabelings of actors")
def audit(
    session: SessionDep,
    scope: ScopeDep,
    as_csv: AsCsv,
    min_events: Annotated[int, Query(ge=2, le=100_000)] = 10,
    window: Annotated[int, Query(ge=1, le=36)] = 6,
    quiet: Annotated[int, Query(ge=1, le=36)] = 3,
) -> Response | AuditRead:
    """Names whose events stop while another's start in the same regions and months, or whose
    events mostly name another as associated actor: likely the same group under a new name.
    Each comes with its evidence and the alias line to add; nothing is changed. `format=csv`:
    one row per finding, a month's counts as `month:count` joined by `;`."""
    thresholds = AuditSettings(min_events=min_events, window=window, quiet=quiet)
    found = audit_actors(session, source=scope.source, country=scope.country, settings=thresholds)
    if as_csv:
        rows = [audit_row(f) for f in found]
        return records_csv(rows, "actors-audit.csv", AUDIT_ROW_COLUMNS)
    return AuditRead(items=[RelabelingRead.model_validate(f) for f in found])
