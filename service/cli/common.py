"""Shared pieces of the CLI: consoles, error exits and progress bars."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from service.config import get_settings

console = Console()
err_console = Console(stderr=True)


def fail(message: str, code: int = 1) -> NoReturn:
    """Print an error the user can act on and exit non-zero."""
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def setup_logging(verbose: bool) -> None:
    level = logging.INFO if verbose else getattr(logging, get_settings().log_level.upper())
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("cmdstanpy", "prophet", "distributed", "apscheduler"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))


@contextmanager
def progress_bar(description: str, total: int | None) -> Iterator[Progress]:
    """A progress bar on stderr that disappears when output is not a terminal."""
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
    )
    with progress:
        progress.add_task(description, total=total)
        yield progress
