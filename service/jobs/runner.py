"""Run a step as a recorded job: a `running` row first, then its outcome, each committed.

The step's failure is recorded (status, message, traceback) and logged, then handed back to the
caller in the result; the CLI turns it into an exit code, the scheduler keeps going.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine

from service.db import session_scope
from service.jobs.kinds import FAILED, SKIPPED, SUCCEEDED
from service.jobs.repository import finish_job, start_job

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

    @property
    def ok(self) -> bool:
        return self.status in (SUCCEEDED, SKIPPED)


def run_job(engine: Engine, kind: str, trigger: str, step: Callable[[], StepResult]) -> JobResult:
    """Record and run `step`; never raises for a failure of the step itself (it is recorded)."""
    with session_scope(engine) as session:
        job_id = start_job(session, kind, trigger).id
    error: BaseException | None = None
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
    if error is not None and not isinstance(error, Exception):
        raise error
    return JobResult(job_id, kind, result.status, result.message, result.details, error)
