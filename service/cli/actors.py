"""`sahelcast actors`: check the actor catalogue (likely relabelings) and re-apply aliases."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Annotated, Any

import typer

from service.cli.common import console, db_session
from service.cli.options import Country, SourceOption
from service.cli.output import Column, Format, FormatOption, emit

if TYPE_CHECKING:
    from service.actors.audit import Relabeling

app = typer.Typer(
    help="Check the actor catalogue: likely relabelings, and re-applying edited alias tables.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

AUDIT_COLUMNS = (
    Column("source", whole=True),
    Column("country"),
    Column("old", "name"),
    Column("new", "likely the same as"),
    Column("signals", show=lambda v: ", ".join(v)),
)


def audit_record(found: Relabeling) -> dict[str, Any]:
    """A finding as JSON/CSV show it: its fields, signals and one-line evidence."""
    from dataclasses import asdict

    return {**asdict(found), "signals": found.signals, "evidence": found.summary}


@app.command()
def audit(
    country: Country = None,
    source: SourceOption = None,
    min_events: Annotated[
        int, typer.Option(min=2, help="Events a name needs as a primary actor to be judged.")
    ] = 10,
    window: Annotated[
        int, typer.Option(min=1, max=36, help="Months compared before and after a name stops.")
    ] = 6,
    quiet: Annotated[
        int,
        typer.Option(
            min=1, max=36, help="Months without a name, up to coverage, to call it stopped."
        ),
    ] = 3,
    fmt: FormatOption = Format.table,
) -> None:
    """List likely relabelings: a name whose events stop while another's start in the same
    regions and months, or a name whose events mostly name another as associated actor.

    Each comes with its evidence and the alias line that folds the old name into the new one:
    add it to actor_aliases.csv in a folder of SAHELCAST_ALIAS_DIRS, then run
    `sahelcast actors refold`. Nothing is changed by this command.
    """
    from service.actors.audit import AuditSettings, audit_actors, audit_row

    thresholds = AuditSettings(min_events=min_events, window=window, quiet=quiet)
    with db_session() as session:
        found = audit_actors(session, source=source, country=country, settings=thresholds)
    records = [audit_record(f) for f in found]
    rows = [audit_row(f) for f in found] if fmt is Format.csv else records
    emit(rows, AUDIT_COLUMNS, fmt, title=f"{len(found)} likely relabeling(s)")
    if fmt is not Format.table or not found:
        return
    say = partial(console.print, markup=False, highlight=False, soft_wrap=True)
    for record in records:  # the evidence and the lines in full, never folded by a table
        say(f"\n{record['old']} -> {record['new']} ({record['source']}, {record['country']})")
        say(f"  {record['evidence']}")
        for line in record["alias_lines"]:
            say(f"  add to actor_aliases.csv: {line}")
    say(
        "\nAdd the lines to actor_aliases.csv in a folder of SAHELCAST_ALIAS_DIRS, then run "
        "`sahelcast actors refold`."
    )


@app.command()
def refold() -> None:
    """Re-apply the alias tables and the armed-actor settings to every stored event.

    Run it after editing actor_aliases.csv or region_aliases.csv (or SAHELCAST_ARMED_INTER,
    SAHELCAST_ACTOR_ROLES): events keep their raw names, so their actors and regions are
    worked out again and every series is rebuilt, in one transaction.
    """
    from service.config import get_settings
    from service.ingest.refold import refold_events

    with db_session() as session:
        report = refold_events(session, get_settings())
    console.print(
        f"refolded {report.events:,} events of {', '.join(report.sources) or 'no source'}: "
        f"{report.links:,} actor links, {report.ambiguous:,} ambiguous events, "
        f"{report.regions_changed:,} events moved to another region",
        highlight=False,
    )
