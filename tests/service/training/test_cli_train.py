"""`sahelcast train` and `sahelcast detect`: outcomes, refusals and their exit codes."""

from __future__ import annotations

from sqlalchemy import Engine
from typer.testing import CliRunner

from service.alerts.hooks import deliver_new
from service.anomalies import events
from service.cli import app
from service.config import Settings
from service.db import session_scope
from service.kit.lease import acquire
from tests.service.builders import make_world

runner = CliRunner()


def test_train_publishes_then_skips_stale_data_then_forces(
    engine: Engine, train_settings: Settings
) -> None:
    with session_scope(engine) as session:
        make_world(session, regions=("Sahel", "Nord"))
    first = runner.invoke(app, ["train"])
    assert first.exit_code == 0, first.output
    said = " ".join(first.output.split())  # the console wraps long lines
    # One run per measure: events, then the deaths.
    assert "events run 1 published: 3 series, 0 failed" in said
    assert "fatalities run 2 published: 3 series, 0 failed" in said
    assert "detect:" in first.output
    stale = runner.invoke(app, ["train"])
    assert stale.exit_code == 0
    assert "skipped:" in stale.output
    said = " ".join(stale.output.split())
    assert "did not advance since run 1 (events" in said
    assert "did not advance since run 2 (fatalities" in said
    forced = runner.invoke(
        app, ["train", "--force", "--actor", "JNIM", "--min-events", "5", "--measure", "events"]
    )
    assert forced.exit_code == 0, forced.output
    # Scoped: the country total is not JNIM's and keeps its forecast from run 1.
    said = " ".join(forced.output.split())
    assert (
        "events run 3 published (scope actor=JNIM; 1 other series kept their forecasts): 2 series"
        in said
    )
    assert "fatalities run" not in said
    jobs = runner.invoke(app, ["jobs", "list", "--kind", "train"])
    assert jobs.exit_code == 0
    for status in ("succeeded", "skipped"):
        assert status in jobs.output


def test_train_refuses_while_another_run_holds_the_lock(
    engine: Engine, train_settings: Settings
) -> None:
    with session_scope(engine) as session:
        make_world(session, regions=("Sahel",))
    lease = acquire(engine, "training", 120, owner="ops-box:pid 77")
    try:
        result = runner.invoke(app, ["train"])
    finally:
        lease.release()
    assert result.exit_code == 1
    assert "refused" in result.output
    assert "ops-box:pid 77" in result.output
    assert "lease expires at" in result.output


def test_train_rejects_bad_options(engine: Engine, train_settings: Settings) -> None:
    assert runner.invoke(app, ["train", "--executor", "gpu"]).exit_code == 2
    assert runner.invoke(app, ["train", "--level", "galaxy"]).exit_code == 2
    nothing = runner.invoke(app, ["train", "--country", "Atlantis"])
    assert nothing.exit_code == 0
    assert "no series matches" in nothing.output


def test_detect_reports_what_it_did(engine: Engine, train_settings: Settings) -> None:
    result = runner.invoke(app, ["detect"])
    assert result.exit_code == 0, result.output
    assert "0 forecasts scored, 0 new anomalies" in result.output
    # The command delivers webhooks for what it finds: the alerts hook is registered.
    assert deliver_new in events._listeners
