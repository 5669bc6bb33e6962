"""`sahelcast train`: fit the panel engine on every panel in scope, publish the run atomically."""

from __future__ import annotations

import typer
from rich.table import Table

from service.cli.common import console, err_console, fail, progress_bar
from service.cli.detect import deliver_alerts_from_here
from service.config import get_settings
from service.db import get_engine
from service.jobs.runner import JobResult, run_job
from service.migrate import DatabaseNotReady, require_current
from service.series.aggregate import LEVELS
from service.series.repository import SeriesFilter
from service.training.executors import EXECUTORS


def train(
    country: str = typer.Option(None, help="Only series of this country, e.g. 'Mali'."),
    region: str = typer.Option(None, help="Only series of this admin1 region."),
    actor: str = typer.Option(None, help="Only series of this canonical actor, e.g. 'JNIM'."),
    event_type: str = typer.Option(None, "--event-type", help="Only this event type."),
    level: str = typer.Option(None, help=f"Only this roll-up level: {', '.join(LEVELS)}."),
    source: str = typer.Option(None, help="Only this source: 'acled' or 'ucdp'."),
    min_events: int = typer.Option(
        None,
        "--min-events",
        min=0,
        help="Publish series with at least this many events inside coverage "
        "[default: SAHELCAST_TRAIN_MIN_EVENTS, 1]; sparser series are still fitted, "
        "because roll-ups are sums of them.",
    ),
    executor: str = typer.Option(
        None, help=f"Where fits run: {', '.join(EXECUTORS)} [default: SAHELCAST_TRAIN_EXECUTOR]."
    ),
    dask_address: str = typer.Option(
        None, "--dask-address", help="Dask scheduler, e.g. tcp://scheduler:8786 (implies dask)."
    ),
    workers: int = typer.Option(None, min=0, help="Worker processes (0 = all cores)."),
    force: bool = typer.Option(False, "--force", help="Train even if the data did not advance."),
) -> None:
    """Fit the panel engine and publish the run when it is complete.

    Each panel (a source and a country) is fitted whole: bottom series of both trees, pooled
    rainy-season effects, forecasts summed up to every level, intervals calibrated by horizon.
    Filters scope the run: `--actor JNIM` refits the panels JNIM is in but replaces only JNIM's
    series; every other series keeps its latest published forecast. Readers keep seeing the
    previous run until this one is complete; one run at a time (a second is refused while the
    first holds the lease). When the data did not advance since the published run, nothing is
    trained unless --force. Anomaly detection runs after a published run.
    """
    # Imported on use: the forecasting stack takes seconds to import, `sahelcast --help` should not.
    from service.jobs.steps import detect_step, train_step
    from service.training.service import TrainRequest

    settings, engine = get_settings(), get_engine()
    try:
        require_current(engine)
    except DatabaseNotReady as error:
        fail(str(error), 2)
    if level and level not in LEVELS:
        fail(f"--level must be one of {', '.join(LEVELS)}, got {level!r}", 2)
    if dask_address and executor in (None, "dask"):
        executor = "dask"
    if executor is not None and executor not in EXECUTORS:
        fail(f"--executor must be one of {', '.join(EXECUTORS)}, got {executor!r}", 2)
    deliver_alerts_from_here()
    request = TrainRequest.from_settings(
        settings,
        filters=SeriesFilter(source, country, region, actor, event_type, level),
        min_events=min_events,
        executor=executor,
        workers=workers,
        dask_address=dask_address,
        force=force,
    )  # fmt: skip
    with progress_bar("train", None) as bar:
        task = bar.task_ids[0]
        result = run_job(engine, "train", "cli", lambda: train_step(
            engine, settings, request,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        ))  # fmt: skip
    _report(result)
    if result.status == "succeeded":
        detected = run_job(engine, "detect", "cli", lambda: detect_step(engine, settings))
        console.print(f"detect: {detected.message}", highlight=False)
        if not detected.ok:
            fail(f"detection failed: {detected.message}")


def _report(result: JobResult) -> None:
    reason = result.details.get("reason")
    if result.status == "failed":
        fail(f"training failed (job {result.job_id}): {result.message}")
    if reason == "locked":
        fail(f"refused: {result.message}")
    if result.status == "skipped":
        err_console.print(f"[yellow]skipped:[/] {result.message}", highlight=False)
        return
    console.print(result.message, highlight=False)
    failures = result.details.get("failures") or []
    if failures:
        table = Table(title=f"{len(failures)} series failed (recorded in run_series)")
        table.add_column("series")
        table.add_column("error")
        for key, error in failures[:15]:
            table.add_row(key, error)
        err_console.print(table)
