"""Health, readiness, Prometheus metrics, and the offline docs."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from service.config import Settings
from service.db import session_scope
from tests.service.api.builders import make_run, publish
from tests.service.api.conftest import assert_problem, make_client


def test_health_and_readiness_of_every_measure(client: TestClient, engine: Engine) -> None:
    assert client.get("/health").json() == {"status": "ok"}
    assert_problem(client.get("/ready"), 503, "no-published-run")
    with session_scope(engine) as session:
        deaths = make_run(session, measure="fatalities")
        publish(session, deaths)
        deaths_id = deaths.id
    ready = client.get("/ready")  # one measure published: forecasts can be answered
    assert ready.status_code == 200
    body = ready.json()
    assert (body["run_id"], body["runs"]["events"]) == (None, None)
    assert body["runs"]["fatalities"]["run_id"] == deaths_id
    with session_scope(engine) as session:
        run = make_run(session)
        publish(session, run)
        run_id = run.id
    body = client.get("/ready").json()
    assert body["run_id"] == run_id
    assert {m: r["run_id"] for m, r in body["runs"].items()} == {
        "events": run_id,
        "fatalities": deaths_id,
    }


def test_not_ready_when_the_database_is_unreachable(settings: Settings) -> None:
    url = "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1"
    with make_client(settings, database_url=url, public_read=True) as client:
        assert client.get("/health").status_code == 200
        body = assert_problem(client.get("/ready"), 503, "database-unavailable")
        assert "nobody" not in body["detail"]
        down = client.get("/v1/series/1/forecast")
        assert assert_problem(down, 503, "database-unavailable")["detail"]
        assert down.headers["retry-after"] == "1"
        assert_problem(client.get("/v1/series"), 503, "database-unavailable")


def test_metrics_count_by_route_template(
    client: TestClient, world: dict[str, int], keys: dict[str, dict[str, str]]
) -> None:
    for series in ("mopti", "gao"):
        client.get(f"/v1/series/{world[series]}/forecast", headers=keys["read"])
    client.get("/v1/series/999999/forecast", headers=keys["read"])
    client.get("/nowhere")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    route = 'method="GET",route="/v1/series/{ref}/forecast"'
    assert re.search(rf'sahelcast_http_requests_total{{{route},status="200"}} 2\.0', text)
    assert re.search(rf'sahelcast_http_requests_total{{{route},status="404"}} 1\.0', text)
    assert 'route="<unmatched>"' in text
    assert re.search(rf"sahelcast_http_request_duration_seconds_count{{{route}}} 3\.0", text)
    assert f'sahelcast_published_run_id{{measure="events"}} {float(world["run"])}' in text
    assert f'sahelcast_published_run_id{{measure="fatalities"}} {float(world["deaths"])}' in text
    assert "sahelcast_series 3.0" in text
    assert "sahelcast_database_up 1.0" in text


def test_docs_work_offline(client: TestClient) -> None:
    for page in ("/docs", "/redoc"):
        html = client.get(page).text
        urls = re.findall(r"""(?:src|href|url)\s*[=:]\s*['"]([^'"]+)['"]""", html)
        assert urls, page
        assert all(u.startswith("/") for u in urls), urls
        assert "http://" not in html
        assert "https://" not in html
    for asset, kind in (
        ("swagger-ui-bundle.js", "javascript"),
        ("swagger-ui.css", "css"),
        ("redoc.standalone.js", "javascript"),
        ("favicon-32x32.png", "png"),
    ):
        response = client.get(f"/docs-assets/{asset}")
        assert response.status_code == 200
        assert kind in response.headers["content-type"]
        assert len(response.content) > 500
        if kind == "javascript":  # nothing fetched from a CDN (links to read are fine)
            assert not re.search(rb"""src:\s*["']https?://""", response.content), asset
    schema = client.get("/openapi.json").json()
    assert schema["components"]["securitySchemes"]["apiKey"]["name"] == "X-API-Key"
    forecast = schema["paths"]["/v1/series/{ref}/forecast"]["get"]
    assert set(forecast["responses"]["200"]["content"]) == {"application/json", "text/csv"}
    assert forecast["security"]
    assert "application/problem+json" in forecast["responses"]["404"]["content"]
