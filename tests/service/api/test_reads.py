"""Accuracy of past runs, anomalies (filters, acknowledgement), runs and jobs."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from service.db import session_scope
from service.series.orm import Series
from tests.service.api.builders import add_scores, make_run
from tests.service.api.conftest import assert_problem


def test_accuracy_overall_by_horizon_and_run(
    client: TestClient, world: dict[str, int], keys: dict[str, dict[str, str]]
) -> None:
    body = client.get("/v1/accuracy", headers=keys["read"]).json()
    # Mopti scored at horizons 1-3 (inside the 80 % interval except h=3), Gao at horizon 1.
    assert body["overall"]["n"] == 4
    assert body["overall"]["crps"] == pytest.approx((1.1 + 1.2 + 1.3 + 1.1) / 4)
    assert body["overall"]["coverage_80"] == pytest.approx(0.75)
    assert body["overall"]["coverage_95"] == pytest.approx(1.0)
    assert [(h["horizon"], h["n"]) for h in body["by_horizon"]] == [(1, 2), (2, 1), (3, 1)]
    assert body["by_horizon"][2]["coverage_80"] == 0.0
    assert [(r["run_id"], r["n"]) for r in body["by_run"]] == [(world["old"], 4)]
    series = client.get(f"/v1/series/{world['gao']}/accuracy", headers=keys["read"]).json()
    assert series["overall"]["n"] == 1
    assert series["overall"]["crps"] == pytest.approx(1.1)
    none = client.get(f"/v1/accuracy?run_id={world['run']}", headers=keys["read"]).json()
    assert none["overall"] == {"n": 0, "crps": None, "coverage_80": None, "coverage_95": None}
    assert none["by_horizon"] == []
    assert none["by_run"] == []
    assert "No forecast month has been observed yet" in none["note"]
    assert body["note"] is None


def test_accuracy_counts_runs_trained_on_the_same_data_once(
    client: TestClient, world: dict[str, int], keys: dict[str, dict[str, str]], engine: Engine
) -> None:
    with session_scope(engine) as session:
        mopti = session.get(Series, world["mopti"])
        assert mopti is not None
        retrain = make_run(session, status="superseded")  # --force on the same data
        add_scores(session, retrain, mopti)
        retrain_id = retrain.id
    body = client.get("/v1/accuracy", headers=keys["read"]).json()
    assert body["overall"]["n"] == 3  # the retrain's Mopti months, once; the older run drops out
    assert [(r["run_id"], r["same_data_runs"]) for r in body["by_run"]] == [
        (retrain_id, [world["old"], retrain_id])
    ]


def test_anomalies_with_filters(
    client: TestClient, world: dict[str, int], keys: dict[str, dict[str, str]]
) -> None:
    read = keys["read"]

    def ids(query: str) -> list[int]:
        response = client.get(f"/v1/anomalies{query}", headers=read)
        assert response.status_code == 200, response.text
        return [a["id"] for a in response.json()["items"]]

    both = [world["quiet"], world["anomaly"]]  # newest month first
    assert ids("") == both
    assert ids("?since=2023-02-01") == [world["quiet"]]
    assert ids("?until=2023-01-31") == [world["anomaly"]]
    assert ids("?severity=high") == [world["anomaly"]]
    assert ids("?min_severity=low") == both
    assert ids("?min_severity=medium") == [world["anomaly"]]
    assert ids("?direction=below") == [world["quiet"]]
    assert ids("?status=acknowledged") == []
    assert ids("?country=Mali&actor=ISGS") == [world["quiet"]]
    assert ids(f"?series={world['mopti']}") == [world["anomaly"]]
    assert ids("?series=acled|Mali|Gao|ISGS|Violence against civilians") == [world["quiet"]]
    assert ids("?origin=backtest") == []
    assert ids("?limit=1&offset=1") == [world["anomaly"]]
    assert ids("?kind=interval") == both
    assert ids("?kind=new") == []
    assert_problem(client.get("/v1/anomalies?series=nope", headers=read), 404, "unknown-series")
    one = client.get(f"/v1/anomalies/{world['anomaly']}", headers=read).json()
    assert one["series"]["actor"] == "JNIM"
    assert one["observed"] == 25
    # The judging forecast: one month ahead, from the month before (FIRST_FORECAST = 2023-01).
    assert (one["horizon"], one["forecast_origin"]) == (1, "2022-12-01")
    assert one["status"] == "new"
    assert_problem(client.get("/v1/anomalies/999999", headers=read), 404, "unknown-anomaly")


def test_acknowledge_is_admin_and_idempotent(
    client: TestClient, world: dict[str, int], keys: dict[str, dict[str, str]]
) -> None:
    url = f"/v1/anomalies/{world['anomaly']}/acknowledge"
    first = client.post(url, headers=keys["admin"]).json()
    assert first["status"] == "acknowledged"
    assert first["acknowledged_at"]
    again = client.post(url, headers=keys["admin"]).json()
    assert again["acknowledged_at"] == first["acknowledged_at"]
    listed = client.get("/v1/anomalies?status=acknowledged", headers=keys["read"]).json()
    assert [a["id"] for a in listed["items"]] == [world["anomaly"]]
    assert_problem(client.post("/v1/anomalies/999999/acknowledge", headers=keys["admin"]), 404)


def test_runs_with_models_and_backtest(
    client: TestClient, world: dict[str, int], keys: dict[str, dict[str, str]]
) -> None:
    runs = client.get("/v1/runs", headers=keys["read"]).json()
    assert runs["published_run_id"] == world["run"]
    assert runs["published_run_ids"] == {"events": world["run"], "fatalities": world["deaths"]}
    assert runs["total"] == 3
    assert [(r["id"], r["measure"], r["published"]) for r in runs["items"]] == [
        (world["deaths"], "fatalities", True),
        (world["run"], "events", True),
        (world["old"], "events", False),
    ]
    assert runs["items"][1]["duration_seconds"] == 420.0
    superseded = client.get("/v1/runs?status=superseded", headers=keys["read"]).json()
    assert [r["id"] for r in superseded["items"]] == [world["old"]]
    detail = client.get(f"/v1/runs/{world['run']}", headers=keys["read"]).json()
    assert detail["models"] == {"ets": 2, "negbin": 1}
    assert detail["statuses"] == {"ok": 3}
    assert detail["n_series"] == 3
    assert detail["fit_seconds"] == pytest.approx(0.75)
    assert detail["backtest_series"] == 3
    assert detail["backtest"]["naive.crps"] == pytest.approx(1.6)
    assert detail["backtest"]["ets.crps"] == pytest.approx(1.2)
    assert detail["backtest"]["chosen.crps"] == pytest.approx(1.2)  # every series chose itself
    assert_problem(client.get("/v1/runs/999999", headers=keys["read"]), 404, "unknown-run")


def test_jobs(client: TestClient, world: dict[str, int], keys: dict[str, dict[str, str]]) -> None:
    started = client.post("/v1/admin/retrain", headers=keys["admin"]).json()
    jobs = client.get("/v1/jobs", headers=keys["read"]).json()
    assert [j["id"] for j in jobs["items"]] == [started["job_id"]]
    assert client.get("/v1/jobs?kind=ingest", headers=keys["read"]).json()["total"] == 0
    job = client.get(started["poll"], headers=keys["read"]).json()
    assert job["kind"] == "retrain"
    assert job["trigger"] == "api"
    assert job["status"] == "running"
    assert_problem(client.get("/v1/jobs/999999", headers=keys["read"]), 404, "unknown-job")
