"""`sahelcast keys`: create, list and revoke API keys."""

from __future__ import annotations

from typing import Annotated

import typer

from service.auth.scopes import Scope
from service.cli.common import console, err_console, fail, require_db

app = typer.Typer(
    help="Manage API keys (stored hashed; a token is shown once).",
    no_args_is_help=True,
    rich_markup_mode=None,
)


@app.command()
def create(
    name: Annotated[str, typer.Option("--name", help="Who or what uses the key.")],
    scope: Annotated[
        Scope, typer.Option("--scope", help="What the key may do (admin can also read).")
    ] = "read",
) -> None:
    """Create a key and print its token once: store it now, it cannot be shown again."""
    from service.auth.service import create_key
    from service.db import session_scope

    if not name.strip():
        fail("--name must not be empty", 2)
    engine = require_db()
    with session_scope(engine) as session:
        key, token = create_key(session, name.strip(), scope)
        key_id = key.id
    err_console.print(f"Created {scope} key {key_id} ({name.strip()}). Its token, shown once:")
    print(token)  # plain stdout, so `sahelcast keys create ... > token.txt` captures only it


@app.command("list")
def list_(
    all_: Annotated[bool, typer.Option("--all", help="Include revoked keys.")] = False,
) -> None:
    """List keys (never their tokens)."""
    from rich.table import Table

    from service.auth.service import list_keys
    from service.db import session_scope

    engine = require_db()
    with session_scope(engine) as session:
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
    key_id: Annotated[int, typer.Argument(help="The key's id (see `sahelcast keys list`).")],
) -> None:
    """Revoke a key: requests with it fail from now on."""
    from service.auth.service import revoke_key
    from service.db import session_scope

    engine = require_db()
    with session_scope(engine) as session:
        key = revoke_key(session, key_id)
        if key is None:
            fail(f"no key {key_id}; see `sahelcast keys list --all`", 2)
    console.print(f"Revoked key {key_id}.")
