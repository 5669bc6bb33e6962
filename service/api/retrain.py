"""Retrains asked for through the API: a job row to poll, and the run in its own process.

The request only records the job; `run_retrain_job` (the integration point with
`service.training.service.train`) runs after the response in a spawned process, so fitting
never happens inside a request nor competes with the API for its worker's GIL.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
from collections.abc import Callable
from contextlib import ExitStack
from typing import Any

from sqlalchemy import Engine, select, update

from service.config import Settings
from service.db import make_engine
from service.jobs.orm import Job
from service.kit.lease import (
    RETRAIN_REQUEST_LOCK,
    Heartbeat,
    Lease,
    LockHeld,
    acquire,
    make_owner,
)
from service.kit.time import utcnow

log = logging.getLogger(__name__)
Launcher = Callable[[Settings, int, bool], None]


def claim_request(engine: Engine, settings: Settings) -> Lease:
    """Take the retrain-request lease, or raise LockHeld naming the retrain under way."""
    return acquire(engine, RETRAIN_REQUEST_LOCK, settings.lock_lease_seconds, f"{make_owner()} api")


def _request_lease(engine: Engine, job_id: int, seconds: float) -> Lease | None:
    """The request lease the API took for job `job_id` (its owner is kept on the job)."""
    with engine.connect() as connection:
        details = connection.execute(select(Job.details).where(Job.id == job_id)).scalar()
    owner = (details or {}).get("request_lease")
    if not owner:
        return None
    return Lease(engine, RETRAIN_REQUEST_LOCK, str(owner), seconds, utcnow())


def release_request(engine: Engine, job_id: int) -> None:
    """Release the request lease of job `job_id`, if it still holds one."""
    lease = _request_lease(engine, job_id, 1.0)
    if lease is not None:
        lease.release()


def _finish(engine: Engine, job_id: int, status: str, message: str, **details: Any) -> None:
    with engine.begin() as connection:
        job = connection.execute(select(Job.details).where(Job.id == job_id)).first()
        merged = {**(job.details if job else {}), **details}
        connection.execute(
            update(Job)
            .where(Job.id == job_id)
            .values(status=status, message=message[:4000], finished_at=utcnow(), details=merged)
        )


def run_retrain_job(settings_data: dict[str, Any], job_id: int, force: bool) -> None:
    """Train and publish a run for job `job_id`, recording the outcome on the job row."""
    from service.training.service import NothingToTrain, StaleData, TrainRequest, train_measures

    settings = Settings(**settings_data)
    engine = make_engine(settings.database_url)
    request = _request_lease(engine, job_id, settings.lock_lease_seconds)
    keep = ExitStack()
    if request is not None:  # released last, once the outcome is on the job row
        keep.callback(request.release)
        keep.enter_context(Heartbeat(request))
    try:

        def started(run_id: int) -> None:
            with engine.begin() as connection:
                connection.execute(
                    update(Job)
                    .where(Job.id == job_id)
                    .values(details={"force": force, "run_id": run_id})
                )

        outcome = train_measures(
            engine, settings, TrainRequest.from_settings(settings, force=force), on_started=started
        )
        _finish(engine, job_id, "succeeded", outcome.published(), **outcome.to_dict())
    except (StaleData, NothingToTrain, LockHeld) as error:
        _finish(engine, job_id, "skipped", str(error))
    except BaseException as error:
        log.exception("retrain job %s failed", job_id)
        _finish(engine, job_id, "failed", f"{type(error).__name__}: {error}")
        if not isinstance(error, Exception):
            raise
    finally:
        keep.close()
        engine.dispose()


def launch_process(settings: Settings, job_id: int, force: bool) -> None:
    """Start the retrain in a fresh (spawned) process, and watch it from a thread: a process
    that dies before recording an outcome still leaves its job failed, never `running`."""
    context = multiprocessing.get_context("spawn")
    process = context.Process(
        target=run_retrain_job,
        args=(settings.model_dump(), job_id, force),
        name=f"sahelcast-retrain-{job_id}",
    )
    process.start()

    def watch() -> None:
        process.join()
        if process.exitcode != 0:
            engine = make_engine(settings.database_url)
            try:
                _finish_if_running(engine, job_id, process.exitcode)
                release_request(engine, job_id)  # a killed process could not release it
            finally:
                engine.dispose()

    threading.Thread(target=watch, name=f"watch-retrain-{job_id}", daemon=True).start()


def _finish_if_running(engine: Engine, job_id: int, exitcode: int | None) -> None:
    with engine.begin() as connection:
        connection.execute(
            update(Job)
            .where(Job.id == job_id, Job.status == "running")
            .values(
                status="failed",
                finished_at=utcnow(),
                message=f"the retrain process exited with code {exitcode}",
            )
        )


def launch_thread(settings: Settings, job_id: int, force: bool) -> None:
    """Start the retrain in a thread of this process (tests, the inline executor)."""
    threading.Thread(
        target=run_retrain_job,
        args=(settings.model_dump(), job_id, force),
        name=f"sahelcast-retrain-{job_id}",
        daemon=True,
    ).start()
