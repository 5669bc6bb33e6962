"""`/v1/accuracy` reports events and deaths each on its own, never one mixed score."""

from __future__ import annotations

import csv
import io

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from service.anomalies.orm import RunScore
from service.db import session_scope
from service.series.orm import Series
from tests.service.api.builders import FIRST_FORECAST, make_run, month_after


@pytest.fixture
def deaths_run(engine: Engine, world: dict[str, int]) -> int:
    """A fatalities run scored on Mopti's first two months: CRPS 20 and 30, one inside."""
    with session_scope(engine) as session:
        run = make_run(session, status="superseded", measure="fatalities")
        run.data_signature = "d" * 64
        mopti = session.get(Series, world["mopti"])
        assert mopti is not None
        for h, crps, inside in ((1, 20.0, True), (2, 30.0, False)):
            session.add(RunScore(run_id=run.id, series_id=mopti.id,
                                 month=month_after(FIRST_FORECAST, h - 1), horizon=h,
                                 observed=40, crps=crps, in_80=inside, in_95=inside))  # fmt: skip
        return run.id


def test_accuracy_reports_each_measure_separately(
    client: TestClient, world: dict[str, int], keys: dict[str, dict[str, str]], deaths_run: int
) -> None:
    read = keys["read"]
    events = client.get("/v1/accuracy", headers=read).json()
    deaths = client.get("/v1/accuracy?measure=fatalities", headers=read).json()
    # The events' report is what it was before deaths were scored: no death leaks into it.
    assert events["measure"] == "events"
    assert events["overall"]["n"] == 4
    assert events["overall"]["crps"] == pytest.approx((1.1 + 1.2 + 1.3 + 1.1) / 4)
    assert [r["measure"] for r in events["by_run"]] == ["events"]
    assert deaths["measure"] == "fatalities"
    assert deaths["overall"]["n"] == 2
    assert deaths["overall"]["crps"] == pytest.approx(25.0)
    assert deaths["overall"]["coverage_80"] == pytest.approx(0.5)
    assert [(h["horizon"], h["crps"]) for h in deaths["by_horizon"]] == [(1, 20.0), (2, 30.0)]
    assert [(r["run_id"], r["measure"]) for r in deaths["by_run"]] == [(deaths_run, "fatalities")]
    by_measure = {m["measure"]: m for m in events["by_measure"]}
    assert by_measure == {m["measure"]: m for m in deaths["by_measure"]}
    assert set(by_measure) == {"events", "fatalities"}
    assert by_measure["events"]["overall"] == events["overall"]
    assert by_measure["fatalities"]["overall"] == deaths["overall"]
    one = client.get(f"/v1/series/{world['mopti']}/accuracy?measure=fatalities", headers=read)
    assert one.json()["overall"]["n"] == 2


def test_accuracy_by_level_keeps_each_measure_and_adds_up(
    client: TestClient,
    engine: Engine,
    world: dict[str, int],
    keys: dict[str, dict[str, str]],
    deaths_run: int,
) -> None:
    with session_scope(engine) as session:  # one more deaths month, on a region total
        session.add(RunScore(run_id=deaths_run, series_id=world["sahel"], month=FIRST_FORECAST,
                             horizon=1, observed=3, crps=4.0, in_80=True, in_95=True))  # fmt: skip
        mopti, sahel = (session.get(Series, world[k]) for k in ("mopti", "sahel"))
        assert mopti is not None
        assert sahel is not None
        levels = (mopti.level, sahel.level)
    assert levels == ("actor_region_type", "region")
    read = keys["read"]
    deaths = client.get("/v1/accuracy?measure=fatalities", headers=read).json()
    events = client.get("/v1/accuracy", headers=read).json()
    # broadest level first; each level's months only
    by_level = [(lv["level"], lv["n"], lv["crps"], lv["coverage_80"]) for lv in deaths["by_level"]]
    assert by_level == [("region", 1, 4.0, 1.0), ("actor_region_type", 2, 25.0, 0.5)]
    assert sum(lv["n"] for lv in deaths["by_level"]) == deaths["overall"]["n"] == 3
    assert sum(lv["n"] for lv in events["by_level"]) == events["overall"]["n"] == 4
    assert all(lv["crps"] < 2 for lv in events["by_level"])  # no death leaks into events
    by_measure = {m["measure"]: m for m in events["by_measure"]}
    assert by_measure["fatalities"]["by_level"] == deaths["by_level"]
    assert by_measure["events"]["by_level"] == events["by_level"]


def test_accuracy_as_csv_has_a_row_per_measure_horizon_level_and_run(
    client: TestClient, world: dict[str, int], keys: dict[str, dict[str, str]], deaths_run: int
) -> None:
    read = keys["read"]
    report = client.get("/v1/accuracy?measure=fatalities", headers=read).json()
    answer = client.get("/v1/accuracy?measure=fatalities&format=csv", headers=read)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/csv")
    assert 'filename="accuracy.csv"' in answer.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    overall = {r["measure"]: r for r in rows if r["part"] == "overall"}
    assert set(overall) == {"events", "fatalities"}  # each measure on its own row
    assert (overall["fatalities"]["n"], float(overall["fatalities"]["crps"])) == ("2", 25.0)
    assert overall["events"]["n"] == "4"
    horizons = [
        (r["horizon"], float(r["crps"]))
        for r in rows
        if r["part"] == "horizon" and r["measure"] == "fatalities"
    ]
    assert horizons == [("1", 20.0), ("2", 30.0)]
    runs = [(int(r["run_id"]), r["measure"]) for r in rows if r["part"] == "run"]
    assert (
        runs
        == [(x["run_id"], "fatalities") for x in report["by_run"]]
        == [(deaths_run, "fatalities")]
    )
    levels = [r["level"] for r in rows if r["part"] == "level" and r["measure"] == "fatalities"]
    assert levels == [lv["level"] for lv in report["by_level"]]
    assert not any("{" in value for r in rows for value in r.values())  # flat
    one = client.get(f"/v1/series/{world['mopti']}/accuracy?format=csv", headers=read)
    assert one.status_code == 200, one.text
    assert f'filename="accuracy-{world["mopti"]}.csv"' in one.headers["content-disposition"]
    assert {r["part"] for r in csv.DictReader(io.StringIO(one.text))} >= {"overall", "horizon"}
