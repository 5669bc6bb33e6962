"""Run the Alembic migrations programmatically (the CLI, the demo and the tests use this)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

ROOT = Path(__file__).resolve().parent.parent


def alembic_config(engine: Engine) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.attributes["configure_logging"] = False
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the database behind `engine` to `revision`."""
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def downgrade(engine: Engine, revision: str) -> None:
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision(engine: Engine) -> str | None:
    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()


class DatabaseNotReady(RuntimeError):
    """The database is missing its tables or is behind the code's migrations."""


def require_current(engine: Engine) -> None:
    """Raise a clear error unless the database is at the latest migration."""
    current, head = current_revision(engine), head_revision(engine)
    if current != head:
        state = "has no sahelcast tables" if current is None else f"is at revision {current}"
        raise DatabaseNotReady(
            f"The database {engine.url.render_as_string(hide_password=True)} {state}; "
            f"the code needs {head}. Run `sahelcast db upgrade` first."
        )
