"""Unknown query parameters answer 422 naming them, on every /v1 route; known ones still work."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from service.api.app import create_app
from service.config import Settings
from tests.service.api.conftest import assert_problem


def v1_routes() -> list[tuple[str, str]]:
    """Every /v1 operation of the OpenAPI document, with 1 for each path parameter."""
    app = create_app(Settings(database_url="sqlite://", environment="test"))
    return [
        (method.upper(), re.sub(r"\{[^}]+\}", "1", path))
        for path, operations in app.openapi()["paths"].items()
        if path.startswith("/v1")
        for method in operations
    ]


ROUTES = v1_routes()


def test_every_v1_route_is_checked() -> None:
    paths = {path for _, path in ROUTES}
    for expected in ("/v1/series", "/v1/anomalies", "/v1/runs", "/v1/jobs", "/v1/accuracy",
                     "/v1/series/1/forecast", "/v1/subscriptions"):  # fmt: skip
        assert expected in paths


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_an_unknown_parameter_is_named(
    client: TestClient, keys: dict[str, dict[str, str]], method: str, path: str
) -> None:
    response = client.request(method, f"{path}?sevrity=high", headers=keys["admin"])
    body = assert_problem(response, 422, "invalid-input")
    assert "Unknown parameter: sevrity" in body["detail"]
    assert body["errors"] == [
        {"name": "sevrity", "location": "query", "detail": "not a parameter of this endpoint"}
    ]


def test_the_message_lists_what_the_endpoint_takes(
    client: TestClient, keys: dict[str, dict[str, str]], world: dict[str, int]
) -> None:
    body = assert_problem(client.get("/v1/series?actr=JNIM", headers=keys["read"]), 422)
    assert "This endpoint takes: actor, country, event_type" in body["detail"]
    listed = client.get("/v1/series?actor=JNIM&limit=5", headers=keys["read"])
    assert listed.status_code == 200
    assert {s["actor"] for s in listed.json()["items"]} == {"JNIM"}
    anomalies = client.get("/v1/anomalies?severity=high&origin=live", headers=keys["read"])
    assert anomalies.status_code == 200
    forecast = client.get(f"/v1/series/{world['mopti']}/forecast?format=csv&horizon=3",
                          headers=keys["read"])  # fmt: skip
    assert forecast.status_code == 200, forecast.text
