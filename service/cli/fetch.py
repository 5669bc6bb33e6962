"""`sahelcast fetch`: pull ACLED and UCDP events from their APIs, incrementally."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer

from service.cli.common import err_console, fail

if TYPE_CHECKING:
    from service.feeds.write import FetchReport

app = typer.Typer(
    help="Fetch events from the ACLED and UCDP APIs: the first call backfills, later calls "
    "ask only for what changed. Rows are checked and synced exactly like `sahelcast ingest`.",
    no_args_is_help=True,
)

Countries = Annotated[
    list[str],
    typer.Option("--country", "-c", help="A country, e.g. Mali; repeat for several."),
]
Since = Annotated[
    dt.datetime | None,
    typer.Option("--since", formats=["%Y-%m-%d"],
                 help="First event date (YYYY-MM-DD) of a backfill; default: all."),
]  # fmt: skip
Force = Annotated[
    bool,
    typer.Option(
        "--force",
        help="Write an answer the sanity check refuses: one that would remove more "
        "than SAHELCAST_FEED_MAX_DELETE_SHARE of a country's events, or is empty where "
        "events are held.",
    ),
]
Detect = Annotated[
    bool,
    typer.Option("--detect/--no-detect",
                 help="After a change, flag newly observed months against the forecasts."),
]  # fmt: skip


@app.command("acled")
def acled(
    countries: Countries, since: Since = None, detect: Detect = True, force: Force = False
) -> None:
    """Fetch ACLED events (and deletions) through the ACLED API.

    Needs SAHELCAST_ACLED_USERNAME and SAHELCAST_ACLED_PASSWORD (your myACLED account);
    SAHELCAST_ACLED_URL defaults to https://acleddata.com.
    """
    from service.feeds.service import fetch_acled

    day = since.date() if since else None
    _run(
        lambda engine, settings, options: fetch_acled(
            engine, settings, countries, day, options, force
        ),
        "acled",
        detect,
    )


@app.command("ucdp")
def ucdp(
    countries: Countries,
    version: Annotated[
        str | None,
        typer.Option(
            "--version",
            help="Release: GED `25.1`, or Candidate `25.0.3` with "
            "--candidate (default with --candidate: every new one).",
        ),
    ] = None,  # fmt: skip
    candidate: Annotated[
        bool, typer.Option("--candidate", help="Monthly UCDP Candidate releases, not GED.")
    ] = False,
    since: Since = None,
    detect: Detect = True,
    force: Force = False,
) -> None:
    """Fetch UCDP GED or Candidate events through the UCDP API.

    A GED release replaces the Candidate events it covers. Needs SAHELCAST_UCDP_TOKEN;
    SAHELCAST_UCDP_URL defaults to https://ucdpapi.pcr.uu.se.
    """
    from service.feeds.service import fetch_ucdp

    day = since.date() if since else None
    _run(lambda engine, settings, options: fetch_ucdp(engine, settings, countries, version,
                                                      candidate, day, options, force),
         "ucdp", detect)  # fmt: skip


def _run(fetch: Callable[..., FetchReport], name: str, detect: bool) -> None:
    from service.cli.ingest import _summary
    from service.config import get_settings
    from service.db import get_engine
    from service.feeds.errors import FeedError
    from service.feeds.service import Options
    from service.kit.lease import LockHeld
    from service.migrate import DatabaseNotReady

    settings, engine = get_settings(), get_engine()
    try:
        with _progress(f"fetch {name}") as progress:
            report = fetch(engine, settings, Options(progress=progress))
    except (FeedError, DatabaseNotReady, LockHeld) as error:
        fail(f"{error}\nNothing from this fetch was written.", 2)
    for warning in report.warnings:
        err_console.print(f"warning: {warning}", highlight=False, markup=False)
    if report.fetch_id is None:
        err_console.print("nothing changed: nothing was written", highlight=False)
    else:
        _summary(report.reports)
    if report.skipped:
        err_console.print(f"already up to date: {', '.join(report.skipped)}", highlight=False)
    if detect and report.changed:
        from service.cli.detect import run_detection

        run_detection(settings, engine)


@contextmanager
def _progress(description: str) -> Iterator[Callable[[int, int], None]]:
    """A transient bar on stderr counting pages and rows (the total is not known ahead)."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    bar = Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        TextColumn("{task.fields[pages]} pages, {task.completed:,.0f} rows"),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    )
    with bar:
        task = bar.add_task(description, total=None, pages=0)
        yield lambda pages, rows: bar.update(task, completed=rows, pages=pages)
