"""`sahelcast jobs`: the weekly job as a one-shot command and the job history."""

from __future__ import annotations

from sqlalchemy import Engine
from typer.testing import CliRunner

from service.cli import app
from service.config import Settings
from service.db import session_scope
from tests.service.builders import make_world

runner = CliRunner()


def test_run_weekly_then_list(engine: Engine, train_settings: Settings) -> None:
    with session_scope(engine) as session:
        make_world(session, regions=("Sahel",))
    result = runner.invoke(app, ["jobs", "run-weekly"])
    assert result.exit_code == 0, result.output
    assert "weekly job 1 succeeded" in result.output
    assert "run 1 published" in result.output
    again = runner.invoke(app, ["jobs", "run-weekly"])
    assert again.exit_code == 0
    assert "skipped" in again.output
    listed = runner.invoke(app, ["jobs", "list", "--limit", "50"])
    assert listed.exit_code == 0
    for kind in ("weekly", "ingest", "detect", "train"):
        assert kind in listed.output
    only_weekly = runner.invoke(app, ["jobs", "list", "--kind", "weekly"])
    assert "2 jobs" in only_weekly.output


def test_scheduler_refuses_a_bad_schedule(engine: Engine, train_settings: Settings) -> None:
    result = runner.invoke(app, ["scheduler", "--schedule", "every monday"])
    assert result.exit_code == 2
    assert "bad schedule" in result.output
