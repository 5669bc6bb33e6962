"""`sahelcast keys`: create, list and revoke API keys."""

from __future__ import annotations

import typer
from rich.table import Table

from service.auth.service import SCOPES, create_key, list_keys, revoke_key
from service.cli.common import console, err_console, fail
from service.db import get_engine, session_scope
from service.migrate import DatabaseNotReady, require_current

app = typer.Typer(
    help="Manage API keys (stored hashed; a token is shown once).", no_args_is_help=True
)


def _ready() -> None:
    try:
        require_current(get_engine())
    except DatabaseNotReady as error:
        fail(str(error), 2)


@app.command()
def create(
    name: str = typer.Option(..., "--name", help="Who or what uses the key."),
    scope: str = typer.Option("read", "--scope", help="'read' or 'admin' (admin can also read)."),
) -> None:
    """Create a key and print its token once: store it now, it cannot be shown again."""
    if scope not in SCOPES:
        fail(f"--scope must be one of {', '.join(SCOPES)}, got {scope!r}", 2)
    if not name.strip():
        fail("--name must not be empty", 2)
    _ready()
    with session_scope() as session:
        key, token = create_key(session, name.strip(), scope)
        key_id = key.id
    err_console.print(f"Created {scope} key {key_id} ({name.strip()}). Its token, shown once:")
    print(token)  # plain stdout, so `sahelcast keys create ... > token.txt` captures only it


@app.command("list")
def list_(all_: bool = typer.Option(False, "--all", help="Include revoked keys.")) -> None:
    """List keys (never their tokens)."""
    _ready()
    with session_scope() as session:
        keys = list_keys(session, include_revoked=all_)
    table = Table(title=f"{len(keys)} API key(s)")
    for column in ("id", "name", "scope", "prefix", "created", "revoked"):
        table.add_column(column)
    for k in keys:
        revoked = f"{k.revoked_at:%Y-%m-%d %H:%M}" if k.revoked_at else ""
        table.add_row(
            str(k.id),
            k.name,
            k.scope,
            f"sck_{k.prefix}_…",
            f"{k.created_at:%Y-%m-%d %H:%M}",
            revoked,
        )
    console.print(table)


@app.command()
def revoke(
    key_id: int = typer.Argument(..., help="The key's id (see `sahelcast keys list`)."),
) -> None:
    """Revoke a key: requests with it fail from now on."""
    _ready()
    with session_scope() as session:
        key = revoke_key(session, key_id)
        if key is None:
            fail(f"no key {key_id}; see `sahelcast keys list --all`", 2)
    console.print(f"Revoked key {key_id}.")
