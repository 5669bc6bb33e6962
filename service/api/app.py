"""The REST API: `create_app()` wires settings, database, routes, errors, metrics and docs."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from service import migrate
from service.alerts.router import router as alerts_router
from service.api.bodyguard import BodyGuard
from service.api.database import api_engine, read_engine, request_engine
from service.api.deps import READ_SECURITY
from service.api.docs import install_docs
from service.api.keycache import KeyCache
from service.api.metrics import HttpMetrics, MetricsMiddleware, metrics_router
from service.api.problems import Problem, ProblemParam, install_handlers
from service.api.responsecache import ResponseCache
from service.api.routes import (
    accuracy,
    actors,
    admin,
    anomalies,
    desk,
    escalations,
    events,
    forecasts,
    health,
    runs,
    series,
)
from service.api.strictquery import KnownQuery, SingleQueryValues
from service.config import Settings, get_settings
from service.db import session_factory
from service.jobs.launch import Launcher, launch_process, launch_thread
from service.kit.time import Clock, utcnow
from service.tempfiles import clean_stale
from service.web.router import router as web_router

DESCRIPTION = """
Monthly political-violence event series for the Sahel, their forecasts from the published
training run (mean, quantiles, rainy-season flag), accuracy, anomalies and alerts.

Authenticate with `Authorization: Bearer <token>` or `X-API-Key: <token>` (create keys with
`sahelcast keys create`). Reads need a `read` key unless `SAHELCAST_PUBLIC_READ=true`; writes
need an `admin` key. Errors are `application/problem+json` (RFC 9457).
"""


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    yield
    app.state.engine.dispose()
    app.state.request_engine.dispose()
    app.state.read_engine.dispose()


def create_app(
    settings: Settings | None = None,
    *,
    retrain_launcher: Launcher | None = None,
    fetch_launcher: Launcher | None = None,
    clock: Clock | None = None,
) -> FastAPI:
    """Build the API for `settings` (default: the process settings); the launchers run the
    retrain and fetch jobs it records (default: a spawned process, a thread); `clock` says what
    time it is to the freshness checks (default: the wall clock)."""
    settings = settings or get_settings()
    clean_stale()  # upload folders a crashed server left in the temporary folder
    engine = api_engine(settings.database_url)
    app = FastAPI(
        title="sahelcast",
        version="1",
        description=DESCRIPTION,
        docs_url=None,
        redoc_url=None,
        lifespan=_lifespan,
    )
    app.state.settings = settings
    app.state.clock = clock or _settings_clock(settings)
    app.state.engine = engine
    # Requests wait for the database SAHELCAST_DB_TIMEOUT_SECONDS at most (api.database).
    app.state.request_engine = request_engine(settings.database_url, settings.db_timeout_seconds)
    app.state.sessions = session_factory(app.state.request_engine)
    app.state.read_engine = read_engine(settings.database_url, settings.db_timeout_seconds)
    app.state.retrain_launcher = retrain_launcher or launch_process
    app.state.fetch_launcher = fetch_launcher or launch_thread
    app.state.key_cache = KeyCache(settings.api_key_cache_seconds)
    app.state.response_cache = ResponseCache(settings.api_response_cache_entries)
    app.state.schema_head = migrate.head_revision(engine)

    install_handlers(app)
    for module in (
        forecasts,
        series,
        events,
        accuracy,
        anomalies,
        escalations,
        runs,
        admin,
        actors,
        desk,
    ):  # hot routes first
        app.include_router(module.router, dependencies=[KnownQuery])
    app.include_router(alerts_router, dependencies=[KnownQuery])
    app.include_router(health.router)
    app.include_router(web_router)  # the dashboard at `/` (service/web)
    metrics = HttpMetrics()
    app.include_router(metrics_router(metrics, engine))
    app.add_middleware(BodyGuard)  # innermost: keys and sizes are checked before any body
    app.add_middleware(SingleQueryValues)
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    install_docs(app)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _settings_clock(settings: Settings) -> Clock:
    """The wall clock, or noon of `settings.today` when a day is set."""
    if settings.today is None:
        return utcnow
    noon = dt.datetime.combine(settings.today, dt.time(12))
    return lambda: noon


SECURITY_SCHEMES = {
    "bearer": {
        "type": "http",
        "scheme": "bearer",
        "description": "`Authorization: Bearer <token>`",
    },
    "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
}


def _mark_secured(schema: dict[str, Any]) -> None:
    """Name the key schemes on every operation that can answer 401 (it checks a key)."""
    for operations in schema["paths"].values():
        for operation in operations.values():
            if "401" in operation.get("responses", {}):
                operation.setdefault("security", READ_SECURITY)


def _openapi(app: FastAPI) -> dict[str, Any]:
    """The generated schema plus the Problem schemas the error responses point to."""
    if app.openapi_schema is None:
        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        components = schema.setdefault("components", {})
        schemas = components.setdefault("schemas", {})
        ref = "#/components/schemas/{model}"
        for model in (ProblemParam, Problem):
            definition = model.model_json_schema(ref_template=ref)
            schemas.update(definition.pop("$defs", {}))
            schemas[model.__name__] = definition
        components["securitySchemes"] = SECURITY_SCHEMES
        _mark_secured(schema)
        app.openapi_schema = schema
    return app.openapi_schema
