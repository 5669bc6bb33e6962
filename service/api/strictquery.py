"""Strict query strings on /v1: a parameter given more than once, or one the endpoint does not
take, answers 422 naming it. Every parameter of this API is a single value, and silently keeping
the last of several, or ignoring a misspelt filter, would hide a client's mistake."""

from __future__ import annotations

from urllib.parse import parse_qsl

from fastapi import Depends
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from service.api.problems import ProblemError, ProblemParam, problem_response


class SingleQueryValues:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        query: bytes = scope.get("query_string", b"") if scope["type"] == "http" else b""
        if b"&" in query:
            names = [name for name, _ in parse_qsl(query.decode("latin-1"), keep_blank_values=True)]
            repeated = sorted({name for name in names if names.count(name) > 1})
            if repeated:
                errors = [
                    ProblemParam(
                        name=name, location="query", detail="given more than once; give it once"
                    )
                    for name in repeated
                ]
                response = problem_response(
                    Request(scope),
                    422,
                    f"Repeated parameter: {', '.join(repeated)}.",
                    slug="invalid-input",
                    title="Invalid input",
                    errors=errors,
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


_ALLOWED: dict[int, frozenset[str]] = {}


def _query_names(dependant: Dependant) -> set[str]:
    names = {param.alias for param in dependant.query_params}
    for sub_dependant in dependant.dependencies:
        names |= _query_names(sub_dependant)
    return names


def _declared(route: APIRoute) -> frozenset[str]:
    # Every query parameter the route and its dependencies declare, computed once per route.
    known = _ALLOWED.get(id(route))
    if known is None:
        known = _ALLOWED[id(route)] = frozenset(_query_names(route.dependant))
    return known


async def known_query_parameters(request: Request) -> None:
    """Refuse query parameters the endpoint does not take: `/v1/series?actr=JNIM` would
    otherwise list every series, as if the filter had matched."""
    if not request.query_params:
        return
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    known = _declared(route)
    unknown = sorted(set(request.query_params) - known)
    if unknown:
        takes = ", ".join(sorted(known)) or "no query parameters"
        raise ProblemError(
            422,
            f"Unknown parameter: {', '.join(unknown)}. This endpoint takes: {takes}.",
            slug="invalid-input",
            title="Invalid input",
            errors=[
                ProblemParam(name=name, location="query", detail="not a parameter of this endpoint")
                for name in unknown
            ],
        )


KnownQuery = Depends(known_query_parameters)
