"""Published forecasts by series and by filters, as JSON and CSV; season effect and drivers."""

from __future__ import annotations

import csv
import io

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from service.db import session_scope
from tests.service.api.builders import make_run
from tests.service.api.conftest import assert_problem
from tests.service.builders import make_series

QUANTILES = ["q025", "q100", "q250", "q500", "q750", "q900", "q975"]


def test_forecast_of_a_series_comes_from_the_published_run(
    client: TestClient, world: dict[str, int], keys: dict[str, dict[str, str]]
) -> None:
    body = client.get(f"/v1/series/{world['mopti']}/forecast", headers=keys["read"]).json()
    assert body["run_id"] == world["run"]
    assert body["series"]["key"] == "acled|Mali|Mopti|JNIM|Battles"
    assert body["model"] == "ets"
    assert body["status"] == "ok"
    assert body["trained_through"] == "2022-12-01"
    months = body["months"]
    assert [m["horizon"] for m in months] == list(range(1, 13))
    assert months[0]["month"] == "2023-01-01"
    assert months[-1]["month"] == "2023-12-01"
    assert [m["in_season"] for m in months] == [m in (6, 7, 8, 9) for m in range(1, 13)]
    for m in months:
        values = [m[q] for q in QUANTILES]
        assert values == sorted(values)
        assert m["q025"] < m["mean"] < m["q975"]
        # The builder encodes the run in the mean: 5 + run id + horizon / 10.
        assert m["mean"] == 5.0 + world["run"] + m["horizon"] / 10


def test_horizon_limits_the_months(
    client: TestClient, world: dict[str, int], keys: dict[str, dict[str, str]]
) -> None:
    body = client.get(f"/v1/series/{world['gao']}/forecast?horizon=3", headers=keys["read"]).json()
    assert [m["horizon"] for m in body["months"]] == [1, 2, 3]
    assert body["model"] == "negbin"


def test_forecast_as_csv(
    client: TestClient, world: dict[str, int], keys: dict[str, dict[str, str]]
) -> None:
    url = f"/v1/series/{world['mopti']}/forecast"
    by_param = client.get(url + "?format=csv&horizon=2", headers=keys["read"])
    by_accept = client.get(url + "?horizon=2", headers={**keys["read"], "Accept": "text/csv"})
    for response in (by_param, by_accept):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/csv")
        assert "attachment" in response.headers["content-disposition"]
    assert by_param.text == by_accept.text
    rows = list(csv.DictReader(io.StringIO(by_param.text)))
    assert [r["horizon"] for r in rows] == ["1", "2"]
    assert {r["run_id"] for r in rows} == {str(world["run"])}
    assert rows[0]["series_key"] == "acled|Mali|Mopti|JNIM|Battles"
    assert rows[0]["model"] == "ets"
    assert rows[0]["in_season"] == "false"
    assert float(rows[0]["q975"]) > float(rows[0]["mean"])
    json_wins = client.get(url, headers={**keys["read"], "Accept": "text/csv, application/json"})
    assert json_wins.headers["content-type"] == "application/json"


def test_forecasts_by_filters_with_pages(
    client: TestClient, world: dict[str, int], keys: dict[str, dict[str, str]]
) -> None:
    read = keys["read"]
    mali = client.get("/v1/forecasts?country=Mali&horizon=2", headers=read).json()
    assert mali["run_id"] == world["run"]
    assert mali["total"] == 2
    assert [i["series"]["region"] for i in mali["items"]] == ["Gao", "Mopti"]  # by key
    assert all(len(i["months"]) == 2 and i["run_id"] == world["run"] for i in mali["items"])
    page = client.get("/v1/forecasts?limit=1&offset=2", headers=read).json()
    assert page["total"] == 3
    assert len(page["items"]) == 1
    table = client.get("/v1/forecasts?country=Mali&horizon=1&format=csv", headers=read).text
    rows = list(csv.DictReader(io.StringIO(table)))
    assert len(rows) == 2
    assert {r["run_id"] for r in rows} == {str(world["run"])}
    empty = client.get("/v1/forecasts?actor=nobody", headers=read).json()
    assert empty["total"] == 0
    assert empty["items"] == []


def test_no_published_run_is_503(
    client: TestClient, engine: Engine, keys: dict[str, dict[str, str]]
) -> None:
    with session_scope(engine) as session:
        series = make_series(session, [1, 2, 3], country="Mali", region="Kidal")
        make_run(session, status="running")
        series_id = series.id
    for path in (
        f"/v1/series/{series_id}/forecast",
        "/v1/forecasts",
        f"/v1/series/{series_id}/season",
        f"/v1/series/{series_id}/drivers",
    ):
        assert_problem(client.get(path, headers=keys["read"]), 503, "no-published-run")


def test_series_missing_from_the_run(
    client: TestClient, world: dict[str, int], engine: Engine, keys: dict[str, dict[str, str]]
) -> None:
    with session_scope(engine) as session:
        series_id = make_series(session, [0, 1], country="Chad", region="Lac").id
    body = client.get(f"/v1/series/{series_id}/forecast", headers=keys["read"]).json()
    assert body["run_id"] == world["run"]
    assert body["months"] == []
    assert body["model"] is None
    assert body["reason"].startswith(f"the published run {world['run']} did not train this series")
    assert "SAHELCAST_TRAIN_MIN_EVENTS" in body["reason"]
    trained = client.get(f"/v1/series/{world['mopti']}/forecast", headers=keys["read"]).json()
    assert trained["months"]
    assert trained["reason"] is None
    assert_problem(
        client.get(f"/v1/series/{series_id}/season", headers=keys["read"]), 404, "not-in-run"
    )


def test_season_effect_and_drivers(
    client: TestClient, world: dict[str, int], keys: dict[str, dict[str, str]]
) -> None:
    season = client.get(f"/v1/series/{world['mopti']}/season", headers=keys["read"]).json()
    assert season["run_id"] == world["run"]
    effect = season["effect"]
    assert {k: effect[k] for k in ("rate_ratio", "ci_low", "ci_high", "p_value", "pooled")} == {
        "rate_ratio": 1.8,
        "ci_low": 1.2,
        "ci_high": 2.6,
        "p_value": 0.01,
        "pooled": False,
    }
    # fields added by the panel engine are there (null for a row written without them)
    assert {"status", "raw_rate_ratio", "events_in", "months_out"} <= set(effect)
    drivers = client.get(f"/v1/series/{world['gao']}/drivers", headers=keys["read"]).json()
    assert drivers["model"] == "negbin"
    assert drivers["status"] == "ok"
    assert set(drivers["summary"]) == {"level", "trend", "seasonal", "rainy_season"}
    assert drivers["scores"]["negbin"]["crps"] == 1.2
    assert drivers["season"]["rate_ratio"] == 1.8
