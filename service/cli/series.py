"""`sahelcast series`: browse the monthly series."""

from __future__ import annotations

import pandas as pd
import typer
from rich.table import Table

from service.cli.common import console, fail
from service.db import get_engine, session_scope
from service.migrate import DatabaseNotReady, require_current
from service.series.aggregate import LEVELS
from service.series.repository import SeriesFilter, get_series, list_series, series_months

app = typer.Typer(help="Browse the monthly event series.", no_args_is_help=True)


def _ready() -> None:
    try:
        require_current(get_engine())
    except DatabaseNotReady as error:
        fail(str(error), 2)


@app.command("list")
def list_(
    country: str = typer.Option(None, help="Country, e.g. 'Mali'."),
    region: str = typer.Option(None, help="Admin1 region, e.g. 'Mopti'."),
    actor: str = typer.Option(None, help="Canonical actor, e.g. 'JNIM'."),
    event_type: str = typer.Option(None, "--event-type", help="Event type, e.g. 'Battles'."),
    level: str = typer.Option(None, help=f"Roll-up level: {', '.join(LEVELS)}."),
    source: str = typer.Option(None, help="'acled' or 'ucdp'."),
    limit: int = typer.Option(30, min=1, max=10_000, help="How many to show (busiest first)."),
) -> None:
    """List series matching the filters, busiest first."""
    _ready()
    if level and level not in LEVELS:
        fail(f"--level must be one of {', '.join(LEVELS)}, got {level!r}", 2)
    filters = SeriesFilter(source, country, region, actor, event_type, level)
    with session_scope() as session:
        rows, total = list_series(session, filters, limit=limit)
    table = Table(title=f"{len(rows)} of {total} series (show one with `sahelcast series show ID`)")
    for column in ("id", "country", "region", "actor", "event type", "level", "events", "months"):
        table.add_column(column, justify="right" if column in ("id", "events") else "left")
    for s in rows:
        span = f"{s.first_month:%Y-%m}..{s.last_complete_month:%Y-%m}" if s.first_month else "-"
        table.add_row(str(s.id), s.country, s.region or "*", s.actor or "*", s.event_type or "*",
                      s.level, f"{s.total_events:,}", span)  # fmt: skip
    console.print(table)


@app.command()
def show(
    series: str = typer.Argument(..., help="Series id or key (see `sahelcast series list`)."),
    last: int = typer.Option(24, min=1, help="How many recent months to show."),
) -> None:
    """Show a series' recent months: counts, fatalities and whether a zero is known."""
    _ready()
    with session_scope() as session:
        info = get_series(session, series)
        if info is None:
            fail(f"no series {series!r}; find one with `sahelcast series list`", 2)
        months = series_months(session, info).tail(last)
    table = Table(title=f"{info.key} ({info.level})")
    for column in ("month", "events", "fatalities", "status"):
        table.add_column(column, justify="right" if column != "month" else "left")
    for row in months.itertuples(index=False):
        events = "?" if pd.isna(row.events) else f"{row.events:.0f}"
        fatal = "?" if pd.isna(row.fatalities) else f"{row.fatalities:.0f}"
        table.add_row(f"{row.month:%Y-%m}", events, fatal, row.status)
    console.print(table)
