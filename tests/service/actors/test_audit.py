"""`actors audit` finds the Katiba Macina -> JNIM coding change of a made-up ACLED-format file,
with its evidence and the alias line; `actors refold` applies the line to the stored events."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from service.actors.audit import AUDIT_ROW_COLUMNS, audit_actors
from service.cli import app
from service.config import Settings, get_settings
from service.db import session_scope
from service.ingest.service import ingest_file
from service.series.repository import get_series, series_months
from tests.service.actors.katiba_macina import write
from tests.service.api.builders import make_key
from tests.service.api.conftest import make_client

LINE = "Katiba Macina,JNIM,exact,yes,"
runner = CliRunner(env={"COLUMNS": "250"})


@pytest.fixture
def switch_file(tmp_path: Path) -> Path:
    """The made-up Katiba Macina -> JNIM export, written for the test."""
    return write(tmp_path / "acled_katiba_macina_switch.csv")


@pytest.fixture
def unfolded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: Settings) -> Path:
    """An alias folder that keeps Katiba Macina apart (its rows win over the shipped ones)."""
    folder = tmp_path / "aliases"
    folder.mkdir()
    (folder / "actor_aliases.csv").write_text(
        "pattern,actor,match\nKatiba Macina,Katiba Macina,exact\n", encoding="utf-8"
    )
    monkeypatch.setenv("SAHELCAST_ALIAS_DIRS", json.dumps([str(folder)]))
    get_settings.cache_clear()
    return folder


def _monthly(engine: Engine, key: str) -> dict[str, float]:
    with session_scope(engine) as session:
        info = get_series(session, key)
        assert info is not None, key
        frame = series_months(session, info)
    return dict(zip(frame["month"].dt.strftime("%Y-%m"), frame["events"], strict=True))


def test_the_switch_is_found_with_evidence_and_the_alias_line(
    engine: Engine, unfolded: Path, switch_file: Path
) -> None:
    ingest_file(engine, switch_file, get_settings())
    with session_scope(engine) as session:
        found = audit_actors(session)
    assert [(f.country, f.old, f.new) for f in found] == [("Mali", "Katiba Macina", "JNIM")]
    [switch] = found
    assert switch.signals == ["hand-over", "associate"]
    assert switch.alias_lines == [LINE]
    hand_over = switch.hand_over
    assert hand_over is not None
    assert hand_over.last_month == dt.date(2021, 11, 1)
    assert hand_over.regions == ["Mopti", "Segou"]
    assert list(hand_over.new_after) == [
        "2021-12",
        "2022-01",
        "2022-02",
        "2022-03",
        "2022-04",
        "2022-05",
    ]
    old = sum(hand_over.old_before.values())
    assert sum(hand_over.new_after.values()) > 0.8 * old
    assert sum(hand_over.new_before.values()) < 0.3 * old
    associate = switch.associate
    assert associate is not None
    assert associate.events == associate.of_events  # every Katiba Macina event names JNIM
    assert associate.last_month == dt.date(2021, 11, 1)
    assert "Katiba Macina's events stop after 2021-11" in switch.summary
    # Steady actors (IS Sahel, the army with Wagner beside it on some events) are not flagged.
    assert {f.old for f in found} == {"Katiba Macina"}


def test_cli_and_api_show_the_line_and_refold_applies_it(
    engine: Engine, settings: Settings, unfolded: Path, switch_file: Path
) -> None:
    ingest_file(engine, switch_file, get_settings())
    jnim_before = _monthly(engine, "acled|Mali|*|JNIM|*")
    table = runner.invoke(app, ["actors", "audit", "--country", "mali"])
    assert table.exit_code == 0, table.output
    assert LINE in table.output
    assert "Katiba Macina" in table.output
    listed = json.loads(runner.invoke(app, ["actors", "audit", "--format", "json"]).output)
    assert [(f["old"], f["new"], f["alias_lines"]) for f in listed] == [
        ("Katiba Macina", "JNIM", [LINE])
    ]
    with session_scope(engine) as session:
        key = make_key(session, "read")
    with make_client(get_settings()) as client:
        answer = client.get("/v1/actors/audit", headers={"X-API-Key": key})
        assert answer.status_code == 200, answer.text
        assert [i["alias_lines"] for i in answer.json()["items"]] == [[LINE]]
        assert answer.json()["items"][0]["hand_over"]["last_month"] == "2021-11-01"
        narrow = client.get("/v1/actors/audit?country=Niger", headers={"X-API-Key": key})
        assert narrow.json()["items"] == []
    # The user takes the advice: the line replaces theirs, and refold applies it.
    (unfolded / "actor_aliases.csv").write_text(f"pattern,actor,match,count,country\n{LINE}\n")
    get_settings.cache_clear()
    refolded = runner.invoke(app, ["actors", "refold"])
    assert refolded.exit_code == 0, refolded.output
    assert "refolded" in refolded.output
    assert json.loads(runner.invoke(app, ["actors", "audit", "--format", "json"]).output) == []
    jnim_after = _monthly(engine, "acled|Mali|*|JNIM|*")
    with session_scope(engine) as session:
        assert get_series(session, "acled|Mali|*|Katiba Macina|*") is not None  # kept, empty
        assert _total(session, "acled|Mali|*|Katiba Macina|*") == 0
    # Associated actors count, so JNIM already had Katiba Macina's events; refolding keeps
    # that: the same months, and the army's and IS's series are untouched.
    assert jnim_after == jnim_before
    assert _monthly(engine, "acled|Mali|Menaka|*|*")["2022-06"] > 0


@pytest.mark.usefixtures("unfolded")
def test_the_audit_as_csv_is_one_flat_row_per_finding_from_the_cli_and_the_api(
    engine: Engine, switch_file: Path
) -> None:
    ingest_file(engine, switch_file, get_settings())
    with session_scope(engine) as session:
        key = make_key(session, "read")
    with make_client(get_settings()) as client:
        found = client.get("/v1/actors/audit", headers={"X-API-Key": key}).json()["items"]
        answer = client.get("/v1/actors/audit?format=csv", headers={"X-API-Key": key})
    assert answer.status_code == 200, answer.text
    assert 'filename="actors-audit.csv"' in answer.headers["content-disposition"]
    [row] = list(csv.DictReader(io.StringIO(answer.text)))
    assert list(row) == list(AUDIT_ROW_COLUMNS)
    assert (row["old"], row["new"], row["alias_lines"]) == ("Katiba Macina", "JNIM", LINE)
    [finding] = found
    assert row["signals"] == ";".join(finding["signals"])
    assert row["hand_over_last_month"] == finding["hand_over"]["last_month"] == "2021-11-01"
    before = finding["hand_over"]["old_before"]
    assert row["hand_over_old_before"] == ";".join(f"{m}:{n}" for m, n in before.items())
    assert not any("{" in value for value in row.values())
    cli = runner.invoke(app, ["actors", "audit", "--format", "csv"])
    assert cli.exit_code == 0, cli.output
    assert cli.output == answer.text


def _total(session: object, key: str) -> int:
    info = get_series(session, key)  # type: ignore[arg-type]
    assert info is not None
    return info.total_events


def test_primary_roles_only_show_the_artefact_the_fold_removes(
    engine: Engine, unfolded: Path, monkeypatch: pytest.MonkeyPatch, switch_file: Path
) -> None:
    # Counting primary actors only, JNIM in central Mali jumps in December 2021 without the
    # fold (the artefact an alert would report), and is continuous with it.
    monkeypatch.setenv("SAHELCAST_ACTOR_ROLES", "actor1,actor2")
    get_settings.cache_clear()
    ingest_file(engine, switch_file, get_settings())
    raw = _monthly(engine, "acled|Mali|Mopti|JNIM|*")
    assert raw["2021-12"] > 4 * raw["2021-11"]
    (unfolded / "actor_aliases.csv").write_text(f"pattern,actor,match,count,country\n{LINE}\n")
    get_settings.cache_clear()
    assert runner.invoke(app, ["actors", "refold"]).exit_code == 0
    folded = _monthly(engine, "acled|Mali|Mopti|JNIM|*")
    assert folded["2021-12"] < 2 * folded["2021-11"]
    assert sum(folded.values()) > sum(raw.values())


def test_with_the_shipped_fold_there_is_nothing_to_report(
    engine: Engine, switch_file: Path
) -> None:
    ingest_file(engine, switch_file, Settings(database_url=str(engine.url)))
    with session_scope(engine) as session:
        assert audit_actors(session) == []
