"""`sahelcast jobs`: the job history, and the weekly job as a one-shot command for system cron."""

from __future__ import annotations

from typing import Annotated

import typer

from service.cli.common import console, db_session, fail, progress_bar, require_db
from service.cli.output import Column, Format, FormatOption, emit, row_record
from service.jobs.kinds import Kind, Status

app = typer.Typer(
    help="The job history and the weekly job.", no_args_is_help=True, rich_markup_mode=None
)


@app.command("list")
def list_(
    kind: Annotated[Kind | None, typer.Option(help="Only this kind.")] = None,
    status: Annotated[Status | None, typer.Option(help="Only this status.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="How many (newest first).")] = 20,
    fmt: FormatOption = Format.table,
) -> None:
    """List recent jobs: ingest, train, detect and weekly, from the scheduler, CLI or API."""
    from service.jobs.repository import list_jobs

    with db_session() as session:
        jobs, total = list_jobs(session, kind=kind, status=status, limit=limit)
    records = []
    for job in jobs:
        record = row_record(job)
        finished = job.finished_at
        record["seconds"] = (finished - job.started_at).total_seconds() if finished else None
        records.append(record)
    emit(records, JOB_COLUMNS, fmt, title=f"{len(jobs)} of {total} jobs, newest first")


JOB_COLUMNS = (
    Column("id", right=True),
    Column("kind", whole=True),
    Column("trigger", whole=True),
    Column("status", whole=True),
    Column("started_at", "started (UTC)", whole=True),
    Column("seconds", right=True, show=lambda v: "-" if v is None else f"{v:.1f}"),
    Column("message"),
)


@app.command("run-weekly")
def run_weekly_(
    force: Annotated[
        bool, typer.Option("--force", help="Retrain even if the data did not advance.")
    ] = False,
) -> None:
    """Run the weekly job once: ingest the drop folder, detect, train, detect.

    For system cron instead of `sahelcast scheduler`, e.g. `0 3 * * 1 sahelcast jobs run-weekly`.
    Exit status 0 when it succeeded or had nothing to do, 1 when a step failed.
    """
    from service.cli.detect import deliver_alerts_from_here
    from service.config import get_settings
    from service.jobs.pipelines import run_weekly  # it imports the forecasting stack

    engine = require_db()
    deliver_alerts_from_here()
    settings = get_settings()
    with progress_bar("weekly", None) as bar:
        task = bar.task_ids[0]
        result = run_weekly(
            engine,
            settings,
            trigger="cli",
            force=force,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    for step in result.details.get("steps", []):
        console.print(
            f"{step['kind']:>7} {step['status']:<9} {step['message'] or ''}", highlight=False
        )
    if result.status == "failed":
        fail(f"weekly job {result.job_id} failed: {result.message}")
    console.print(f"weekly job {result.job_id} {result.status}", highlight=False)
