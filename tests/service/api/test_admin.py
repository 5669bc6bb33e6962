"""Admin writes: uploading an event file (validated like the CLI) and triggering a retrain."""

from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from service.config import Settings
from service.db import Base, session_scope
from service.ingest.orm import Event
from service.jobs import launch
from service.jobs.launch import Started
from service.jobs.orm import Job
from service.kit.orm import Lock
from tests.service.api.conftest import assert_problem, make_client
from tests.service.ingest.acled_rows import event, write, write_deletions


def _counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {
            t.name: connection.scalar(select(func.count()).select_from(t)) or 0
            for t in Base.metadata.sorted_tables
        }


def _upload(client: TestClient, headers: dict[str, str], path: Path, **form: Any) -> Any:
    with path.open("rb") as handle:
        return client.post(
            "/v1/admin/uploads",
            headers=headers,
            data=form,
            files={"file": (path.name, handle, "text/csv")},
        )


def test_upload_ingests_like_the_cli(
    client: TestClient, engine: Engine, tmp_path: Path, keys: dict[str, dict[str, str]]
) -> None:
    path = write(
        tmp_path / "mali.csv",
        [
            event("MLI1", "03 July 2022", "Katiba Macina"),
            event("MLI2", "31 July 2022", "Islamic State (Sahel)", admin1="Menaka"),
        ],
    )
    response = _upload(client, keys["admin"], path)
    assert response.status_code == 201, response.text
    report = response.json()
    assert report["file"] == "mali.csv"
    assert report["source"] == "acled"
    assert report["added"] == 2
    assert report["rows_read"] == 2
    assert report["status"] == "ingested"
    again = _upload(client, keys["admin"], path).json()
    assert again["added"] == 0
    assert again["unchanged"] == 2
    assert again["status"] == "unchanged"
    series = client.get("/v1/series?actor=JNIM", headers=keys["read"]).json()
    assert series["total"] > 0
    job = client.get(f"/v1/jobs/{report['job_id']}", headers=keys["read"]).json()
    assert job["kind"] == "ingest"
    assert job["status"] == "succeeded"
    assert job["details"]["added"] == 2
    deletions = write_deletions(tmp_path / "gone.csv", [("MLI1", 1_800_000_000)])
    removed = _upload(client, keys["admin"], deletions, deletions="true").json()
    assert removed["deleted"] == 1
    assert removed["kind"] == "deletions"
    with engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(Event)) == 1


def test_bad_file_is_422_naming_line_and_field_and_writes_nothing(
    client: TestClient, engine: Engine, tmp_path: Path, keys: dict[str, dict[str, str]]
) -> None:
    before = _counts(engine)
    path = write(
        tmp_path / "bad.csv",
        [event("MLI1", "03 July 2022"), event("MLI2", "04 July 2022", fatalities=-3)],
    )
    body = assert_problem(_upload(client, keys["admin"], path), 422, "invalid-file")
    assert body["file"] == "bad.csv"
    assert body["line"] == 3
    assert body["field"] == "fatalities"
    assert body["errors"][0]["location"] == "file"
    assert body["errors"][0]["line"] == 3
    assert "bad.csv" in body["detail"]
    assert "line 3" in body["detail"]
    for name, content in (
        ("empty.csv", b""),
        ("binary.csv", b"\x00\xff\xfe" * 100),
        ("other.csv", b"a,b,c\n1,2,3\n"),
    ):
        (tmp_path / name).write_bytes(content)
        assert_problem(_upload(client, keys["admin"], tmp_path / name), 422, "invalid-file")
    assert _counts(engine) == before


def test_upload_limits_and_names(
    settings: Settings, engine: Engine, tmp_path: Path, keys: dict[str, dict[str, str]]
) -> None:
    big = tmp_path / "big.csv"
    big.write_bytes(b"x" * (1024 * 1024 + 10))
    with make_client(settings, api_upload_max_mb=1) as client:
        assert_problem(_upload(client, keys["admin"], big), 413, "file-too-large")
        response = client.post(
            "/v1/admin/uploads",
            headers=keys["admin"],
            files={"file": ("../../etc/passwd", b"a,b\n", "text/csv")},
        )
        assert assert_problem(response, 422)["file"] == "passwd"
        missing = client.post("/v1/admin/uploads", headers=keys["admin"], data={"source": "x"})
        names = {e["name"] for e in assert_problem(missing, 422)["errors"]}
        assert names == {"file", "source"}


def test_retrain_records_a_job_and_starts_it_after_the_response(
    settings: Settings, engine: Engine, keys: dict[str, dict[str, str]]
) -> None:
    calls: list[Started] = []

    def launcher(launched: Settings, started: Started) -> None:
        with session_scope(engine) as session:  # the job is committed before the launch
            assert session.get(Job, started.job_id) is not None
        calls.append(started)

    with make_client(settings, retrain_launcher=launcher) as client:
        response = client.post("/v1/admin/retrain", headers=keys["admin"], json={"force": True})
        assert response.status_code == 202
        body = response.json()
        assert body["status"] == "running"
        assert body["poll"] == f"/v1/jobs/{body['job_id']}"
        assert [(c.kind, c.job_id, c.arg) for c in calls] == [("retrain", body["job_id"], True)]
        # The first retrain has not ended (this launcher does nothing): a second is refused.
        busy = client.post("/v1/admin/retrain", headers=keys["admin"])
        assert_problem(busy, 409, "training-under-way")
        launch.abandon(settings, calls[0], "stopped by the test")  # what an ended retrain does
        assert client.post("/v1/admin/retrain", headers=keys["admin"]).status_code == 202
        assert calls[-1].arg is False


def test_concurrent_retrain_requests_start_one_process(
    settings: Settings, engine: Engine, keys: dict[str, dict[str, str]]
) -> None:
    launched: list[int] = []

    def launcher(_: Settings, started: Started) -> None:
        launched.append(started.job_id)

    with make_client(settings, retrain_launcher=launcher) as client:
        start = threading.Barrier(3)

        def post(_: int) -> int:
            start.wait()
            return client.post("/v1/admin/retrain", headers=keys["admin"]).status_code

        with ThreadPoolExecutor(3) as pool:
            statuses = sorted(pool.map(post, range(3)))
    assert statuses == [202, 409, 409]
    assert len(launched) == 1


def test_retrain_job_releases_the_request_lease(
    settings: Settings, engine: Engine, keys: dict[str, dict[str, str]]
) -> None:
    ran: list[int] = []

    def launcher(launched: Settings, started: Started) -> None:
        ran.append(started.job_id)  # a retrain that ends at once (nothing to train)
        launch.run_started(launched, started)

    with make_client(settings, retrain_launcher=launcher) as client:
        for _ in range(2):
            assert client.post("/v1/admin/retrain", headers=keys["admin"]).status_code == 202
    assert len(ran) == 2
    with session_scope(engine) as session:
        assert session.scalars(select(Lock)).all() == []
        assert [j.status for j in session.scalars(select(Job).where(Job.kind == "retrain"))] == [
            "skipped",
            "skipped",
        ]


def test_retrain_refused_while_training_runs(
    client: TestClient, engine: Engine, keys: dict[str, dict[str, str]]
) -> None:
    with session_scope(engine) as session:
        session.add(Lock(name="training", owner="host:pid 1", expires_at=dt.datetime(2999, 1, 1)))
    body = assert_problem(
        client.post("/v1/admin/retrain", headers=keys["admin"]), 409, "training-under-way"
    )
    assert "host:pid 1" in body["detail"]


def _started(engine: Engine, settings: Settings, kind: str, arg: Any) -> Started:
    with session_scope(engine) as session:
        return launch.start(session, engine, settings, kind, arg, {"force": arg})


@pytest.mark.parametrize(
    ("outcome", "status"), [("ok", "succeeded"), ("stale", "skipped"), ("boom", "failed")]
)
def test_retrain_job_records_the_outcome(
    settings: Settings, engine: Engine, monkeypatch: pytest.MonkeyPatch, outcome: str, status: str
) -> None:
    from service.training import service as training

    def fake_train(
        engine_: Engine,
        settings_: Settings,
        request: Any,
        *,
        on_started: Any,
        progress: Any,
        catalogue: Any = None,
    ) -> Any:
        assert request.force is True
        run_id = 41 if request.measure == "events" else 42
        if outcome == "stale":
            raise training.StaleData("the data did not advance")
        if outcome == "boom":
            raise RuntimeError("fit exploded")
        return training.TrainOutcome(
            run_id=run_id, n_series=3, n_failed=0, seconds=1.5, coverage="", measure=request.measure
        )

    monkeypatch.setattr(training, "train", fake_train)
    started = _started(engine, settings, "retrain", True)
    launch.run_started(settings, started)
    with session_scope(engine) as session:
        job = session.get(Job, started.job_id)
        assert job is not None
        assert job.status == status
        assert job.finished_at is not None
        assert job.details["force"] is True  # what the request recorded is kept
        steps = [(s["kind"], s["status"]) for s in job.details["steps"]]
        assert session.scalars(select(Lock)).all() == []  # the job's and the request's leases
        if outcome == "ok":
            # One run per measure (SAHELCAST_TRAIN_MEASURES: events, then fatalities).
            assert (job.message or "").startswith("events run 41 published: 3 series, 0 failed")
            assert "fatalities run 42 published" in (job.message or "")
            assert job.details["run_ids"] == {"events": 41, "fatalities": 42}
            assert (job.details["run_id"], job.details["n_series"]) == (41, 3)
            assert steps == [("train", "succeeded"), ("detect", "succeeded")]
        elif outcome == "boom":
            assert steps == [("train", "failed")]
            assert "fit exploded" in (job.message or "")
        else:
            assert steps == [("train", "skipped")]
            assert "did not advance" in (job.message or "")
