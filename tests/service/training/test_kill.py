"""`kill -9` during `sahelcast train`: the published run stays served, nothing half-visible, and
a new run succeeds once the dead run's lease has lapsed.

No clock is read: the lease is long enough to be held for the whole test, and its lapse is
written into the lock row, as the passing of time would.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy import update as sql_update
from typer.testing import CliRunner

from service.cli import app
from service.config import Settings
from service.db import session_scope
from service.forecasts.repository import published_run_id, series_forecast
from service.jobs.repository import ABANDONED, list_jobs
from service.kit.lease import LockHeld
from service.kit.orm import Lock
from service.training.orm import Forecast, Run, RunSeries
from service.training.service import TrainRequest, train
from tests.service.builders import make_panels

LEASE_SECONDS = 600.0
POLLS = 4500  # 0.02 s apart: the subprocess gets about 90 s to start writing
SAHELCAST = Path(sys.executable).with_name("sahelcast")
runner = CliRunner()


def _running_run_progress(engine: Engine) -> int:
    with session_scope(engine) as session:
        return (
            session.scalar(
                select(func.count())
                .select_from(RunSeries)
                .join(Run, Run.id == RunSeries.run_id)
                .where(Run.status == "running")
            )
            or 0
        )


@pytest.mark.slow
def test_kill_9_mid_run_leaves_the_published_run_served(
    engine: Engine, db_url: str, train_settings: Settings, tmp_path: Path
) -> None:
    with session_scope(engine) as session:
        series = make_panels(session)  # ten panels: results are written panel by panel
    update = {"lock_lease_seconds": LEASE_SECONDS}
    settings = train_settings.model_copy(update=update)
    first = train(engine, settings, TrainRequest.from_settings(settings))
    with session_scope(engine) as session:
        before = series_forecast(session, series[0].id)
    env = {
        **os.environ,
        "SAHELCAST_DATABASE_URL": db_url,
        "SAHELCAST_LOCK_LEASE_SECONDS": str(LEASE_SECONDS),
    }
    log = tmp_path / "train.log"
    with log.open("w") as out:
        child = subprocess.Popen(
            [str(SAHELCAST), "train", "--force"], env=env, stdout=out, stderr=subprocess.STDOUT
        )
        polls = 0
        while _running_run_progress(engine) < 3:
            assert child.poll() is None, log.read_text()
            polls += 1
            assert polls < POLLS, "the training subprocess never got going"
            time.sleep(0.02)
        os.kill(child.pid, signal.SIGKILL)
        child.wait()

    with session_scope(engine) as session:
        assert published_run_id(session) == first.run_id
        assert series_forecast(session, series[0].id) == before
        dead = session.scalar(select(Run).where(Run.status == "running"))
        assert dead is not None
        assert session.scalar(select(func.count()).where(Forecast.run_id == dead.id))

    with pytest.raises(LockHeld, match=f"pid {child.pid}"):  # the lease is still the dead run's
        train(engine, settings, TrainRequest.from_settings(settings, force=True))
    with session_scope(engine) as session:  # its lease lapses (as it would after 10 minutes)
        session.execute(sql_update(Lock).values(expires_at=dt.datetime(2000, 1, 1)))
    after = runner.invoke(app, ["train", "--force"])  # the dead run's lease has lapsed
    assert after.exit_code == 0, after.output
    assert "run 3 published" in after.output
    with session_scope(engine) as session:
        assert published_run_id(session) == 3
        abandoned = session.get(Run, dead.id)
        assert abandoned is not None
        assert abandoned.status == "failed"
        assert not session.scalar(select(func.count()).where(Forecast.run_id == dead.id))
        for kind in ("retrain", "train"):  # the killed command's job and its train step
            killed_job = list_jobs(session, kind=kind)[0][-1]
            assert (killed_job.status, killed_job.message) == ("failed", ABANDONED)
