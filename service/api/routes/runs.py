"""Training runs (status, timings, engine, backtest summary) and jobs to poll."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Query, Response

from service.api.deps import SessionDep
from service.api.formats import records_csv
from service.api.lookups import found_or_404
from service.api.params import AsCsv, Id, Page, PageDep
from service.api.problems import problems
from service.api.routes import list_route, read_router
from service.api.schemas.runs import JobPage, JobRead, RunDetailRead, RunPage, RunRead
from service.forecasts.repository import count_runs, list_runs, published_runs, run_detail
from service.forecasts.schemas import RunRead as StoredRun
from service.jobs.kinds import Kind
from service.jobs.repository import get_job, list_jobs
from service.training.orm import Run

router = read_router("runs")
RunStatus = Literal["running", "published", "failed", "superseded"]


def _run(run: Run | StoredRun, published: set[int]) -> dict[str, object]:
    duration = None
    if run.finished_at is not None:
        duration = (run.finished_at - run.started_at).total_seconds()
    return {
        "id": run.id,
        "measure": run.measure,
        "status": run.status,
        "published": run.id in published,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "published_at": run.published_at,
        "duration_seconds": duration,
        "executor": run.executor,
        "n_series": run.n_series,
        "n_failed": run.n_failed,
        "message": run.message,
    }


@list_route(router, "/runs", RunPage, "Training runs, newest first")  # fmt: skip
def list_(
    session: SessionDep,
    page: PageDep,
    as_csv: AsCsv,
    status: Annotated[RunStatus | None, Query(description="Only runs in this state.")] = None,
) -> Response | RunPage:
    """Runs with their measure, status and timings (`format=csv`: the page as CSV)."""
    answer = _runs(session, page, status)
    if as_csv:
        return records_csv(answer.items, "runs.csv", list(RunRead.model_fields))
    return answer


def _runs(session: SessionDep, page: Page, status: str | None) -> RunPage:
    published = published_runs(session)
    runs = list_runs(session, status=status, limit=page.limit, offset=page.offset)
    items = [RunRead.model_validate(_run(r, set(published.values()))) for r in runs]
    return RunPage.of(
        page,
        count_runs(session, status=status),
        items,
        published_run_id=published.get("events"),
        published_run_ids=published,
    )


@router.get(
    "/runs/{run_id}",
    responses=problems(404),
    summary="One run with its models and backtest summary",
)
def get_(session: SessionDep, run_id: Id) -> RunDetailRead:
    detail = found_or_404(run_detail(session, run_id), "run", run_id)
    base = _run(detail.run, {detail.run.id} if detail.published else set())
    return RunDetailRead.model_validate(
        {
            **base,
            "models": detail.models,
            "statuses": detail.statuses,
            "fit_seconds": detail.fit_seconds,
            "backtest": detail.backtest,
            "backtest_series": detail.backtest_series,
            "params": detail.run.params or {},
        }
    )


@list_route(router, "/jobs", JobPage, "Jobs, newest first")
def jobs(
    session: SessionDep,
    page: PageDep,
    as_csv: AsCsv,
    kind: Annotated[Kind | None, Query()] = None,
) -> Response | JobPage:
    rows, total = list_jobs(session, kind=kind, limit=page.limit, offset=page.offset)
    reads = [JobRead.model_validate(j, from_attributes=True) for j in rows]
    if as_csv:
        return records_csv(reads, "jobs.csv", list(JobRead.model_fields))
    return JobPage.of(page, total, reads)


@router.get("/jobs/{job_id}", responses=problems(404), summary="One job (poll a retrain here)")
def job(session: SessionDep, job_id: Id) -> JobRead:
    job = found_or_404(get_job(session, job_id), "job", job_id)
    return JobRead.model_validate(job, from_attributes=True)
