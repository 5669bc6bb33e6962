"""The series catalogue (filters, pagination) and a series' months with coverage marks."""

from __future__ import annotations

import datetime as dt
from typing import get_args

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from service.api.params import Level
from service.db import session_scope
from service.series.levels import LEVELS
from tests.service.builders import make_series, make_source, set_coverage


def test_catalogue_filters_and_pages(
    client: TestClient, world: dict[str, int], keys: dict[str, dict[str, str]]
) -> None:
    read = keys["read"]
    everything = client.get("/v1/series", headers=read).json()
    assert everything["total"] == 3
    assert len(everything["items"]) == 3
    mali = client.get("/v1/series?country=mali", headers=read).json()
    assert {s["region"] for s in mali["items"]} == {"Mopti", "Gao"}
    by_actor = client.get("/v1/series", params={"actor": "jnim"}, headers=read).json()
    assert [s["id"] for s in by_actor["items"]] == [world["mopti"]]
    by_type = client.get(
        "/v1/series",
        params={"event_type": "Battles", "source": "acled", "level": "actor_region_type"},
        headers=read,
    )
    assert by_type.json()["total"] == 1
    assert client.get("/v1/series?region=Sahel", headers=read).json()["items"][0]["actor"] is None
    assert client.get("/v1/series?country=Chad", headers=read).json() == {
        "total": 0,
        "limit": 100,
        "offset": 0,
        "items": [],
    }
    first = client.get("/v1/series?limit=2", headers=read).json()
    second = client.get("/v1/series?limit=2&offset=2", headers=read).json()
    assert first["total"] == second["total"] == 3
    assert len(first["items"]) == 2
    assert len(second["items"]) == 1
    ids = [s["id"] for s in first["items"] + second["items"]]
    assert sorted(ids) == sorted([world["mopti"], world["gao"], world["sahel"]])
    # Busiest first.
    totals = [s["total_events"] for s in everything["items"]]
    assert totals == sorted(totals, reverse=True)


def test_series_by_id_or_key(
    client: TestClient, world: dict[str, int], keys: dict[str, dict[str, str]]
) -> None:
    by_id = client.get(f"/v1/series/{world['mopti']}", headers=keys["read"]).json()
    assert by_id["key"] == "acled|Mali|Mopti|JNIM|Battles"
    assert by_id["first_month"] == "2019-01-01"
    assert by_id["last_complete_month"] == "2022-12-01"
    by_key = client.get("/v1/series/acled|Mali|Mopti|JNIM|Battles", headers=keys["read"])
    assert by_key.json() == by_id
    listed = client.get("/v1/series", params={"key": by_id["key"]}, headers=keys["read"]).json()
    assert [s["id"] for s in listed["items"]] == [world["mopti"]]


def test_months_mark_known_zeros_and_unknown(
    client: TestClient, engine: Engine, keys: dict[str, dict[str, str]]
) -> None:
    with session_scope(engine) as session:
        series = make_series(
            session,
            [2, 0, 3, 4],
            country="Niger",
            region="Tillaberi",
            start=dt.date(2022, 1, 1),
            cover=False,
        )
        # Coverage ends in March: April's 4 events are a partial month, not a count to trust.
        set_coverage(
            session, make_source(session, "ucdp"), "Niger", dt.date(2022, 1, 1), dt.date(2022, 3, 1)
        )
        series_id = series.id
    body = client.get(f"/v1/series/{series_id}/months", headers=keys["read"]).json()
    assert body["series"]["id"] == series_id
    assert [(m["month"], m["events"], m["status"]) for m in body["months"]] == [
        ("2022-01-01", 2, "observed"),
        ("2022-02-01", 0, "zero"),
        ("2022-03-01", 3, "observed"),
        ("2022-04-01", 4, "unknown"),
    ]
    window = client.get(
        f"/v1/series/{series_id}/months?since=2022-02-01&until=2022-03-01", headers=keys["read"]
    ).json()
    assert [m["month"] for m in window["months"]] == ["2022-02-01", "2022-03-01"]


def test_level_parameter_names_every_roll_up() -> None:
    assert set(get_args(Level)) == set(LEVELS)
