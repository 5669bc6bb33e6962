"""Run a step as a recorded job: a `running` row and its lease first, then its outcome, each
committed. Every entry (the CLI, the scheduler, the API's launchers) runs its jobs through here.

While the step works, a heartbeat renews the job's lease; a process killed mid-step leaves a
lease that lapses, and the next job or reader closes the job (jobs.repository.close_lapsed).
The step's failure is recorded (status, message, traceback) and logged, then handed back to the
caller in the result; the CLI turns it into an exit code, the scheduler keeps going.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine

from service.config import Settings
from service.db import session_scope
from service.jobs.kinds import FAILED, SKIPPED, SUCCEEDED
from service.jobs.repository import close_lapsed, finish_job, start_job
from service.kit.lease import Heartbeat, Lease, job_lease, make_owner

log = logging.getLogger(__name__)


@dataclass
class StepResult:
    """What a step reports: succeeded or skipped (with why), and details for the history."""

    status: str = SUCCEEDED
    message: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class JobResult:
    job_id: int
    kind: str
    status: str
    message: str | None
    details: dict[str, Any]
    error: BaseException | None = None
    steps: list[JobResult] = field(default_factory=list)  # a job of steps: each step's job

    @property
    def ok(self) -> bool:
        return self.status in (SUCCEEDED, SKIPPED)

    def step(self, kind: str) -> JobResult | None:
        """The last step of `kind` this job ran, if any."""
        return next((s for s in reversed(self.steps) if s.kind == kind), None)


def run_job(
    engine: Engine,
    settings: Settings,
    kind: str,
    trigger: str,
    step: Callable[[], StepResult],
    *,
    job_id: int | None = None,
    owner: str | None = None,
    hold: Sequence[Lease] = (),
) -> JobResult:
    """Record and run `step`; never raises for a failure of the step itself (it is recorded).

    `job_id` and `owner`: run the job a request already recorded, under the lease it took for
    it. `hold`: leases to keep renewing while the job runs and to release when it ends (the
    request lease of an API job).
    """
    seconds = settings.lock_lease_seconds
    if job_id is None:
        owner = make_owner()
        with session_scope(engine) as session:
            close_lapsed(session)
            job_id = start_job(session, kind, trigger, owner=owner, seconds=seconds).id
    assert owner is not None, "a recorded job is run under the owner of its lease"
    lease = Lease.held(engine, job_lease(job_id), owner, seconds)
    lease.renew()  # LockLost: the job was closed as abandoned before it could start
    error: BaseException | None = None
    with ExitStack() as beats:
        for held in (lease, *hold):
            beats.enter_context(Heartbeat(held))
        try:
            result = step()
        except BaseException as exc:  # recorded below; an interrupt is re-raised once recorded
            error = exc
            log.error("%s job %s failed: %s", kind, job_id, exc)
            result = StepResult(
                FAILED,
                f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__,
                {"traceback": traceback.format_exc()[-4000:]},
            )
    with session_scope(engine) as session:
        finish_job(session, job_id, result.status, result.message, result.details)
    for held in hold:
        held.release()
    if error is not None and not isinstance(error, Exception):
        raise error
    return JobResult(job_id, kind, result.status, result.message, result.details, error)
