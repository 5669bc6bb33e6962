"""`sahelcast jobs`: the job history, and the weekly job as a one-shot command for system cron."""

from __future__ import annotations

import typer
from rich.table import Table

from service.cli.common import console, fail, progress_bar
from service.cli.detect import deliver_alerts_from_here
from service.config import get_settings
from service.db import get_engine, session_scope
from service.jobs.repository import KINDS, list_jobs
from service.migrate import DatabaseNotReady, require_current

app = typer.Typer(help="The job history and the weekly job.", no_args_is_help=True)


def _ready() -> None:
    try:
        require_current(get_engine())
    except DatabaseNotReady as error:
        fail(str(error), 2)


@app.command("list")
def list_(
    kind: str = typer.Option(None, help=f"Only this kind: {', '.join(KINDS)}."),
    status: str = typer.Option(None, help="Only this status: running, succeeded, skipped, failed."),
    limit: int = typer.Option(20, min=1, max=1000, help="How many (newest first)."),
) -> None:
    """List recent jobs: ingest, train, detect and weekly, from the scheduler or the CLI."""
    _ready()
    with session_scope() as session:
        jobs = list_jobs(session, kind=kind, status=status, limit=limit)
    table = Table(title=f"{len(jobs)} jobs")
    for column in ("id", "kind", "trigger", "status", "started (UTC)", "seconds", "message"):
        table.add_column(column, justify="right" if column in ("id", "seconds") else "left")
    colours = {"succeeded": "green", "skipped": "yellow", "failed": "red", "running": "cyan"}
    for job in jobs:
        seconds = (job.finished_at - job.started_at).total_seconds() if job.finished_at else None
        table.add_row(str(job.id), job.kind, job.trigger,
                      f"[{colours.get(job.status, 'white')}]{job.status}[/]",
                      f"{job.started_at:%Y-%m-%d %H:%M:%S}",
                      "-" if seconds is None else f"{seconds:.1f}", job.message or "")  # fmt: skip
    console.print(table)


@app.command("run-weekly")
def run_weekly_(
    force: bool = typer.Option(False, "--force", help="Retrain even if the data did not advance."),
) -> None:
    """Run the weekly job once: ingest the drop folder, detect, train, detect.

    For system cron instead of `sahelcast scheduler`, e.g. `0 3 * * 1 sahelcast jobs run-weekly`.
    Exit status 0 when it succeeded or had nothing to do, 1 when a step failed.
    """
    from service.jobs.steps import run_weekly  # on use: it imports the forecasting stack

    _ready()
    deliver_alerts_from_here()
    settings, engine = get_settings(), get_engine()
    with progress_bar("weekly", None) as bar:
        task = bar.task_ids[0]
        result = run_weekly(
            engine, settings, trigger="cli", force=force,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )  # fmt: skip
    for step in result.details.get("steps", []):
        console.print(f"{step['kind']:>7} {step['status']:<9} {step['message'] or ''}",
                      highlight=False)  # fmt: skip
    if result.status == "failed":
        fail(f"weekly job {result.job_id} failed: {result.message}")
    console.print(f"weekly job {result.job_id} {result.status}", highlight=False)
