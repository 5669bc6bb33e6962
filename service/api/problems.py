"""RFC 9457 problem details: one exception to raise, the handlers, and the OpenAPI responses."""

from __future__ import annotations

import logging
import re
import sqlite3
from http import HTTPStatus
from typing import Any

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)
PROBLEM_JSON = "application/problem+json"
TYPE_PREFIX = "urn:sahelcast:problem:"


class ProblemParam(BaseModel):
    """One invalid input: where it is, its name, and what was expected."""

    name: str = Field(description="The parameter, form field or body member, e.g. `horizon`.")
    location: str = Field(description="`query`, `path`, `header`, `body`, `form` or `file`.")
    detail: str = Field(description="What is wrong and what is expected.")
    line: int | None = Field(default=None, description="Line of an uploaded file, if any.")


class Problem(BaseModel):
    """An error, as `application/problem+json` (RFC 9457)."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(default="about:blank", description="A URI naming the kind of problem.")
    title: str = Field(description="A short summary of the kind of problem.")
    status: int = Field(description="The HTTP status code.")
    detail: str | None = Field(default=None, description="What happened on this request.")
    instance: str | None = Field(default=None, description="The path of the request.")
    errors: list[ProblemParam] | None = Field(default=None, description="Invalid inputs.")


class ProblemError(Exception):
    """Raise to answer with a problem; `slug` names the problem type (`unknown-series`)."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        slug: str | None = None,
        title: str | None = None,
        errors: list[ProblemParam] | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.slug = slug
        self.title = title or HTTPStatus(status).phrase
        self.errors = errors
        self.headers = headers
        self.extra = extra

    def response(self, request: Request, *, headers: dict[str, str] | None = None) -> JSONResponse:
        """The answer to this problem; `headers`, if given, are sent instead of its own."""
        return problem_response(
            request,
            self.status,
            self.detail,
            slug=self.slug,
            title=self.title,
            errors=self.errors,
            headers=self.headers if headers is None else headers,
            extra=self.extra,
        )


def problem_response(
    request: Request,
    status: int,
    detail: str | None,
    *,
    slug: str | None = None,
    title: str | None = None,
    errors: list[ProblemParam] | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": TYPE_PREFIX + slug if slug else "about:blank",
        "title": title or _phrase(status),
        "status": status,
        "instance": request.url.path,
    }
    if detail:
        body["detail"] = detail
    if errors:
        body["errors"] = [e.model_dump(exclude_none=True) for e in errors]
    body.update(extra or {})
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _validation_params(error: RequestValidationError) -> list[ProblemParam]:
    params = []
    for item in error.errors():
        loc = [str(part) for part in item.get("loc", ())]
        location = loc[0] if loc else "request"
        name = ".".join(loc[1:]) or location
        params.append(ProblemParam(name=name, location=location, detail=str(item.get("msg", ""))))
    return params


async def _on_problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ProblemError)
    return exc.response(request)


async def _on_http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if exc.detail != _phrase(exc.status_code) else None
    headers = exc.headers
    if exc.status_code == 405:
        headers = {**(headers or {}), "Allow": ", ".join(_allowed_methods(request))}
    return problem_response(
        request, exc.status_code, detail, headers=dict(headers) if headers else None
    )


def _allowed_methods(request: Request) -> list[str]:
    """Every method of every route at this path (Starlette names only the first route's).

    An integer path parameter matches digits first, so `/v1/subscriptions/sample` is not
    `/v1/subscriptions/{subscription_id}`; a path no route matches that way is matched loosely.
    """
    app = request.app
    table = getattr(app.state, "path_methods", None)
    if table is None:
        table = []
        for path, operations in app.openapi()["paths"].items():
            integers = {
                p["name"]
                for op in operations.values() for p in op.get("parameters", [])
                if p.get("in") == "path" and p.get("schema", {}).get("type") == "integer"
            }  # fmt: skip
            loose = re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(path))
            strict = re.escape(path)
            for name in integers:
                strict = strict.replace(re.escape("{" + name + "}"), "[0-9]+")
            strict = re.sub(r"\\{[^}]+\\}", "[^/]+", strict)
            methods = {m.upper() for m in operations}
            table.append((re.compile(f"^{strict}$"), re.compile(f"^{loose}$"), methods))
        app.state.path_methods = table
    path = request.url.path
    methods = set().union(*(ms for strict, _, ms in table if strict.match(path)))
    if not methods:
        methods = set().union(*(ms for _, loose, ms in table if loose.match(path)))
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods)


async def _on_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    params = _validation_params(exc)
    names = ", ".join(sorted({p.name for p in params}))
    return problem_response(
        request,
        422,
        f"Invalid input: {names}.",
        slug="invalid-input",
        title="Invalid input",
        errors=params,
    )


async def _on_database_down(request: Request, exc: Exception) -> JSONResponse:
    """The database failed, was busy past SAHELCAST_DB_TIMEOUT_SECONDS (a lock, a statement,
    every pooled connection in use), or is unreachable: 503, to retry."""
    if isinstance(exc, DBAPIError) and not (
        isinstance(exc, OperationalError) or exc.connection_invalidated
    ):
        return await _on_bug(request, exc)
    if isinstance(exc, DBAPIError):
        cause = type(exc.orig).__name__
    else:  # the hot paths' raw cursors raise the driver's own errors; the pool its timeout
        cause = type(exc).__name__
    log.warning("database unavailable on %s: %s", request.url.path, cause)
    return problem_response(
        request,
        503,
        "The database is busy or unavailable (it did not answer within "
        "SAHELCAST_DB_TIMEOUT_SECONDS); retry shortly.",
        slug="database-unavailable",
        title="Database unavailable",
        headers={"Retry-After": "1"},
    )


async def _on_bug(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem_response(request, 500, "An unexpected error occurred; it has been logged.")


def install_handlers(app: FastAPI) -> None:
    """Answer every error, including unknown routes and bugs, with problem+json."""
    app.add_exception_handler(ProblemError, _on_problem)
    app.add_exception_handler(StarletteHTTPException, _on_http)
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(DBAPIError, _on_database_down)
    app.add_exception_handler(PoolTimeout, _on_database_down)
    for driver_error in (psycopg.OperationalError, sqlite3.OperationalError):
        app.add_exception_handler(driver_error, _on_database_down)
    app.add_exception_handler(Exception, _on_bug)


_DESCRIPTIONS = {
    400: "The request body cannot be parsed.",
    401: "Missing or invalid API key.",
    403: "The API key lacks the scope this needs (`admin`).",
    404: "No such resource.",
    409: "Conflict with the current state.",
    413: "The upload is too large.",
    422: "Invalid parameter, with an `errors` list naming each one.",
    503: "Not ready: no published run yet, or the database is unreachable.",
}


def problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for the given problem status codes."""
    return {
        code: {
            "description": _DESCRIPTIONS.get(code, _phrase(code)),
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for code in codes
    }
