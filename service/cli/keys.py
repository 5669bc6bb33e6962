"""`sahelcast keys`: create, list and revoke API keys."""

from __future__ import annotations

from typing import Annotated

import typer

from service.auth.scopes import Scope
from service.cli.common import console, db_session, err_console, fail, found_or_fail
from service.cli.output import Column, Format, FormatOption, emit, row_record

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

    if not name.strip():
        fail("--name must not be empty", 2)
    with db_session() as session:
        key, token = create_key(session, name.strip(), scope)
        key_id = key.id
    err_console.print(
        f"Created {scope} key {key_id} ({name.strip()}). Its token, shown once:",
        markup=False,
        highlight=False,
    )
    print(token)  # plain stdout, so `sahelcast keys create ... > token.txt` captures only it


@app.command("list")
def list_(
    all_: Annotated[bool, typer.Option("--all", help="Include revoked keys.")] = False,
    fmt: FormatOption = Format.table,
) -> None:
    """List keys (never their tokens, nor their hashes)."""
    from service.auth.service import list_keys

    with db_session() as session:
        keys = list_keys(session, include_revoked=all_)
    records = [row_record(k, exclude=("token_sha256",)) for k in keys]
    columns = KEY_COLUMNS if all_ else KEY_COLUMNS[:-1]  # revoked ones only show with --all
    emit(records, columns, fmt, title=f"{len(keys)} API key(s)")


KEY_COLUMNS = (
    Column("id", right=True),
    Column("name"),
    Column("scope", whole=True),
    Column("prefix", "token starts", show=lambda v: f"sck_{v}", whole=True),
    Column("created_at", "created", show=lambda v: f"{v:%Y-%m-%d}", whole=True),
    Column("revoked_at", "revoked", show=lambda v: f"{v:%Y-%m-%d}" if v else "", whole=True),
)


@app.command()
def revoke(
    key_id: Annotated[int, typer.Argument(help="The key's id (see `sahelcast keys list`).")],
) -> None:
    """Revoke a key: requests with it fail from now on."""
    from service.auth.service import revoke_key

    with db_session() as session:
        missing = f"no key {key_id}; see `sahelcast keys list --all`"
        found_or_fail(revoke_key(session, key_id), missing)
    console.print(f"Revoked key {key_id}.")
