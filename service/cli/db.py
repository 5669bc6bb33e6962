"""`sahelcast db`: create and migrate the database."""

from __future__ import annotations

import typer

from service import migrate
from service.cli.common import console
from service.db import get_engine

app = typer.Typer(
    help="Create or migrate the database (SAHELCAST_DATABASE_URL).", no_args_is_help=True
)


@app.command()
def upgrade(revision: str = typer.Argument("head", help="Target revision.")) -> None:
    """Apply the migrations up to REVISION (creates the database on first use)."""
    engine = get_engine()
    migrate.upgrade(engine, revision)
    url = engine.url.render_as_string(hide_password=True)
    console.print(f"Database {url} is at revision {migrate.current_revision(engine)}.")


@app.command()
def current() -> None:
    """Show the database's revision and the code's latest one."""
    engine = get_engine()
    current = migrate.current_revision(engine) or "empty"
    console.print(f"database: {current}  code: {migrate.head_revision(engine)}")
