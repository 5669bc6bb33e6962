"""Jobs the API starts run the same job as the CLI (one job path), one at a time, and a dead
retrain process leaves its job closed and its request lease released."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import Engine, select, update
from typer.testing import CliRunner

from service.cli import app
from service.config import Settings
from service.db import session_scope
from service.jobs import launch
from service.jobs.launch import Started
from service.jobs.orm import Job
from service.jobs.repository import ABANDONED
from service.kit.lease import RETRAIN_REQUEST_LOCK, job_lease
from service.kit.orm import Lock
from tests.service.api.builders import make_key
from tests.service.api.conftest import make_client
from tests.service.builders import make_panels, make_world

runner = CliRunner()
POLLS = 4500  # 0.02 s apart: about 90 s for a spawned process to get going


def _admin(engine: Engine) -> dict[str, str]:
    with session_scope(engine) as session:
        return {"X-API-Key": make_key(session, "admin", "ops")}


def _shape(engine: Engine, job_id: int) -> tuple[str, str, list[tuple[str, str, str]]]:
    """A job's kind and status, and each of its steps' kind, trigger and status."""
    with session_scope(engine) as session:
        job = session.get(Job, job_id)
        assert job is not None
        steps = [session.get(Job, s["job_id"]) for s in job.details["steps"]]
        return job.kind, job.status, [(s.kind, s.trigger, s.status) for s in steps if s]


def test_an_api_retrain_runs_the_job_the_cli_runs_train_then_detect(
    engine: Engine, train_settings: Settings
) -> None:
    with session_scope(engine) as session:
        make_world(session, regions=("Sahel",))
    admin = _admin(engine)
    # The launcher runs the job right after the response (in the request's background task).
    with make_client(train_settings, retrain_launcher=launch.run_started) as client:
        response = client.post("/v1/admin/retrain", headers=admin, json={"force": True})
        assert response.status_code == 202, response.text
        polled = client.get(response.json()["poll"], headers=admin).json()
    job_id = response.json()["job_id"]
    assert (polled["kind"], polled["status"]) == ("retrain", "succeeded"), polled["message"]
    assert [s["kind"] for s in polled["details"]["steps"]] == ["train", "detect"]
    assert polled["details"]["run_ids"] == {"events": 1, "fatalities": 2}
    assert _shape(engine, job_id) == (
        "retrain",
        "succeeded",
        [("train", "api", "succeeded"), ("detect", "api", "succeeded")],
    )
    cli = runner.invoke(app, ["train", "--force"])
    assert cli.exit_code == 0, cli.output
    with session_scope(engine) as session:
        latest = session.scalars(select(Job).where(Job.kind == "retrain").order_by(Job.id)).all()
    assert _shape(engine, latest[-1].id) == (
        "retrain",
        "succeeded",
        [("train", "cli", "succeeded"), ("detect", "cli", "succeeded")],
    )
    with session_scope(engine) as session:
        assert session.scalars(select(Lock)).all() == []  # every job's lease, the request's


def test_parallel_fetch_requests_start_one_job(settings: Settings, engine: Engine) -> None:
    admin = _admin(engine)
    launched: list[Started] = []
    lock = threading.Lock()

    def launcher(_: Settings, started: Started) -> None:
        with lock:
            launched.append(started)  # a fetch that has not ended yet

    with make_client(settings, fetch_launcher=launcher) as client:
        start = threading.Barrier(4)

        def post(_: int) -> Any:
            start.wait()
            return client.post("/v1/admin/fetch", headers=admin, json={"feeds": "acled:Mali"})

        with ThreadPoolExecutor(4) as pool:
            responses = list(pool.map(post, range(4)))
        assert sorted(r.status_code for r in responses) == [202, 409, 409, 409]
        refused = [r.json() for r in responses if r.status_code == 409]
        assert {r["type"].rsplit(":", 1)[-1] for r in refused} == {"fetch-under-way"}
        assert len(launched) == 1
        launch.abandon(settings, launched[0], "stopped by the test")  # the fetch ends
        again = client.post("/v1/admin/fetch", headers=admin, json={"feeds": "acled:Mali"})
        assert again.status_code == 202, again.text


def _wait(what: str, done: Any) -> None:
    for _ in range(POLLS):
        if done():
            return
        time.sleep(0.02)
    pytest.fail(f"timed out waiting for {what}")


@pytest.mark.slow
def test_a_killed_api_retrain_process_leaves_its_job_failed_and_its_request_lease_released(
    engine: Engine, train_settings: Settings
) -> None:
    with session_scope(engine) as session:
        make_panels(session)  # ten panels: the training runs long enough to be killed mid-way
    admin = _admin(engine)
    settings = train_settings.model_copy(update={"lock_lease_seconds": 600.0})
    with make_client(settings, retrain_launcher=launch.launch_process) as client:
        response = client.post("/v1/admin/retrain", headers=admin)
        assert response.status_code == 202, response.text
        job_id = response.json()["job_id"]

        def training() -> bool:
            with session_scope(engine) as session:
                step = session.scalar(select(Job).where(Job.kind == "train"))
                return step is not None and step.status == "running"

        _wait("the spawned retrain to start training", training)
        (child,) = multiprocessing.active_children()
        os.kill(child.pid or 0, signal.SIGKILL)

        def closed() -> bool:
            with session_scope(engine) as session:
                job = session.get(Job, job_id)
                return job is not None and job.status != "running"

        _wait("the watcher to close the job", closed)
        with session_scope(engine) as session:
            job = session.get(Job, job_id)
            assert job is not None
            assert (job.status, job.message) == (
                "failed",
                f"the retrain process exited with code {-signal.SIGKILL}",
            )
            held = set(session.scalars(select(Lock.name)))
            step = session.scalar(select(Job).where(Job.kind == "train"))
            assert step is not None
        # The request lease and the job's are released at once; the killed process's train
        # step (and its training lease, if it got that far) stay until their leases lapse, as
        # a killed CLI run's do, and the next reader closes the step then.
        assert RETRAIN_REQUEST_LOCK not in held
        assert job_lease(job_id) not in held
        assert job_lease(step.id) in held
        _lapse(engine)
        listed = client.get("/v1/jobs?kind=train", headers=admin).json()["items"]
        assert [(j["status"], j["message"]) for j in listed] == [("failed", ABANDONED)]


def _lapse(engine: Engine) -> None:
    """Move every lease's expiry into the past, as ten minutes without a heartbeat would."""
    with session_scope(engine) as session:
        session.execute(update(Lock).values(expires_at=dt.datetime(2000, 1, 1)))
