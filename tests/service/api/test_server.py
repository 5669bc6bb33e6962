"""The real thing: `sahelcast serve` with two uvicorn workers on a random port, over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from service.config import Settings
from tests.service.serving import running_server

pytestmark = pytest.mark.slow


@pytest.fixture
def server(settings: Settings, world: dict[str, int], tmp_path: Path) -> Iterator[str]:
    env = {"SAHELCAST_DATABASE_URL": settings.database_url}
    with running_server(env, tmp_path / "serve.log", "--workers", "2") as base:
        yield base


def test_serve_answers_over_http(
    server: str, world: dict[str, int], keys: dict[str, dict[str, str]]
) -> None:
    with httpx.Client(base_url=server, timeout=10) as client:
        assert client.get("/health").json() == {"status": "ok"}
        for _ in range(20):  # spread over both workers
            response = client.get(f"/v1/series/{world['mopti']}/forecast", headers=keys["read"])
            assert response.status_code == 200
            assert response.json()["run_id"] == world["run"]
        unauthorized = client.get("/v1/series")
        assert unauthorized.status_code == 401
        assert unauthorized.headers["content-type"] == "application/problem+json"
        assert "swagger-ui-bundle.js" in client.get("/docs").text
        metrics = client.get("/metrics").text
        # Both workers' counters are added up in one scrape.
        line = (
            'sahelcast_http_requests_total{method="GET",route="/v1/series/{ref}/forecast",'
            'status="200"} 20.0'
        )
        assert line in metrics, metrics
