"""`sahelcast db`: create and migrate the database."""

from __future__ import annotations

from typing import Annotated

import typer

from service.cli.common import console

app = typer.Typer(
    help="Create or migrate the database (SAHELCAST_DATABASE_URL).",
    no_args_is_help=True,
    rich_markup_mode=None,
)


@app.command()
def upgrade(revision: Annotated[str, typer.Argument(help="Target revision.")] = "head") -> None:
    """Apply the migrations up to REVISION (creates the database on first use)."""
    from service import migrate
    from service.db import get_engine

    engine = get_engine()
    migrate.upgrade(engine, revision)
    url = engine.url.render_as_string(hide_password=True)
    console.print(f"Database {url} is at revision {migrate.current_revision(engine)}.")


@app.command()
def current() -> None:
    """Show the database's revision and the code's latest one."""
    from service import migrate
    from service.db import get_engine

    engine = get_engine()
    url = engine.url.render_as_string(hide_password=True)
    current = migrate.current_revision(engine) or "empty (no sahelcast tables)"
    console.print(f"{url}", highlight=False, soft_wrap=True)
    console.print(f"database: {current}  code: {migrate.head_revision(engine)}")
