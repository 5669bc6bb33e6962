"""Route modules of the API. Each router carries its full prefix (`/v1/...`), so the route
objects know their whole path template (metrics label requests with it)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import APIRouter, Depends

from service.api.deps import require_read
from service.api.formats import CSV_RESPONSE
from service.api.problems import problems

V1 = "/v1"
Route = TypeVar("Route", bound=Callable[..., Any])


def read_router(tag: str) -> APIRouter:
    """A router of reads: each of its routes needs a read key (or public reads), checked once
    here rather than by every route."""
    return APIRouter(
        prefix=V1, tags=[tag], responses=problems(401, 422), dependencies=[Depends(require_read)]
    )


def list_route(
    router: APIRouter, path: str, model: Any, summary: str, *errors: int
) -> Callable[[Route], Route]:
    """A GET answering a list: JSON shaped as `model`, or CSV when asked (`params.AsCsv`)."""
    responses = {200: CSV_RESPONSE, **problems(*errors)}
    return router.get(path, response_model=model, responses=responses, summary=summary)
