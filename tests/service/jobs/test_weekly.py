"""The weekly job: ingest the drop folder, detect, train, detect; each step recorded in `jobs`."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from sqlalchemy import Engine

from service.anomalies.repository import list_anomalies
from service.anomalies.schemas import AnomalyFilter
from service.config import Settings
from service.db import session_scope
from service.ingest.orm import IngestedFile
from service.jobs.pipelines import run_weekly
from service.jobs.repository import list_jobs
from service.jobs.runner import JobResult
from service.jobs.steps import ingest_step
from tests.service.builders import make_source, make_world

ROOT = Path(__file__).resolve().parents[3]
DEMO = ROOT / "service" / "data" / "demo" / "ucdp-ged-burkina-faso-2016-2022.csv"


def _steps(result: JobResult) -> list[tuple[str, str]]:
    return [(s["kind"], s["status"]) for s in result.details["steps"]]


def test_weekly_trains_new_data_and_refuses_stale_data(
    engine: Engine, train_settings: Settings
) -> None:
    with session_scope(engine) as session:
        make_world(session)
    first = run_weekly(engine, train_settings, trigger="cli")
    assert first.status == "succeeded", first.message
    assert _steps(first) == [
        ("ingest", "skipped"),
        ("detect", "succeeded"),
        ("train", "succeeded"),
        ("detect", "succeeded"),
    ]
    stale = run_weekly(engine, train_settings, trigger="schedule")
    assert stale.status == "skipped"
    assert "not retrained: the data did not advance since run 1" in (stale.message or "")
    assert "the data did not advance since run 2 (fatalities" in (stale.message or "")
    assert _steps(stale)[-1] == ("train", "skipped")
    forced = run_weekly(engine, train_settings, trigger="cli", force=True)
    assert forced.status == "succeeded"
    with session_scope(engine) as session:
        weekly, _ = list_jobs(session, kind="weekly")
        trains, _ = list_jobs(session, kind="train")
    assert [(j.status, j.trigger) for j in weekly] == [
        ("succeeded", "cli"),
        ("skipped", "schedule"),
        ("succeeded", "cli"),
    ]
    assert all(j.finished_at is not None for j in weekly)
    assert [j.status for j in trains] == ["succeeded", "skipped", "succeeded"]
    assert trains[1].details["reason"] == "stale"
    assert trains[0].details["run_ids"] == {"events": 3, "fatalities": 4}


def test_files_already_ingested_are_skipped_and_moved(
    engine: Engine, train_settings: Settings
) -> None:
    from service.ingest.sync import file_sha256

    drop = train_settings.drop_dir
    drop.mkdir(parents=True)
    seen = drop / "ged-2022.csv"
    seen.write_text("id,year\n1,2022\n")
    (drop / ".hidden").write_text("x")
    (drop / "upload.csv.part").write_text("x")
    with session_scope(engine) as session:
        source = make_source(session, "ucdp")
        session.add(
            IngestedFile(
                source_id=source.id,
                kind="events",
                path="old/ged-2022.csv",
                sha256=file_sha256(seen),
                size_bytes=16,
            )
        )
    result = ingest_step(engine, train_settings)
    assert result.status == "skipped"
    assert result.details["duplicates"] == ["ged-2022.csv"]
    assert (drop / "processed" / "ged-2022.csv").exists()
    assert sorted(p.name for p in drop.iterdir()) == [".hidden", "processed", "upload.csv.part"]


def test_a_file_that_fails_to_ingest_stays_and_fails_the_step(
    engine: Engine, train_settings: Settings
) -> None:
    drop = train_settings.drop_dir
    drop.mkdir(parents=True)
    (drop / "broken.csv").write_text("this is not,an event file\n1,2\n")
    result = ingest_step(engine, train_settings)
    assert result.status == "failed"
    assert result.details["failed"][0]["file"] == "broken.csv"
    assert (drop / "broken.csv").exists()


@pytest.mark.slow
def test_end_to_end_demo_file_through_the_weekly_job(
    engine: Engine, train_settings: Settings
) -> None:
    """End to end with the real readers (service/ingest/readers): the bundled UCDP demo file
    dropped, ingested, trained (the default series selection), anomalies scanned; dropped again
    it is skipped (same sha256) and, the data being unchanged, nothing is retrained."""
    settings = train_settings.model_copy(update={"train_min_events": 10})
    drop = settings.drop_dir
    drop.mkdir(parents=True)
    shutil.copy(DEMO, drop / DEMO.name)
    result = run_weekly(engine, settings, trigger="cli")
    assert result.status == "succeeded", result.message
    assert _steps(result)[0] == ("ingest", "succeeded")
    assert (drop / "processed" / DEMO.name).exists()
    trained = re.search(r"published: (\d+) series, 0 failed", result.details["steps"][2]["message"])
    assert trained
    assert int(trained.group(1)) > 20
    with session_scope(engine) as session:
        assert list_anomalies(session, AnomalyFilter(origin="backtest"))[1] > 0
    shutil.copy(DEMO, drop / DEMO.name)
    again = run_weekly(engine, settings, trigger="cli")
    assert _steps(again)[0] == ("ingest", "skipped")
    assert again.status == "skipped"
