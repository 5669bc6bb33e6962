"""`sahelcast forecast`, `season` and `overview`: the published numbers, in a table, JSON or
CSV; the anomalies CSV in flat columns; tables at 80 columns that never cut a value."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from service.cli import app
from service.config import Settings
from tests.service.builders import built
from tests.service.web.deskworld import MALI, DeskWorld, make_desk_world

narrow = CliRunner(env={"COLUMNS": "80"})


@pytest.fixture
def world(engine: Engine, settings: Settings) -> DeskWorld:
    return built(engine, make_desk_world)


def run(*args: str, code: int = 0) -> str:
    result = narrow.invoke(app, list(args))
    assert result.exit_code == code, result.output
    return result.stdout if code == 0 else result.output


def as_csv(*args: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(run(*args, "--format", "csv"))))


def test_forecast_lists_months_and_the_engines_total(world: DeskWorld) -> None:
    mopti = world.id("Mali", "Mopti")
    rows = as_csv("forecast", str(mopti), "--months", "6")
    months = [r for r in rows if r["total"] == "false"]
    assert [int(r["horizon"]) for r in months] == [1, 2, 3, 4, 5, 6]
    total = next(r for r in rows if r["total"] == "true")
    stored = world.outlook[(mopti, "events")]
    assert (float(total["q100"]), float(total["q900"])) == (stored.q100, stored.q900)
    deaths = json.loads(run("forecast", str(mopti), "--measure", "fatalities", "-f", "json"))
    assert deaths[-1]["q900"] == world.outlook[(mopti, "fatalities")].q900
    table = run("forecast", str(mopti))
    assert "next 6 months" in table
    assert f"{stored.q100:,.0f}–{stored.q900:,.0f}" in table
    assert "no series 'nope'" in run("forecast", "nope", code=2)


def test_season_shows_the_effect_the_forecast_uses(world: DeskWorld) -> None:
    record = json.loads(run("season", world.web.key("Sahel"), "-f", "json"))[0]
    assert record["rate_ratio"] == pytest.approx(0.6)
    assert record["ci_low"] == pytest.approx(0.6 * 0.7)
    assert "Rainy-season effect" in run("season", world.web.key("Sahel"))


def test_overview_in_every_format(world: DeskWorld) -> None:
    rows = as_csv("overview", "Mali")
    assert [r["name"] for r in rows if r["kind"] == "region"] == list(MALI)
    document: Any = json.loads(run("overview", "mali", "-f", "json"))
    assert document["country"] == "Mali"
    gao = next(i for i in document["items"] if i["name"] == "Gao")
    assert gao["outlook_high_80"] == world.outlook[(gao["series_id"], "events")].q900
    table = run("overview", "Mali")
    for region in MALI:
        assert region in table
    assert "countries held" in run("overview", "Atlantis", code=2)


def test_anomalies_csv_has_flat_columns_and_plain_booleans(world: DeskWorld) -> None:
    rows = as_csv("anomalies", "list")
    assert rows
    assert {"series_key", "series_country", "series_region"} <= set(rows[0])
    assert "series" not in rows[0]
    assert {r["alert"] for r in rows} <= {"true", "false"}
    assert not any(v.startswith("{") or v in ("True", "False") for r in rows for v in r.values())


def test_tables_wrap_between_words_at_80_columns(world: DeskWorld) -> None:
    out = run("overview", "Burkina Faso")
    assert max(len(line) for line in out.splitlines()) <= 80
    # "Islamic State Sahel" wraps between its words, never inside one.
    cells = " ".join(line.split("│")[2].strip() for line in out.splitlines() if line.count("│") > 3)
    for word in ("Islamic", "State", "Sahel"):
        assert word in cells.split()


def test_a_country_x_event_type_is_listed_and_forecast_by_its_key(
    world: DeskWorld, settings: Settings
) -> None:
    from tests.service.api.conftest import make_client

    key = "ucdp|Mali|*|*|State-based conflict"
    with make_client(settings, public_read=True) as client:
        found = client.get("/v1/series", params={"level": "country_type"}).json()["items"]
        assert [s["key"] for s in found] == [key]
        forecast = client.get(f"/v1/series/{found[0]['id']}/forecast").json()
        assert (forecast["series"]["level"], len(forecast["months"])) == ("country_type", 12)
    listed = json.loads(run("series", "list", "--level", "country_type", "-f", "json"))
    assert [s["key"] for s in listed] == [key]
    months = [r for r in as_csv("forecast", key, "--months", "6") if r["total"] == "false"]
    assert [int(r["horizon"]) for r in months] == [1, 2, 3, 4, 5, 6]
    assert json.loads(run("season", key, "-f", "json"))[0]["rate_ratio"] == pytest.approx(0.8)


@pytest.mark.parametrize(
    "command",
    [
        ["overview", "Mali"],
        ["overview", "Burkina Faso"],
        ["series", "list", "--country", "Mali"],
        ["forecast", "ucdp|Mali|*|*|State-based conflict"],
        ["season", "ucdp|Mali|*|*|State-based conflict"],
    ],
)
def test_desk_tables_never_cut_a_word_at_80_columns(world: DeskWorld, command: list[str]) -> None:
    from tests.service.cli.test_formats import render, split_words

    out = run(*command)
    assert max(len(line) for line in out.splitlines()) <= 80
    assert split_words(out, render(command, 240)) == []
