"""The `sahelcast` command: migrate, ingest with a summary, errors that say what to do."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from service.cli import app
from service.config import Settings
from tests.service.ingest.acled_rows import event, write

runner = CliRunner(env={"COLUMNS": "200"})


def test_help_explains_commands() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("db", "ingest", "series"):
        assert command in result.output
    result = runner.invoke(app, ["ingest", "--help"])
    assert "idempotently" in result.output


def test_ingest_then_list_and_show(settings: Settings, tmp_path: Path) -> None:
    path = write(tmp_path / "mali.csv", [
        event("MLI1", "03 July 2022", "Katiba Macina"),
        event("MLI2", "31 July 2022", "Islamic State (Sahel)", admin1="Menaka"),
    ])  # fmt: skip
    result = runner.invoke(app, ["ingest", str(path)])
    assert result.exit_code == 0, result.output
    assert "mali.csv" in result.output
    assert "Ingested" in result.output
    listed = runner.invoke(app, ["series", "list", "--actor", "JNIM"])
    assert listed.exit_code == 0
    assert "Mopti" in listed.output
    assert "JNIM" in listed.output
    shown = runner.invoke(app, ["series", "show", "acled|Mali|Mopti|JNIM|*"])
    assert shown.exit_code == 0
    assert "2022-07" in shown.output


def test_bad_file_exits_non_zero_naming_line_and_field(settings: Settings, tmp_path: Path) -> None:
    path = write(tmp_path / "bad.csv", [event("MLI1", "03 July 2022", fatalities=-3)])
    result = runner.invoke(app, ["ingest", str(path)])
    assert result.exit_code == 2
    assert "bad.csv" in result.output
    assert "line 2" in result.output
    assert "fatalities" in result.output
    assert "Nothing from bad.csv was written" in result.output


def test_missing_file_and_bad_options(settings: Settings, tmp_path: Path) -> None:
    result = runner.invoke(app, ["ingest", str(tmp_path / "nope.csv")])
    assert result.exit_code == 2
    assert "no such file" in result.output
    assert runner.invoke(app, ["ingest"]).exit_code == 2
    assert runner.invoke(app, ["ingest", "x.csv", "--source", "gdelt"]).exit_code == 2


def test_unmigrated_database_says_run_upgrade(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from service.config import get_settings
    from service.db import get_engine

    monkeypatch.setenv("SAHELCAST_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    get_settings.cache_clear()
    get_engine.cache_clear()
    try:
        path = write(tmp_path / "mali.csv", [event("MLI1", "03 July 2022")])
        result = runner.invoke(app, ["ingest", str(path)])
        assert result.exit_code == 2
        assert "sahelcast db upgrade" in result.output
        assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
        assert runner.invoke(app, ["ingest", str(path)]).exit_code == 0
    finally:
        get_engine().dispose()
        get_settings.cache_clear()
        get_engine.cache_clear()


def test_ingest_runs_detection_when_data_changed(settings: Settings, tmp_path: Path) -> None:
    from sqlalchemy import select

    from service.db import get_engine, session_scope
    from service.jobs.orm import Job

    path = write(tmp_path / "mali.csv", [event("MLI1", "03 July 2022", "Katiba Macina")])
    assert runner.invoke(app, ["ingest", str(path), "--no-detect"]).exit_code == 0
    assert runner.invoke(app, ["ingest", str(path)]).exit_code == 0  # unchanged: nothing to detect
    with session_scope(get_engine()) as session:
        assert session.scalars(select(Job.kind)).all() == []
    newer = write(tmp_path / "v2.csv", [event("MLI2", "04 July 2022", "Katiba Macina")])
    result = runner.invoke(app, ["ingest", str(newer)])
    assert result.exit_code == 0, result.output
    assert "forecasts scored" in result.output
    with session_scope(get_engine()) as session:
        jobs = session.scalars(select(Job)).all()
    assert [(j.kind, j.trigger, j.status) for j in jobs] == [("detect", "cli", "succeeded")]
