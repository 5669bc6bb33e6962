"""Jobs the API starts: recorded in the request, run after the response as every entry runs them.

The request claims the request lease of the job's kind (so concurrent requests are refused
before anything is spawned), records the job with its own lease (one owner for both), and
answers 202 with the job to poll. After the response a launcher runs the job through
service.jobs.pipelines, exactly as `sahelcast train` and the scheduler do: a retrain in a
spawned process (fitting never competes with the API for its worker's GIL), a fetch in a
thread (it waits on the network). The job releases the request lease when it ends; when a
spawned process dies instead, a thread watching it closes the job and releases the lease.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from service.config import Settings
from service.db import make_engine, session_scope
from service.jobs.repository import fail_running, start_job
from service.kit.lease import (
    FETCH_LOCK,
    FETCH_REQUEST_LOCK,
    RETRAIN_REQUEST_LOCK,
    TRAINING_LOCK,
    Lease,
    LockHeld,
    acquire,
    holder,
    make_owner,
)

log = logging.getLogger(__name__)

# Per kind the API starts: the lease its work takes (held by a CLI run too) and the lease
# its requests take.
LOCKS = {
    "retrain": (TRAINING_LOCK, RETRAIN_REQUEST_LOCK),
    "refresh": (FETCH_LOCK, FETCH_REQUEST_LOCK),
}


@dataclass(frozen=True)
class Started:
    """A job the API recorded, as its launcher gets it (it crosses into a spawned process)."""

    kind: str  # retrain | refresh
    job_id: int
    owner: str  # of the job's lease and of the request lease
    arg: Any  # retrain: force; refresh: the feeds (None: SAHELCAST_FEEDS)

    def request_lease(self, engine: Engine, seconds: float) -> Lease:
        return Lease.held(engine, LOCKS[self.kind][1], self.owner, seconds)


Launcher = Callable[[Settings, Started], None]


class Busy(RuntimeError):
    """Such a job, or its work, is under way (the API answers 409)."""

    def __init__(self, lock: str, owner: str) -> None:
        self.lock, self.owner = lock, owner
        super().__init__(f"the {lock} lease is held by {owner}")


def start(
    session: Session,
    engine: Engine,
    settings: Settings,
    kind: str,
    arg: Any,
    details: dict[str, Any],
) -> Started:
    """Record a `kind` job for the API in `session`, or raise Busy while such a job or its
    work runs (a CLI training run, another request's retrain)."""
    work, request = LOCKS[kind]
    running = holder(session, work)
    if running is not None:
        raise Busy(work, running)
    owner = f"{make_owner()} api"
    try:
        lease = acquire(engine, request, settings.lock_lease_seconds, owner)
    except LockHeld as held:
        raise Busy(request, held.owner) from held
    try:
        seconds = settings.lock_lease_seconds
        job = start_job(session, kind, "api", owner=owner, seconds=seconds, details=details)
    except BaseException:
        lease.release()
        raise
    return Started(kind, job.id, owner, arg)


def run_started(settings: Settings, started: Started) -> None:
    """Run the job the API recorded (in this process or a spawned one) as the CLI would."""
    # Imported here: the pipelines import the forecasting stack, the API's start-up should not.
    from service.jobs.pipelines import run_refresh, run_retrain
    from service.training.service import TrainRequest

    engine = make_engine(settings.database_url)
    job, owner = started.job_id, started.owner
    hold = [started.request_lease(engine, settings.lock_lease_seconds)]
    try:
        if started.kind == "retrain":
            request = TrainRequest.from_settings(settings, force=bool(started.arg))
            run_retrain(
                engine, settings, request, trigger="api", job_id=job, owner=owner, hold=hold
            )
        else:
            run_refresh(
                engine, settings, started.arg, trigger="api", job_id=job, owner=owner, hold=hold
            )
    finally:
        engine.dispose()


def abandon(settings: Settings, started: Started, message: str) -> None:
    """Close a job whose run died before recording an outcome, and release its request lease."""
    engine = make_engine(settings.database_url)
    try:
        with session_scope(engine) as session:  # both at once: no one sees one without the other
            fail_running(session, started.job_id, message)
            started.request_lease(engine, settings.lock_lease_seconds).release(session)
    finally:
        engine.dispose()


def _in_child(settings_data: dict[str, Any], started: Started) -> None:
    run_started(Settings(**settings_data), started)


def launch_process(settings: Settings, started: Started) -> None:
    """Run the job in a fresh (spawned) process, and watch it from a thread: a process that
    dies before recording an outcome still leaves its job failed and its lease released."""
    context = multiprocessing.get_context("spawn")
    process = context.Process(
        target=_in_child,
        args=(settings.model_dump(), started),
        name=f"sahelcast-{started.kind}-{started.job_id}",
    )
    process.start()

    def watch() -> None:
        process.join()
        if process.exitcode != 0:
            message = f"the {started.kind} process exited with code {process.exitcode}"
            abandon(settings, started, message)

    threading.Thread(target=watch, name=f"watch-{started.job_id}", daemon=True).start()


def launch_thread(settings: Settings, started: Started) -> None:
    """Run the job in a daemon thread of this process (a fetch; tests)."""

    def run() -> None:
        try:
            run_started(settings, started)
        except BaseException as error:
            log.exception("%s job %s failed", started.kind, started.job_id)
            abandon(settings, started, f"{type(error).__name__}: {error}")

    name = f"sahelcast-{started.kind}-{started.job_id}"
    threading.Thread(target=run, name=name, daemon=True).start()
