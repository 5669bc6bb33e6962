"""A job killed with its process is not `running` for ever: once its lease lapses, the next
reader or job closes it as abandoned.

No clock is read: the lapse is written into the lease row, as the passing of time would.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from typing import Any

import pytest
from sqlalchemy import Engine, select, update
from typer.testing import CliRunner

from service.cli import app
from service.config import Settings
from service.db import session_scope
from service.jobs.kinds import SUCCEEDED
from service.jobs.orm import Job
from service.jobs.repository import ABANDONED, get_job, list_jobs
from service.jobs.runner import StepResult, run_job
from service.kit.orm import Lock

runner = CliRunner()
POLLS = 3000  # 0.02 s apart

# A detect job whose step never ends, in a process of its own (killed by the test).
HANGING_JOB = """
import sys, time
from service.config import Settings
from service.db import make_engine
from service.jobs.runner import run_job
settings = Settings(database_url=sys.argv[1], lock_lease_seconds=600)
engine = make_engine(settings.database_url)
run_job(engine, settings, "detect", "cli", lambda: time.sleep(600))
"""


def _lapse(engine: Engine) -> None:
    """Move every lease's expiry into the past, as ten minutes without a heartbeat would."""
    with session_scope(engine) as session:
        session.execute(update(Lock).values(expires_at=dt.datetime(2000, 1, 1)))


def _running(engine: Engine) -> Job | None:
    with session_scope(engine) as session:
        return session.scalar(select(Job).where(Job.status == "running"))


def _wait_for_running(engine: Engine, child: subprocess.Popen[Any]) -> Job:
    for _ in range(POLLS):
        assert child.poll() is None, child.stderr.read() if child.stderr else ""
        job = _running(engine)
        if job is not None:
            return job
        time.sleep(0.02)
    pytest.fail("the job's process never recorded its job")


@pytest.mark.slow
def test_a_killed_job_is_closed_by_the_next_reader_once_its_lease_lapses(
    engine: Engine, db_url: str, settings: Settings
) -> None:
    code = [sys.executable, "-c", HANGING_JOB, db_url]
    child = subprocess.Popen(code, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        job = _wait_for_running(engine, child)
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.communicate()
    with session_scope(engine) as session:  # its lease is still live: it may just be slow
        assert (found := get_job(session, job.id)) is not None
        assert found.status == "running"
    _lapse(engine)
    listed = runner.invoke(app, ["jobs", "list", "--format", "json"])
    assert listed.exit_code == 0, listed.output
    with session_scope(engine) as session:
        closed = session.get(Job, job.id)
        assert closed is not None
        assert (closed.status, closed.message) == ("failed", ABANDONED)
        assert closed.finished_at is not None
        assert session.scalars(select(Lock)).all() == []


def test_the_next_job_closes_a_job_left_running(engine: Engine, settings: Settings) -> None:
    seen: list[str] = []

    def step() -> StepResult:
        with session_scope(engine) as session:  # a job in progress is running, with its lease
            jobs, _ = list_jobs(session)
            seen.extend(j.status for j in jobs)
        return StepResult(SUCCEEDED, "done")

    first = run_job(engine, settings, "detect", "cli", step)
    assert seen == ["running"]
    with session_scope(engine) as session:  # the state a killed process leaves behind
        job = session.get(Job, first.job_id)
        assert job is not None
        job.status, job.finished_at = "running", None
        session.add(
            Lock(name=f"job:{first.job_id}", owner="host:pid 1", expires_at=dt.datetime(2999, 1, 1))
        )
    run_job(engine, settings, "detect", "cli", lambda: StepResult(SUCCEEDED, "done"))
    with session_scope(engine) as session:
        assert session.get(Job, first.job_id).status == "running"  # type: ignore[union-attr]
    _lapse(engine)
    second = run_job(engine, settings, "detect", "cli", lambda: StepResult(SUCCEEDED, "done"))
    with session_scope(engine) as session:
        left = session.get(Job, first.job_id)
        assert left is not None
        assert (left.status, left.message) == ("failed", ABANDONED)
        assert session.get(Job, second.job_id).status == "succeeded"  # type: ignore[union-attr]
