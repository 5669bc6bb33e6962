"""Every list the API serves answers `format=csv`: flat columns, `true`/`false`, one row per
item of the JSON page (escalations: one per part)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from service.api.app import create_app
from service.config import Settings
from tests.service.builders import built
from tests.service.web.deskworld import DeskWorld, make_desk_world


@pytest.fixture
def world(engine: Engine) -> DeskWorld:
    return built(engine, make_desk_world)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    app = create_app(settings.model_copy(update={"public_read": True}))
    with TestClient(app) as c:
        yield c


def _csv(client: TestClient, path: str, **params: Any) -> list[dict[str, str]]:
    response = client.get(path, params={**params, "format": "csv"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    return list(csv.DictReader(io.StringIO(response.text)))


def _holds_records(schema: dict[str, Any], components: dict[str, Any]) -> bool:
    """Whether a response schema is, or has a field that is, a list of records (objects)."""
    if "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[-1]]
    fields = [schema, *schema.get("properties", {}).values()]
    arrays = [f for f in fields for f in [f, *f.get("anyOf", [])] if f.get("type") == "array"]
    return any("$ref" in a.get("items", {}) for a in arrays)


def test_every_list_endpoint_takes_format() -> None:
    # Walk the app's routes (as its OpenAPI document lists them): every GET of /v1 that
    # answers a list of records (a page, a report's rows, a history; not one record at its
    # own id) takes `format` and documents its CSV.
    schema = create_app(Settings(database_url="sqlite://")).openapi()
    components = schema["components"]["schemas"]
    lists = []
    for path, operations in schema["paths"].items():
        get = operations.get("get")
        if get is None or not path.startswith("/v1/") or path.endswith("}"):
            continue
        content = get["responses"]["200"]["content"]
        body = content.get("application/json", {}).get("schema", {})
        if body and not _holds_records(body, components):
            continue
        lists.append(path)
        names = {p["name"] for p in get.get("parameters", [])}
        assert "format" in names, f"{path} answers a list but takes no format"
        assert "text/csv" in content, f"{path} does not document its CSV"
    assert {"/v1/anomalies", "/v1/escalations", "/v1/series", "/v1/series/{ref}/months",
            "/v1/runs", "/v1/forecasts", "/v1/jobs", "/v1/series/stats", "/v1/actors/audit",
            "/v1/accuracy", "/v1/series/{ref}/accuracy", "/v1/subscriptions",
            "/v1/subscriptions/{subscription_id}/deliveries", "/v1/overview",
            "/v1/freshness"} <= set(lists)  # fmt: skip
    assert "/v1/series/{ref}/season" not in lists  # one record: no list


def test_lists_as_csv_match_their_json(client: TestClient, world: DeskWorld) -> None:
    anomalies = client.get("/v1/anomalies").json()["items"]
    rows = _csv(client, "/v1/anomalies")
    assert [int(r["id"]) for r in rows] == [a["id"] for a in anomalies]
    assert [r["series_key"] for r in rows] == [a["series"]["key"] for a in anomalies]
    assert {r["alert"] for r in rows} <= {"true", "false"}
    assert {r["in_season"] for r in rows} <= {"true", "false"}
    assert not any("{" in value for r in rows for value in r.values())

    escalation = world.escalation
    assert escalation is not None
    rows = _csv(client, "/v1/escalations")
    assert [(int(r["id"]), r["part_series_key"], r["part_months"]) for r in rows] == [
        (escalation.id, "ucdp|Burkina Faso|Sahel|*|*", "2022-11-01")]  # fmt: skip

    series_id = world.web.id("Sahel")
    months = client.get(f"/v1/series/{series_id}/months").json()["months"]
    rows = _csv(client, f"/v1/series/{series_id}/months")
    assert [(r["month"], r["events"], r["status"]) for r in rows] == [
        (m["month"], str(m["events"]), m["status"]) for m in months]  # fmt: skip

    catalogue = client.get("/v1/series", params={"country": "Mali"}).json()["items"]
    rows = _csv(client, "/v1/series", country="Mali")
    assert [r["key"] for r in rows] == [s["key"] for s in catalogue]

    runs = client.get("/v1/runs").json()["items"]
    rows = _csv(client, "/v1/runs")
    assert [(int(r["id"]), r["measure"], r["published"]) for r in rows] == [
        (x["id"], x["measure"], "true" if x["published"] else "false") for x in runs]  # fmt: skip

    mopti = world.id("Mali", "Mopti")
    rows = _csv(client, f"/v1/series/{mopti}/states")
    assert [(r["month"], r["p_shift_up"]) for r in rows] == [("2022-11-01", "0.83")]
    assert _csv(client, "/v1/jobs") == []
