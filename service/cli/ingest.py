"""`sahelcast ingest`: sync event files into the database."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from service.cli.common import fail, progress_bar
from service.ingest.sources import Source

if TYPE_CHECKING:
    from service.ingest.sync import IngestReport


def _estimate_rows(path: Path) -> int | None:
    # A quick newline count gives the progress bar a total; quoted newlines make it an estimate.
    try:
        with path.open("rb") as handle:
            blocks = iter(lambda: handle.read(1 << 22), b"")
            return max(sum(block.count(b"\n") for block in blocks) - 1, 0)
    except OSError:
        return None


def ingest(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="ACLED export(s) or UCDP GED CSV file(s); the format is detected."),
    ] = None,
    source: Annotated[
        Source | None,
        typer.Option("--source", help="Force the format (default: detect it from the header)."),
    ] = None,
    deletions: Annotated[
        list[Path] | None,
        typer.Option(
            "--deletions",
            help="ACLED deletion list(s) to apply (event_id_cnty, deleted_timestamp).",
        ),
    ] = None,
    detect: Annotated[
        bool,
        typer.Option(
            "--detect/--no-detect",
            help="After a change, flag newly observed months against the forecasts.",
        ),
    ] = True,
) -> None:
    """Ingest event files idempotently: the same file twice changes nothing.

    Each file is one transaction: a bad file is reported with its line and field, and the
    database is left exactly as it was. Newer versions of an event (ACLED `timestamp`) replace
    older ones; deletion lists remove events.
    """
    jobs = [(p, False) for p in paths or []] + [(p, True) for p in deletions or []]
    if not jobs:
        fail("give at least one PATH or --deletions PATH (see `sahelcast ingest --help`)", 2)
    from service.config import get_settings
    from service.db import get_engine
    from service.ingest.errors import IngestError
    from service.ingest.service import ingest_file
    from service.migrate import DatabaseNotReady

    settings, engine = get_settings(), get_engine()
    reports: list[IngestReport] = []
    for path, is_deletion in jobs:
        try:
            with progress_bar(f"ingest {path.name}", _estimate_rows(path)) as bar:
                advance = partial(bar.advance, bar.task_ids[0])
                reports.append(ingest_file(engine, path, settings, source=source,
                                           deletions=is_deletion, progress=advance))  # fmt: skip
        except IngestError as error:
            _summary(reports)
            fail(f"{error}\nNothing from {path.name} was written.", 2)
        except (FileNotFoundError, IsADirectoryError, PermissionError, DatabaseNotReady) as error:
            _summary(reports)
            fail(str(error), 2)
    _summary(reports)
    changed = any(r.added or r.updated or r.deleted for r in reports)
    if detect and changed:
        from service.cli.detect import run_detection

        run_detection(settings, engine)


def _summary(reports: list[IngestReport]) -> None:
    if not reports:
        return
    from service.cli.output import Column, Format, emit

    numbers = ("rows", "new", "upd", "same", "del")
    columns = [Column("file"), Column("source"), *(Column(n, right=True) for n in numbers),
               Column("s", right=True)]  # fmt: skip
    rows = [
        {"file": Path(r.path).name, "source": f"{r.source} {r.kind}",
         **dict(zip(numbers, (f"{n:,}" for n in (r.rows_read, r.added, r.updated, r.unchanged,
                                                  r.deleted)), strict=True)),
         "s": f"{r.seconds:.1f}"}
        for r in reports
    ]  # fmt: skip
    emit(rows, columns, Format.table, title="Ingested",
         caption="new / updated / unchanged / deleted events")  # fmt: skip
