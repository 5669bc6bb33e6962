"""Live data in the weekly job (fetch → ingest → detect → train → detect), through
`POST /v1/admin/fetch`, and through `sahelcast fetch`."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from service.api.app import create_app
from service.cli import app
from service.config import Settings, get_settings
from service.db import session_scope
from service.feeds.service import Options
from service.ingest.orm import Event, IngestedFile
from service.jobs import launch
from service.jobs.launch import Started
from service.jobs.orm import Job
from service.jobs.pipelines import run_weekly
from tests.service.api.builders import make_key
from tests.service.api.conftest import assert_problem
from tests.service.feeds.fake_api import FakeApi, acled_row, ucdp_row

runner = CliRunner(env={"COLUMNS": "200"})


def _history(api: FakeApi) -> None:
    """Two years of made-up monthly events, enough for a model to fit."""
    api.events = [
        acled_row(100 * y + m, f"{2022 + y}-{m:02d}-{10 + y:02d}", timestamp=1_000 + 100 * y + m)
        for y in range(2)
        for m in range(1, 13)
    ]
    api.releases["24.0.1"] = [ucdp_row(1, "2024-01-05"), ucdp_row(2, "2024-01-20")]


def _count(engine: Engine) -> int:
    with session_scope(engine) as session:
        return int(session.scalar(select(func.count()).select_from(Event)) or 0)


def test_weekly_job_fetches_before_the_drop_folder(
    engine: Engine,
    feed_settings: Settings,
    api: FakeApi,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> None:
    _history(api)
    for name, value in {
        "SAHELCAST_TRAIN_EXECUTOR": "inline",
        "SAHELCAST_TRAIN_MIN_EVENTS": "1",
        "SAHELCAST_FEEDS": "acled:Mali;ucdp-candidate@24.0.1:Burkina Faso",
        "SAHELCAST_DROP_DIR": str(feed_settings.data_dir / "incoming"),
    }.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    settings = get_settings()
    result = run_weekly(engine, settings, trigger="cli")
    steps = [(s["kind"], s["status"]) for s in result.details["steps"]]
    assert steps == [
        ("fetch", "succeeded"),
        ("ingest", "skipped"),
        ("detect", "succeeded"),
        ("train", "succeeded"),
        ("detect", "succeeded"),
    ], result.message
    assert _count(engine) == 26
    with session_scope(engine) as session:
        fetch = session.scalar(select(Job).where(Job.kind == "fetch"))
        assert fetch is not None
        assert [f["feed"] for f in fetch.details["fetched"]] == [
            "acled:Mali",
            "ucdp-candidate:Burkina Faso",
        ]
        assert fetch.message == "acled +24 ~0 -0, ucdp-candidate +2 ~0 -0"
    # A failing feed fails the step (and the weekly job) but the others still land.
    api.events.append(acled_row(999, "2024-01-15", timestamp=9_999))
    feeds = "ucdp-candidate@24.0.1:Niger;acled:Mali"
    bad = settings.model_copy(
        update={"ucdp_token": type(settings.ucdp_token)("wrong"), "feeds": feeds}
    )
    again = run_weekly(engine, bad, trigger="cli")
    assert again.status == "failed"
    assert "fetch failed: 1 feed(s) failed (ucdp-candidate:Niger); acled +1" in (
        again.message or ""
    )
    assert _count(engine) == 27


def test_post_fetch_starts_a_job_and_the_job_fetches(
    engine: Engine, feed_settings: Settings, api: FakeApi
) -> None:
    _history(api)
    with session_scope(engine) as session:
        admin = {"X-API-Key": make_key(session, "admin", "ops")}
    calls: list[Started] = []
    application = create_app(
        feed_settings,
        retrain_launcher=lambda *a: None,
        fetch_launcher=lambda s, started: calls.append(started),
    )
    with TestClient(application) as client:
        assert_problem(client.post("/v1/admin/fetch", headers=admin), 400, "no-feeds")
        assert_problem(
            client.post("/v1/admin/fetch", headers=admin, json={"feeds": "gdelt:X"}),
            400,
            "bad-feeds",
        )
        assert client.post("/v1/admin/fetch", json={"feeds": "acled:Mali"}).status_code == 401
        response = client.post("/v1/admin/fetch", headers=admin, json={"feeds": "acled:Mali"})
        assert response.status_code == 202, response.text
        body = response.json()
        assert body["poll"] == f"/v1/jobs/{body['job_id']}"
        assert [(c.kind, c.job_id, c.arg) for c in calls] == [
            ("refresh", body["job_id"], "acled:Mali")
        ]
        jobs = client.get("/v1/jobs?kind=refresh", headers=admin).json()
        assert [j["status"] for j in jobs["items"]] == ["running"]

    launch.run_started(feed_settings, calls[0])
    with session_scope(engine) as session:
        job = session.get(Job, body["job_id"])
        assert job is not None
        assert (job.status, job.message) == ("succeeded", "acled +24 ~0 -0")
        steps = [(s["kind"], s["status"]) for s in job.details["steps"]]
        assert steps == [("fetch", "succeeded"), ("detect", "succeeded")]
    assert _count(engine) == 24


def test_cli_fetch_backfills_then_updates(
    engine: Engine, feed_settings: Settings, api: FakeApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    _history(api)
    first = runner.invoke(
        app, ["fetch", "acled", "--country", "Mali", "--since", "2023-01-01", "--no-detect"]
    )
    assert first.exit_code == 0, first.output
    assert "Ingested" in first.output
    with session_scope(engine) as session:  # the summary's first column (folded to fit)
        path = session.scalar(select(IngestedFile.path))
    assert path == "ACLED API: country=Mali, event_date 2023-01-01..2024-04-10"
    assert _count(engine) == 12
    api.events.append(acled_row(5000, "2024-03-01", timestamp=50_000))
    second = runner.invoke(app, ["fetch", "acled", "-c", "Mali", "--no-detect"])
    assert second.exit_code == 0, second.output
    assert api.requests("/api/acled/read")[-1].params["timestamp"] == "1112"
    assert _count(engine) == 13
    ucdp = runner.invoke(
        app, ["fetch", "ucdp", "--candidate", "--version", "24.0.1", "--country", "Burkina Faso"]
    )
    assert ucdp.exit_code == 0, ucdp.output
    assert _count(engine) == 15
    monkeypatch.setenv("SAHELCAST_ACLED_PASSWORD", "wrong")
    get_settings.cache_clear()
    refused = runner.invoke(app, ["fetch", "acled", "--country", "Mali"])
    assert refused.exit_code == 2
    assert "SAHELCAST_ACLED_PASSWORD" in refused.output
    assert "Nothing from this fetch was written" in refused.output
    missing = runner.invoke(app, ["fetch", "ucdp", "--country", "Mali"])
    assert missing.exit_code == 2
    assert "--version 25.1" in missing.output


def test_feeds_setting_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="unknown feed 'gdelt'"):
        Settings(feeds="gdelt:Mali")
    with pytest.raises(ValueError, match=r"ucdp@25.1:Mali"):
        Settings(feeds="ucdp:Mali")
    assert Settings(feeds="acled:Mali, Niger ;").feeds


def test_options_default_to_the_real_sleep_and_the_day_of_the_fetch() -> None:
    import time

    options = Options()
    assert options.sleep is time.sleep
    assert options.today() == dt.date(2024, 4, 10)  # utc_today, patched for the tests
