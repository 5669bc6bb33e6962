"""Run the Alembic migrations programmatically (the CLI, the demo and the tests use this).

`require_current`, which every CLI command and the API run first, reads the revision files and
the `alembic_version` table without importing alembic: alembic and mako cost a few tenths of a
second that a read command should not pay (bench/cli_startup.py). A test checks that the quick
reading agrees with alembic's.
"""

from __future__ import annotations

import ast
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, inspect, text

from service.db import sqlite_file

if TYPE_CHECKING:
    from alembic.config import Config

ROOT = Path(__file__).resolve().parent.parent
VERSIONS = ROOT / "migrations" / "versions"


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.attributes["configure_logging"] = False
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the database behind `engine` to `revision` (creating a SQLite file's folder)."""
    from alembic import command

    path = sqlite_file(engine.url.render_as_string(hide_password=False))
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)

    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def downgrade(engine: Engine, revision: str) -> None:
    from alembic import command

    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def current_revision(engine: Engine) -> str | None:
    """The database's revision, or None when it has no sahelcast tables (or no file)."""
    path = sqlite_file(engine.url.render_as_string(hide_password=False))
    if path is not None and not path.exists():
        return None  # asking must not create the file
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        versions = connection.execute(text("SELECT version_num FROM alembic_version")).scalars()
        return ",".join(sorted(versions)) or None


def head_revision(engine: Engine | None = None) -> str | None:
    """The code's latest revision (heads joined by commas if the history has branched)."""
    return ",".join(sorted(_heads(VERSIONS))) or None


@lru_cache
def _heads(folder: Path) -> frozenset[str]:
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in folder.glob("*.py"):
        found = _revision_of(path)
        if found is not None:
            revisions.add(found[0])
            parents.update(found[1])
    return frozenset(revisions - parents)


def _revision_of(path: Path) -> tuple[str, tuple[str, ...]] | None:
    """`revision` and `down_revision` of a migration file, read from its module-level names."""
    values: dict[str, object] = {}
    for node in ast.parse(path.read_text(encoding="utf-8"), str(path)).body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value:
            values[node.target.id] = ast.literal_eval(node.value)
        elif isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name) and target.id in ("revision", "down_revision"):
                values[target.id] = ast.literal_eval(node.value)
    revision, down = values.get("revision"), values.get("down_revision")
    if not isinstance(revision, str):
        return None
    parents = (down,) if isinstance(down, str) else tuple(down) if isinstance(down, tuple) else ()
    return revision, parents


class DatabaseNotReady(RuntimeError):
    """The database is missing its tables or is behind the code's migrations."""


def require_current(engine: Engine) -> None:
    """Raise a clear error unless the database is at the latest migration (never creating it)."""
    path = sqlite_file(engine.url.render_as_string(hide_password=False))
    if path is not None and not path.exists():
        raise DatabaseNotReady(
            f"There is no database at {path}. Create it with `sahelcast db upgrade`, or point "
            "SAHELCAST_HOME (the folder of sahelcast.db) or SAHELCAST_DATABASE_URL at yours."
        )
    current, head = current_revision(engine), head_revision()
    if current != head:
        state = "has no sahelcast tables" if current is None else f"is at revision {current}"
        raise DatabaseNotReady(
            f"The database {engine.url.render_as_string(hide_password=True)} {state}; "
            f"the code needs {head}. Run `sahelcast db upgrade` first."
        )
