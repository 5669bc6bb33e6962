"""`sahelcast series`: browse the monthly series."""

from __future__ import annotations

from typing import Annotated

import typer

from service.cli.common import console, fail, require_db
from service.ingest.sources import Source
from service.series.levels import Level

app = typer.Typer(
    help="Browse the monthly event series.", no_args_is_help=True, rich_markup_mode=None
)


@app.command("list")
def list_(
    country: Annotated[str | None, typer.Option(help="Country, e.g. 'Mali'.")] = None,
    region: Annotated[str | None, typer.Option(help="Admin1 region, e.g. 'Mopti'.")] = None,
    actor: Annotated[str | None, typer.Option(help="Canonical actor, e.g. 'JNIM'.")] = None,
    event_type: Annotated[
        str | None, typer.Option("--event-type", help="Event type, e.g. 'Battles'.")
    ] = None,
    level: Annotated[Level | None, typer.Option(help="Roll-up level.")] = None,
    source: Annotated[Source | None, typer.Option(help="Data provider.")] = None,
    limit: Annotated[
        int, typer.Option(min=1, max=10_000, help="How many to show (busiest first).")
    ] = 30,
) -> None:
    """List series matching the filters, busiest first."""
    from rich.table import Table

    from service.db import session_scope
    from service.series.repository import SeriesFilter, list_series

    engine = require_db()
    filters = SeriesFilter(source, country, region, actor, event_type, level)
    with session_scope(engine) as session:
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
    series: Annotated[str, typer.Argument(help="Series id or key (see `sahelcast series list`).")],
    last: Annotated[int, typer.Option(min=1, help="How many recent months to show.")] = 24,
) -> None:
    """Show a series' recent months: counts, fatalities and whether a zero is known."""
    import pandas as pd
    from rich.table import Table

    from service.db import session_scope
    from service.series.repository import get_series, series_months

    engine = require_db()
    with session_scope(engine) as session:
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
