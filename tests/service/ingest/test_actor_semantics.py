"""ACLED's codebook semantics on real SQLite and PostgreSQL: who is an actor, who was hit, and
what an ambiguous attribution counts for. Every row here is made up (never ACLED data)."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from service.cli import app
from service.config import Settings
from service.db import session_scope
from service.ingest.orm import Actor, Event
from service.ingest.repository import series_events
from service.ingest.service import ingest_file
from service.series.repository import SeriesFilter, get_series, list_series, series_months
from tests.service.api.builders import make_key
from tests.service.api.conftest import make_client
from tests.service.ingest.acled_rows import event, write
from tests.service.ingest.builders import (
    ACLED_COLUMNS,
    UCDP_YEARLY_COLUMNS,
    csv_text,
    ucdp_yearly_row,
)

JNIM = "JNIM: Group for Support of Islam and Muslims"
IS_SAHEL = "Islamic State (Sahel)"
VICTIMS = (
    "Labor Group (Mali); Pastoralists (Mali); Fishers (Mali); Miners (Mali); "
    "Fulani Ethnic Group (Mali)"
)
VICTIM_NAMES = [v.strip() for v in VICTIMS.split(";")]
runner = CliRunner(env={"COLUMNS": "200"})


def _actors(engine: Engine) -> set[str]:
    with session_scope(engine) as session:
        return set(session.scalars(select(Actor.name)))


def _month(engine: Engine, key: str, month: str) -> float:
    with session_scope(engine) as session:
        info = get_series(session, key)
        assert info is not None, key
        frame = series_months(session, info)
    return float(frame.set_index(frame["month"].dt.strftime("%Y-%m"))["events"][month])


def test_victims_in_a_civilian_sides_associated_actors_make_no_series(
    engine: Engine, tmp_path: Path
) -> None:
    rows = [
        # inter codes as older exports write them (7), and as newer ones do ("Civilians").
        event("MLI1", "03 July 2022", JNIM, assoc_actor_2=VICTIMS),
        event(
            "MLI2",
            "09 July 2022",
            JNIM,
            assoc_actor_2=VICTIMS,
            inter1="Rebel group",
            inter2="Civilians",
        ),
        # The same names beside an armed primary actor on its own side are not victims.
        event(
            "MLI3",
            "12 July 2022",
            "Military Forces of Mali (2021-)",
            assoc_actor_1="Dozo Communal Militia (Mali)",
            actor2=JNIM,
        ),
    ]
    ingest_file(engine, write(tmp_path / "mali.csv", rows), Settings(database_url=str(engine.url)))
    assert _actors(engine) == {"JNIM", "Military Forces of Mali", "Dozo Communal Militia (Mali)"}
    with session_scope(engine) as session:
        for name in VICTIM_NAMES:
            assert list_series(session, SeriesFilter(actor=name))[1] == 0, name
        # Who was hit stays on the event and is shown in the drill-down.
        info = get_series(session, "acled|Mali|Mopti|JNIM|*")
        assert info is not None
        shown, total = series_events(session, info.id, dt.date(2022, 7, 1))
    assert total == 3
    first = next(e for e in shown if e.source_event_id == "MLI1")
    assert first.actors_published["assoc_actor_2"] == VICTIMS
    assert first.actor_types == {"actor1": "Rebel groups", "actor2": "Civilians"}
    assert [a.name for a in first.actors_folded] == ["JNIM"]
    assert _month(engine, "acled|Mali|Mopti|JNIM|*", "2022-07") == 3
    assert _month(engine, "acled|Mali|Mopti|*|*", "2022-07") == 3


def test_armed_types_are_a_setting(engine: Engine, tmp_path: Path) -> None:
    rows = [
        event(
            "MLI1",
            "03 July 2022",
            "Military Forces of Mali (2021-)",
            assoc_actor_1="Wagner Group",
            actor2=JNIM,
        ),
        event("MLI2", "04 July 2022", "Wagner Group", actor2="Civilians (Mali)"),
    ]
    settings = Settings(
        database_url=str(engine.url), armed_inter=(1, 2, 3, 4)
    )  # no external forces
    ingest_file(engine, write(tmp_path / "mali.csv", rows), settings)
    # Wagner (type 8) is named as an associated actor of the army's side (type 1): that side
    # is armed, so Wagner counts there; as a primary actor of type 8 it does not.
    assert _month(engine, "acled|Mali|Mopti|Wagner Group|*", "2022-07") == 1
    assert _month(engine, "acled|Mali|Mopti|*|*", "2022-07") == 2


def _jnim_and_either() -> list[dict[str, object]]:
    """An event of JNIM's, and one attributed to "JNIM and/or IS Sahel" (counted for neither)."""
    return [
        event("MLI1", "03 July 2022", JNIM),
        event("MLI2", "05 July 2022", f"{JNIM} and/or {IS_SAHEL}"),
    ]


def test_and_or_counts_for_neither_actor_but_for_the_region(
    settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    rows = [
        *_jnim_and_either(),
        event("MLI3", "07 July 2022", IS_SAHEL, actor2="Military Forces of Mali (2021-)"),
        event(
            "MLI4",
            "09 July 2022",
            "Military Forces of Mali (2021-)",
            actor2=f"Islamic State (West Africa) - Greater Sahara Faction AND/OR {JNIM}",
            event_type="Battles",
        ),
    ]
    ingest_file(engine, write(tmp_path / "mali.csv", rows), settings)
    actors = _actors(engine)
    assert not any("and/or" in name.casefold() for name in actors)
    assert _month(engine, "acled|Mali|Mopti|JNIM|*", "2022-07") == 1
    assert _month(engine, "acled|Mali|Mopti|Islamic State Sahel|*", "2022-07") == 1
    assert _month(engine, "acled|Mali|Mopti|Military Forces of Mali|*", "2022-07") == 2
    assert _month(engine, "acled|Mali|Mopti|*|*", "2022-07") == 4  # the region counts them all
    with session_scope(engine) as session:
        flagged = session.scalars(select(Event.source_event_id).where(Event.ambiguous)).all()
        jnim = get_series(session, "acled|Mali|Mopti|JNIM|*")
        battles = get_series(session, "acled|Mali|Mopti|JNIM|Battles")
        army = get_series(session, "acled|Mali|*|Military Forces of Mali|*")
        region = get_series(session, "acled|Mali|Mopti|*|*")
    assert sorted(flagged) == ["MLI2", "MLI4"]
    assert jnim is not None
    assert jnim.ambiguous_events == 2
    assert battles is None  # JNIM fought no counted battle: the ambiguous one makes no series
    assert army is not None
    assert army.ambiguous_events == 0
    assert region is not None
    assert region.ambiguous_events == 0
    # The API and the CLI show the caveat.
    with session_scope(engine) as session:
        key = make_key(session, "read")
    with make_client(settings) as client:
        found = client.get(
            "/v1/series",
            params={"actor": "JNIM", "level": "actor_region"},
            headers={"Authorization": f"Bearer {key}"},
        )
    assert [s["ambiguous_events"] for s in found.json()["items"]] == [2]
    listed = runner.invoke(app, ["series", "list", "--actor", "JNIM", "--format", "json"])
    assert listed.exit_code == 0, listed.output
    # Region x type (MLI2 only: MLI4 is a battle), region, country.
    assert sorted(s["ambiguous_events"] for s in json.loads(listed.output)) == [1, 2, 2]
    table = runner.invoke(app, ["series", "list", "--actor", "JNIM"])
    assert "ambiguous" in table.output


def test_ambiguous_counts_follow_a_deletion(
    settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    ingest_file(engine, write(tmp_path / "a.csv", _jnim_and_either()), settings)
    deletions = tmp_path / "deleted.csv"
    deletions.write_text("event_id_cnty,deleted_timestamp\nMLI2,1800000000\n")
    ingest_file(engine, deletions, settings, deletions=True)
    with session_scope(engine) as session:
        info = get_series(session, "acled|Mali|Mopti|JNIM|*")
    assert info is not None
    assert info.ambiguous_events == 0


NO_TYPES = [c for c in ACLED_COLUMNS if c not in ("inter1", "inter2", "interaction")]


def test_an_export_without_types_follows_the_name_rule(engine: Engine, tmp_path: Path) -> None:
    rows = [
        event("MLI1", "03 July 2022", JNIM, assoc_actor_2=VICTIMS),
        event(
            "MLI2",
            "04 July 2022",
            "Protesters (Mali)",
            assoc_actor_1="Labor Group (Mali)",
            actor2="Police Forces of Mali (2021-)",
            event_type="Protests",
        ),
        event(
            "MLI3",
            "05 July 2022",
            "Rioters (Mali)",
            actor2="Civilians (Mali)",
            assoc_actor_2="Fishers (Mali)",
            event_type="Riots",
        ),
        event(
            "MLI4",
            "06 July 2022",
            "Unidentified Armed Group (Mali)",
            assoc_actor_1="Fulani Ethnic Militia (Mali)",
            actor2="Civilians (Mali)",
        ),
    ]
    path = tmp_path / "older.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=NO_TYPES, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    settings = Settings(database_url=str(engine.url))
    ingest_file(engine, path, settings)
    assert _actors(engine) == {
        "JNIM",
        "Police Forces of Mali",
        "Unidentified Armed Group (Mali)",
        "Fulani Ethnic Militia (Mali)",
    }
    assert _month(engine, "acled|Mali|Mopti|*|*", "2022-07") == 4
    with session_scope(engine) as session:
        stored = session.execute(select(Event.inter1, Event.inter2)).all()
    assert set(stored) == {(None, None)}  # not given: nothing made up
    # The same export with the types: stored events are updated with them, once.
    typed = write(tmp_path / "typed.csv", rows)
    again = ingest_file(engine, typed, settings)
    assert (again.added, again.updated) == (0, 4)
    assert ingest_file(engine, typed, settings).status == "unchanged"
    with session_scope(engine) as session:
        assert session.scalar(select(func.count()).where(Event.inter1.is_(None))) == 0
    assert _actors(engine) >= {"JNIM", "Police Forces of Mali"}


def test_ucdp_civilians_are_who_was_hit(engine: Engine, tmp_path: Path) -> None:
    rows = [
        ucdp_yearly_row(1),  # state-based: Government of Mali vs JNIM
        ucdp_yearly_row(2, type_of_violence="3", side_a="JNIM", side_b="Civilians"),
        ucdp_yearly_row(3, type_of_violence="2", side_a="Dozos (Mali)", side_b="JNIM"),
    ]
    path = tmp_path / "ged.csv"
    path.write_text(csv_text(rows, UCDP_YEARLY_COLUMNS), encoding="utf-8")
    ingest_file(engine, path, Settings(database_url=str(engine.url)))
    assert _actors(engine) == {"Military Forces of Mali", "JNIM", "Dozos (Mali)"}
    with session_scope(engine) as session:
        types = dict(
            session.execute(select(Event.source_event_id, func.coalesce(Event.inter2, -1))).all()
        )
    assert types == {"900001": 2, "900002": 7, "900003": -1}
