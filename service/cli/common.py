"""Shared pieces of the CLI: consoles, error exits, the database check and progress bars.

Nothing heavy is imported at module level: `sahelcast --help` loads every command module, so
SQLAlchemy, pandas, alembic and pydantic are imported inside the functions that need them.
Every `typer.Typer` sets `rich_markup_mode=None`: typer's rich help imports a Markdown parser
that alone takes longer than the rest of `--help`; the plain help says the same.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, NoReturn, TypeVar

import typer
from rich.console import Console

if TYPE_CHECKING:
    from rich.progress import Progress
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session

T = TypeVar("T")
console = Console()
err_console = Console(stderr=True)


def fail(message: str, code: int = 1) -> NoReturn:
    """Print an error the user can act on and exit non-zero."""
    from rich.markup import escape  # the message may quote what a server said: never markup

    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def setup_logging(verbose: bool) -> None:
    from service.config import get_settings

    level = logging.INFO if verbose else getattr(logging, get_settings().log_level.upper())
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("distributed", "apscheduler"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))


def require_db() -> Engine:
    """Return the configured engine, or exit with status 2 saying how to set the database up."""
    from service.db import get_engine
    from service.migrate import DatabaseNotReady, require_current

    engine = get_engine()
    try:
        require_current(engine)
    except DatabaseNotReady as error:
        fail(str(error), 2)
    return engine


@contextmanager
def db_session() -> Iterator[Session]:
    """A session on the configured database once require_db() has passed: committed when the
    command succeeds, rolled back otherwise (the boundary of a command)."""
    from service.db import session_scope

    with session_scope(require_db()) as session:
        yield session


def found_or_fail(found: T | None, message: str) -> T:
    """`found`, or exit with status 2 and `message` (what is missing, where to look)."""
    if found is None:
        fail(message, 2)
    return found


@contextmanager
def progress_bar(description: str, total: int | None) -> Iterator[Progress]:
    """A progress bar on stderr that disappears when output is not a terminal."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

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
