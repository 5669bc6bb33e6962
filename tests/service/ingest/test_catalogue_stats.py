"""`series stats` (and `GET /v1/series/stats`): what the catalogue is made of."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from sqlalchemy import Engine
from typer.testing import CliRunner

from service.cli import app
from service.config import Settings
from service.db import session_scope
from service.ingest.service import ingest_file
from service.series.levels import LEVELS
from service.series.stats import catalogue_stats
from tests.service.api.builders import make_key
from tests.service.api.conftest import make_client
from tests.service.ingest.acled_rows import event, write

JNIM = "JNIM: Group for Support of Islam and Muslims"
runner = CliRunner(env={"COLUMNS": "200"})


def _rows() -> list[dict[str, object]]:
    rows = [
        event(f"MLI{n}", f"{n:02d} July 2022", JNIM, assoc_actor_2="Pastoralists (Mali)")
        for n in range(1, 13)
    ]
    rows += [
        event(
            "MLI20",
            "03 August 2022",
            "Military Forces of Mali (2021-)",
            actor2=JNIM,
            event_type="Battles",
        ),
        event("MLI21", "04 August 2022", f"{JNIM} and/or Islamic State (Sahel)"),
        event("MLI22", "05 August 2022", "Protesters (Mali)", actor2="", event_type="Protests"),
        event(
            "BFO1",
            "05 August 2022",
            "Koglweogo Militia",
            country="Burkina Faso",
            admin1="Nord",
            inter1=4,
        ),
    ]
    return rows


def test_stats_count_levels_types_ambiguity_and_small_actors(
    settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    ingest_file(engine, write(tmp_path / "a.csv", _rows()), settings)
    with session_scope(engine) as session:
        everything = catalogue_stats(session, fewer_than=10)
        mali = catalogue_stats(session, country="mali", fewer_than=10)
    assert (everything.events, everything.ambiguous_events) == (16, 1)
    assert everything.events_without_actor == 2  # the protest and the ambiguous attack
    levels = {x.level: (x.series, x.with_events) for x in everything.levels}
    # Mali: JNIM and the army; Burkina Faso: Koglweogo. No Pastoralists, no Protesters.
    assert levels["actor_country"] == (3, 3)
    assert levels["country"] == (2, 2)
    types = {t.actor_type: (t.actors, t.series) for t in everything.actor_types}
    assert types["Rebel groups"] == (1, 4)  # JNIM: VAC and Battles in Mopti, Mopti, Mali
    assert types["State forces"] == (1, 3)
    assert types["Identity militias"] == (1, 3)
    assert [(a.actor, a.events) for a in everything.small_actors] == [
        ("Koglweogo", 1),
        ("Military Forces of Mali", 1),
    ]
    assert mali.events == 15
    assert {a.country for a in mali.small_actors} == {"Mali"}
    # The CLI and the API say the same.
    listed = runner.invoke(app, ["series", "stats", "--format", "json"])
    assert listed.exit_code == 0, listed.output
    assert json.loads(listed.output)["ambiguous_events"] == 1
    table = runner.invoke(app, ["series", "stats", "--country", "Mali", "--fewer-than", "20"])
    assert "JNIM" in table.output
    assert "Series per level" in table.output
    rows = runner.invoke(app, ["series", "stats", "--format", "csv"]).output.splitlines()
    assert rows[0].startswith("section,")
    assert sum(r.startswith("level,") for r in rows) == 7  # with country x event type
    with session_scope(engine) as session:
        key = make_key(session, "read")
    with make_client(settings) as client:
        answer = client.get("/v1/series/stats?fewer_than=2", headers={"X-API-Key": key})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["events_without_actor"] == 2
        assert {a["actor"] for a in body["small_actors"]} == {
            "Koglweogo",
            "Military Forces of Mali",
        }
        assert (
            client.get("/v1/series/stats?fewer_than=0", headers={"X-API-Key": key}).status_code
            == 422
        )
        assert client.get("/v1/series/stats").status_code == 401


def test_stats_as_csv_are_the_same_rows_from_the_cli_and_the_api(
    settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    ingest_file(engine, write(tmp_path / "a.csv", _rows()), settings)
    with session_scope(engine) as session:
        key = make_key(session, "read")
    with make_client(settings) as client:
        answer = client.get("/v1/series/stats?country=Mali&format=csv", headers={"X-API-Key": key})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/csv")
    assert 'filename="series-stats.csv"' in answer.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    [totals] = [r for r in rows if r["section"] == "events"]
    assert (totals["events"], totals["ambiguous_events"]) == ("15", "1")
    assert [r["level"] for r in rows if r["section"] == "level"] == list(LEVELS)  # every level
    small = {r["actor"] for r in rows if r["section"] == "small_actor"}
    assert small == {"Military Forces of Mali"}  # Mali only: no Koglweogo
    cli = runner.invoke(app, ["series", "stats", "--country", "Mali", "--format", "csv"])
    assert cli.exit_code == 0, cli.output
    assert cli.output == answer.text  # one writer, one set of rows
