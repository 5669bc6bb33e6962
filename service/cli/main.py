"""Entry point of the `sahelcast` command.

The command modules import only typer and small name modules at the top; each command imports
what it needs when it runs, so `sahelcast --help` stays well under half a second
(bench/cli_startup.py).
"""

from __future__ import annotations

from collections.abc import Callable
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


# Every command in `--help` order: a group of commands (a module's Typer) or one command.
COMMANDS: dict[str, typer.Typer | Callable[..., None]] = {
    "db": db.app,
    "ingest": ingest.ingest,
    "fetch": fetch.app,
    "series": series.app,
    "actors": actors.app,
    "plot": plot.plot,
    "forecast": views.forecast,
    "season": views.season,
    "overview": views.overview,
    "train": train.train,
    "detect": detect.detect,
    "anomalies": anomalies.app,
    "runs": runs.app,
    "jobs": jobs.app,
    "scheduler": scheduler.scheduler,
    "serve": serve.serve,
    "keys": keys.app,
    "alerts": alerts.app,
}
for name, command in COMMANDS.items():
    if isinstance(command, typer.Typer):
        app.add_typer(command, name=name)
    else:
        app.command(name)(command)
