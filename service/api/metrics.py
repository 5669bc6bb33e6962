"""Prometheus metrics: requests and latency per route template, plus published runs and series.

With several uvicorn workers, `PROMETHEUS_MULTIPROC_DIR` makes every worker write its counters
to shared files and `/metrics` add them up (`sahelcast serve` sets it for `--workers > 1`).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

from fastapi import APIRouter, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import SQLAlchemyError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.forecasts.repository import publications
from service.series.orm import Series

BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
UNMATCHED = "<unmatched>"


def multiprocess() -> bool:
    return bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))


class HttpMetrics:
    """The request counter and latency histogram of one app."""

    def __init__(self) -> None:
        # In multiprocess mode values live in files, so nothing registers in-process.
        self.registry = None if multiprocess() else CollectorRegistry()
        self.requests = Counter(
            "sahelcast_http_requests",
            "HTTP requests by route template.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "sahelcast_http_request_duration_seconds",
            "HTTP request latency by route template.",
            ["method", "route"],
            buckets=BUCKETS,
            registry=self.registry,
        )


class MetricsMiddleware:
    """Count and time every HTTP request under its route template (`/v1/series/{ref}`)."""

    def __init__(self, app: ASGIApp, metrics: HttpMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            route = getattr(scope.get("route"), "path", None) or UNMATCHED
            method = scope["method"]
            self.metrics.requests.labels(method, route, str(status)).inc()
            self.metrics.latency.labels(method, route).observe(time.perf_counter() - start)


class DatabaseCollector(Collector):
    """Gauges read from the database at scrape time: each measure's published run and the
    series count."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[Metric]:
        run = GaugeMetricFamily(
            "sahelcast_published_run_id",
            "Id of each measure's published run (0: none).",
            labels=["measure"],
        )
        series = GaugeMetricFamily("sahelcast_series", "Number of series.")
        up = GaugeMetricFamily("sahelcast_database_up", "1 if the database answered the scrape.")
        try:
            with self.engine.connect() as connection:
                published = publications(connection)
                count = connection.scalar(select(func.count()).select_from(Series))
            for measure, found in published.items():
                run.add_metric([measure], float(found.run_id if found else 0))
            series.add_metric([], float(count or 0))
            up.add_metric([], 1.0)
            yield from (run, series, up)
        except SQLAlchemyError:
            up.add_metric([], 0.0)
            yield up


def metrics_router(metrics: HttpMetrics, engine: Engine) -> APIRouter:
    router = APIRouter(tags=["health"])
    database = DatabaseCollector(engine)

    @router.get(
        "/metrics",
        summary="Prometheus metrics",
        response_class=Response,
        responses={200: {"content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}}}},
    )
    def scrape(request: Request) -> Response:
        registry = CollectorRegistry()
        if metrics.registry is None:
            MultiProcessCollector(registry)
        else:
            registry.register(_Forward(metrics.registry))
        registry.register(database)
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return router


class _Forward(Collector):
    """Expose another registry's metrics inside the per-scrape registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry

    def collect(self) -> Iterator[Metric]:
        yield from self.registry.collect()
