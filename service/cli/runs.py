"""`sahelcast runs`: the training runs, newest first, and one run in full."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from service.cli.common import db_session, found_or_fail
from service.cli.output import Column, Format, FormatOption, emit, emit_one

app = typer.Typer(
    help="Training runs: list them, show one.", no_args_is_help=True, rich_markup_mode=None
)

COLUMNS = (
    Column("id", right=True),
    Column("measure", whole=True),
    # `published` is the status `published` (one per measure); JSON and CSV carry both.
    Column("status", whole=True),
    Column("started_at", "started (UTC)", whole=True),
    Column("seconds", right=True, show=lambda v: "-" if v is None else f"{v:.0f}"),
    Column("n_series", "series", right=True),
    Column("n_failed", "failed", right=True),
    Column("message"),
)


def _records(runs: list[Any], published: set[int]) -> list[dict[str, Any]]:
    records = []
    for run in runs:
        record = run.model_dump()
        record["published"] = run.id in published
        finished = run.finished_at
        record["seconds"] = (finished - run.started_at).total_seconds() if finished else None
        records.append(record)
    return records


@app.command("list")
def list_(
    limit: Annotated[int, typer.Option(min=1, max=1000, help="How many (newest first).")] = 20,
    fmt: FormatOption = Format.table,
) -> None:
    """List training runs, newest first: running, published, superseded or failed."""
    from service.forecasts.repository import list_runs, published_runs

    with db_session() as session:
        runs, published = list_runs(session, limit=limit), set(published_runs(session).values())
    emit(_records(runs, published), COLUMNS, fmt, title=f"{len(runs)} run(s), newest first")


@app.command()
def show(
    run_id: Annotated[int, typer.Argument(help="The run's id (see `sahelcast runs list`).")],
    fmt: FormatOption = Format.table,
) -> None:
    """Show one run in full: status, timings, series trained and failed, its parameters."""
    from service.forecasts.repository import get_run, published_runs

    with db_session() as session:
        found, published = get_run(session, run_id), set(published_runs(session).values())
    run = found_or_fail(found, f"no run {run_id}; see `sahelcast runs list`")
    [record] = _records([run], published)
    emit_one(record, fmt, title=f"run {run_id}")
