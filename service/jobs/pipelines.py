"""Jobs made of steps, defined once and run the same way by every entry.

- `weekly` (the scheduler, `sahelcast jobs run-weekly`): fetch the feeds (SAHELCAST_FEEDS),
  ingest the drop folder, detect, then a retrain's steps;
- `retrain` (`sahelcast train`, `POST /v1/admin/retrain`): train, then detect after a
  published run;
- `refresh` (`POST /v1/admin/fetch`): fetch the feeds, then detect if the data changed.

The job of steps is a job of its own; each step runs as a job (kind fetch, ingest, train or
detect) through service.jobs.runner. Its details list the steps (`steps`) beside the details of
its main step (the train step's run ids, the fetch step's feeds); a failed step fails it, a
skipped main step makes it skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from service.config import Settings
from service.jobs.kinds import FAILED, SKIPPED, SUCCEEDED
from service.jobs.runner import JobResult, StepResult, run_job
from service.jobs.steps import detect_step, fetch_step, fetched_changes, ingest_step, train_step
from service.kit.lease import Lease
from service.training.service import Progress, TrainRequest


def _always(done: list[JobResult]) -> bool:
    return True


@dataclass(frozen=True)
class Step:
    """One step of a job: its kind, what it does, and whether it runs given the steps before."""

    kind: str
    run: Callable[[], StepResult]
    when: Callable[[list[JobResult]], bool] = _always


@dataclass(frozen=True)
class Plan:
    """A job of steps: its kind, its steps, the step whose outcome it reports, and how it reads
    when that step was skipped."""

    kind: str
    steps: Sequence[Step]
    main: str
    skipped: str


def run_plan(
    engine: Engine,
    settings: Settings,
    plan: Plan,
    trigger: str,
    *,
    job_id: int | None = None,
    owner: str | None = None,
    hold: Sequence[Lease] = (),
) -> JobResult:
    """Run `plan` as one job whose steps are jobs too; `job_id`, `owner`, `hold`: see run_job."""
    done: list[JobResult] = []

    def steps() -> StepResult:
        for step in plan.steps:
            if step.when(done):
                done.append(run_job(engine, settings, step.kind, trigger, step.run))
        main = next((s for s in reversed(done) if s.kind == plan.main), None)
        listed = [
            {"job_id": s.job_id, "kind": s.kind, "status": s.status, "message": s.message}
            for s in done
        ]
        details: dict[str, Any] = {**(main.details if main else {}), "steps": listed}
        failed = [s for s in done if s.status == FAILED]
        if failed:
            why = "; ".join(f"{s.kind} failed: {s.message}" for s in failed)
            return StepResult(FAILED, why, details)
        if main is None or main.status == SKIPPED:
            return StepResult(SKIPPED, f"{plan.skipped}: {main.message if main else ''}", details)
        return StepResult(SUCCEEDED, main.message, details)

    result = run_job(
        engine, settings, plan.kind, trigger, steps, job_id=job_id, owner=owner, hold=hold
    )
    result.steps = done
    return result


def _succeeded(kind: str) -> Callable[[list[JobResult]], bool]:
    def when(done: list[JobResult]) -> bool:
        last = next((s for s in reversed(done) if s.kind == kind), None)
        return last is not None and last.status == SUCCEEDED

    return when


def retrain_steps(
    engine: Engine, settings: Settings, train: Callable[[], StepResult]
) -> list[Step]:
    """`train` (a train step: train and publish), then flag anomalies against the new run."""
    return [
        Step("train", train),
        Step("detect", lambda: detect_step(engine, settings), when=_succeeded("train")),
    ]


def run_retrain(
    engine: Engine,
    settings: Settings,
    request: TrainRequest,
    *,
    trigger: str,
    progress: Progress | None = None,
    measures: Sequence[str] | None = None,
    job_id: int | None = None,
    owner: str | None = None,
    hold: Sequence[Lease] = (),
) -> JobResult:
    """A `retrain` job: train, then detect."""

    def train() -> StepResult:
        return train_step(engine, settings, request, progress, measures)

    steps = retrain_steps(engine, settings, train)
    plan = Plan("retrain", steps, main="train", skipped="not retrained")
    return run_plan(engine, settings, plan, trigger, job_id=job_id, owner=owner, hold=hold)


def run_refresh(
    engine: Engine,
    settings: Settings,
    feeds: str | None,
    *,
    trigger: str,
    job_id: int | None = None,
    owner: str | None = None,
    hold: Sequence[Lease] = (),
) -> JobResult:
    """A `refresh` job: fetch `feeds` (default SAHELCAST_FEEDS), then detect if data changed."""

    def changed(done: list[JobResult]) -> bool:
        fetched = done[-1]
        return fetched.status == SUCCEEDED and fetched_changes(fetched.details)

    steps = [
        Step("fetch", lambda: fetch_step(engine, settings, feeds)),
        Step("detect", lambda: detect_step(engine, settings), when=changed),
    ]
    plan = Plan("refresh", steps, main="fetch", skipped="not fetched")
    return run_plan(engine, settings, plan, trigger, job_id=job_id, owner=owner, hold=hold)


def run_weekly(
    engine: Engine,
    settings: Settings,
    *,
    trigger: str,
    force: bool = False,
    progress: Progress | None = None,
) -> JobResult:
    """A `weekly` job: fetch the feeds (if SAHELCAST_FEEDS), ingest, detect, train, detect."""
    steps = [Step("fetch", lambda: fetch_step(engine, settings))] if settings.feeds else []
    steps += [
        Step("ingest", lambda: ingest_step(engine, settings)),
        Step("detect", lambda: detect_step(engine, settings)),
    ]
    request = TrainRequest.from_settings(settings, force=force)
    steps += retrain_steps(
        engine, settings, lambda: train_step(engine, settings, request, progress)
    )
    plan = Plan("weekly", steps, main="train", skipped="not retrained")
    return run_plan(engine, settings, plan, trigger)
