"""Errors are RFC 9457 problem details: 404, 405, 422 with named parameters, and 500 for bugs."""

from __future__ import annotations

from fastapi.testclient import TestClient

from service.config import Settings
from tests.service.api.conftest import assert_problem, make_client


def test_unknown_series_is_404(
    client: TestClient, world: dict[str, int], keys: dict[str, dict[str, str]]
) -> None:
    for path in (
        "/v1/series/999999/forecast",
        "/v1/series/no|such|key/forecast",
        "/v1/series/999999",
        "/v1/series/99999999999999/months",
        "/v1/series/nope/season",
        "/v1/series/nope/drivers",
        "/v1/series/nope/accuracy",
    ):
        body = assert_problem(client.get(path, headers=keys["read"]), 404, "unknown-series")
        assert "/v1/series" in body["detail"]


def test_bad_parameters_are_422_naming_them(
    client: TestClient, world: dict[str, int], keys: dict[str, dict[str, str]]
) -> None:
    series = world["mopti"]
    cases = {
        f"/v1/series/{series}/forecast?horizon=13": ("horizon", "query"),
        f"/v1/series/{series}/forecast?horizon=0": ("horizon", "query"),
        f"/v1/series/{series}/forecast?horizon=soon": ("horizon", "query"),
        f"/v1/series/{series}/forecast?format=xml": ("format", "query"),
        "/v1/series?limit=0": ("limit", "query"),
        "/v1/series?level=galaxy": ("level", "query"),
        "/v1/series?country=%00": ("country", "query"),
        "/v1/anomalies?since=yesterday": ("since", "query"),
        "/v1/anomalies/0": ("anomaly_id", "path"),
        "/v1/runs/abc": ("run_id", "path"),
    }
    for path, (name, location) in cases.items():
        body = assert_problem(client.get(path, headers=keys["read"]), 422, "invalid-input")
        assert {"name": name, "location": location} in [
            {"name": e["name"], "location": e["location"]} for e in body["errors"]
        ], body
        assert all(e["detail"] for e in body["errors"])


def test_bad_json_body_is_422(client: TestClient, keys: dict[str, dict[str, str]]) -> None:
    headers = {**keys["admin"], "Content-Type": "application/json"}
    body = assert_problem(client.post("/v1/subscriptions", content=b"{nope", headers=headers), 422)
    assert body["errors"][0]["location"] == "body"
    response = client.post("/v1/subscriptions", json={"name": "x"}, headers=keys["admin"])
    assert [e["name"] for e in assert_problem(response, 422)["errors"]] == ["url"]


def test_unknown_routes_and_methods_are_problems(client: TestClient) -> None:
    assert_problem(client.get("/v1/nowhere"), 404)
    response = client.delete("/health")
    assert_problem(response, 405)
    assert "GET" in response.headers["allow"]


def test_a_bug_is_a_500_problem_without_details(settings: Settings) -> None:
    client = make_client(settings)

    @client.app.get("/boom")  # type: ignore[attr-defined]
    def boom() -> None:
        raise RuntimeError("secret internals")

    with TestClient(client.app, raise_server_exceptions=False) as raw:
        body = assert_problem(raw.get("/boom"), 500)
    assert "secret" not in body["detail"]
