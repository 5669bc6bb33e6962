"""Refuse a query parameter given more than once: every parameter of this API is a single value,
and silently keeping the last of several would hide a client's mistake."""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from service.api.problems import ProblemParam, problem_response


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
