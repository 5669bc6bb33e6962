"""`sahelcast train`: fit the panel engine on every panel in scope, publish the run atomically."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from service.cli.common import console, err_console, fail, progress_bar, require_db
from service.cli.options import grouped, series_filter
from service.measures import Measure
from service.training.executors import ExecutorName

if TYPE_CHECKING:
    from service.jobs.runner import JobResult
    from service.series.repository import SeriesFilter


@grouped(filters=series_filter)
def train(
    filters: SeriesFilter,
    min_events: Annotated[
        int | None,
        typer.Option(
            "--min-events",
            min=0,
            help="Publish series with at least this many events inside coverage "
            "[default: SAHELCAST_TRAIN_MIN_EVENTS, 1]; sparser series are still fitted, "
            "because roll-ups are sums of them.",
        ),
    ] = None,
    executor: Annotated[
        ExecutorName | None,
        typer.Option(help="Where fits run [default: SAHELCAST_TRAIN_EXECUTOR]."),
    ] = None,
    dask_address: Annotated[
        str | None,
        typer.Option(
            "--dask-address", help="Dask scheduler, e.g. tcp://scheduler:8786 (implies dask)."
        ),
    ] = None,
    workers: Annotated[
        int | None, typer.Option(min=0, help="Worker processes (0 = all cores).")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Train even if the data did not advance.")
    ] = False,
    measure: Annotated[
        Measure | None,
        typer.Option(
            "--measure",
            help="Train only this measure [default: SAHELCAST_TRAIN_MEASURES, events and "
            "fatalities: one run each].",
        ),
    ] = None,
) -> None:
    """Fit the panel engine and publish the run when it is complete.

    Each panel (a source and a country) is fitted whole: bottom series of both trees, pooled
    rainy-season effects, forecasts summed up to every level, intervals calibrated by horizon.
    Filters scope the run: `--actor JNIM` refits the panels JNIM is in but replaces only JNIM's
    series; every other series keeps its latest published forecast. Readers keep seeing the
    previous run until this one is complete; one run at a time (a second is refused while the
    first holds the lease). Events and fatalities are forecast by runs of their own, one after
    the other. When the data did not advance since a measure's published run, that measure is
    not retrained unless --force. Anomaly detection runs after a published run.
    """
    # Imported on use: the forecasting stack takes seconds to import, `sahelcast --help` should not.
    from service.cli.detect import deliver_alerts_from_here
    from service.config import get_settings
    from service.jobs.pipelines import run_retrain
    from service.training.service import TrainRequest

    engine = require_db()
    settings = get_settings()
    if dask_address and executor in (None, "dask"):
        executor = "dask"
    deliver_alerts_from_here()
    request = TrainRequest.from_settings(
        settings,
        filters=filters,
        min_events=min_events,
        executor=executor,
        workers=workers,
        dask_address=dask_address,
        force=force,
    )
    with progress_bar("train", None) as bar:
        task = bar.task_ids[0]
        result = run_retrain(
            engine,
            settings,
            request,
            trigger="cli",
            progress=lambda done, total: bar.update(task, completed=done, total=total),
            measures=[measure] if measure else None,
        )
    trained, detected = result.step("train"), result.step("detect")
    if trained is None:  # the job itself failed before its first step
        fail(f"training failed (job {result.job_id}): {result.message}")
    _report(trained)
    if detected is not None:
        console.print(f"detect: {detected.message}", highlight=False)
        if not detected.ok:
            fail(f"detection failed: {detected.message}")


def _report(result: JobResult) -> None:
    from service.cli.output import Column, Format, emit

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
        emit([{"series": key, "error": error} for key, error in failures[:15]],
             (Column("series"), Column("error")), Format.table, err=True,
             title=f"{len(failures)} series failed (recorded in run_series)")  # fmt: skip
