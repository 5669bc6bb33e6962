"""What the series catalogue is made of (registered before `/series/{ref}`, which it would
otherwise fall under)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from service.api.deps import ReadDep, SessionDep
from service.api.problems import problems
from service.api.routes import V1
from service.api.routes.actors import CountryQuery, SourceQuery
from service.api.schemas.actors import CatalogueStatsRead
from service.series.stats import catalogue_stats

router = APIRouter(prefix=V1, tags=["series"], responses=problems(401, 422))


@router.get("/series/stats", summary="What the catalogue is made of")
def stats(
    session: SessionDep,
    _: ReadDep,
    country: CountryQuery = None,
    source: SourceQuery = None,
    fewer_than: Annotated[
        int, Query(ge=1, le=1_000_000, description="List actors with fewer events than this.")
    ] = 10,
) -> CatalogueStatsRead:
    """Series per level and per actor type, ambiguous events, events counted for no actor,
    and the actors with fewer than `fewer_than` events in a country."""
    found = catalogue_stats(session, source=source, country=country, fewer_than=fewer_than)
    return CatalogueStatsRead.model_validate(found)
