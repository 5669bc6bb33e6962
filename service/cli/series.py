"""`sahelcast series`: browse the monthly series."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from service.cli.common import console, db_session, err_console, found_or_fail
from service.cli.options import Country, SourceOption, grouped, series_filter
from service.cli.output import Column, FormatOption, emit
from service.cli.output import Format as Format

if TYPE_CHECKING:
    from service.series.repository import SeriesFilter, SeriesInfo

app = typer.Typer(
    help="Browse the monthly event series.", no_args_is_help=True, rich_markup_mode=None
)


def _span(record: dict[str, Any]) -> str:
    first, last = record["first_month"], record["last_complete_month"]
    return f"{first:%Y-%m}..{last:%Y-%m}" if first and last else "-"


LIST_COLUMNS = (
    Column("id", right=True),
    Column("country"),
    Column("region", show=lambda v: v or "*"),
    Column("actor", show=lambda v: v or "*"),
    Column("event_type", "event type", show=lambda v: v or "*"),
    Column("level", whole=True),
    Column("total_events", "events", right=True, show=lambda v: f"{v:,}"),
    # Events that name the actor only as "A and/or B" and so count for no actor.
    Column("ambiguous_events", "ambiguous", right=True, show=lambda v: f"{v:,}" if v else ""),
)


def series_record(info: SeriesInfo) -> dict[str, Any]:
    """A series as JSON/CSV shows it: its labels, coverage and event total."""
    from dataclasses import asdict

    return asdict(info)


@app.command("list")
@grouped(filters=series_filter)
def list_(
    filters: SeriesFilter,
    limit: Annotated[
        int, typer.Option(min=1, max=10_000, help="How many to show (busiest first).")
    ] = 30,
    fmt: FormatOption = Format.table,
) -> None:
    """List series matching the filters, busiest first."""
    from service.series.repository import countries, list_series

    country = filters.country
    with db_session() as session:
        rows, total = list_series(session, filters, limit=limit)
        held = countries(session) if not total and country else []
    if country and held and country.casefold() not in {c.casefold() for c in held}:
        err_console.print(f"No series for the country {country!r}; the database holds: "
                          f"{', '.join(held)}.", markup=False, highlight=False)  # fmt: skip
    emit([series_record(s) for s in rows], LIST_COLUMNS, fmt,
         title=f"{len(rows)} of {total} series (show one: `sahelcast series show ID`)")  # fmt: skip


MONTH_COLUMNS = (
    Column("month", show=lambda v: f"{v:%Y-%m}", whole=True),
    Column("events", right=True, show=lambda v: "?" if v is None else f"{v:.0f}"),
    Column("fatalities", right=True, show=lambda v: "?" if v is None else f"{v:.0f}"),
    Column("status"),
)


def _count(value: float) -> int | None:
    return None if value != value else int(value)  # NaN: a month past coverage, unknown


@app.command()
def show(
    series: Annotated[str, typer.Argument(help="Series id or key (see `sahelcast series list`).")],
    last: Annotated[int, typer.Option(min=1, help="How many recent months to show.")] = 24,
    fmt: FormatOption = Format.table,
) -> None:
    """Show a series' recent months: counts, fatalities and whether a zero is known.

    JSON gives the series and its months; CSV gives the months.
    """
    from service.series.repository import get_series, series_months

    with db_session() as session:
        missing = f"no series {series!r}; find one with `sahelcast series list`"
        info = found_or_fail(get_series(session, series), missing)
        frame = series_months(session, info).tail(last)
    months = [
        {
            "month": row.month.date(),
            "events": _count(row.events),
            "fatalities": _count(row.fatalities),
            "status": row.status,
        }
        for row in frame.itertuples(index=False)
    ]
    emit(months, MONTH_COLUMNS, fmt, title=f"{info.key} ({info.level})",
         document={"series": series_record(info), "months": months})  # fmt: skip


STATS_LEVELS = (
    Column("level", whole=True),
    Column("series", right=True),
    Column("with_events", "with events", right=True),
)
STATS_TYPES = (
    Column("actor_type", "actor type"),
    Column("actors", right=True),
    Column("series", right=True),
)
STATS_SMALL = (
    Column("source", whole=True),
    Column("country"),
    Column("actor"),
    Column("actor_type", "actor type"),
    Column("events", right=True),
)


@app.command()
def stats(
    country: Country = None,
    source: SourceOption = None,
    fewer_than: Annotated[
        int, typer.Option(min=1, help="List the actors with fewer events than this.")
    ] = 10,
    fmt: FormatOption = Format.table,
) -> None:
    """Show what the catalogue is made of: series per level and per actor type, ambiguous
    events, events counted for no actor, and the actors with few events.

    JSON gives one document; CSV gives one row per figure (`section` says which table).
    """
    from dataclasses import asdict

    from service.series.stats import catalogue_stats, stats_rows

    with db_session() as session:
        found = catalogue_stats(session, source=source, country=country, fewer_than=fewer_than)
    if fmt is not Format.table:
        emit(stats_rows(found), (), fmt, document=asdict(found))
        return
    levels = [asdict(x) for x in found.levels]
    types = [asdict(x) for x in found.actor_types]
    small = [asdict(x) for x in found.small_actors]
    console.print(
        f"{found.events:,} events; {found.ambiguous_events:,} with an ambiguous attribution "
        f"('A and/or B', counted for no actor); {found.events_without_actor:,} counted for no "
        "armed actor (the geography series count them all).",
        highlight=False,  # wrapped by rich between words, not by the terminal inside one
    )
    emit(levels, STATS_LEVELS, fmt, title="Series per level")
    emit(types, STATS_TYPES, fmt, title="Actor series per actor type")
    title = f"{len(small)} actor(s) with fewer than {fewer_than} events in a country"
    emit(small, STATS_SMALL, fmt, title=title)
