"""Entry point of the `sahelcast` command.

The command modules import only typer and small name modules at the top; each command imports
what it needs when it runs, so `sahelcast --help` stays well under half a second
(bench/cli_startup.py).
"""

from __future__ import annotations

from typing import Annotated

import typer

from service.cli import (
    actors,
    alerts,
    anomalies,
    db,
    detect,
    fetch,
    ingest,
    jobs,
    keys,
    plot,
    runs,
    scheduler,
    series,
    serve,
    train,
    views,
)
from service.cli.common import setup_logging

app = typer.Typer(
    name="sahelcast",
    help=(
        "Early warning for political violence in the Sahel: ingest ACLED/UCDP event files into "
        "monthly series, forecast them with measured rainy-season effects, flag anomalies.\n\n"
        "Settings come from SAHELCAST_* environment variables. The database defaults to "
        "sahelcast.db in SAHELCAST_HOME: the checkout's data folder when run from a source "
        "checkout, else the per-user data folder (~/.local/share/sahelcast on Linux), "
        "whatever the current directory."
    ),
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def main(
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Log what happens (INFO level).")
    ] = False,
) -> None:
    """Early warning for political violence in the Sahel."""
    setup_logging(verbose)


app.add_typer(db.app, name="db")
app.command("ingest")(ingest.ingest)
app.add_typer(fetch.app, name="fetch")
app.add_typer(series.app, name="series")
app.add_typer(actors.app, name="actors")
app.command("plot")(plot.plot)
app.command("forecast")(views.forecast)
app.command("season")(views.season)
app.command("overview")(views.overview)
app.command("train")(train.train)
app.command("detect")(detect.detect)
app.add_typer(anomalies.app, name="anomalies")
app.add_typer(runs.app, name="runs")
app.add_typer(jobs.app, name="jobs")
app.command("scheduler")(scheduler.scheduler)
app.command("serve")(serve.serve)
app.add_typer(keys.app, name="keys")
app.add_typer(alerts.app, name="alerts")
