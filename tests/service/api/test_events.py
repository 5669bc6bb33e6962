"""The drill-down: the events behind a series-month are exactly the ones the series counted."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from service.config import Settings
from service.db import session_scope
from service.ingest.service import ingest_file
from service.series.orm import Observation, Series
from service.series.repository import find_series
from tests.service.api.builders import make_anomaly
from tests.service.api.conftest import assert_problem
from tests.service.ingest.acled_rows import JNIM, mixed_rows, write


@pytest.fixture
def ingested(engine: Engine, settings: Settings, tmp_path: Path) -> None:
    """The mixed Mali rows, ingested: the events the series count."""
    ingest_file(engine, write(tmp_path / "mali.csv", mixed_rows()), settings)


@pytest.mark.usefixtures("ingested")
def test_every_series_month_returns_exactly_the_events_it_counted(
    client: TestClient, engine: Engine, keys: dict[str, dict[str, str]]
) -> None:
    with session_scope(engine) as session:
        months = session.execute(
            select(Series.id, Series.level, Observation.month, Observation.events,
                   Observation.fatalities)
            .join(Observation, Observation.series_id == Series.id)
        ).all()  # fmt: skip
    assert {level for _, level, *_ in months} == {
        "actor_region_type", "actor_region", "actor_country", "region_type", "region",
        "country_type", "country",
    }  # fmt: skip
    for series_id, level, month, events, fatalities in months:
        url = f"/v1/series/{series_id}/events?month={month:%Y-%m}&limit=1000"
        body = client.get(url, headers=keys["read"]).json()
        where = f"series {series_id} ({level}) {month:%Y-%m}"
        assert body["total"] == events, where
        assert len(body["items"]) == events, where
        assert sum(e["fatalities"] for e in body["items"]) == fatalities, where
        assert len({e["id"] for e in body["items"]}) == events, where
        assert all(e["event_date"].startswith(f"{month:%Y-%m}") for e in body["items"]), where


@pytest.mark.usefixtures("ingested")
def test_an_event_shows_actors_as_published_and_as_folded(
    client: TestClient, keys: dict[str, dict[str, str]]
) -> None:
    url = "/v1/series/acled|Mali|Mopti|Wagner Group|Battles/events"
    body = client.get(url, params={"month": "2022-07"}, headers=keys["read"]).json()
    assert body["series"]["key"] == "acled|Mali|Mopti|Wagner Group|Battles"
    assert body["month"] == "2022-07-01"
    first = body["items"][0]
    assert (first["source_event_id"], first["event_date"]) == ("MLI2", "2022-07-04")
    assert first["actors_published"] == {
        "actor1": "Military Forces of Mali (2021-)",
        "assoc_actor_1": "Wagner Group",
        "actor2": JNIM,
    }
    assert [a["name"] for a in first["actors_folded"]] == [
        "Military Forces of Mali", "Wagner Group", "JNIM",
    ]  # fmt: skip
    assert (first["admin1"], first["region"], first["country"]) == ("Mopti", "Mopti", "Mali")
    assert (first["event_type"], first["sub_event_type"], first["source"]) == (
        "Battles", "Attack", "acled",
    )  # fmt: skip
    # Fields the deployment does not store are not served.
    assert not {"notes", "location", "admin2", "latitude"} & set(first)


@pytest.mark.usefixtures("ingested")
def test_pages_csv_and_from_an_anomaly(
    client: TestClient, engine: Engine, keys: dict[str, dict[str, str]]
) -> None:
    read = keys["read"]
    key = "acled|Mali|*|*|*"
    whole = client.get(f"/v1/series/{key}/events?month=2022-08&limit=1000", headers=read).json()
    assert whole["total"] > 4
    dates = [(e["event_date"], e["id"]) for e in whole["items"]]
    assert dates == sorted(dates)
    page = client.get(f"/v1/series/{key}/events?month=2022-08&limit=2&offset=2", headers=read)
    assert [e["id"] for e in page.json()["items"]] == [e["id"] for e in whole["items"][2:4]]
    assert page.json()["total"] == whole["total"]
    exported = client.get(
        f"/v1/series/{key}/events", params={"month": "2022-08", "format": "csv", "limit": 1000},
        headers=read,
    )  # fmt: skip
    assert exported.headers["content-type"].startswith("text/csv")
    assert "attachment" in exported.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [int(r["id"]) for r in rows] == [e["id"] for e in whole["items"]]
    assert rows[0]["actor1"] == whole["items"][0]["actors_published"]["actor1"]
    with session_scope(engine) as session:
        label = find_series(session, key)
        assert label is not None
        series = session.get(Series, label.id)
        assert series is not None
        anomaly = make_anomaly(session, series, month=dt.date(2022, 8, 1))
    behind = client.get(f"/v1/anomalies/{anomaly.id}/events?limit=1000", headers=read).json()
    assert [e["id"] for e in behind["items"]] == [e["id"] for e in whole["items"]]
    assert behind["series"]["id"] == label.id
    as_csv = client.get(f"/v1/anomalies/{anomaly.id}/events?format=csv", headers=read)
    assert as_csv.text.count("\n") == min(whole["total"], 100) + 1


@pytest.mark.usefixtures("ingested")
def test_bad_requests_are_named(client: TestClient, keys: dict[str, dict[str, str]]) -> None:
    read = keys["read"]
    for month in ("2022-13", "2022-7", "July", "2022-07-01"):
        body = assert_problem(
            client.get(f"/v1/series/acled|Mali|*|*|*/events?month={month}", headers=read), 422
        )
        assert "YYYY-MM" in str(body)
    assert_problem(client.get("/v1/series/acled|Mali|*|*|*/events", headers=read), 422)
    assert_problem(client.get("/v1/series/nope/events?month=2022-07", headers=read), 404,
                   "unknown-series")  # fmt: skip
    assert_problem(client.get("/v1/anomalies/999999/events", headers=read), 404,
                   "unknown-anomaly")  # fmt: skip
    empty = client.get("/v1/series/acled|Mali|*|*|*/events?month=2021-01", headers=read).json()
    assert (empty["total"], empty["items"]) == (0, [])
    assert client.get("/v1/series/acled|Mali|*|*|*/events?month=2022-07").status_code == 401
